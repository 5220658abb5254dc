// conv1d.cu: the featurizer's sequence ops, channels-first (B, C, L) like nn — the lowering
// kernels of the 1-D convolution (im2col and its adjoint col2im) and MaxPool1d(2).
// CPU references: nn/conv1d.go, nn/maxpool.go.
//
// The convolution itself is im2col + the tiled SGEMM (gemm.cu), the decomposition nn uses:
// col[b, c·K+k, l] = inp[b, c, l+k−P] (P = K/2, zero outside [0, L)), then
// out[b] (OC, L) = w (OC, C·K) · col[b] (C·K, L) as one strided batched product. nn's API
// saves col for the weight gradient, so the lowering is needed anyway, and all the
// arithmetic goes through the one tuned kernel; the cost is col's memory, K times the
// input's. The backward pass is two batched products (per-sample weight gradients, reduced
// over the batch in order by mlcu_sum_parts_add; column gradients) and a gather col2im.
#include "common.cuh"

namespace {

constexpr int kThreads = 256;

// im2col: one thread per element of col (B, C·K, L); consecutive threads write consecutive
// l and read consecutive input positions.
__global__ void im2col_kernel(float* col, const float* inp, long BC, int K, long L) {
	const long n = BC * K * L;
	const int P = K / 2;
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		long l = i % L, row = i / L; // row = bc·K + k
		int k = int(row % K);
		long bc = row / K, src = l + k - P;
		col[i] = (src >= 0 && src < L) ? inp[bc * L + src] : 0.0f;
	}
}

// col2im: dinp[b, c, x] += Σ_k dcol[b, c·K+k, x−k+P] over the taps that saw x. One thread
// per input element (a gather: no two threads write the same element, no atomics), adding
// the taps in the order k = 0, 1, … as nn's conv1dCol2im does.
__global__ void col2im_kernel(float* dinp, const float* dcol, long BC, int K, long L) {
	const long n = BC * L;
	const int P = K / 2;
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		long x = i % L, bc = i / L;
		float acc = dinp[i];
		for (int k = 0; k < K; k++) {
			long l = x - k + P;
			if (l >= 0 && l < L) acc += dcol[(bc * K + k) * L + l];
		}
		dinp[i] = acc;
	}
}

// maxpool_forward: out[bc, j] = max(x[2j], x[2j+1]) with idx the position of the maximum,
// exactly as nn: the first element when a ≥ b (ties included), else the second (so a NaN
// in either place makes the comparison false and selects the second element).
__global__ void maxpool_forward_kernel(float* out, int32_t* idx, const float* inp, long BC, long L) {
	const long Lo = L / 2, n = BC * Lo;
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		long j = i % Lo, bc = i / Lo;
		float a = inp[bc * L + 2 * j], b = inp[bc * L + 2 * j + 1];
		bool first = a >= b;
		out[i] = first ? a : b;
		idx[i] = int32_t(first ? 2 * j : 2 * j + 1);
	}
}

// maxpool_backward: dinp[bc, idx[bc, j]] += dout[bc, j]. The windows do not overlap, so
// each input element receives at most one gradient: one thread per output, no atomics.
__global__ void maxpool_backward_kernel(float* dinp, const float* dout, const int32_t* idx, long BC, long L) {
	const long Lo = L / 2, n = BC * Lo;
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		long bc = i / Lo;
		dinp[bc * L + idx[i]] += dout[i];
	}
}

} // namespace

extern "C" int mlcu_conv1d_im2col(float* d_col, const float* d_inp, int B, int C, long L, int K) {
	long n = long(B) * C * K * L;
	if (n <= 0) return 0;
	MLCU_LAUNCH(im2col_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_col, d_inp, long(B) * C, K, L);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_conv1d_col2im(float* d_dinp, const float* d_dcol, int B, int C, long L, int K) {
	long n = long(B) * C * L;
	if (n <= 0) return 0;
	MLCU_LAUNCH(col2im_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_dinp, d_dcol, long(B) * C, K, L);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_maxpool1d_forward(float* d_out, int32_t* d_idx, const float* d_inp, int B, int C, long L) {
	long n = long(B) * C * (L / 2);
	if (n <= 0) return 0;
	MLCU_LAUNCH(maxpool_forward_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_out, d_idx, d_inp, long(B) * C, L);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_maxpool1d_backward(float* d_dinp, const float* d_dout, const int32_t* d_idx, int B, int C, long L) {
	long n = long(B) * C * (L / 2);
	if (n <= 0) return 0;
	MLCU_LAUNCH(maxpool_backward_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_dinp, d_dout, d_idx, long(B) * C, L);
	MLCU_LAUNCHED();
}

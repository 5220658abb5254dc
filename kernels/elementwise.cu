// elementwise.cu: the dense ops without matrix products — ReLU forward and backward, bias
// broadcast and its gradient (channel sums), the gradient's sum of squares and its
// rescaling (gradient-norm clipping). CPU references: nn/relu.go, nn/linear.go,
// nn/conv1d.go (bias), nn/adam.go (GradNorm, ClipGradNorm).
//
// Every reduction here is deterministic: a fixed partition of the data (a function of the
// sizes only), fixed-order block sums (blockreduce.cuh) and a second pass over the
// partial sums, never float atomics.
#include "common.cuh"
#include "blockreduce.cuh"

namespace {

constexpr int kThreads = 256;

// relu_forward: out = max(inp, 0) as Go's max: NaN stays NaN, −0 becomes +0.
__global__ void relu_forward_kernel(float* out, const float* inp, long n) {
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		float v = inp[i];
		out[i] = (v > 0.0f || v != v) ? v : 0.0f;
	}
}

// relu_backward: the gradient passes where out, read as an int32, is positive (out > 0, or
// a NaN with the sign bit clear), as nn's branch-free reluBackward32. overwrite: dinp is
// dout (in place), so it is set instead of added to.
__global__ void relu_backward_kernel(float* dinp, const float* dout, const float* out, long n, int overwrite) {
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		float g = __float_as_int(out[i]) > 0 ? dout[i] : 0.0f;
		dinp[i] = overwrite ? g : dinp[i] + g;
	}
}

// add_bias: out[r, c, l] += bias[c], out (rows, C, L).
__global__ void add_bias_kernel(float* out, const float* bias, long rows, int C, long L) {
	long n = rows * C * L;
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x)
		out[i] += bias[(i / L) % C];
}

// column_sum_add: dst[c] += Σ_r x[r, c], x (rows, C): one thread per column, rows in order
// (consecutive threads read consecutive addresses), accumulated in double.
__global__ void column_sum_add_kernel(float* dst, const float* x, long rows, int C) {
	int c = blockIdx.x * blockDim.x + threadIdx.x;
	if (c >= C) return;
	double s = 0;
	for (long r = 0; r < rows; r++) s += x[r * C + c];
	dst[c] += float(s);
}

// channel_sum_add: dst[c] += Σ_{r,l} x[r, c, l], x (rows, C, L): one block per channel,
// whose threads stride along the contiguous runs of L, accumulated in double.
__global__ void channel_sum_add_kernel(float* dst, const float* x, long rows, int C, long L) {
	__shared__ double scratch[32];
	const int c = blockIdx.x;
	double s = 0;
	for (long r = 0; r < rows; r++) {
		const float* p = x + (r * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) s += p[l];
	}
	s = mlcu::block_sum(s, scratch);
	if (threadIdx.x == 0) dst[c] += float(s);
}

// sumsq_partial: partial[b] = Σ x[i]² over the grid-stride slice of block b, in double.
__global__ void sumsq_partial_kernel(double* partial, const float* x, long n) {
	__shared__ double scratch[32];
	double s = 0;
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		double v = x[i];
		s += v * v;
	}
	s = mlcu::block_sum(s, scratch);
	if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// sum_partials: *out = Σ partial[0:np], one block.
__global__ void sum_partials_kernel(double* out, const double* partial, int np) {
	__shared__ double scratch[32];
	double s = 0;
	for (int i = threadIdx.x; i < np; i += blockDim.x) s += partial[i];
	s = mlcu::block_sum(s, scratch);
	if (threadIdx.x == 0) *out = s;
}

// sum_parts_add: dst[i] += Σ_p parts[p·n + i], the parts added in order in double: the
// reduction over the batch of per-sample weight gradients (deterministic, unlike atomics).
__global__ void sum_parts_add_kernel(float* dst, const float* parts, long n, int np) {
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		double s = 0;
		for (int p = 0; p < np; p++) s += parts[p * n + i];
		dst[i] += float(s);
	}
}

// scale: x = float(double(x)·s), as nn.ClipGradNorm.
__global__ void scale_kernel(float* x, long n, double s) {
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x)
		x[i] = float(double(x[i]) * s);
}

} // namespace

extern "C" int mlcu_relu_forward(float* d_out, const float* d_inp, long n) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(relu_forward_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_out, d_inp, n);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_relu_backward(float* d_dinp, const float* d_dout, const float* d_out, long n) {
	if (n <= 0) return 0;
	int overwrite = d_dinp == d_dout;
	MLCU_LAUNCH(relu_backward_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_dinp, d_dout, d_out, n, overwrite);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_add_bias(float* d_out, const float* d_bias, long rows, int C, long L) {
	long n = rows * C * L;
	if (n <= 0) return 0;
	MLCU_LAUNCH(add_bias_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_out, d_bias, rows, C, L);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_channel_sum_add(float* d_dst, const float* d_x, long rows, int C, long L) {
	if (C <= 0) return 0;
	if (L == 1)
		MLCU_LAUNCH(column_sum_add_kernel, mlcu::grid_1d(C, kThreads), dim3(kThreads), 0, d_dst, d_x, rows, C);
	else
		MLCU_LAUNCH(channel_sum_add_kernel, dim3(unsigned(C)), dim3(kThreads), 0, d_dst, d_x, rows, C, L);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_sumsq(double* d_out, double* d_partial, const float* d_x, long n) {
	// The number of blocks, hence the partition of the sum, depends on n only.
	long nb = mlcu::ceil_div(n, 4L * kThreads);
	if (nb < 1) nb = 1;
	if (nb > MLCU_SUMSQ_PARTIALS) nb = MLCU_SUMSQ_PARTIALS;
	MLCU_LAUNCH(sumsq_partial_kernel, dim3(unsigned(nb)), dim3(kThreads), 0, d_partial, d_x, n);
	MLCU_TRY(cudaGetLastError());
	MLCU_LAUNCH(sum_partials_kernel, dim3(1), dim3(kThreads), 0, d_out, d_partial, int(nb));
	MLCU_LAUNCHED();
}

extern "C" int mlcu_scale_f32(float* d_x, long n, double s) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(scale_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_x, n, s);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_sum_parts_add(float* d_dst, const float* d_parts, long n, int parts) {
	if (n <= 0 || parts <= 0) return 0;
	MLCU_LAUNCH(sum_parts_add_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_dst, d_parts, n, parts);
	MLCU_LAUNCHED();
}

// layout.cu: data-layout kernels: the featurizer's (B, C, T) ↔ (B, T, C) transpose between
// the convolution stages (channels first) and the GRU (batch first), and a fill.
#include "common.cuh"

namespace {

// dst[b, n, m] = src[b, m, n] for src (B, M, N), through a 32×33 shared tile so that both
// the reads and the writes are coalesced.
__global__ void transpose_last2_kernel(float* dst, const float* src, int M, int N) {
	__shared__ float tile[32][33];
	long b = blockIdx.z;
	const float* s = src + b * M * N;
	float* d = dst + b * M * N;
	int m0 = blockIdx.y * 32, n0 = blockIdx.x * 32;
	for (int i = threadIdx.y; i < 32; i += blockDim.y) {
		int m = m0 + i, n = n0 + threadIdx.x;
		if (m < M && n < N) tile[i][threadIdx.x] = s[long(m) * N + n];
	}
	__syncthreads();
	for (int i = threadIdx.y; i < 32; i += blockDim.y) {
		int n = n0 + i, m = m0 + threadIdx.x;
		if (m < M && n < N) d[long(n) * M + m] = tile[threadIdx.x][i];
	}
}

__global__ void fill_kernel(float* x, long n, float v) {
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) x[i] = v;
}

} // namespace

extern "C" {

int mlcu_transpose_last2_f32(float* d_dst, const float* d_src, int B, int M, int N) {
	if (B <= 0 || M <= 0 || N <= 0) return 0;
	if (B > 65535) return int(cudaErrorInvalidValue);
	dim3 grid(unsigned(mlcu::ceil_div(N, 32)), unsigned(mlcu::ceil_div(M, 32)), unsigned(B));
	MLCU_LAUNCH(transpose_last2_kernel, grid, dim3(32, 8), 0, d_dst, d_src, M, N);
	MLCU_LAUNCHED();
}

int mlcu_fill_f32(float* d_x, long n, float v) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(fill_kernel, mlcu::grid_1d(n, 256), dim3(256), 0, d_x, n, v);
	MLCU_LAUNCHED();
}

} // extern "C"

// rng.cu: the random-number kernels of the C ABI (mlcu_cuda.h).
#include "rng.cuh"

namespace {

__global__ void philox_kernel(uint32_t* out, const uint32_t* ctr, long n, uint32_t k0, uint32_t k1) {
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		mlcu::u32x4 c{{ctr[4 * i], ctr[4 * i + 1], ctr[4 * i + 2], ctr[4 * i + 3]}};
		mlcu::u32x4 r = mlcu::philox4x32_10(c, k0, k1);
		for (int j = 0; j < 4; j++) out[4 * i + j] = r.v[j];
	}
}

__global__ void uniform_kernel(float* out, long n, uint32_t k0, uint32_t k1, uint32_t hi) {
	long nb = (n + 3) / 4;
	for (long b = long(blockIdx.x) * blockDim.x + threadIdx.x; b < nb; b += long(gridDim.x) * blockDim.x) {
		mlcu::u32x4 r = mlcu::philox4x32_10(mlcu::u32x4{{uint32_t(b), uint32_t(uint64_t(b) >> 32), hi, 0}}, k0, k1);
		for (int j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = mlcu::uniform24(r.v[j]);
	}
}

} // namespace

extern "C" {

int mlcu_philox4x32_10(uint32_t* out, const uint32_t* ctr, long n, uint32_t k0, uint32_t k1) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(philox_kernel, mlcu::grid_1d(n, 256), dim3(256), 0, out, ctr, n, k0, k1);
	MLCU_LAUNCHED();
}

int mlcu_rng_uniform_f32(float* out, long n, uint64_t key, uint32_t counter_hi) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(uniform_kernel, mlcu::grid_1d((n + 3) / 4, 256), dim3(256), 0, out, n, uint32_t(key),
	            uint32_t(key >> 32), counter_hi);
	MLCU_LAUNCHED();
}

} // extern "C"

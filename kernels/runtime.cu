// runtime.cu: device discovery and memory, the runtime part of the C ABI (mlcu_cuda.h).
#include "common.cuh"

#include <algorithm>
#include <cstring>

extern "C" {

int mlcu_is_emulation(void) {
#ifdef MLCU_CUDA_EMU
	return 1;
#else
	return 0;
#endif
}

int mlcu_emulation_fma(void) {
#if defined(MLCU_CUDA_EMU) && defined(__FP_FAST_FMA)
	return 1; // built with FMA instructions (MLCU_EMU_FMA): a·b + c contracted, as by nvcc
#else
	return 0;
#endif
}

int mlcu_emulation_gpu_math(void) {
#if defined(MLCU_CUDA_EMU) && defined(MLCU_EMU_GPU_MATH)
	return 1;
#else
	return 0;
#endif
}

// The outputs to host memory go through mlcu::set_host (see common.cuh).

int mlcu_device_count(int* n) {
	int c = 0;
	int err = int(cudaGetDeviceCount(&c));
	mlcu::set_host(n, err == 0 ? c : 0);
	return err;
}

int mlcu_device_info(int dev, mlcu_device_info_t* info) {
	cudaDeviceProp p;
	MLCU_TRY(cudaGetDeviceProperties(&p, dev));
	mlcu_device_info_t d;
	std::memset(&d, 0, sizeof d);
	std::memcpy(d.name, p.name, std::min(std::strlen(p.name), sizeof d.name - 1));
	d.total_mem = p.totalGlobalMem;
	d.cc_major = p.major;
	d.cc_minor = p.minor;
	d.multiprocessors = p.multiProcessorCount;
	d.smem_per_block_optin = p.sharedMemPerBlockOptin;
	mlcu::set_host(info, d);
	return 0;
}

int mlcu_set_device(int dev) { return int(cudaSetDevice(dev)); }

int mlcu_runtime_version(int* runtime, int* driver) {
	int r = 0, d = 0;
	MLCU_TRY(cudaRuntimeGetVersion(&r));
	mlcu::set_host(runtime, r);
	int err = int(cudaDriverGetVersion(&d));
	mlcu::set_host(driver, d);
	return err;
}

const char* mlcu_error_string(int code) { return cudaGetErrorString(cudaError_t(code)); }

int mlcu_malloc(void** p, size_t bytes) { return int(cudaMalloc(p, bytes)); }
int mlcu_free(void* p) { return int(cudaFree(p)); }
int mlcu_memcpy_htod(void* dst, const void* src, size_t n) {
	return int(cudaMemcpy(dst, src, n, cudaMemcpyHostToDevice));
}
int mlcu_memcpy_dtoh(void* dst, const void* src, size_t n) {
	return int(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToHost));
}
int mlcu_memcpy_dtod(void* dst, const void* src, size_t n) {
	return int(cudaMemcpy(dst, src, n, cudaMemcpyDeviceToDevice));
}
int mlcu_memset(void* p, int byte, size_t n) { return int(cudaMemset(p, byte, n)); }
int mlcu_synchronize(void) { return int(cudaDeviceSynchronize()); }

} // extern "C"

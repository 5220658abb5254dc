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

int mlcu_device_count(int* n) {
	*n = 0;
	return int(cudaGetDeviceCount(n));
}

int mlcu_device_info(int dev, mlcu_device_info_t* info) {
	cudaDeviceProp p;
	MLCU_TRY(cudaGetDeviceProperties(&p, dev));
	std::memset(info, 0, sizeof *info);
	std::memcpy(info->name, p.name, std::min(std::strlen(p.name), sizeof info->name - 1));
	info->total_mem = p.totalGlobalMem;
	info->cc_major = p.major;
	info->cc_minor = p.minor;
	info->multiprocessors = p.multiProcessorCount;
	info->smem_per_block_optin = p.sharedMemPerBlockOptin;
	return 0;
}

int mlcu_set_device(int dev) { return int(cudaSetDevice(dev)); }

int mlcu_runtime_version(int* runtime, int* driver) {
	MLCU_TRY(cudaRuntimeGetVersion(runtime));
	return int(cudaDriverGetVersion(driver));
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

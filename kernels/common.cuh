// common.cuh: what every mlcu kernel file includes first. It picks the real CUDA runtime
// (nvcc) or the emulation header (MLCU_CUDA_EMU, host compiler), and defines the launch
// macro both builds share, so a .cu file has no #ifdef of its own.
#pragma once

#ifdef MLCU_CUDA_EMU
#include "emu.cuh"
#else
#include <cuda_runtime.h>
// MLCU_LAUNCH(kernel, grid, block, smem, args...): the one way mlcu launches a kernel (on the
// default stream).
#define MLCU_LAUNCH(kernel, grid, block, smem, ...) kernel<<<(grid), (block), (smem)>>>(__VA_ARGS__)
// MLCU_DYNAMIC_SHARED(T, name): T* name points at the launch's dynamic shared memory.
#define MLCU_DYNAMIC_SHARED(T, name)                              \
	extern __shared__ __align__(16) unsigned char mlcu_dyn_smem_[]; \
	T* name = reinterpret_cast<T*>(mlcu_dyn_smem_)
#endif

#include <cstddef>
#include <cstdint>
#include <mutex>

#include "mlcu_cuda.h"

// MLCU_LAUNCHED returns from an ABI function with the launch's error code (a bad launch
// configuration shows here; faults inside a kernel show at the next synchronising call).
#define MLCU_LAUNCHED() return int(cudaGetLastError())

// MLCU_TRY(expr) returns expr's error code from the enclosing ABI function when non-zero.
#define MLCU_TRY(expr)                       \
	do {                                     \
		int mlcu_err_ = int(expr);           \
		if (mlcu_err_ != 0) return mlcu_err_; \
	} while (0)

namespace mlcu {

// ceil_div returns ⌈a/b⌉ for a ≥ 0, b > 0: the number of blocks that cover a items.
__host__ __device__ inline long ceil_div(long a, long b) { return (a + b - 1) / b; }

// grid_1d returns a 1-D grid of blocks of `block` threads covering n items, capped at
// 65535·32 blocks (kernels loop with a grid stride beyond that).
inline dim3 grid_1d(long n, int block) {
	long g = ceil_div(n, block);
	if (g < 1) g = 1;
	if (g > 65535L * 32) g = 65535L * 32;
	return dim3(unsigned(g));
}

// set_host stores v into host memory the caller (Go) owns, an ABI function's output. In the
// emulation the store holds the emulated device's lock and is a host access (emu.cuh):
// ThreadSanitizer (make test-cudaemu-tsan) cannot see Go allocate and reuse memory, and
// would report two calls on different threads touching what were, to Go, two variables at
// one address. CUDA itself needs neither.
template <typename T>
inline void set_host(T* p, const T& v) {
#ifdef MLCU_CUDA_EMU
	std::lock_guard<std::mutex> lk(::mlcu_emu::device_mutex());
	::mlcu_emu::host_access ha;
#endif
	*p = v;
}

} // namespace mlcu

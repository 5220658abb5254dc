// blockreduce.cuh: a deterministic block-wide sum for the dense kernels (elementwise.cu,
// norm.cu). The order of the additions depends on blockDim only, never on timing, so a
// reduction built on it gives the same bits on every run (no float atomics).
#pragma once
#include "common.cuh"

namespace mlcu {

// block_sum returns Σ v over the threads of the block to every thread. Every thread of the
// block must call it (blockDim.x a multiple of 32, at most 1024); scratch is shared memory
// of 32 elements, free again when it returns.
template <typename T>
__device__ inline T block_sum(T v, T* scratch) {
	const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
	for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
	if (lane == 0) scratch[warp] = v;
	__syncthreads();
	if (warp == 0) {
		v = lane < nwarps ? scratch[lane] : T(0);
		for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
		if (lane == 0) scratch[0] = v;
	}
	__syncthreads();
	T r = scratch[0];
	__syncthreads(); // scratch may be reused after the return
	return r;
}

} // namespace mlcu

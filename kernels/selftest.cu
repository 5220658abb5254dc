// selftest.cu: a kernel that exercises every CUDA feature the emulation header (emu.cuh)
// emulates — warp shuffles and votes, __syncthreads with threads that have returned, static
// and dynamic shared memory, atomics, several blocks — so that the emulation's semantics are
// checked against the GPU's by the same test (cuda/selftest_test.go).
#include "common.cuh"

namespace {

// Per thread t of block b (n threads, lane = t%32, v = 1000·b + t), out[(b·n + t)·8 + j]:
//   j=0 shfl_down(v, 1)  j=1 shfl_xor(v, 3)  j=2 shfl_up(v, 2)  j=3 shfl(v, lane 5)
//   j=4 ballot(t%3 == 0) j=5 warp sum of v by xor butterfly
//   j=6 block sum of v over threads t < keep (shared-memory tree; the others have returned)
//   j=7 dynamic shared memory: the v of thread (t+1) % keep
// and every thread t < keep adds 1 to *count.
__global__ void selftest_kernel(int* out, int* count, int keep) {
	__shared__ int partial[1024];
	MLCU_DYNAMIC_SHARED(int, dyn);
	int n = blockDim.x, t = threadIdx.x;
	int v = 1000 * int(blockIdx.x) + t;
	int* o = out + (long(blockIdx.x) * n + t) * 8;
	o[0] = __shfl_down_sync(0xffffffffu, v, 1);
	o[1] = __shfl_xor_sync(0xffffffffu, v, 3);
	o[2] = __shfl_up_sync(0xffffffffu, v, 2);
	o[3] = __shfl_sync(0xffffffffu, v, 5);
	o[4] = int(__ballot_sync(0xffffffffu, t % 3 == 0));
	int s = v;
	for (int m = 16; m > 0; m >>= 1) s += __shfl_xor_sync(0xffffffffu, s, m);
	o[5] = s;
	if (t >= keep) return;
	partial[t] = v;
	dyn[t] = v;
	atomicAdd(count, 1);
	__syncthreads();
	for (int stride = 1; stride < keep; stride *= 2) {
		int other = (t % (2 * stride) == 0 && t + stride < keep) ? partial[t + stride] : 0;
		__syncthreads();
		partial[t] += other;
		__syncthreads();
	}
	o[6] = partial[0];
	o[7] = dyn[(t + 1) % keep];
}

// smem_kernel: see mlcu_selftest_smem.
__global__ void smem_kernel(int* out, int n) {
	MLCU_DYNAMIC_SHARED(int, dyn);
	int t = threadIdx.x;
	dyn[n - 32 + t] = t + 1;
	__syncthreads();
	out[t] = dyn[n - 32 + (t + 1) % 32];
}

// stale_kernel: see mlcu_selftest_stale_shared.
__global__ void stale_kernel(int32_t* out) {
	__shared__ int32_t s[32];
	int t = threadIdx.x;
	out[blockIdx.x * 32 + t] = s[t]; // read before any write: undefined on a GPU
	__syncthreads();
	s[t] = int32_t(1000 * blockIdx.x + t);
}

// math_kernel: see mlcu_selftest_math.
__global__ void math_kernel(float* outf, double* outd, const float* inf, const double* ind, int n) {
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i >= n) return;
	float x = inf[i];
	outf[3 * i + 0] = expf(x);
	outf[3 * i + 1] = tanhf(x);
	outf[3 * i + 2] = logf(fabsf(x) + 0.5f);
	double y = ind[i];
	outd[4 * i + 0] = exp(y);
	outd[4 * i + 1] = cos(y);
	outd[4 * i + 2] = log(fabs(y) + 0.5);
	outd[4 * i + 3] = pow(fabs(y) + 0.5, 0.2);
}

// warp_mask_kernel: see mlcu_selftest_warp_mask.
__global__ void warp_mask_kernel(int32_t* out, int keep, unsigned member) {
	int t = threadIdx.x;
	if (t >= keep) return;
	out[t] = __shfl_xor_sync(member, t, 1);
}

} // namespace

extern "C" int mlcu_selftest_warp_mask(int32_t* d_out, int keep, unsigned member) {
	MLCU_LAUNCH(warp_mask_kernel, dim3(1), dim3(32), 0, d_out, keep, member);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_selftest_math(float* d_outf, double* d_outd, const float* d_inf, const double* d_ind, int n) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(math_kernel, mlcu::grid_1d(n, 128), dim3(128), 0, d_outf, d_outd, d_inf, d_ind, n);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_selftest_stale_shared(int32_t* d_out, int blocks) {
	MLCU_LAUNCH(stale_kernel, dim3(blocks), dim3(32), 0, d_out);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_selftest_smem(int32_t* d_out, size_t bytes, int optin) {
	if (bytes % 4 != 0 || bytes < 32 * 4) return int(cudaErrorInvalidValue);
	// Without the opt-in the limit goes back to the default (an earlier call may have raised it).
	int limit = optin ? int(bytes) : 48 * 1024;
	MLCU_TRY(cudaFuncSetAttribute(smem_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, limit));
	MLCU_LAUNCH(smem_kernel, dim3(1), dim3(32), bytes, d_out, int(bytes / 4));
	MLCU_LAUNCHED();
}

extern "C" int mlcu_selftest(int32_t* d_out, int32_t* d_count, int blocks, int threads, int keep) {
	MLCU_LAUNCH(selftest_kernel, dim3(blocks), dim3(threads), size_t(threads) * sizeof(int), d_out, d_count, keep);
	MLCU_LAUNCHED();
}

// norm.cu: BatchNorm1d over (B, C, L), channels-first: training forward (batch statistics,
// running-statistic update), evaluation forward, backward. CPU reference: nn/batchnorm.go,
// whose arithmetic this follows: statistics and gradient sums in double (two passes for the
// variance), the per-element affine map and input gradient in float.
//
// The training kernels split each channel's batch into S chunks of consecutive samples and
// give each (chunk, channel) pair a thread block (grid S × C): its chunk's runs of L
// contiguous values are read coalesced, and its partial sum is a fixed-order block sum
// (blockreduce.cuh) written to a scratch slot. The next kernel adds a channel's S partials
// in order. S is a function of B and C only (bn_chunks), so the results do not depend on
// timing or on the GPU: no float atomics, same bits every run. One block per channel (S = 1,
// the first version) gave the paper preset's first stages 32 and 64 blocks, a quarter and a
// half of an H100's SMs with one 8-warp block each, for the largest activations of the model
// (B·C·L = 118 M values per layer at batch 512); S chunks give ~512 blocks.
//
//   forward:  bn_sum (Σx per chunk) → bn_sqdev (mean from the partials; Σ(x−m)² per chunk)
//             → bn_normalize (variance from the partials; statistics saved by chunk 0;
//             out = (x − m)·r·γ + β over the chunk)
//   backward: bn_bwd_sums (Σdy, Σdy·x̂ per chunk) → bn_bwd_apply (the sums from the
//             partials; chunk 0 adds dγ, dβ; dinp over the chunk)
//
// The forward kernels can apply ReLU on the way out (relu = 1): the residual block's
// BN → ReLU, fused to save one read and one write of the activations. The ReLU is
// nn.ReLUForward's (NaN stays NaN, −0 becomes +0) applied to the value the unfused kernel
// would store.
#include "common.cuh"
#include "blockreduce.cuh"

#include <algorithm>
#include <mutex>

namespace {

constexpr int kThreads = 256;

// kTargetBlocks is the number of blocks a training kernel aims at: ~4 per SM of an H100
// (132 SMs), enough that every SM streams several chunks.
constexpr long kTargetBlocks = 512;

// kMinChunkValues is the fewest values a chunk should hold (32 per thread): below that a
// block's fixed costs (its block sums, the partials it re-adds) outweigh its share of the
// streaming.
constexpr long kMinChunkValues = 8192;

// bn_chunks returns S, the chunks each channel's batch is split into: ⌈kTargetBlocks/C⌉,
// but no more than ⌊B·L/kMinChunkValues⌋ and B, at least 1; or the caller's forced count
// (clamped to [1, B]). A function of the sizes only.
int bn_chunks(int B, int C, long L, int forced) {
	long s = forced > 0 ? forced : std::min(mlcu::ceil_div(kTargetBlocks, C), long(B) * L / kMinChunkValues);
	return int(std::max(1L, std::min(s, long(B))));
}

// chunk_begin is the first sample of chunk j of S over a batch of B (chunk j is
// [chunk_begin(j), chunk_begin(j+1))).
__device__ inline int chunk_begin(int j, int B, int S) { return int(long(j) * B / S); }

// parts_total returns Σ_j part[(c·S + j)·stride + k] for j = 0..S−1 in order: a channel's
// partial sums combined the same way by every thread of every block.
__device__ inline double parts_total(const double* part, int c, int S, int stride, int k) {
	double t = 0;
	for (int j = 0; j < S; j++) t += part[(long(c) * S + j) * stride + k];
	return t;
}

// relu_if: nn.ReLUForward's max(v, 0) when relu is set, v otherwise.
__device__ inline float relu_if(float v, int relu) { return (!relu || v > 0.0f || v != v) ? v : 0.0f; }

// bn_sum: part[c·S + j] = Σ x over chunk j of channel c (block (j, c)).
__global__ void bn_sum_kernel(double* part, const float* inp, int B, int C, long L, int S) {
	__shared__ double scratch[32];
	const int j = blockIdx.x, c = blockIdx.y;
	double s = 0;
	for (int b = chunk_begin(j, B, S); b < chunk_begin(j + 1, B, S); b++) {
		const float* x = inp + (long(b) * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) s += x[l];
	}
	s = mlcu::block_sum(s, scratch);
	if (threadIdx.x == 0) part[long(c) * S + j] = s;
}

// bn_sqdev: the mean m from the partials of bn_sum; part2[c·S + j] = Σ (x − m)² over the
// chunk.
__global__ void bn_sqdev_kernel(double* part2, const double* part, const float* inp, int B, int C, long L, int S) {
	__shared__ double scratch[32];
	const int j = blockIdx.x, c = blockIdx.y;
	const double m = parts_total(part, c, S, 1, 0) / (double(B) * double(L));
	double ss = 0;
	for (int b = chunk_begin(j, B, S); b < chunk_begin(j + 1, B, S); b++) {
		const float* x = inp + (long(b) * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) {
			double d = double(x[l]) - m;
			ss += d * d;
		}
	}
	ss = mlcu::block_sum(ss, scratch);
	if (threadIdx.x == 0) part2[long(c) * S + j] = ss;
}

// bn_normalize: mean and variance from the partials; chunk 0 saves mean, rstd (C) and
// updates run_mean/run_var when non-null (unbiased variance, momentum as nn: run ←
// (1−momentum)·run + momentum·batch); every block normalises its chunk.
__global__ void bn_normalize_kernel(float* out, float* mean, float* rstd, const double* part, const double* part2,
                                    const float* inp, const float* gamma, const float* beta, float* run_mean,
                                    float* run_var, int B, int C, long L, int S, double momentum, double eps, int relu) {
	const int j = blockIdx.x, c = blockIdx.y;
	const double N = double(B) * double(L);
	const double m = parts_total(part, c, S, 1, 0) / N, ss = parts_total(part2, c, S, 1, 0);
	const double v = ss / N, r = 1 / sqrt(v + eps);
	if (j == 0 && threadIdx.x == 0) {
		mean[c] = float(m);
		rstd[c] = float(r);
		if (run_mean) {
			double unbiased = N > 1 ? ss / (N - 1) : v;
			run_mean[c] = float((1 - momentum) * double(run_mean[c]) + momentum * m);
			run_var[c] = float((1 - momentum) * double(run_var[c]) + momentum * unbiased);
		}
	}
	const float mf = float(m), scale = float(r) * gamma[c], shift = beta[c];
	for (int b = chunk_begin(j, B, S); b < chunk_begin(j + 1, B, S); b++) {
		const long o = (long(b) * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) out[o + l] = relu_if((inp[o + l] - mf) * scale + shift, relu);
	}
}

// bn_forward_eval: elementwise with the running statistics.
__global__ void bn_forward_eval_kernel(float* out, const float* inp, const float* gamma, const float* beta,
                                       const float* run_mean, const float* run_var, long BC, int C, long L, double eps,
                                       int relu) {
	const long n = BC * L;
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		int c = int((i / L) % C);
		float scale = float(1 / sqrt(double(run_var[c]) + eps)) * gamma[c];
		out[i] = relu_if((inp[i] - run_mean[c]) * scale + beta[c], relu);
	}
}

// bn_bwd_sums: part[(c·S + j)·2 + {0, 1}] = Σ dout, Σ dout·x̂ over chunk j of channel c.
__global__ void bn_bwd_sums_kernel(double* part, const float* dout, const float* inp, const float* mean, const float* rstd,
                                   int B, int C, long L, int S) {
	__shared__ double scratch[32];
	const int j = blockIdx.x, c = blockIdx.y;
	const double m = mean[c], r = rstd[c];
	double sdy = 0, sdyx = 0;
	for (int b = chunk_begin(j, B, S); b < chunk_begin(j + 1, B, S); b++) {
		const long o = (long(b) * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) {
			double g = dout[o + l];
			sdy += g;
			sdyx += g * ((double(inp[o + l]) - m) * r);
		}
	}
	sdy = mlcu::block_sum(sdy, scratch);
	sdyx = mlcu::block_sum(sdyx, scratch);
	if (threadIdx.x == 0) {
		part[(long(c) * S + j) * 2] = sdy;
		part[(long(c) * S + j) * 2 + 1] = sdyx;
	}
}

// bn_bwd_apply: the channel's sums from the partials; chunk 0 adds dgamma, dbeta (each may
// be null); every block adds the input gradient of its chunk into dinp (when non-null).
__global__ void bn_bwd_apply_kernel(float* dinp, float* dgamma, float* dbeta, const double* part, const float* dout,
                                    const float* inp, const float* mean, const float* rstd, const float* gamma, int B,
                                    int C, long L, int S) {
	const int j = blockIdx.x, c = blockIdx.y;
	const double N = double(B) * double(L), r = rstd[c];
	const double sdy = parts_total(part, c, S, 2, 0), sdyx = parts_total(part, c, S, 2, 1);
	if (j == 0 && threadIdx.x == 0) {
		if (dbeta) dbeta[c] += float(sdy);
		if (dgamma) dgamma[c] += float(sdyx);
	}
	if (!dinp) return;
	const float k = float(double(gamma[c]) * r), mdy = float(sdy / N), mdyx = float(sdyx / N);
	const float tm = mean[c], tr = rstd[c];
	for (int b = chunk_begin(j, B, S); b < chunk_begin(j + 1, B, S); b++) {
		const long o = (long(b) * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) {
			float xhat = (inp[o + l] - tm) * tr;
			dinp[o + l] += k * (dout[o + l] - mdy - xhat * mdyx);
		}
	}
}

// scratch is the device memory of the partial sums (2·C·S doubles), grown on demand and
// kept. Its lock is held for a whole ABI call, so that calls from several host threads use
// it one after another; every kernel runs on the default stream, so a later call's kernels
// start after an earlier call's have finished with it (and cudaFree, when it grows, waits
// for the device).
struct scratch {
	std::mutex mu;
	double* p = nullptr;
	size_t n = 0;
};

scratch& bn_scratch() {
	static scratch* s = new scratch;
	return *s;
}

// scratch_get returns s's buffer with at least n doubles (nullptr if it cannot be had).
double* scratch_get(scratch& s, size_t n) {
	if (n > s.n) {
		if (s.p) cudaFree(s.p);
		s.p = nullptr;
		s.n = 0;
		void* p = nullptr;
		if (cudaMalloc(&p, n * sizeof(double)) != cudaSuccess) return nullptr;
		s.p = static_cast<double*>(p);
		s.n = n;
	}
	return s.p;
}

// bn_plan is what a training call needs: the chunk count S and the scratch for 2·C·S partial
// sums, locked until the plan goes out of scope at the end of the call; err is non-zero when
// the call cannot run.
struct bn_plan {
	std::unique_lock<std::mutex> lock;
	int S = 0;
	double* part = nullptr;
	int err = 0;
};

bn_plan plan(int B, int C, long L, int chunks) {
	bn_plan p;
	if (C > 65535) { // the grid's y dimension
		p.err = int(cudaErrorInvalidValue);
		return p;
	}
	p.S = bn_chunks(B, C, L, chunks);
	scratch& sc = bn_scratch();
	p.lock = std::unique_lock<std::mutex>(sc.mu);
	p.part = scratch_get(sc, 2 * size_t(C) * p.S);
	if (!p.part) p.err = int(cudaErrorMemoryAllocation);
	return p;
}

} // namespace

extern "C" int mlcu_batchnorm1d_forward(float* d_out, float* d_mean, float* d_rstd, const float* d_inp, const float* d_gamma,
                                        const float* d_beta, float* d_run_mean, float* d_run_var, int B, int C, long L,
                                        double momentum, double eps, int relu, int chunks) {
	if (C <= 0 || B <= 0) return 0;
	bn_plan p = plan(B, C, L, chunks);
	if (p.err) return p.err;
	const int S = p.S;
	double *part = p.part, *part2 = p.part + size_t(C) * S;
	const dim3 grid{unsigned(S), unsigned(C)};
	MLCU_LAUNCH(bn_sum_kernel, grid, dim3(kThreads), 0, part, d_inp, B, C, L, S);
	MLCU_TRY(cudaGetLastError());
	MLCU_LAUNCH(bn_sqdev_kernel, grid, dim3(kThreads), 0, part2, part, d_inp, B, C, L, S);
	MLCU_TRY(cudaGetLastError());
	MLCU_LAUNCH(bn_normalize_kernel, grid, dim3(kThreads), 0, d_out, d_mean, d_rstd, part, part2, d_inp, d_gamma, d_beta,
	            d_run_mean, d_run_var, B, C, L, S, momentum, eps, relu);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_batchnorm1d_eval_forward(float* d_out, const float* d_inp, const float* d_gamma, const float* d_beta,
                                             const float* d_run_mean, const float* d_run_var, int B, int C, long L, double eps,
                                             int relu) {
	long n = long(B) * C * L;
	if (n <= 0) return 0;
	MLCU_LAUNCH(bn_forward_eval_kernel, mlcu::grid_1d(n, kThreads), dim3(kThreads), 0, d_out, d_inp, d_gamma, d_beta, d_run_mean,
	            d_run_var, long(B) * C, C, L, eps, relu);
	MLCU_LAUNCHED();
}

extern "C" int mlcu_batchnorm1d_backward(float* d_dinp, float* d_dgamma, float* d_dbeta, const float* d_dout, const float* d_inp,
                                         const float* d_mean, const float* d_rstd, const float* d_gamma, int B, int C, long L,
                                         int chunks) {
	if (C <= 0 || B <= 0) return 0;
	bn_plan p = plan(B, C, L, chunks);
	if (p.err) return p.err;
	const int S = p.S;
	double* part = p.part;
	const dim3 grid{unsigned(S), unsigned(C)};
	MLCU_LAUNCH(bn_bwd_sums_kernel, grid, dim3(kThreads), 0, part, d_dout, d_inp, d_mean, d_rstd, B, C, L, S);
	MLCU_TRY(cudaGetLastError());
	MLCU_LAUNCH(bn_bwd_apply_kernel, grid, dim3(kThreads), 0, d_dinp, d_dgamma, d_dbeta, part, d_dout, d_inp, d_mean, d_rstd,
	            d_gamma, B, C, L, S);
	MLCU_LAUNCHED();
}

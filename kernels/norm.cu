// norm.cu: BatchNorm1d over (B, C, L), channels-first: training forward (batch statistics,
// running-statistic update), evaluation forward, backward. CPU reference: nn/batchnorm.go,
// whose arithmetic this follows: statistics and gradient sums in double (two passes for the
// variance), the per-element affine map and input gradient in float.
//
// One block per channel: its B runs of L contiguous values are read coalesced, and the
// channel's sums are fixed-order block sums (blockreduce.cuh), so the results are
// deterministic. With few channels (the paper's first stage has 32) this leaves SMs idle; a
// split of each channel over several blocks with a second pass would fix that.
//
// The forward kernels can apply ReLU on the way out (relu = 1): the residual block's
// BN → ReLU, fused to save one read and one write of the activations. The ReLU is
// nn.ReLUForward's (NaN stays NaN, −0 becomes +0) applied to the value the unfused kernel
// would store.
#include "common.cuh"
#include "blockreduce.cuh"

namespace {

constexpr int kThreads = 256;

// relu_if: nn.ReLUForward's max(v, 0) when relu is set, v otherwise.
__device__ inline float relu_if(float v, int relu) { return (!relu || v > 0.0f || v != v) ? v : 0.0f; }

// bn_forward_train: channel c = blockIdx.x. mean, rstd (C) saved; run_mean/run_var updated
// when non-null (unbiased variance, momentum as nn: run ← (1−momentum)·run + momentum·batch).
__global__ void bn_forward_train_kernel(float* out, float* mean, float* rstd, const float* inp, const float* gamma,
                                        const float* beta, float* run_mean, float* run_var, int B, int C, long L,
                                        double momentum, double eps, int relu) {
	__shared__ double scratch[32];
	const int c = blockIdx.x;
	const double N = double(B) * double(L);
	double s = 0;
	for (int b = 0; b < B; b++) {
		const float* x = inp + (long(b) * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) s += x[l];
	}
	const double m = mlcu::block_sum(s, scratch) / N;
	double ss = 0;
	for (int b = 0; b < B; b++) {
		const float* x = inp + (long(b) * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) {
			double d = double(x[l]) - m;
			ss += d * d;
		}
	}
	ss = mlcu::block_sum(ss, scratch);
	const double v = ss / N, r = 1 / sqrt(v + eps);
	if (threadIdx.x == 0) {
		mean[c] = float(m);
		rstd[c] = float(r);
		if (run_mean) {
			double unbiased = N > 1 ? ss / (N - 1) : v;
			run_mean[c] = float((1 - momentum) * double(run_mean[c]) + momentum * m);
			run_var[c] = float((1 - momentum) * double(run_var[c]) + momentum * unbiased);
		}
	}
	const float mf = float(m), scale = float(r) * gamma[c], shift = beta[c];
	for (int b = 0; b < B; b++) {
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

// bn_backward: channel c = blockIdx.x; dgamma, dbeta, dinp may each be null.
__global__ void bn_backward_kernel(float* dinp, float* dgamma, float* dbeta, const float* dout, const float* inp,
                                   const float* mean, const float* rstd, const float* gamma, int B, int C, long L) {
	__shared__ double scratch[32];
	const int c = blockIdx.x;
	const double N = double(B) * double(L), m = mean[c], r = rstd[c];
	double sdy = 0, sdyx = 0; // Σ dout, Σ dout·x̂
	for (int b = 0; b < B; b++) {
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
		if (dbeta) dbeta[c] += float(sdy);
		if (dgamma) dgamma[c] += float(sdyx);
	}
	if (!dinp) return;
	const float k = float(double(gamma[c]) * r), mdy = float(sdy / N), mdyx = float(sdyx / N);
	const float tm = mean[c], tr = rstd[c];
	for (int b = 0; b < B; b++) {
		const long o = (long(b) * C + c) * L;
		for (long l = threadIdx.x; l < L; l += blockDim.x) {
			float xhat = (inp[o + l] - tm) * tr;
			dinp[o + l] += k * (dout[o + l] - mdy - xhat * mdyx);
		}
	}
}

} // namespace

extern "C" int mlcu_batchnorm1d_forward(float* d_out, float* d_mean, float* d_rstd, const float* d_inp, const float* d_gamma,
                                        const float* d_beta, float* d_run_mean, float* d_run_var, int B, int C, long L,
                                        double momentum, double eps, int relu) {
	if (C <= 0) return 0;
	MLCU_LAUNCH(bn_forward_train_kernel, dim3(unsigned(C)), dim3(kThreads), 0, d_out, d_mean, d_rstd, d_inp, d_gamma, d_beta,
	            d_run_mean, d_run_var, B, C, L, momentum, eps, relu);
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
                                         const float* d_mean, const float* d_rstd, const float* d_gamma, int B, int C, long L) {
	if (C <= 0) return 0;
	MLCU_LAUNCH(bn_backward_kernel, dim3(unsigned(C)), dim3(kThreads), 0, d_dinp, d_dgamma, d_dbeta, d_dout, d_inp, d_mean, d_rstd,
	            d_gamma, B, C, L);
	MLCU_LAUNCHED();
}

// mixture.cu: the flow's Gaussian-mixture base density, log p(u) = Σ_i log Σ_k w_ik N(u_i; m_ik,
// σ_ik), forward (with responsibilities) and backward. CPU reference: nn.MixtureLogProb and
// nn.MixtureBackward; like them, the scalar arithmetic is in double precision (the sums are
// short: K terms per value), inputs and outputs float32.
#include "common.cuh"

namespace {

// mix_tables computes for dimension i and component k: log w_ik (softmax of the logits over
// k), 1/σ_ik and log σ_ik + ½ log 2π.
__device__ inline void mix_tables(const float* logits, const float* logscales, int i, int k, int K, double* logw,
                                  double* inv_sigma, double* log_norm) {
	const float* l = logits + i * K;
	double mx = l[0];
	for (int j = 1; j < K; j++) mx = l[j] > mx ? double(l[j]) : mx;
	double s = 0;
	for (int j = 0; j < K; j++) s += exp(double(l[j]) - mx);
	*logw = double(l[k]) - (mx + log(s));
	double ls = logscales[i * K + k];
	*inv_sigma = exp(-ls);
	*log_norm = ls + 0.9189385332046727; // ½ log 2π
}

// One thread per row b: logp[b] and resp[b, :, :].
__global__ void mixture_logprob_kernel(float* logp, float* resp, const float* u, const float* params, int B, int D, int K) {
	const float* logits = params;
	const float* means = params + D * K;
	const float* logscales = params + 2 * D * K;
	for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < B; b += gridDim.x * blockDim.x) {
		double lp = 0;
		for (int i = 0; i < D; i++) {
			double ui = u[long(b) * D + i];
			double a[64]; // K ≤ 64 (checked by the caller)
			double mx = -INFINITY;
			for (int k = 0; k < K; k++) {
				double logw, is, ln;
				mix_tables(logits, logscales, i, k, K, &logw, &is, &ln);
				double z = (ui - double(means[i * K + k])) * is;
				a[k] = logw - 0.5 * z * z - ln;
				mx = a[k] > mx ? a[k] : mx;
			}
			double s = 0;
			for (int k = 0; k < K; k++) {
				a[k] = exp(a[k] - mx);
				s += a[k];
			}
			float* r = resp + (long(b) * D + i) * K;
			for (int k = 0; k < K; k++) r[k] = float(a[k] / s);
			lp += mx + log(s);
		}
		logp[b] = float(lp);
	}
}

// du: one thread per (b, i).
__global__ void mixture_backward_du_kernel(float* du, const float* dlogp, const float* resp, const float* u,
                                           const float* params, int B, int D, int K) {
	const float* means = params + D * K;
	const float* logscales = params + 2 * D * K;
	long n = long(B) * D;
	for (long t = long(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += long(gridDim.x) * blockDim.x) {
		int b = int(t / D), i = int(t % D);
		double ui = u[t], dui = 0;
		for (int k = 0; k < K; k++) {
			double is = exp(-double(logscales[i * K + k]));
			double z = (ui - double(means[i * K + k])) * is;
			dui -= double(resp[t * K + k]) * z * is;
		}
		du[t] += float(double(dlogp[b]) * dui);
	}
}

// Parameter gradients: one thread block per (i, k), its threads striding over the rows and
// a shared-memory tree sum in a fixed order (deterministic run to run).
__global__ void mixture_backward_params_kernel(float* dparams, const float* dlogp, const float* resp, const float* u,
                                               const float* params, int B, int D, int K) {
	const int NT = 256;
	__shared__ double acc[3][NT];
	int j = blockIdx.x, i = j / K, k = j % K, t = threadIdx.x;
	double logw, is, ln;
	mix_tables(params, params + 2 * D * K, i, k, K, &logw, &is, &ln);
	double w = exp(logw), m = params[D * K + j];
	double s0 = 0, s1 = 0, s2 = 0;
	for (int b = t; b < B; b += NT) {
		double g = dlogp[b];
		double r = resp[(long(b) * D + i) * K + k];
		double z = (double(u[long(b) * D + i]) - m) * is;
		s0 += g * (r - w);
		s1 += g * r * z * is;
		s2 += g * r * (z * z - 1);
	}
	acc[0][t] = s0;
	acc[1][t] = s1;
	acc[2][t] = s2;
	__syncthreads();
	for (int h = NT / 2; h > 0; h >>= 1) {
		if (t < h)
			for (int c = 0; c < 3; c++) acc[c][t] += acc[c][t + h];
		__syncthreads();
	}
	if (t == 0) {
		dparams[j] += float(acc[0][0]);
		dparams[D * K + j] += float(acc[1][0]);
		dparams[2 * D * K + j] += float(acc[2][0]);
	}
}

} // namespace

extern "C" {

int mlcu_mixture_logprob_f32(float* d_logp, float* d_resp, const float* d_u, const float* d_params, int B, int D, int K) {
	if (B <= 0) return 0;
	if (D < 1 || K < 1 || K > 64) return int(cudaErrorInvalidValue);
	MLCU_LAUNCH(mixture_logprob_kernel, mlcu::grid_1d(B, 128), dim3(128), 0, d_logp, d_resp, d_u, d_params, B, D, K);
	MLCU_LAUNCHED();
}

int mlcu_mixture_backward_f32(float* d_du, float* d_dparams, const float* d_dlogp, const float* d_resp, const float* d_u,
                              const float* d_params, int B, int D, int K) {
	if (B <= 0) return 0;
	if (D < 1 || K < 1 || K > 64) return int(cudaErrorInvalidValue);
	if (d_du) {
		MLCU_LAUNCH(mixture_backward_du_kernel, mlcu::grid_1d(long(B) * D, 256), dim3(256), 0, d_du, d_dlogp, d_resp, d_u,
		            d_params, B, D, K);
		MLCU_TRY(cudaGetLastError());
	}
	MLCU_LAUNCH(mixture_backward_params_kernel, dim3(D * K), dim3(256), 0, d_dparams, d_dlogp, d_resp, d_u, d_params, B, D, K);
	MLCU_LAUNCHED();
}

} // extern "C"

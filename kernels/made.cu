// made.cu: the element-wise parts of a MADE block in the density direction (nn.MADEForward,
// nn.MADEBackward); the masked linear layers themselves are products with the effective
// weights W⊙M (SGEMM, gemm.cu), whose gradients are masked again (mlcu_add_masked_f32).
//
//   y = (x − μ)·exp(−α),  α = A·tanh(raw/A) (A = 3),  logdet = −Σ_i α_i
#include "flow.cuh"

namespace {

// One thread per row: bound the log-scales in place, write y and logdet.
__global__ void made_affine_forward_kernel(float* y, float* logdet, float* O, const float* x, int B, int D) {
	for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < B; b += gridDim.x * blockDim.x) {
		float* o = O + long(b) * 2 * D;
		double ld = 0;
		for (int i = 0; i < D; i++) {
			float mu = o[2 * i], alpha = mlcu::made_log_scale(o[2 * i + 1]);
			o[2 * i + 1] = alpha;
			y[long(b) * D + i] = (x[long(b) * D + i] - mu) * float(exp(-double(alpha)));
			ld -= alpha;
		}
		logdet[b] = float(ld);
	}
}

// One thread per (row, dimension): dx += dy·e^{−α}; dO = (−dy·e^{−α}, (−dy·y − g)(1 − (α/A)²)).
__global__ void made_affine_backward_kernel(float* dx, float* dO, const float* dy, const float* dlogdet, const float* y,
                                            const float* O, int B, int D) {
	long n = long(B) * D;
	for (long t = long(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += long(gridDim.x) * blockDim.x) {
		long b = t / D;
		int i = int(t % D);
		double alpha = O[b * 2 * D + 2 * i + 1];
		double g = dlogdet ? double(dlogdet[b]) : 0.0;
		double dyi = dy[t], e = exp(-alpha);
		dx[t] += float(dyi * e);
		dO[b * 2 * D + 2 * i] = float(-dyi * e);
		double r = alpha / 3.0;
		dO[b * 2 * D + 2 * i + 1] = float((-dyi * double(y[t]) - g) * (1 - r * r));
	}
}

__global__ void mul_kernel(float* out, const float* a, const float* m, long n) {
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) out[i] = a[i] * m[i];
}

__global__ void add_masked_kernel(float* dst, const float* x, const float* m, long n) {
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) dst[i] += x[i] * m[i];
}

__global__ void add_kernel(float* dst, const float* x, long n) {
	for (long i = long(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) dst[i] += x[i];
}

// logp[b] = base[b] + Σ_j logdet[j·B + b], summed in block order as nn.MAFLogProb does.
__global__ void flow_logp_kernel(float* logp, const float* base, const float* logdet, int NB, int B) {
	for (int b = blockIdx.x * blockDim.x + threadIdx.x; b < B; b += gridDim.x * blockDim.x) {
		float lp = base[b];
		for (int j = 0; j < NB; j++) lp += logdet[long(j) * B + b];
		logp[b] = lp;
	}
}

} // namespace

extern "C" {

int mlcu_made_affine_forward_f32(float* d_y, float* d_logdet, float* d_O, const float* d_x, int B, int D) {
	if (B <= 0) return 0;
	MLCU_LAUNCH(made_affine_forward_kernel, mlcu::grid_1d(B, 128), dim3(128), 0, d_y, d_logdet, d_O, d_x, B, D);
	MLCU_LAUNCHED();
}

int mlcu_made_affine_backward_f32(float* d_dx, float* d_dO, const float* d_dy, const float* d_dlogdet, const float* d_y,
                                  const float* d_O, int B, int D) {
	if (B <= 0) return 0;
	MLCU_LAUNCH(made_affine_backward_kernel, mlcu::grid_1d(long(B) * D, 256), dim3(256), 0, d_dx, d_dO, d_dy, d_dlogdet,
	            d_y, d_O, B, D);
	MLCU_LAUNCHED();
}

int mlcu_mul_f32(float* d_out, const float* d_a, const float* d_m, long n) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(mul_kernel, mlcu::grid_1d(n, 256), dim3(256), 0, d_out, d_a, d_m, n);
	MLCU_LAUNCHED();
}

int mlcu_add_masked_f32(float* d_dst, const float* d_x, const float* d_m, long n) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(add_masked_kernel, mlcu::grid_1d(n, 256), dim3(256), 0, d_dst, d_x, d_m, n);
	MLCU_LAUNCHED();
}

int mlcu_add_f32(float* d_dst, const float* d_x, long n) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(add_kernel, mlcu::grid_1d(n, 256), dim3(256), 0, d_dst, d_x, n);
	MLCU_LAUNCHED();
}

int mlcu_flow_logp_f32(float* d_logp, const float* d_base, const float* d_logdet, int NB, int B) {
	if (B <= 0) return 0;
	MLCU_LAUNCH(flow_logp_kernel, mlcu::grid_1d(B, 128), dim3(128), 0, d_logp, d_base, d_logdet, NB, B);
	MLCU_LAUNCHED();
}

} // extern "C"

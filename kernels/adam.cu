// adam.cu: the Adam / AdamW parameter update, elementwise over one flat parameter buffer.
// CPU reference: nn.Adam.Update (nn/adam.go), whose formula this follows operation for
// operation, in double precision, storing float32, with no fused multiply-add on either side
// (the _rn intrinsics here, explicit conversions there), so the two give the same bits:
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	p −= lr·( (m/c1) / (√(v/c2) + ε) + λ·p ),   c1 = 1−β1ᵗ, c2 = 1−β2ᵗ (from the host).
#include "common.cuh"

namespace {

__global__ void adam_kernel(float* params, const float* grads, float* m, float* v, long n, double lr, double b1, double b2,
                            double eps, double wd, double c1, double c2) {
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		// Unfused on purpose: b1 = 0.9 puts b1·m exactly on a float32 rounding midpoint for
		// about one m in ten, so an FMA (nvcc's default) moved ~0.1% of the moments by an ulp
		// and the moments carry such differences from step to step.
		double g = grads[i];
		double mi = __dadd_rn(__dmul_rn(b1, double(m[i])), __dmul_rn(1 - b1, g));
		double vi = __dadd_rn(__dmul_rn(b2, double(v[i])), __dmul_rn(__dmul_rn(1 - b2, g), g));
		m[i] = float(mi);
		v[i] = float(vi);
		double p = params[i];
		double step = __dadd_rn((mi / c1) / (sqrt(vi / c2) + eps), __dmul_rn(wd, p));
		params[i] = float(__dsub_rn(p, __dmul_rn(lr, step)));
	}
}

} // namespace

extern "C" int mlcu_adam_update(float* d_params, const float* d_grads, float* d_m, float* d_v, long n, double lr, double beta1,
                                double beta2, double eps, double weight_decay, double c1, double c2) {
	if (n <= 0) return 0;
	MLCU_LAUNCH(adam_kernel, mlcu::grid_1d(n, 256), dim3(256), 0, d_params, d_grads, d_m, d_v, n, lr, beta1, beta2, eps,
	            weight_decay, c1, c2);
	MLCU_LAUNCHED();
}

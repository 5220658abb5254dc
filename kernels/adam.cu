// adam.cu: the Adam / AdamW parameter update, elementwise over one flat parameter buffer.
// CPU reference: nn.Adam.Update (nn/adam.go), whose formula this follows operation for
// operation, in double precision, storing float32:
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	p −= lr·( (m/c1) / (√(v/c2) + ε) + λ·p ),   c1 = 1−β1ᵗ, c2 = 1−β2ᵗ (from the host).
#include "common.cuh"

namespace {

__global__ void adam_kernel(float* params, const float* grads, float* m, float* v, long n, double lr, double b1, double b2,
                            double eps, double wd, double c1, double c2) {
	for (long i = blockIdx.x * long(blockDim.x) + threadIdx.x; i < n; i += long(gridDim.x) * blockDim.x) {
		double g = grads[i];
		double mi = b1 * double(m[i]) + (1 - b1) * g;
		double vi = b2 * double(v[i]) + (1 - b2) * g * g;
		m[i] = float(mi);
		v[i] = float(vi);
		double p = params[i];
		params[i] = float(p - lr * ((mi / c1) / (sqrt(vi / c2) + eps) + wd * p));
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

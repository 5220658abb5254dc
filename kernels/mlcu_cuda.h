/* mlcu_cuda.h: the whole C ABI between Go (package cuda, cgo) and mlcu's CUDA kernels.
 *
 * Conventions:
 *   - every function returns 0 on success or a CUDA error code (cudaError_t's value;
 *     mlcu_error_string names it);
 *   - pointers named d_* are device memory (from mlcu_malloc), h_* host memory;
 *   - arrays are row-major, shapes are given in the comments as (rows, cols) like nn/;
 *   - all kernels run on the default stream; results are ready after mlcu_synchronize or a
 *     copy back to the host;
 *   - in the emulation build (libmlcu_cudaemu.a) device memory is host memory and kernels run
 *     on host threads (kernels/emu.cuh); the functions and their results are the same.
 */
#ifndef MLCU_CUDA_H
#define MLCU_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- runtime (runtime.cu) ---- */

/* mlcu_device_info_t describes one device. */
typedef struct {
	char name[256];
	size_t total_mem;           /* bytes of global memory */
	int cc_major, cc_minor;     /* compute capability */
	int multiprocessors;
	size_t smem_per_block_optin; /* bytes of shared memory a block may opt in to */
} mlcu_device_info_t;

int mlcu_is_emulation(void); /* 1 in libmlcu_cudaemu.a, 0 in libmlcu_cuda.a */
int mlcu_device_count(int* n);
int mlcu_device_info(int dev, mlcu_device_info_t* info);
int mlcu_set_device(int dev);
int mlcu_runtime_version(int* runtime, int* driver);
const char* mlcu_error_string(int code);
int mlcu_malloc(void** d_p, size_t bytes);
int mlcu_free(void* d_p);
int mlcu_memcpy_htod(void* d_dst, const void* h_src, size_t bytes);
int mlcu_memcpy_dtoh(void* h_dst, const void* d_src, size_t bytes);
int mlcu_memcpy_dtod(void* d_dst, const void* d_src, size_t bytes);
int mlcu_memset(void* d_p, int byte, size_t bytes);
int mlcu_synchronize(void);

/* ---- random numbers (rng.cu): Philox4x32-10, counter-based ----
 * Element i of a stream (key) is a function of (key, i) only, so results do not depend on
 * the launch configuration. */

/* mlcu_rng_uniform_f32 fills d_out (n) with uniforms in [0, 1) (24 bits): element i is word
 * i%4 of Philox on counter (lo32(i/4), hi32(i/4), counter_hi, 0) with key (lo32, hi32). */
int mlcu_rng_uniform_f32(float* d_out, long n, uint64_t key, uint32_t counter_hi);
/* mlcu_philox4x32_10 runs n Philox blocks on counters d_ctr (n, 4) with key (k0, k1) into
 * d_out (n, 4): the known-answer test of the generator. */
int mlcu_philox4x32_10(uint32_t* d_out, const uint32_t* d_ctr, long n, uint32_t k0, uint32_t k1);

/* ---- binary lens (lens.cu): point-source magnification, ray-shooting map, light curves ---- */

/* ---- dense ops (gemm.cu, elementwise.cu, conv1d.cu, norm.cu, adam.cu) ---- */

/* mlcu_sgemm: C = alpha·op(A)·op(B) + beta·C, row-major as nn.Gemm: op(A) (m, k), op(B)
 * (k, n), C (m, n); op(X) = Xᵀ when trans* is non-zero; lda, ldb, ldc are row strides (of A
 * and B as stored). beta = 0 does not read C. */
int mlcu_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float* d_A, long lda,
               const float* d_B, long ldb, float beta, float* d_C, long ldc);
/* mlcu_sgemm_batched: mlcu_sgemm on batch matrices, entry z at d_A + z·strideA (likewise B,
 * C; a stride of 0 shares one matrix across the batch). batch ≤ 65535. */
int mlcu_sgemm_batched(int transA, int transB, int m, int n, int k, float alpha, const float* d_A, long lda,
                       long strideA, const float* d_B, long ldb, long strideB, float beta, float* d_C, long ldc,
                       long strideC, int batch);
/* mlcu_sgemm_batched_tile: mlcu_sgemm_batched with the tile shape forced (tile 1: 64×64,
 * 2: 128×128, 0: automatic), so that tests cover both. */
int mlcu_sgemm_batched_tile(int transA, int transB, int m, int n, int k, float alpha, const float* d_A, long lda,
                            long strideA, const float* d_B, long ldb, long strideB, float beta, float* d_C, long ldc,
                            long strideC, int batch, int tile);

/* Elementwise (elementwise.cu); n elements, any shape. */
/* mlcu_relu_forward: out = max(inp, 0) (NaN stays NaN); out may be inp. */
int mlcu_relu_forward(float* d_out, const float* d_inp, long n);
/* mlcu_relu_backward: dinp += dout·1[out > 0]; when d_dinp == d_dout, dinp = dout·1[out > 0]. */
int mlcu_relu_backward(float* d_dinp, const float* d_dout, const float* d_out, long n);
/* mlcu_add_bias: out (rows, C, L) += bias (C) broadcast over rows and L (L = 1: a Linear). */
int mlcu_add_bias(float* d_out, const float* d_bias, long rows, int C, long L);
/* mlcu_channel_sum_add: dst (C) += Σ_{r,l} x[r, c, l], x (rows, C, L); the bias gradient.
 * Summed in double in a fixed order (deterministic). */
int mlcu_channel_sum_add(float* d_dst, const float* d_x, long rows, int C, long L);
/* mlcu_sumsq: *d_out = Σ x², x (n), accumulated in double by a deterministic two-pass
 * reduction; d_partial is scratch of MLCU_SUMSQ_PARTIALS doubles. */
#define MLCU_SUMSQ_PARTIALS 1024
int mlcu_sumsq(double* d_out, double* d_partial, const float* d_x, long n);
/* mlcu_scale_f32: x = (float)((double)x·s), x (n): gradient-norm clipping. */
int mlcu_scale_f32(float* d_x, long n, double s);

/* mlcu_sum_parts_add: dst (n) += Σ_p parts[p, :], parts (parts, n), added in order in double. */
int mlcu_sum_parts_add(float* d_dst, const float* d_parts, long n, int parts);

/* Convolution lowering and pooling (conv1d.cu), channels-first as nn; Conv1d itself is
 * im2col + mlcu_sgemm_batched (see conv1d.cu), composed by the caller (cuda.Conv1dForward). */
/* mlcu_conv1d_im2col: col (B, C·K, L), col[b, c·K+k, l] = inp[b, c, l+k−K/2] (0 outside
 * [0, L)); inp (B, C, L); K odd. */
int mlcu_conv1d_im2col(float* d_col, const float* d_inp, int B, int C, long L, int K);
/* mlcu_conv1d_col2im: the adjoint, dinp (B, C, L) += the taps of dcol (B, C·K, L). */
int mlcu_conv1d_col2im(float* d_dinp, const float* d_dcol, int B, int C, long L, int K);
/* mlcu_maxpool1d_forward: MaxPool1d(2), out (B, C, L/2) = max of each window of inp
 * (B, C, L), idx (B, C, L/2) the position in [0, L) of the maximum (ties: the first). */
int mlcu_maxpool1d_forward(float* d_out, int32_t* d_idx, const float* d_inp, int B, int C, long L);
/* mlcu_maxpool1d_backward: dinp[b, c, idx[b, c, j]] += dout[b, c, j]; dinp (B, C, L). */
int mlcu_maxpool1d_backward(float* d_dinp, const float* d_dout, const int32_t* d_idx, int B, int C, long L);

/* BatchNorm1d (norm.cu) on (B, C, L), as nn/batchnorm.go. */
/* mlcu_batchnorm1d_forward: training mode; out (B, C, L), saves mean (C), rstd (C); updates
 * run_mean, run_var (C) unless NULL (momentum convention of nn; unbiased variance). relu
 * non-zero: out = ReLU(BN(inp)), fused. */
int mlcu_batchnorm1d_forward(float* d_out, float* d_mean, float* d_rstd, const float* d_inp, const float* d_gamma,
                             const float* d_beta, float* d_run_mean, float* d_run_var, int B, int C, long L,
                             double momentum, double eps, int relu);
/* mlcu_batchnorm1d_eval_forward: evaluation mode, with the running statistics; relu as above. */
int mlcu_batchnorm1d_eval_forward(float* d_out, const float* d_inp, const float* d_gamma, const float* d_beta,
                                  const float* d_run_mean, const float* d_run_var, int B, int C, long L, double eps,
                                  int relu);
/* mlcu_batchnorm1d_backward: dinp (B, C, L), dgamma (C), dbeta (C) += the gradients of the
 * training-mode forward given dout; each of the three may be NULL. */
int mlcu_batchnorm1d_backward(float* d_dinp, float* d_dgamma, float* d_dbeta, const float* d_dout, const float* d_inp,
                              const float* d_mean, const float* d_rstd, const float* d_gamma, int B, int C, long L);

/* mlcu_adam_update (adam.cu): one Adam/AdamW step over n parameters, as nn.Adam.Update:
 * m, v updated in place, params −= lr·((m/c1)/(√(v/c2) + eps) + weight_decay·params) with
 * the bias corrections c1 = 1−β1ᵗ, c2 = 1−β2ᵗ computed by the caller; double arithmetic. */
int mlcu_adam_update(float* d_params, const float* d_grads, float* d_m, float* d_v, long n, double lr, double beta1,
                     double beta2, double eps, double weight_decay, double c1, double c2);

/* ---- GRU (gru.cu) ---- */

/* ---- flow (made.cu, mixture.cu, maf_sample.cu) ---- */

/* ---- emulation self-test (selftest.cu) ----
 * mlcu_selftest runs blocks × threads (threads a multiple of 32) threads that exercise
 * shuffles, votes, barriers after early returns, shared memory and atomics; d_out (blocks,
 * threads, 8) int, d_count one int (zeroed by the caller); see selftest.cu for the layout. */
int mlcu_selftest(int32_t* d_out, int32_t* d_count, int blocks, int threads, int keep);

#ifdef __cplusplus
}
#endif
#endif /* MLCU_CUDA_H */

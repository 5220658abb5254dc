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
/* 1 when the emulation's math functions carry CUDA's error bounds (MLCU_EMU_GPU_MATH). */
int mlcu_emulation_gpu_math(void);
/* 1 when the emulation contracts a·b + c into FMAs as nvcc does (MLCU_EMU_FMA). */
int mlcu_emulation_fma(void);
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

/* Frame of lens/ (VBBinaryLensing): lengths in Einstein radii of the total mass, origin at the
 * centre of mass, lens 1 (mass 1/(1+q)) at -s q/(1+q), lens 2 (mass q/(1+q)) at s/(1+q).
 * Double precision throughout; the caller validates s, q (lens.ValidateBinary) and the events.
 *
 * mlcu_binary_point_mag: d_out[i] = point-source magnification (lens.Binary.PointMag) at the
 * source (d_y1[i], d_y2[i]); d_out, d_y1, d_y2 (n). */
int mlcu_binary_point_mag(double* d_out, const double* d_y1, const double* d_y2, long n, double s, double q);
/* mlcu_binary_point_mag_many: the same with one lens per source: d_out[i] = A of the binary
 * (d_s[i], d_q[i]) at (d_y1[i], d_y2[i]); all arrays (n). */
int mlcu_binary_point_mag_many(double* d_out, const double* d_s, const double* d_q, const double* d_y1,
                               const double* d_y2, long n);
/* mlcu_binary_point_light_curves: point-source light curves (lens.LightCurve with rho = 0).
 * d_params (n_events, 6) rows (s, q, alpha [rad], u0, t0 [days], tE [days]); d_times
 * (n_times) days, shared by every event; d_out (n_events, n_times). */
int mlcu_binary_point_light_curves(double* d_out, const double* d_params, const double* d_times, long n_events,
                                   long n_times);
/* mlcu_binary_finite_light_curves: uniform finite-source light curves, the part that needs no
 * contour integration (lens/finite.go finiteMag): d_params (n_events, 7) rows (s, q, alpha,
 * u0, t0, tE, rho); d_boxes (n_events, 3, 4) each event's caustic boxes (x0, x1, y0, y1;
 * unused boxes +Inf, -Inf, +Inf, -Inf); d_times (n_times); tol the relative accuracy goal.
 * d_out (n_events, n_times) the magnification, d_status (n_events, n_times) int: 0 when d_out
 * is final (point source, or point + quadrupole), 1 when the disk needs contour integration
 * or lies in the far field (d_out then holds the point-source value; the caller finishes). */
int mlcu_binary_finite_light_curves(double* d_out, int32_t* d_status, const double* d_params, const double* d_boxes,
                                    const double* d_times, long n_events, long n_times, double tol);
/* mlcu_binary_finite_light_curves_contour: mlcu_binary_finite_light_curves, then contour
 * integration on the device (lens/finite.go contourMag with uniform boundary sampling,
 * 32 to 1024 points, and the CPU's error estimates and stopping rule) of the points that
 * need it, one block per point. d_status is 0 for every point finished on the device; 1 only
 * for far-field points and for contours whose error estimate did not reach tol·A (d_out
 * then holds the point-source value and the caller finishes). Scratch: d_list (n_events,
 * n_times) int32, d_count one uint32, d_scratch mlcu_binary_contour_scratch_len(blocks)
 * doubles; blocks ≥ 1 is the contour kernel's grid. */
int mlcu_binary_finite_light_curves_contour(double* d_out, int32_t* d_status, const double* d_params,
                                            const double* d_boxes, const double* d_times, long n_events,
                                            long n_times, double tol, int32_t* d_list, uint32_t* d_count,
                                            double* d_scratch, int blocks);
/* mlcu_binary_contour_scratch_len: the doubles of d_scratch for a contour grid of blocks. */
long mlcu_binary_contour_scratch_len(int blocks);
/* mlcu_binary_ray_map: inverse ray shooting (lens.Binary.RayShootMap) into d_counts (ny, nx)
 * uint32 (overwritten): the rays of the image-plane lattice (origin + (k + 1/2) h on both
 * axes) in the tiles of 16 x 16 rays that a quadtree of 2^level tiles per side (from origin)
 * keeps, mapped by y = z - m1/conj(z - a1) - m2/conj(z - a2) and counted in the pixels of
 * [x0, x1] x [y0, y1]. Pixel (i, j) is d_counts[j*nx + i]. h_n_tiles (host) receives the
 * number of tiles shot. Temporary device memory is allocated and freed inside. */
int mlcu_binary_ray_map(uint32_t* d_counts, double m1, double m2, double a1, double a2, double x0, double x1,
                        double y0, double y1, int nx, int ny, double h, double origin, int level, long* h_n_tiles);

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
 * 2: 128×128 in at most 128 registers, 3: 32×128, 4: 128×128 with the registers left to
 * ptxas; 0: automatic, as mlcu_sgemm_batched, which never takes 4), so that tests cover every shape and benchmarks
 * compare them. */
int mlcu_sgemm_batched_tile(int transA, int transB, int m, int n, int k, float alpha, const float* d_A, long lda,
                            long strideA, const float* d_B, long ldb, long strideB, float beta, float* d_C, long ldc,
                            long strideC, int batch, int tile);
/* mlcu_sgemm_choose_tile: the tile code the automatic choice takes for a batch of m×n
 * products op(A)·op(B) (gemm.cu, choose_tile). */
int mlcu_sgemm_choose_tile(int transA, int transB, long m, long n, long batch);

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

/* BatchNorm1d (norm.cu) on (B, C, L), as nn/batchnorm.go. The training-mode kernels split
 * each channel's batch into `chunks` slices of samples, one thread block each (0: automatic,
 * about 512 blocks in all where each holds ≥ 8192 values, a function of B, C and L only; 1:
 * one block per channel), with the
 * partial sums combined in a fixed order: deterministic for given sizes and chunks. */
/* mlcu_batchnorm1d_forward: training mode; out (B, C, L), saves mean (C), rstd (C); updates
 * run_mean, run_var (C) unless NULL (momentum convention of nn; unbiased variance). relu
 * non-zero: out = ReLU(BN(inp)), fused. */
int mlcu_batchnorm1d_forward(float* d_out, float* d_mean, float* d_rstd, const float* d_inp, const float* d_gamma,
                             const float* d_beta, float* d_run_mean, float* d_run_var, int B, int C, long L,
                             double momentum, double eps, int relu, int chunks);
/* mlcu_batchnorm1d_eval_forward: evaluation mode, with the running statistics; relu as above. */
int mlcu_batchnorm1d_eval_forward(float* d_out, const float* d_inp, const float* d_gamma, const float* d_beta,
                                  const float* d_run_mean, const float* d_run_var, int B, int C, long L, double eps,
                                  int relu);
/* mlcu_batchnorm1d_backward: dinp (B, C, L), dgamma (C), dbeta (C) += the gradients of the
 * training-mode forward given dout; each of the three may be NULL. */
int mlcu_batchnorm1d_backward(float* d_dinp, float* d_dgamma, float* d_dbeta, const float* d_dout, const float* d_inp,
                              const float* d_mean, const float* d_rstd, const float* d_gamma, int B, int C, long L,
                              int chunks);

/* mlcu_adam_update (adam.cu): one Adam/AdamW step over n parameters, as nn.Adam.Update:
 * m, v updated in place, params −= lr·((m/c1)/(√(v/c2) + eps) + weight_decay·params) with
 * the bias corrections c1 = 1−β1ᵗ, c2 = 1−β2ᵗ computed by the caller; double arithmetic. */
int mlcu_adam_update(float* d_params, const float* d_grads, float* d_m, float* d_v, long n, double lr, double beta1,
                     double beta2, double eps, double weight_decay, double c1, double c2);

/* ---- layout (layout.cu) ---- */
/* mlcu_transpose_last2_f32: d_dst (B, N, M) = the transpose of each of the B matrices of d_src
 * (B, M, N) (nn's transposeLast2). B ≤ 65535. */
int mlcu_transpose_last2_f32(float* d_dst, const float* d_src, int B, int M, int N);
/* mlcu_fill_f32: d_x[i] = v for i < n. */
int mlcu_fill_f32(float* d_x, long n, float v);

/* ---- GRU (gru.cu) ---- */
/* Multi-layer batch-first GRU, float32, nn/gru.go's GRUForward/GRUBackward (PyTorch's
 * equations, gates r, z, n, h_0 = 0). Sizes: batch B, steps T, input width C, hidden H,
 * `layers` stacked layers.
 *   d_params  (NumParams) flat, per layer: W_ih (3H, C_l), W_hh (3H, H), b_ih (3H), b_hh (3H)
 *             with C_0 = C, C_l = H above (nn.GRUParams, PyTorch's state_dict order)
 *   d_inp     (B, T, C) input sequence
 *   d_acts    (layers·5·B·T·H) saved activations, per layer Gates (B, T, 3H) = r, z, n,
 *             HN (B, T, H) = W_hn h_{t−1} + b_hn, H (B, T, H) = h_1 … h_T (nn.GRULayerActs)
 *   d_scratch (8·B·T·H) backward scratch
 * mlcu_gru_forward_f32 writes the top layer's h_T to d_out (B, H) and fills d_acts.
 * mlcu_gru_backward_f32 ADDS the parameter gradients into d_grads (NumParams, d_params'
 * layout) and the input gradient into d_dinp (B, T, C; may be NULL), given d_dout (B, H)
 * and the d_acts of the forward pass on the same d_params, d_inp. Deterministic. */
int mlcu_gru_forward_f32(float* d_out, float* d_acts, const float* d_params, const float* d_inp, int B, int T,
                         int C, int H, int layers);
int mlcu_gru_backward_f32(float* d_dinp, float* d_grads, const float* d_dout, const float* d_acts,
                          const float* d_params, const float* d_inp, float* d_scratch, int B, int T, int C, int H,
                          int layers);

/* ---- flow (made.cu, mixture.cu, maf_sample.cu) ---- */

/* mlcu_maf_sample draws S samples for each of E events from the conditional MAF (nn.MAFSample):
 *   d_out (E·S, D) samples θ (standardised), row r = e·S + s belongs to event e;
 *   d_u_out (E·S, D) the base draws used, or NULL;
 *   d_u_in (E·S, D) base draws to use, or NULL to draw them from the mixture with Philox
 *     (key = seed; row r uses counters of global row row0 + r only, so a call split into
 *     pieces with the right row0 gives the same samples);
 *   d_packed the flow's masked weights packed by mlcu_maf_pack, d_order (NB, D) the block
 *     orderings, d_cterm (NB, E, H) context terms ctx·Wcᵀ + b0 per block and event,
 *   d_mix (3, D, K): component means, σ = exp(log-scale), cumulative weights (last 1).
 * tile_rows samples per thread block (shared memory mlcu_maf_sample_smem bytes), threads a
 * multiple of 32. */
int mlcu_maf_sample(float* d_out, float* d_u_out, const float* d_u_in, const float* d_packed, const int32_t* d_order,
                    const float* d_cterm, const float* d_mix, int D, int C, int H, int L, int NB, int K, long E,
                    int S, uint64_t seed, long row0, int tile_rows, int threads);
/* mlcu_maf_packed_size: floats of the packed weights of NB blocks. */
long mlcu_maf_packed_size(int D, int H, int L, int NB);
/* mlcu_maf_pack packs the NB blocks of d_eff (the masked parameters in nn's flat layout) into
 * d_packed (mlcu_maf_packed_size floats): per block W0 (H, D), then per hidden layer Wh
 * (H, H4) and bh (H), then Wo (2D, H4) and bo (2D), H4 = H rounded up to 4, every tensor
 * float4-aligned, zeros in the padding. */
int mlcu_maf_pack(float* d_packed, const float* d_eff, int D, int C, int H, int L, int NB);
size_t mlcu_maf_sample_smem(int D, int H, int L, int tile_rows);

/* mlcu_made_affine_forward_f32: the affine step of a MADE block over B rows (nn.MADEForward):
 * d_O (B, D, 2) holds (μ, raw α) on entry and (μ, α = 3·tanh(raw/3)) on return;
 * d_y (B, D) = (x − μ)·exp(−α), d_logdet (B) = −Σ_i α_i, d_x (B, D). */
int mlcu_made_affine_forward_f32(float* d_y, float* d_logdet, float* d_O, const float* d_x, int B, int D);
/* mlcu_made_affine_backward_f32: ADDS dy·e^{−α} into d_dx (B, D) and SETS d_dO (B, D, 2), the
 * gradient with respect to (μ, raw α), given d_dy (B, D) and d_dlogdet (B) (NULL: zero). */
int mlcu_made_affine_backward_f32(float* d_dx, float* d_dO, const float* d_dy, const float* d_dlogdet, const float* d_y,
                                  const float* d_O, int B, int D);
/* mlcu_mul_f32: d_out[i] = d_a[i]·d_m[i] (the masked copy of the flow's parameters). */
int mlcu_mul_f32(float* d_out, const float* d_a, const float* d_m, long n);
/* mlcu_add_masked_f32: d_dst[i] += d_x[i]·d_m[i] (a masked weight's gradient). */
int mlcu_add_masked_f32(float* d_dst, const float* d_x, const float* d_m, long n);
/* mlcu_add_f32: d_dst[i] += d_x[i]. */
int mlcu_add_f32(float* d_dst, const float* d_x, long n);
/* mlcu_flow_logp_f32: d_logp[b] = d_base[b] + Σ_j d_logdet[j·B + b], j = 0..NB−1. */
int mlcu_flow_logp_f32(float* d_logp, const float* d_base, const float* d_logdet, int NB, int B);

/* mlcu_mixture_logprob_f32: the base log-density of B rows (nn.MixtureLogProb):
 *   d_logp (B), d_resp (B, D, K) responsibilities, d_u (B, D),
 *   d_params (3, D, K): logits, means, log-scales (nn.MixtureParams' layout). K ≤ 64. */
int mlcu_mixture_logprob_f32(float* d_logp, float* d_resp, const float* d_u, const float* d_params, int B, int D, int K);
/* mlcu_mixture_backward_f32 ADDS the gradients of the log-density into d_du (B, D)
 * (NULL to skip) and d_dparams (3, D, K), given d_dlogp (B) (nn.MixtureBackward). */
int mlcu_mixture_backward_f32(float* d_du, float* d_dparams, const float* d_dlogp, const float* d_resp, const float* d_u,
                              const float* d_params, int B, int D, int K);

/* ---- emulation self-test (selftest.cu) ----
 * mlcu_selftest runs blocks × threads (threads a multiple of 32) threads that exercise
 * shuffles, votes, barriers after early returns, shared memory and atomics; d_out (blocks,
 * threads, 8) int, d_count one int (zeroed by the caller); see selftest.cu for the layout. */
int mlcu_selftest(int32_t* d_out, int32_t* d_count, int blocks, int threads, int keep);
/* mlcu_selftest_smem launches one block of 32 threads with `bytes` of dynamic shared memory
 * (a multiple of 4), after setting the kernel's limit to bytes (optin non-zero) or to the
 * default 48 KiB; thread t writes
 * t+1 at the end of the buffer (int index bytes/4 − 32 + t) and d_out[t] gets the value of
 * thread (t+1)%32, read back after a barrier. Above 48 KiB without the opt-in the launch
 * fails (cudaErrorInvalidValue) on a GPU and in emulation alike. */
int mlcu_selftest_smem(int32_t* d_out, size_t bytes, int optin);
/* mlcu_selftest_stale_shared launches `blocks` blocks of 32 threads that each copy a static
 * __shared__ int[32] to d_out (blocks × 32 int) before writing it: undefined on a GPU; under
 * the emulation every value must be the poison (−1), never an earlier block's. */
int mlcu_selftest_stale_shared(int32_t* d_out, int blocks);
/* mlcu_selftest_warp_mask launches one warp whose lanes t < keep (the others return first)
 * store __shfl_xor_sync(member, t, 1) into d_out[t] (32 int). A member mask naming a lane that
 * has returned, or leaving out a calling lane, is undefined on a GPU; the emulation fails the
 * launch (cudaErrorLaunchFailure, 719). */
int mlcu_selftest_warp_mask(int32_t* d_out, int keep, unsigned member);
/* mlcu_selftest_math evaluates the math functions the kernels use, one thread per input:
 * d_outf (n, 3) = expf(x), tanhf(x), logf(|x| + 0.5) of d_inf[i]; d_outd (n, 4) = exp(y),
 * cos(y), log(|y| + 0.5), pow(|y| + 0.5, 0.2) of d_ind[i]. */
int mlcu_selftest_math(float* d_outf, double* d_outd, const float* d_inf, const double* d_ind, int n);

#ifdef __cplusplus
}
#endif
#endif /* MLCU_CUDA_H */

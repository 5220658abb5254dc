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
/* mlcu_binary_ray_map: inverse ray shooting (lens.Binary.RayShootMap) into d_counts (ny, nx)
 * uint32 (overwritten): the rays of the image-plane lattice (origin + (k + 1/2) h on both
 * axes) in the tiles of 16 x 16 rays that a quadtree of 2^level tiles per side (from origin)
 * keeps, mapped by y = z - m1/conj(z - a1) - m2/conj(z - a2) and counted in the pixels of
 * [x0, x1] x [y0, y1]. Pixel (i, j) is d_counts[j*nx + i]. h_n_tiles (host) receives the
 * number of tiles shot. Temporary device memory is allocated and freed inside. */
int mlcu_binary_ray_map(uint32_t* d_counts, double m1, double m2, double a1, double a2, double x0, double x1,
                        double y0, double y1, int nx, int ny, double h, double origin, int level, long* h_n_tiles);

/* ---- dense ops (gemm.cu, elementwise.cu, conv1d.cu, norm.cu, adam.cu) ---- */

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

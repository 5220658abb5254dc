//go:build cuda || cudaemu

package cuda

/*
#cgo CFLAGS: -I${SRCDIR}/../kernels
#cgo cudaemu,!mlcu_asan,!mlcu_tsan LDFLAGS: ${SRCDIR}/../build/cudaemu/libmlcu_cudaemu.a -lstdc++ -lm -lpthread
#cgo cudaemu,mlcu_asan LDFLAGS: ${SRCDIR}/../build/cudaemu-asan/libmlcu_cudaemu.a -fsanitize=address,undefined -lstdc++ -lm -lpthread
#cgo cudaemu,mlcu_tsan LDFLAGS: ${SRCDIR}/../build/cudaemu-tsan/libmlcu_cudaemu.a -fsanitize=thread -lstdc++ -lm -lpthread
#cgo cuda LDFLAGS: ${SRCDIR}/../build/cuda/libmlcu_cuda.a -L/usr/local/cuda/lib64 -L/usr/lib/x86_64-linux-gnu -lcudart_static -ldl -lrt -lpthread -lstdc++ -lm
#include <stdlib.h>
#include "mlcu_cuda.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// This file is the package's only cgo file: one Go wrapper per function of the C ABI
// (kernels/mlcu_cuda.h) that the package calls, named after it (mlcu_add_f32 → mlcuAddF32).
// A wrapper takes Go values (device buffers, ints, floats), converts them for the call and
// turns the C status into an *Error naming the C function (call); the rest of the package
// calls the wrappers, never C directly. The wrappers check no sizes: their callers do.
// Some wrappers serve only the tests' entry points (export_test.go: point-source
// magnification and light curves, the finite-source pass without contours, Philox, fill),
// since a test file cannot use cgo. Not wrapped (no Go caller): mlcu_sgemm,
// mlcu_sgemm_batched (gemmBatched uses mlcu_sgemm_batched_tile) and mlcu_maf_sample_smem.

// sumsqPartials is MLCU_SUMSQ_PARTIALS: the partial sums mlcu_sumsq's scratch holds.
const sumsqPartials = C.MLCU_SUMSQ_PARTIALS

// Error is a CUDA error code returned by the C ABI, with the operation that returned it.
type Error struct {
	Op   string // the operation, as profiles name it ("sgemm", "copy to host", ...)
	Func string // the C ABI function that returned Code (mlcu_sgemm_batched_tile, ...)
	Code int
}

func (e *Error) Error() string {
	op := e.Op
	if e.Func != "" {
		op += " (" + e.Func + ")"
	}
	return fmt.Sprintf("cuda: %s: %s (error %d)", op, errorString(e.Code), e.Code)
}

// errorString is mlcu_error_string: the CUDA runtime's name of an error code.
func errorString(code int) string { return C.GoString(C.mlcu_error_string(C.int(code))) }

// call turns the status code of the ABI function fn, run as operation op, into an error;
// while profiling (StartProfile) it also times the call under op.
func call(op, fn string, code C.int) error {
	if profiling.Load() {
		profileOp(op)
	}
	if code == 0 {
		return nil
	}
	return &Error{Op: op, Func: fn, Code: int(code)}
}

// cbool converts a Go bool to the ABI's int flag.
func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// ptrF32 etc. give the C pointer of a buffer for an ABI call (nil buffer → NULL).
func ptrF32(b *Buffer[float32]) *C.float {
	if b == nil {
		return nil
	}
	return (*C.float)(b.ptr)
}

func ptrF64(b *Buffer[float64]) *C.double {
	if b == nil {
		return nil
	}
	return (*C.double)(b.ptr)
}

func ptrU32(b *Buffer[uint32]) *C.uint32_t {
	if b == nil {
		return nil
	}
	return (*C.uint32_t)(b.ptr)
}

func ptrI32(b *Buffer[int32]) *C.int32_t {
	if b == nil {
		return nil
	}
	return (*C.int32_t)(b.ptr)
}

// ---- runtime (runtime.cu) ----

func mlcuIsEmulation() bool      { return C.mlcu_is_emulation() != 0 }
func mlcuEmulationGPUMath() bool { return C.mlcu_emulation_gpu_math() != 0 }
func mlcuEmulationFMA() bool     { return C.mlcu_emulation_fma() != 0 }

func mlcuDeviceCount() (int, error) {
	var n C.int
	err := call("device count", "mlcu_device_count", C.mlcu_device_count(&n))
	return int(n), err
}

// mlcuDeviceInfo describes device dev (RuntimeVer and DriverVer left 0: mlcuRuntimeVersion).
func mlcuDeviceInfo(dev int) (Device, error) {
	var info C.mlcu_device_info_t
	if err := call("device info", "mlcu_device_info", C.mlcu_device_info(C.int(dev), &info)); err != nil {
		return Device{}, err
	}
	return Device{
		Index: dev, Name: C.GoString(&info.name[0]), TotalMem: uint64(info.total_mem),
		CCMajor: int(info.cc_major), CCMinor: int(info.cc_minor), SMs: int(info.multiprocessors),
		SmemOptin: uint64(info.smem_per_block_optin),
	}, nil
}

func mlcuSetDevice(dev int) error {
	return call("set device", "mlcu_set_device", C.mlcu_set_device(C.int(dev)))
}

func mlcuRuntimeVersion() (rt, drv int, err error) {
	var crt, cdrv C.int
	err = call("runtime version", "mlcu_runtime_version", C.mlcu_runtime_version(&crt, &cdrv))
	return int(crt), int(cdrv), err
}

func mlcuMalloc(bytes int) (unsafe.Pointer, error) {
	var p unsafe.Pointer
	err := call("malloc", "mlcu_malloc", C.mlcu_malloc(&p, C.size_t(bytes)))
	return p, err
}

// mlcuFree is not profiled (a free is not device work to time).
func mlcuFree(p unsafe.Pointer) error {
	if code := C.mlcu_free(p); code != 0 {
		return &Error{Op: "free", Func: "mlcu_free", Code: int(code)}
	}
	return nil
}

func mlcuMemcpyHtoD(dst, src unsafe.Pointer, bytes int) error {
	return call("copy to device", "mlcu_memcpy_htod", C.mlcu_memcpy_htod(dst, src, C.size_t(bytes)))
}

func mlcuMemcpyDtoH(dst, src unsafe.Pointer, bytes int) error {
	return call("copy to host", "mlcu_memcpy_dtoh", C.mlcu_memcpy_dtoh(dst, src, C.size_t(bytes)))
}

func mlcuMemcpyDtoD(dst, src unsafe.Pointer, bytes int) error {
	return call("copy on device", "mlcu_memcpy_dtod", C.mlcu_memcpy_dtod(dst, src, C.size_t(bytes)))
}

func mlcuMemset(p unsafe.Pointer, value, bytes int) error {
	return call("memset", "mlcu_memset", C.mlcu_memset(p, C.int(value), C.size_t(bytes)))
}

func mlcuSynchronize() error {
	return call("synchronize", "mlcu_synchronize", C.mlcu_synchronize())
}

// profileSync waits for the device for profileOp, untimed (its error is the next call's).
func profileSync() { C.mlcu_synchronize() }

// ---- random numbers (rng.cu) ----

func mlcuRngUniformF32(out *F32, n int, key uint64, counterHi uint32) error {
	return call("uniform", "mlcu_rng_uniform_f32", C.mlcu_rng_uniform_f32(ptrF32(out), C.long(n), C.uint64_t(key), C.uint32_t(counterHi)))
}

func mlcuPhilox4x32x10(out, ctr *Buffer[uint32], n int, k0, k1 uint32) error {
	return call("philox", "mlcu_philox4x32_10", C.mlcu_philox4x32_10(ptrU32(out), ptrU32(ctr), C.long(n), C.uint32_t(k0), C.uint32_t(k1)))
}

// ---- binary lens (lens.cu) ----

func mlcuBinaryPointMag(out, y1, y2 *Buffer[float64], n int, s, q float64) error {
	return call("binary point mag", "mlcu_binary_point_mag",
		C.mlcu_binary_point_mag(ptrF64(out), ptrF64(y1), ptrF64(y2), C.long(n), C.double(s), C.double(q)))
}

func mlcuBinaryPointMagMany(out, s, q, y1, y2 *Buffer[float64], n int) error {
	return call("binary point mag many", "mlcu_binary_point_mag_many",
		C.mlcu_binary_point_mag_many(ptrF64(out), ptrF64(s), ptrF64(q), ptrF64(y1), ptrF64(y2), C.long(n)))
}

func mlcuBinaryPointLightCurves(out, params, ts *Buffer[float64], nEvents, nTimes int) error {
	return call("binary point light curves", "mlcu_binary_point_light_curves",
		C.mlcu_binary_point_light_curves(ptrF64(out), ptrF64(params), ptrF64(ts), C.long(nEvents), C.long(nTimes)))
}

func mlcuBinaryFiniteLightCurves(out *Buffer[float64], status *Buffer[int32], params, boxes, ts *Buffer[float64], nEvents, nTimes int, tol float64) error {
	return call("binary finite light curves", "mlcu_binary_finite_light_curves",
		C.mlcu_binary_finite_light_curves(ptrF64(out), ptrI32(status), ptrF64(params), ptrF64(boxes), ptrF64(ts),
			C.long(nEvents), C.long(nTimes), C.double(tol)))
}

func mlcuBinaryFiniteLightCurvesContour(out *Buffer[float64], status *Buffer[int32], params, boxes, ts *Buffer[float64], nEvents, nTimes int, tol float64,
	list *Buffer[int32], count *Buffer[uint32], scratch *Buffer[float64], blocks int) error {
	return call("binary finite light curves with contours", "mlcu_binary_finite_light_curves_contour",
		C.mlcu_binary_finite_light_curves_contour(ptrF64(out), ptrI32(status), ptrF64(params), ptrF64(boxes), ptrF64(ts),
			C.long(nEvents), C.long(nTimes), C.double(tol), ptrI32(list), ptrU32(count), ptrF64(scratch), C.int(blocks)))
}

func mlcuBinaryContourScratchLen(blocks int) int {
	return int(C.mlcu_binary_contour_scratch_len(C.int(blocks)))
}

// mlcuBinaryRayMap returns the number of tiles shot.
func mlcuBinaryRayMap(counts *Buffer[uint32], m1, m2, a1, a2, x0, x1, y0, y1 float64, nx, ny int, h, origin float64, level int) (int, error) {
	var nTiles C.long
	err := call("binary ray map", "mlcu_binary_ray_map",
		C.mlcu_binary_ray_map(ptrU32(counts), C.double(m1), C.double(m2), C.double(a1), C.double(a2),
			C.double(x0), C.double(x1), C.double(y0), C.double(y1), C.int(nx), C.int(ny), C.double(h), C.double(origin), C.int(level), &nTiles))
	return int(nTiles), err
}

// ---- dense ops (gemm.cu, elementwise.cu, conv1d.cu, norm.cu, adam.cu, layout.cu) ----

func mlcuSgemmBatchedTile(transA, transB bool, m, n, k int, alpha float32, a *F32, lda, sA int, b *F32, ldb, sB int,
	beta float32, c *F32, ldc, sC, batch, tile int) error {
	return call("sgemm", "mlcu_sgemm_batched_tile",
		C.mlcu_sgemm_batched_tile(cbool(transA), cbool(transB), C.int(m), C.int(n), C.int(k), C.float(alpha),
			ptrF32(a), C.long(lda), C.long(sA), ptrF32(b), C.long(ldb), C.long(sB), C.float(beta), ptrF32(c), C.long(ldc), C.long(sC),
			C.int(batch), C.int(tile)))
}

func mlcuSgemmChooseTile(transA, transB bool, m, n, batch int) int {
	return int(C.mlcu_sgemm_choose_tile(cbool(transA), cbool(transB), C.long(m), C.long(n), C.long(batch)))
}

func mlcuReLUForward(out, inp *F32, n int) error {
	return call("relu forward", "mlcu_relu_forward", C.mlcu_relu_forward(ptrF32(out), ptrF32(inp), C.long(n)))
}

func mlcuReLUBackward(dinp, dout, out *F32, n int) error {
	return call("relu backward", "mlcu_relu_backward", C.mlcu_relu_backward(ptrF32(dinp), ptrF32(dout), ptrF32(out), C.long(n)))
}

func mlcuAddBias(out, bias *F32, rows, Cn, L int) error {
	return call("add bias", "mlcu_add_bias", C.mlcu_add_bias(ptrF32(out), ptrF32(bias), C.long(rows), C.int(Cn), C.long(L)))
}

func mlcuChannelSumAdd(dst, x *F32, rows, Cn, L int) error {
	return call("channel sum", "mlcu_channel_sum_add", C.mlcu_channel_sum_add(ptrF32(dst), ptrF32(x), C.long(rows), C.int(Cn), C.long(L)))
}

func mlcuSumsq(out, partial *Buffer[float64], x *F32, n int) error {
	return call("sumsq", "mlcu_sumsq", C.mlcu_sumsq(ptrF64(out), ptrF64(partial), ptrF32(x), C.long(n)))
}

func mlcuScaleF32(x *F32, n int, s float64) error {
	return call("scale", "mlcu_scale_f32", C.mlcu_scale_f32(ptrF32(x), C.long(n), C.double(s)))
}

func mlcuSumPartsAdd(dst, parts *F32, n, nParts int) error {
	return call("sum parts", "mlcu_sum_parts_add", C.mlcu_sum_parts_add(ptrF32(dst), ptrF32(parts), C.long(n), C.int(nParts)))
}

func mlcuConv1dIm2col(col, inp *F32, B, Cn, L, K int) error {
	return call("im2col", "mlcu_conv1d_im2col", C.mlcu_conv1d_im2col(ptrF32(col), ptrF32(inp), C.int(B), C.int(Cn), C.long(L), C.int(K)))
}

func mlcuConv1dCol2im(dinp, dcol *F32, B, Cn, L, K int) error {
	return call("col2im", "mlcu_conv1d_col2im", C.mlcu_conv1d_col2im(ptrF32(dinp), ptrF32(dcol), C.int(B), C.int(Cn), C.long(L), C.int(K)))
}

func mlcuMaxPool1dForward(out *F32, idx *Buffer[int32], inp *F32, B, Cn, L int) error {
	return call("maxpool forward", "mlcu_maxpool1d_forward",
		C.mlcu_maxpool1d_forward(ptrF32(out), ptrI32(idx), ptrF32(inp), C.int(B), C.int(Cn), C.long(L)))
}

func mlcuMaxPool1dBackward(dinp, dout *F32, idx *Buffer[int32], B, Cn, L int) error {
	return call("maxpool backward", "mlcu_maxpool1d_backward",
		C.mlcu_maxpool1d_backward(ptrF32(dinp), ptrF32(dout), ptrI32(idx), C.int(B), C.int(Cn), C.long(L)))
}

func mlcuBatchNorm1dForward(out, mean, rstd, inp, gamma, beta, runMean, runVar *F32, B, Cn, L int, momentum, eps float64, relu bool, chunks int) error {
	return call("batchnorm forward", "mlcu_batchnorm1d_forward",
		C.mlcu_batchnorm1d_forward(ptrF32(out), ptrF32(mean), ptrF32(rstd), ptrF32(inp),
			ptrF32(gamma), ptrF32(beta), ptrF32(runMean), ptrF32(runVar), C.int(B), C.int(Cn), C.long(L), C.double(momentum), C.double(eps),
			cbool(relu), C.int(chunks)))
}

func mlcuBatchNorm1dEvalForward(out, inp, gamma, beta, runMean, runVar *F32, B, Cn, L int, eps float64, relu bool) error {
	return call("batchnorm eval", "mlcu_batchnorm1d_eval_forward",
		C.mlcu_batchnorm1d_eval_forward(ptrF32(out), ptrF32(inp), ptrF32(gamma), ptrF32(beta),
			ptrF32(runMean), ptrF32(runVar), C.int(B), C.int(Cn), C.long(L), C.double(eps), cbool(relu)))
}

func mlcuBatchNorm1dBackward(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma *F32, B, Cn, L, chunks int) error {
	return call("batchnorm backward", "mlcu_batchnorm1d_backward",
		C.mlcu_batchnorm1d_backward(ptrF32(dinp), ptrF32(dgamma), ptrF32(dbeta), ptrF32(dout),
			ptrF32(inp), ptrF32(mean), ptrF32(rstd), ptrF32(gamma), C.int(B), C.int(Cn), C.long(L), C.int(chunks)))
}

func mlcuAdamUpdate(params, grads, m, v *F32, n int, lr, beta1, beta2, eps, weightDecay, c1, c2 float64) error {
	return call("adam", "mlcu_adam_update",
		C.mlcu_adam_update(ptrF32(params), ptrF32(grads), ptrF32(m), ptrF32(v), C.long(n),
			C.double(lr), C.double(beta1), C.double(beta2), C.double(eps), C.double(weightDecay), C.double(c1), C.double(c2)))
}

func mlcuTransposeLast2F32(dst, src *F32, B, M, N int) error {
	return call("transpose", "mlcu_transpose_last2_f32", C.mlcu_transpose_last2_f32(ptrF32(dst), ptrF32(src), C.int(B), C.int(M), C.int(N)))
}

func mlcuFillF32(x *F32, n int, v float32) error {
	return call("fill", "mlcu_fill_f32", C.mlcu_fill_f32(ptrF32(x), C.long(n), C.float(v)))
}

// ---- GRU (gru.cu) ----

func mlcuGRUForwardF32(out, acts, params, inp *F32, B, T, Cn, H, layers int) error {
	return call("gru forward", "mlcu_gru_forward_f32",
		C.mlcu_gru_forward_f32(ptrF32(out), ptrF32(acts), ptrF32(params), ptrF32(inp),
			C.int(B), C.int(T), C.int(Cn), C.int(H), C.int(layers)))
}

func mlcuGRUBackwardF32(dinp, grads, dout, acts, params, inp, scratch *F32, B, T, Cn, H, layers int) error {
	return call("gru backward", "mlcu_gru_backward_f32",
		C.mlcu_gru_backward_f32(ptrF32(dinp), ptrF32(grads), ptrF32(dout), ptrF32(acts),
			ptrF32(params), ptrF32(inp), ptrF32(scratch), C.int(B), C.int(T), C.int(Cn), C.int(H), C.int(layers)))
}

// ---- MAF (maf_sample.cu, made.cu, mixture.cu) ----

func mlcuMAFSample(out, uOut, uIn, packed *F32, order *Buffer[int32], cterm, mix *F32, D, Cn, H, L, NB, K, E, S int,
	seed uint64, row0 int64, tileRows, threads int) error {
	return call("maf sample", "mlcu_maf_sample",
		C.mlcu_maf_sample(ptrF32(out), ptrF32(uOut), ptrF32(uIn), ptrF32(packed), ptrI32(order),
			ptrF32(cterm), ptrF32(mix), C.int(D), C.int(Cn), C.int(H), C.int(L), C.int(NB), C.int(K),
			C.long(E), C.int(S), C.uint64_t(seed), C.long(row0), C.int(tileRows), C.int(threads)))
}

func mlcuMAFPackedSize(D, H, L, NB int) int {
	return int(C.mlcu_maf_packed_size(C.int(D), C.int(H), C.int(L), C.int(NB)))
}

func mlcuMAFPack(packed, eff *F32, D, Cn, H, L, NB int) error {
	return call("maf pack", "mlcu_maf_pack", C.mlcu_maf_pack(ptrF32(packed), ptrF32(eff), C.int(D), C.int(Cn), C.int(H), C.int(L), C.int(NB)))
}

func mlcuMADEAffineForwardF32(y, logdet, o, x *F32, B, D int) error {
	return call("made affine", "mlcu_made_affine_forward_f32",
		C.mlcu_made_affine_forward_f32(ptrF32(y), ptrF32(logdet), ptrF32(o), ptrF32(x), C.int(B), C.int(D)))
}

func mlcuMADEAffineBackwardF32(dx, dO, dy, dlogdet, y, o *F32, B, D int) error {
	return call("made affine backward", "mlcu_made_affine_backward_f32",
		C.mlcu_made_affine_backward_f32(ptrF32(dx), ptrF32(dO), ptrF32(dy), ptrF32(dlogdet), ptrF32(y), ptrF32(o), C.int(B), C.int(D)))
}

func mlcuMulF32(out, a, m *F32, n int) error {
	return call("mask", "mlcu_mul_f32", C.mlcu_mul_f32(ptrF32(out), ptrF32(a), ptrF32(m), C.long(n)))
}

func mlcuAddMaskedF32(dst, x, m *F32, n int) error {
	return call("add masked", "mlcu_add_masked_f32", C.mlcu_add_masked_f32(ptrF32(dst), ptrF32(x), ptrF32(m), C.long(n)))
}

func mlcuAddF32(dst, x *F32, n int) error {
	return call("add", "mlcu_add_f32", C.mlcu_add_f32(ptrF32(dst), ptrF32(x), C.long(n)))
}

func mlcuFlowLogpF32(logp, base, logdet *F32, NB, B int) error {
	return call("flow logp", "mlcu_flow_logp_f32", C.mlcu_flow_logp_f32(ptrF32(logp), ptrF32(base), ptrF32(logdet), C.int(NB), C.int(B)))
}

func mlcuMixtureLogprobF32(logp, resp, u, params *F32, B, D, K int) error {
	return call("mixture logprob", "mlcu_mixture_logprob_f32",
		C.mlcu_mixture_logprob_f32(ptrF32(logp), ptrF32(resp), ptrF32(u), ptrF32(params), C.int(B), C.int(D), C.int(K)))
}

func mlcuMixtureBackwardF32(du, dparams, dlogp, resp, u, params *F32, B, D, K int) error {
	return call("mixture backward", "mlcu_mixture_backward_f32",
		C.mlcu_mixture_backward_f32(ptrF32(du), ptrF32(dparams), ptrF32(dlogp), ptrF32(resp), ptrF32(u), ptrF32(params), C.int(B), C.int(D), C.int(K)))
}

// ---- self-tests (selftest.cu) ----

func mlcuSelftest(out, count *Buffer[int32], blocks, threads, keep int) error {
	return call("selftest", "mlcu_selftest", C.mlcu_selftest(ptrI32(out), ptrI32(count), C.int(blocks), C.int(threads), C.int(keep)))
}

func mlcuSelftestSmem(out *Buffer[int32], bytes int, optin bool) error {
	return call("selftest smem", "mlcu_selftest_smem", C.mlcu_selftest_smem(ptrI32(out), C.size_t(bytes), cbool(optin)))
}

func mlcuSelftestStaleShared(out *Buffer[int32], blocks int) error {
	return call("selftest stale shared", "mlcu_selftest_stale_shared", C.mlcu_selftest_stale_shared(ptrI32(out), C.int(blocks)))
}

func mlcuSelftestWarpMask(out *Buffer[int32], keep int, member uint32) error {
	return call("selftest warp mask", "mlcu_selftest_warp_mask", C.mlcu_selftest_warp_mask(ptrI32(out), C.int(keep), C.unsigned(member)))
}

func mlcuSelftestMath(outf *F32, outd *Buffer[float64], inf *F32, ind *Buffer[float64], n int) error {
	return call("selftest math", "mlcu_selftest_math", C.mlcu_selftest_math(ptrF32(outf), ptrF64(outd), ptrF32(inf), ptrF64(ind), C.int(n)))
}

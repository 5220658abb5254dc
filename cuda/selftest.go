//go:build cuda || cudaemu

package cuda

/*
#include "mlcu_cuda.h"
*/
import "C"

// selftest launches kernels/selftest.cu (see TestSelftest).
func selftest(out, count *Buffer[int32], blocks, threads, keep int) error {
	return check("selftest", C.mlcu_selftest(ptrI32(out), ptrI32(count), C.int(blocks), C.int(threads), C.int(keep)))
}

// selftestSmem launches kernels/selftest.cu's dynamic shared memory check (see
// TestSelftestSharedMemoryOptIn).
func selftestSmem(out *Buffer[int32], bytes int, optin bool) error {
	o := 0
	if optin {
		o = 1
	}
	return check("selftest smem", C.mlcu_selftest_smem(ptrI32(out), C.size_t(bytes), C.int(o)))
}

// selftestStaleShared launches kernels/selftest.cu's read of static shared memory before any
// write (see TestEmulationPoisonsStaticShared).
func selftestStaleShared(out *Buffer[int32], blocks int) error {
	return check("selftest stale shared", C.mlcu_selftest_stale_shared(ptrI32(out), C.int(blocks)))
}

// selftestMath evaluates kernels/selftest.cu's math functions (see TestDeviceMathErrors).
func selftestMath(outf *F32, outd *Buffer[float64], inf *F32, ind *Buffer[float64], n int) error {
	return check("selftest math", C.mlcu_selftest_math(ptrF32(outf), ptrF64(outd), ptrF32(inf), ptrF64(ind), C.int(n)))
}

// emulationGPUMath reports whether the emulation's math functions carry CUDA's error bounds.
func emulationGPUMath() bool { return C.mlcu_emulation_gpu_math() != 0 }

// selftestWarpMask launches kernels/selftest.cu's shuffle with a member mask (see
// TestEmulationChecksWarpMasks).
func selftestWarpMask(out *Buffer[int32], keep int, member uint32) error {
	return check("selftest warp mask", C.mlcu_selftest_warp_mask(ptrI32(out), C.int(keep), C.unsigned(member)))
}

// emulationFMA reports whether the emulation contracts a·b + c into FMAs as nvcc does.
func emulationFMA() bool { return C.mlcu_emulation_fma() != 0 }

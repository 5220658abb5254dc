//go:build cuda || cudaemu

package cuda

// selftest launches kernels/selftest.cu (see TestSelftest).
func selftest(out, count *Buffer[int32], blocks, threads, keep int) error {
	return mlcuSelftest(out, count, blocks, threads, keep)
}

// selftestSmem launches kernels/selftest.cu's dynamic shared memory check (see
// TestSelftestSharedMemoryOptIn).
func selftestSmem(out *Buffer[int32], bytes int, optin bool) error {
	return mlcuSelftestSmem(out, bytes, optin)
}

// selftestStaleShared launches kernels/selftest.cu's read of static shared memory before any
// write (see TestEmulationPoisonsStaticShared).
func selftestStaleShared(out *Buffer[int32], blocks int) error {
	return mlcuSelftestStaleShared(out, blocks)
}

// selftestMath evaluates kernels/selftest.cu's math functions (see TestDeviceMathErrors).
func selftestMath(outf *F32, outd *Buffer[float64], inf *F32, ind *Buffer[float64], n int) error {
	return mlcuSelftestMath(outf, outd, inf, ind, n)
}

// emulationGPUMath reports whether the emulation's math functions carry CUDA's error bounds.
func emulationGPUMath() bool { return mlcuEmulationGPUMath() }

// selftestWarpMask launches kernels/selftest.cu's shuffle with a member mask (see
// TestEmulationChecksWarpMasks).
func selftestWarpMask(out *Buffer[int32], keep int, member uint32) error {
	return mlcuSelftestWarpMask(out, keep, member)
}

// emulationFMA reports whether the emulation contracts a·b + c into FMAs as nvcc does.
func emulationFMA() bool { return mlcuEmulationFMA() }

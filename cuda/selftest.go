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

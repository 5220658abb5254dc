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

//go:build cgo && openblas

package nn

// OpenBLAS behind Gemm (build with -tags openblas; needs cgo and Debian's libopenblas-dev).
//
// Threads: OpenBLAS's thread pool is process-wide, and the callers of Gemm already split
// the batch over goroutines (one per core), so init sets OpenBLAS to one thread; more would
// oversubscribe the cores.
//
// Kernel choice: OpenBLAS picks its kernels for the CPU when the library is loaded, before
// any Go code runs, so OPENBLAS_CORETYPE (e.g. Haswell) only takes effect when it is in the
// environment as the process starts; os.Setenv is too late. An earlier measurement found OpenBLAS's
// auto-picked AVX-512 kernel 25–35% slower than OPENBLAS_CORETYPE=Haswell on conv shapes;
// with Debian's OpenBLAS 0.3.21 on the 2-core Zen 4 the auto pick (Cooperlake) measured
// 1.6–1.9× faster than Haswell instead (README), so nothing here forces a core type; the
// Makefile's bench-blas target sets it explicitly (BLAS_CORETYPE) so that an inherited
// value cannot skew the figures.

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import (
	"fmt"
	"math"
)

const blasName = "openblas"

func init() { C.openblas_set_num_threads(1) }

// blasCore is OpenBLAS's kernel variant (e.g. "Haswell", "SkylakeX"), for benchmark logs.
func blasCore() string { return C.GoString(C.openblas_get_corename()) }

// checkGemm panics, before any C code runs, on arguments that OpenBLAS would reject (it
// would print a message and carry on) or that would make it read or write outside the
// slices: the same conditions gonum's BLAS panics on. m and n are positive here.
func checkGemm(transA, transB bool, m, n, k, lda, ldb, ldc, lenA, lenB, lenC int) {
	if k < 0 {
		panic(fmt.Sprintf("nn: Gemm: negative size k = %d", k))
	}
	if m < 0 || n < 0 {
		panic(fmt.Sprintf("nn: Gemm: negative size m = %d, n = %d", m, n))
	}
	for _, v := range [...]int{m, n, k, lda, ldb, ldc} {
		if v > math.MaxInt32 {
			panic(fmt.Sprintf("nn: Gemm: size or stride %d does not fit OpenBLAS's 32-bit int", v))
		}
	}
	// Stored shapes: A is (m, k), or (k, m) when transposed; B is (k, n), or (n, k).
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	check := func(name string, rows, cols, ld, length int) {
		if ld < max(1, cols) {
			panic(fmt.Sprintf("nn: Gemm: ld%s = %d, want ≥ %d", name, ld, max(1, cols)))
		}
		if rows > 0 && cols > 0 {
			if need := ld*(rows-1) + cols; length < need {
				panic(fmt.Sprintf("nn: Gemm: len(%s) = %d, want ≥ %d", name, length, need))
			}
		}
	}
	check("a", rowsA, colsA, lda, lenA)
	check("b", rowsB, colsB, ldb, lenB)
	check("c", m, n, ldc, lenC)
}

func cblasTrans(t bool) C.enum_CBLAS_TRANSPOSE {
	if t {
		return C.CblasTrans
	}
	return C.CblasNoTrans
}

// ptr returns the address of s's first element, or nil for an empty slice (k = 0, where
// OpenBLAS reads neither A nor B). The pointer is only valid for the call: C keeps none.
func ptr[T float32 | float64](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	C.cblas_sgemm(C.CblasRowMajor, cblasTrans(transA), cblasTrans(transB),
		C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(ptr(a)), C.blasint(lda),
		(*C.float)(ptr(b)), C.blasint(ldb),
		C.float(beta), (*C.float)(ptr(c)), C.blasint(ldc))
}

func dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkGemm(transA, transB, m, n, k, lda, ldb, ldc, len(a), len(b), len(c))
	C.cblas_dgemm(C.CblasRowMajor, cblasTrans(transA), cblasTrans(transB),
		C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(ptr(a)), C.blasint(lda),
		(*C.double)(ptr(b)), C.blasint(ldb),
		C.double(beta), (*C.double)(ptr(c)), C.blasint(ldc))
}

// blasThreads is the number of threads OpenBLAS uses (one: see init).
func blasThreads() int { return int(C.openblas_get_num_threads()) }

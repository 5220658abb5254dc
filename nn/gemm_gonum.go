//go:build !(cgo && openblas)

package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The pure-Go default behind Gemm: gonum's BLAS, which checks the arguments itself and
// parallelises large products over goroutines on its own.

const blasName = "gonum"

var gemmImpl gonum.Implementation

// blasCore is the BLAS's kernel variant, for benchmark logs; gonum has one.
func blasCore() string { return "pure Go" }

func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmImpl.Sgemm(transpose(transA), transpose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gemmImpl.Dgemm(transpose(transA), transpose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// blasThreads is the number of threads of a BLAS with its own thread pool; gonum has none
// (it splits large products over goroutines).
func blasThreads() int { return 0 }

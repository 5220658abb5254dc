package nn_test

import (
	"testing"

	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/nn"
)

// TestGemmConformance runs the GEMM suite against nn.Gemm with the BLAS this build selected:
// gonum by default, OpenBLAS with -tags openblas (CI runs both).
func TestGemmConformance(t *testing.T) {
	t.Logf("BLAS: %s", nn.BLASName())
	conformance.Gemm(t, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
		nn.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return nil
	})
}

package nn

import "math"

// Float is the element type of the ops: float32 in production, float64 for gradient checks.
type Float interface{ ~float32 | ~float64 }

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, op(X) = X or Xᵀ:
// op(A) is (m, k), op(B) is (k, n), C is (m, n); lda, ldb, ldc are the row strides. It is
// the one entry point for matrix products: gonum's pure-Go BLAS by default, OpenBLAS
// through cgo when built with -tags openblas (see BLASName); a GPU backend plugs in here
// too. It panics on inconsistent sizes, as BLAS does.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch a := any(a).(type) {
	case []float32:
		sgemm(transA, transB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		dgemm(transA, transB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	default:
		panic("nn: Gemm: unsupported element type")
	}
}

// BLASName names the BLAS behind Gemm in this build: "openblas" (built with cgo and
// -tags openblas) or "gonum" (the pure-Go default).
func BLASName() string { return blasName }

// Exp sets dst[i] = exp(x[i]); dst and x may be the same slice. Whole-slice elementwise
// functions let a vectorised implementation replace the scalar loop later.
func Exp[T Float](dst, x []T) {
	for i, v := range x[:len(dst)] {
		dst[i] = T(math.Exp(float64(v)))
	}
}

// Tanh sets dst[i] = tanh(x[i]).
func Tanh[T Float](dst, x []T) {
	for i, v := range x[:len(dst)] {
		dst[i] = T(math.Tanh(float64(v)))
	}
}

// Sigmoid sets dst[i] = 1/(1+exp(-x[i])), computed without overflow for large |x|.
func Sigmoid[T Float](dst, x []T) {
	for i, v := range x[:len(dst)] {
		f := float64(v)
		if f >= 0 {
			dst[i] = T(1 / (1 + math.Exp(-f)))
		} else {
			e := math.Exp(f)
			dst[i] = T(e / (1 + e))
		}
	}
}

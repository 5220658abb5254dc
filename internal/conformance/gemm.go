package conformance

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// GemmFunc is a float32 matrix product on host slices, BLAS's sgemm in row-major storage:
// C = α·op(A)·op(B) + β·C with op(A) m×k, op(B) k×n, row strides lda, ldb, ldc. With β = 0,
// C is output only (NaN there must not propagate). A device implementation copies the
// slices in and C back out.
type GemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error

// Gemm checks gemm against a float64 triple loop on odd and tile-sized shapes, every
// transposition, row strides wider than the rows, α and β (β = 0 with NaN in C), and that
// C's padding between rows is left alone.
//
// Tolerance, per element: the first-order rounding bound of a length-k float32 sum plus the
// α and β terms, (k+2)·2⁻²⁴·Σ|terms| with Σ|terms| = |α|·Σ_p|a_ip·b_pj| + |β|·|c_ij| (the
// inputs are float32 values, so the float64 reference is exact to 2⁻⁵³), with a factor 2
// for summation orders that are not the naive one (blocked, split-k).
func Gemm(t *testing.T, gemm GemmFunc) {
	shapes := []struct{ m, n, k int }{
		{1, 1, 1}, {3, 5, 7}, {7, 3, 1}, {17, 13, 29}, {33, 65, 31}, {65, 1, 129},
		{1, 97, 63}, {4, 6, 0}, {128, 64, 256},
	}
	coefs := [][2]float32{{1, 0}, {-0.75, 1.5}, {0, 0.5}}
	r := rand.New(rand.NewSource(11))
	for _, s := range shapes {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range coefs {
				name := fmt.Sprintf("m%d n%d k%d tA %v tB %v α %v β %v", s.m, s.n, s.k, tr[0], tr[1], ab[0], ab[1])
				t.Run(name, func(t *testing.T) {
					gemmCase(t, gemm, r, s.m, s.n, s.k, tr[0], tr[1], ab[0], ab[1])
				})
			}
		}
	}
}

func gemmCase(t *testing.T, gemm GemmFunc, r *rand.Rand, m, n, k int, transA, transB bool, alpha, beta float32) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	// Row strides with padding: an implementation that strides by the column count fails.
	lda, ldb, ldc := max(1, ac)+3, max(1, bc)+1, n+2
	a, b := randF32(r, ar*lda), randF32(r, br*ldb)
	c0 := randF32(r, m*ldc)
	if beta == 0 {
		for i := range c0 {
			c0[i] = float32(math.NaN())
		}
	}
	want, bound := make([]float64, m*n), make([]float64, m*n)
	for i := range m {
		for j := range n {
			s, sa := 0.0, 0.0
			for p := range k {
				ia, ib := i*lda+p, p*ldb+j
				if transA {
					ia = p*lda + i
				}
				if transB {
					ib = j*ldb + p
				}
				s += float64(a[ia]) * float64(b[ib])
				sa += math.Abs(float64(a[ia]) * float64(b[ib]))
			}
			want[i*n+j] = float64(alpha) * s
			bound[i*n+j] = math.Abs(float64(alpha)) * sa
			if beta != 0 {
				want[i*n+j] += float64(beta) * float64(c0[i*ldc+j])
				bound[i*n+j] += math.Abs(float64(beta) * float64(c0[i*ldc+j]))
			}
			bound[i*n+j] *= 2 * float64(k+2) * 0x1p-24
		}
	}
	c := append([]float32(nil), c0...)
	require.NoError(t, gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
	for i := range m {
		for j := range ldc {
			got := c[i*ldc+j]
			if j >= n {
				require.Equal(t, math.Float32bits(c0[i*ldc+j]), math.Float32bits(got),
					"padding C[%d, %d] was written: %v, was %v", i, j, got, c0[i*ldc+j])
				continue
			}
			w, bd := want[i*n+j], bound[i*n+j]
			if !(math.Abs(float64(got)-w) <= bd) {
				require.Failf(t, "C differs from the float64 product",
					"C[%d, %d] = %v, want %v ± %.3g (the float32 rounding bound)", i, j, got, w, bd)
			}
		}
	}
}

// randF32 returns n uniform values in [−1, 1).
func randF32(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(2*r.Float64() - 1)
	}
	return v
}

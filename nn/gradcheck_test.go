package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// checkGrad compares the analytic gradient grad of the scalar loss() with respect to x
// against central finite differences, element by element:
//
//	|analytic − numeric| ≤ atol + rtol·|numeric|
//
// with step h. In float64 with h = 1e-6 the central difference is good to ~1e-9 relative
// for smooth losses (truncation h² ≈ 1e-12, rounding eps/h ≈ 1e-10); ReLU and max-pool kinks
// are avoided by the tests' random inputs with probability ~1. It reports the largest
// difference and fails on the first element out of tolerance.
func checkGrad(t *testing.T, name string, loss func() float64, x, grad []float64, atol, rtol float64) {
	t.Helper()
	const h = 1e-6
	worst := 0.0
	for i := range x {
		orig := x[i]
		x[i] = orig + h
		lp := loss()
		x[i] = orig - h
		lm := loss()
		x[i] = orig
		num := (lp - lm) / (2 * h)
		d := math.Abs(grad[i] - num)
		worst = math.Max(worst, d/(atol+rtol*math.Abs(num)))
		if d > atol+rtol*math.Abs(num) {
			t.Errorf("%s[%d]: analytic %.10g, finite difference %.10g (|diff| %.3g)", name, i, grad[i], num, d)
			return
		}
	}
	t.Logf("%s: %d elements, worst |diff|/(atol+rtol|num|) = %.3g", name, len(x), worst)
}

// dot returns Σ a[i]·b[i]: the test losses are L = Σ w ⊙ out for a fixed random w, whose
// gradient with respect to out is w.
func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	m, n, k := 3, 4, 5
	a, b := testutil.RandVec(rng, m*k), testutil.RandVec(rng, k*n)
	c := make([]float64, m*n)
	Gemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			want := 0.0
			for l := 0; l < k; l++ {
				want += a[i*k+l] * b[l*n+j]
			}
			if math.Abs(c[i*n+j]-want) > 1e-12 {
				t.Fatalf("C[%d,%d] = %v, want %v", i, j, c[i*n+j], want)
			}
		}
	}
	// Transposes and float32.
	at := make([]float32, k*m)
	for i := 0; i < m; i++ {
		for l := 0; l < k; l++ {
			at[l*m+i] = float32(a[i*k+l])
		}
	}
	bt := make([]float32, n*k)
	for l := 0; l < k; l++ {
		for j := 0; j < n; j++ {
			bt[j*k+l] = float32(b[l*n+j])
		}
	}
	c32 := make([]float32, m*n)
	Gemm(true, true, m, n, k, 1, at, m, bt, k, 0, c32, n)
	for i := range c {
		if math.Abs(float64(c32[i])-c[i]) > 1e-5*(1+math.Abs(c[i])) {
			t.Fatalf("float32 transposed C[%d] = %v, want %v", i, c32[i], c[i])
		}
	}
}

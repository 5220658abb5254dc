package infer

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/internal/rng"
)

// TestParetoK: weights drawn from an exact Pareto tail, w = U^(−k) (P(W > t) = t^(−1/k)),
// give k̂ within 0.1 of k at k = 0.3, 0.6, 0.9 (20,000 draws: the 424-weight tail has a
// standard error ≈ (1 + k)/√424 ≈ 0.07). Importance sampling N(0, 1) from N(0, s²) has
// bounded weights for s > 1 (k̂ < 0) and a heavy tail for s = 0.5 (asymptotically
// k = 1 − s² = 0.75, approached slowly: a log factor in the tail; k̂ > 0.5 flags it).
func TestParetoK(t *testing.T) {
	for _, k := range []float64{0.3, 0.6, 0.9} {
		src := rng.New(uint64(10*k), 1)
		lw := make([]float64, 20000)
		for i := range lw {
			lw[i] = -k * math.Log(src.UniformOpen())
		}
		kh := ParetoK(lw)
		t.Logf("Pareto k = %.1f: k̂ = %.3f", k, kh)
		assert.InDelta(t, k, kh, 0.1)
	}
	for _, tc := range []struct{ s, lo, hi float64 }{{0.5, 0.5, 0.9}, {1.5, -10, 0}} {
		src := rng.New(uint64(100*tc.s), 0)
		lw := make([]float64, 20000)
		for i := range lw {
			x := tc.s * src.Normal()
			lw[i] = -x*x/2 + x*x/(2*tc.s*tc.s) + math.Log(tc.s)
		}
		k := ParetoK(lw)
		t.Logf("proposal sd %.1f: k̂ = %.3f", tc.s, k)
		assert.True(t, k >= tc.lo && k <= tc.hi, "s = %g: k̂ = %.3f, want in [%g, %g]", tc.s, k, tc.lo, tc.hi)
	}
	assert.True(t, math.IsNaN(ParetoK([]float64{1, 2, math.Inf(-1)})))
}

// TestImportance: with the proposal N(0, 1.5²) for the target N(1, 0.5²), the weighted
// median and 68% interval are the target's (1 ± 0.5) within 3 standard errors of the ESS;
// ESS is in (0, n]; all-zero weights are an error, NaN weights count as zero.
func TestImportance(t *testing.T) {
	src := rng.New(7, 0)
	const n = 20000
	s := &Samples{Names: []string{"x"}, Values: make([]float64, n)}
	lp, lq := make([]float64, n), make([]float64, n)
	for i := range n {
		x := 1.5 * src.Normal()
		s.Values[i] = x
		lq[i] = -x*x/(2*1.5*1.5) - math.Log(1.5)
		lp[i] = -(x-1)*(x-1)/(2*0.25) - math.Log(0.5)
	}
	lp[5] = math.NaN()
	im, err := NewImportance(s, lp, lq)
	require.NoError(t, err)
	se := 0.5 / math.Sqrt(im.ESS)
	t.Logf("ESS %.0f of %d, k̂ %.3f, median %.4f [%.4f, %.4f]", im.ESS, n, im.KHat, im.Summary[0].Median, im.Summary[0].Lo68, im.Summary[0].Hi68)
	assert.InDelta(t, 1, im.Summary[0].Median, 3*1.25*se)
	assert.InDelta(t, 0.5, im.Summary[0].Lo68, 4*se)
	assert.InDelta(t, 1.5, im.Summary[0].Hi68, 4*se)
	assert.True(t, im.ESS > 1000 && im.ESS <= n)
	assert.Less(t, im.KHat, 0.5, "bounded weights")
	assert.Equal(t, 0.0, im.Weights[5])
	for i := range lp {
		lp[i] = math.Inf(-1)
	}
	_, err = NewImportance(s, lp, lq)
	assert.ErrorContains(t, err, "every one")
}

package infer

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// polish climbs a correlated 7-D Gaussian log-density from scattered starts to its maximum,
// sorts the ends by log-density, and keeps a start whose posterior is −Inf where it is.
func TestPolish(t *testing.T) {
	centre := []float64{0.3, -0.2, 0.5, 0.1, -0.4, 0.25, -0.6}
	logp := func(y []float64) float64 {
		if math.Abs(y[0]) > 1 {
			return math.Inf(-1)
		}
		s, prev := 0.0, 0.0
		for j, v := range y {
			d := (v - centre[j]) / 0.05
			s += (d - 0.8*prev) * (d - 0.8*prev) // a chain of correlations
			prev = d
		}
		return -0.5 * s
	}
	starts := [][]float64{{0.35, -0.1, 0.45, 0.2, -0.3, 0.3, -0.5}, {0.2, -0.25, 0.55, 0, -0.45, 0.2, -0.65}, {5, 0, 0, 0, 0, 0, 0}}
	out := polish(logp, starts, 2)
	assert.Len(t, out, 3)
	for i := range 2 {
		assert.Greater(t, out[i].lp, -1e-3, "end %d: log-density %g, want ≈ 0 (the maximum)", i, out[i].lp)
		for j := range centre {
			assert.InDelta(t, centre[j], out[i].y[j], 2e-3, "end %d, coordinate %d", i, j)
		}
	}
	assert.True(t, math.IsInf(out[2].lp, -1), "the start outside the support stays last")
	assert.Equal(t, 5.0, out[2].y[0])
}

// localScales gives a Gaussian's conditional standard deviations at its maximum.
func TestLocalScales(t *testing.T) {
	sd := []float64{0.01, 0.002, 0.03}
	logp := func(y []float64) float64 {
		s := 0.0
		for j, v := range y {
			s += (v / sd[j]) * (v / sd[j])
		}
		return -0.5 * s
	}
	got := localScales([]float64{0, 0, 0}, logp)
	for j := range sd {
		assert.InEpsilon(t, sd[j], got[j], 1e-6, "coordinate %d", j)
	}
	flat := localScales([]float64{0}, func([]float64) float64 { return 0 })
	assert.Equal(t, 1e-3, flat[0])
}

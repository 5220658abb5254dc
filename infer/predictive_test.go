package infer

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

// TestSolveFluxes: noise-free data give back their fluxes exactly; on noisy data the
// solution is the minimum of χ² (its finite-difference gradient vanishes and every
// perturbation raises it); a constant magnification is an error.
func TestSolveFluxes(t *testing.T) {
	e := lens.Event{S: 1.1, Q: 0.1, Alpha: 2.7, U0: 0.1, T0: 36, TE: 20, Rho: 1e-3}
	ts := lens.RomanTimes(0, 72, 0.05)
	a := lens.LightCurve(e, ts, 1e-4, nil)
	flux, ferr := make([]float64, len(a)), make([]float64, len(a))
	for i, v := range a {
		flux[i] = 3.2*v + 0.7
		ferr[i] = 0.01 * math.Sqrt(flux[i])
	}
	fx, err := SolveFluxes(a, flux, ferr)
	require.NoError(t, err)
	assert.InDelta(t, 3.2, fx.Source, 1e-9)
	assert.InDelta(t, 0.7, fx.Blend, 1e-9)
	assert.Less(t, fx.Chi2, 1e-12)

	src := rng.New(4, 0)
	for i := range flux {
		flux[i] += ferr[i] * src.Normal()
	}
	fx, err = SolveFluxes(a, flux, ferr)
	require.NoError(t, err)
	chi2 := func(fs, fb float64) float64 {
		c := 0.0
		for i := range a {
			r := (flux[i] - fs*a[i] - fb) / ferr[i]
			c += r * r
		}
		return c
	}
	assert.InDelta(t, chi2(fx.Source, fx.Blend), fx.Chi2, 1e-9*fx.Chi2)
	const h = 1e-6
	gs := (chi2(fx.Source+h, fx.Blend) - chi2(fx.Source-h, fx.Blend)) / (2 * h)
	gb := (chi2(fx.Source, fx.Blend+h) - chi2(fx.Source, fx.Blend-h)) / (2 * h)
	// Away from the minimum the gradient is ~Σ a²/σ² ≈ 1e7 per unit flux; at it, rounding.
	assert.Less(t, math.Abs(gs), 1e-2, "dχ²/dFs at the solution")
	assert.Less(t, math.Abs(gb), 1e-2, "dχ²/dFb at the solution")
	for _, d := range [][2]float64{{1e-3, 0}, {-1e-3, 0}, {0, 1e-3}, {0, -1e-3}, {1e-3, -1e-3}} {
		assert.Greater(t, chi2(fx.Source+d[0], fx.Blend+d[1]), fx.Chi2)
	}
	// Reduced χ² of unit-variance noise: 1 within a few 1/√n.
	assert.InDelta(t, 1, fx.Chi2/float64(len(a)-2), 5*math.Sqrt(2/float64(len(a))))

	flat := make([]float64, len(a))
	for i := range flat {
		flat[i] = 1
	}
	_, err = SolveFluxes(flat, flux, ferr)
	assert.ErrorContains(t, err, "constant")
	_, err = SolveFluxes(a[:1], flux[:1], ferr[:1])
	assert.Error(t, err)
}

// TestPredictive: among draws that include the truth, the truth's model is the best fit,
// with the data's source and blend flux recovered within their errors.
func TestPredictive(t *testing.T) {
	e := lens.Event{S: 1.1, Q: 0.1, Alpha: 2.7, U0: 0.1, T0: 36, TE: 20, Rho: 1e-3}
	ts := lens.RomanTimes(0, 72, 0.05)
	a := lens.LightCurve(e, ts, 1e-4, nil)
	lc := LightCurve{T: ts, Flux: make([]float64, len(a)), Err: make([]float64, len(a))}
	src := rng.New(5, 0)
	for i, v := range a {
		m := 2000*v + 500
		lc.Err[i] = math.Sqrt(m)
		lc.Flux[i] = m + lc.Err[i]*src.Normal()
	}
	names := []string{"s", "q", "alpha", "u0", "t0", "tE", "rho"}
	row := func(ev lens.Event) []float64 { return []float64{ev.S, ev.Q, ev.Alpha, ev.U0, ev.T0, ev.TE, ev.Rho} }
	off := e
	off.TE = 22
	far := e
	far.S = 0.6
	var vals []float64
	for _, ev := range []lens.Event{off, e, far} {
		vals = append(vals, row(ev)...)
	}
	draws, err := Predictive(&Samples{Names: names, Values: vals}, lc, 10, 1e-4, 2)
	require.NoError(t, err)
	require.Len(t, draws, 3)
	assert.Equal(t, e, draws[0].Event, "the truth is the best fit")
	assert.Less(t, draws[0].Fluxes.Chi2, draws[1].Fluxes.Chi2)
	assert.InDelta(t, 2000, draws[0].Fluxes.Source, 10)
	assert.InDelta(t, 500, draws[0].Fluxes.Blend, 10)
	assert.Len(t, draws[0].Model, len(ts))
	_, err = Predictive(&Samples{Names: names[:6], Values: vals[:6]}, lc, 1, 1e-4, 1)
	assert.ErrorContains(t, err, `"rho"`)
}

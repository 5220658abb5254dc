package infer

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/lens"
)

// Fluxes is the linear part of a light-curve model, F(t) = Source·A(t) + Blend in the data's
// flux unit, solved for one magnification curve A by weighted least squares against the
// data, as microlensing fitters do (MulensModel, pyLIMA): the posterior gives the shape of
// the curve; the source and blend fluxes of each dataset follow from it linearly.
type Fluxes struct {
	Source, Blend float64 // source and blend flux (data unit)
	Chi2          float64 // Σ ((F_i − Source·A_i − Blend)/σ_i)² at the solution
}

// SolveFluxes returns the (Source, Blend) minimising χ² = Σ ((flux_i − Source·a_i −
// Blend)/err_i)² for magnifications a, fluxes flux and errors err (equal lengths ≥ 2, err
// positive), from the 2×2 normal equations accumulated in float64 around the weighted means
// (so that a large constant part of a does not cancel the small one). It returns an error
// when a is constant over the data (the two fluxes are then degenerate).
func SolveFluxes(a, flux, err []float64) (Fluxes, error) {
	n := len(a)
	if n < 2 || len(flux) != n || len(err) != n {
		return Fluxes{}, fmt.Errorf("infer: SolveFluxes: %d magnifications, %d fluxes, %d errors: want equal lengths ≥ 2", n, len(flux), len(err))
	}
	var sw, sa, sf float64
	for i := range n {
		w := 1 / (err[i] * err[i])
		sw += w
		sa += w * a[i]
		sf += w * flux[i]
	}
	ma, mf := sa/sw, sf/sw
	var saa, saf float64
	for i := range n {
		w := 1 / (err[i] * err[i])
		da := a[i] - ma
		saa += w * da * da
		saf += w * da * (flux[i] - mf)
	}
	if !(saa > 0) || saa <= 1e-24*sw*ma*ma {
		return Fluxes{}, errors.New("infer: SolveFluxes: the magnification is constant over the data; source and blend flux are degenerate")
	}
	fs := saf / saa
	fb := mf - fs*ma
	chi2 := 0.0
	for i := range n {
		r := (flux[i] - fs*a[i] - fb) / err[i]
		chi2 += r * r
	}
	return Fluxes{Source: fs, Blend: fb, Chi2: chi2}, nil
}

// PredictiveDraw is one posterior draw's model of the data: its parameters, the model flux
// at the data's times and the fluxes solved for it.
type PredictiveDraw struct {
	Params event.Params // t0 in the data's time
	Event  lens.Event   // Params' lens event
	Model  []float64    // Source·A(t_i) + Blend at the data's times
	Fluxes Fluxes
}

// Predictive computes the models of the first n draws of s (physical units, t0 in the data's
// time, as Posterior gives after ShiftTime) at the times of lc (finite-source light curves
// at tolerance tol on up to workers goroutines), each with its fluxes solved against lc. The
// draws are sorted by χ², best first, so the first is the best fit among them. Draws whose
// light curve cannot be computed or whose fluxes are degenerate are left out; it returns an
// error when none is left.
func Predictive(s *Samples, lc LightCurve, n int, tol float64, workers int) ([]PredictiveDraw, error) {
	if n < 1 {
		return nil, fmt.Errorf("infer: Predictive: n = %d draws, want ≥ 1", n)
	}
	n = min(n, s.Len())
	col := map[string]int{}
	for j, name := range s.Names {
		col[name] = j
	}
	for _, name := range []string{"s", "q", "alpha", "u0", "t0", "tE", "rho"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("infer: Predictive: the samples have no %q column", name)
		}
	}
	D := len(s.Names)
	var draws []PredictiveDraw
	var firstErr error
	for i := range n {
		v := s.Values[i*D : (i+1)*D]
		p := event.Params{S: v[col["s"]], Q: v[col["q"]], Alpha: v[col["alpha"]], U0: v[col["u0"]],
			T0: v[col["t0"]], TE: v[col["tE"]], Rho: v[col["rho"]], Fs: 1}
		e := p.Event()
		a, err := lens.ParallelLightCurve(e, lc.T, tol, workers)
		var fx Fluxes
		if err == nil {
			fx, err = SolveFluxes(a, lc.Flux, lc.Err)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("draw %d: %v", i, err)
			}
			continue
		}
		for k := range a {
			a[k] = fx.Source*a[k] + fx.Blend
		}
		draws = append(draws, PredictiveDraw{Params: p, Event: e, Model: a, Fluxes: fx})
	}
	if len(draws) == 0 {
		return nil, fmt.Errorf("infer: Predictive: no draw could be modelled (%v)", firstErr)
	}
	sort.SliceStable(draws, func(i, j int) bool { return draws[i].Fluxes.Chi2 < draws[j].Fluxes.Chi2 })
	if math.IsNaN(draws[0].Fluxes.Chi2) {
		return nil, errors.New("infer: Predictive: χ² is NaN")
	}
	return draws, nil
}

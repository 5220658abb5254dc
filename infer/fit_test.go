package infer

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

// ballSampler is a Sampler whose draws are a centre (standardised coordinates) plus
// N(0, scale²) in every coordinate: a stand-in for a network whose proposal lies near the
// truth, so that a test of Fit measures the MCMC, not a network.
type ballSampler struct {
	centre []float64
	scale  float64
}

func (b ballSampler) Draw(out, _ []float32, n int, seed, round uint64) error {
	src := rng.New(seed, round)
	D := len(b.centre)
	for i := range n {
		for j, c := range b.centre {
			out[i*D+j] = float32(c + b.scale*src.Normal())
		}
	}
	return nil
}

func (ballSampler) Close() error { return nil }

// simulatedCurve returns photometry of p (t0 in window time) at SNR 100 (F0 = 10⁴ counts,
// σ = √F, no blend) every dt days over the 72-day window, its last point at 71.99 d.
func simulatedCurve(p event.Params, dt float64, seed uint64) LightCurve {
	var ts []float64
	for t := 0.0; t < 71.99; t += dt {
		ts = append(ts, t)
	}
	ts = append(ts, 71.99)
	a := lens.LightCurve(p.Event(), ts, lens.DefaultTol, nil)
	lc := LightCurve{T: ts, Flux: make([]float64, len(ts)), Err: make([]float64, len(ts))}
	src := rng.New(seed, 0)
	for i, v := range a {
		f := 1e4 * v
		lc.Err[i] = math.Sqrt(f)
		lc.Flux[i] = f + lc.Err[i]*src.Normal()
	}
	return lc
}

// TestFitRecoversTheTruth: a binary-lens event with a clear anomaly (no caustic crossing, so
// that the 720-point light curves are cheap), a proposal scattered tightly around the truth,
// 16 chains of 600 steps. The best position's χ² is within a few of the truth's (both ≈ the
// number of points), every parameter's 95% interval holds the truth, the chains report R̂,
// ESS and an acceptance in (0, 1), and the fluxes are the simulation's within errors.
func TestFitRecoversTheTruth(t *testing.T) {
	truth := event.Params{S: 0.8, Q: 0.02, Alpha: 0.6, U0: 0.2, T0: 36, TE: 15, Rho: 1e-3, Fs: 1}
	lc := simulatedCurve(truth, 0.1, 9)
	m := smallModel(t)
	centre := m.Standardizer.Forward(truth)
	fit, err := m.Fit(context.Background(), ballSampler{centre: centre, scale: 1e-4}, []LightCurve{lc}, event.DefaultPrior(),
		FitConfig{Candidates: 64, Chains: 16, Steps: 600, Burn: 300, Workers: 2, Seed: 3, Polish: -1})
	require.NoError(t, err)
	tc, _, err := fit.Likelihood.Chi2(truth.Event())
	require.NoError(t, err)
	t.Logf("χ² best %.1f, truth %.1f (%d points); acceptance %.3f", fit.BestChi2, tc, len(lc.T), fit.Acceptance)
	assert.Less(t, fit.BestChi2, tc+2)
	assert.InDelta(t, float64(len(lc.T)), tc, 6*math.Sqrt(2*float64(len(lc.T))))
	assert.InDelta(t, 1e4, fit.BestFluxes[0].Source, 300)
	assert.InDelta(t, 0, fit.BestFluxes[0].Blend, 300)
	tv := truth.Values()
	for j, s := range fit.Summary {
		t.Logf("%-5s median %.6g [%.6g, %.6g] 95%% [%.6g, %.6g], truth %.6g, R̂ %.3f, ESS %.0f", s.Name, s.Median, s.Lo68, s.Hi68, s.Lo95, s.Hi95, tv[j], fit.RHat[j], fit.ESS[j])
		assert.True(t, s.Lo95 <= tv[j] && tv[j] <= s.Hi95, "%s: truth %g outside [%g, %g]", s.Name, tv[j], s.Lo95, s.Hi95)
		assert.False(t, math.IsNaN(fit.RHat[j]) || math.IsNaN(fit.ESS[j]))
	}
	assert.True(t, fit.Acceptance > 0 && fit.Acceptance < 1)
	require.Equal(t, 16*600*7, len(fit.Physical))
	assert.Equal(t, 64, fit.Candidates.Len())
	// The importance weights exist (their proposal density is the random network's, not
	// this test's sampler, so only their bookkeeping is checked here; TestImportance checks
	// the estimator).
	require.NotNil(t, fit.Importance, "%v", fit.ImportanceErr)
	assert.True(t, fit.Importance.ESS >= 1 && fit.Importance.ESS <= 64)
	assert.Len(t, fit.Importance.Summary, 7)
	assert.Equal(t, "close", fit.Modes[0].Label)
	assert.Equal(t, 16, fit.Modes[0].Seeded)
	assert.NotNil(t, fit.Modes[0].Result)
	assert.Nil(t, fit.Modes[1].Result, "no wide candidates: no wide chains")
	assert.NotEmpty(t, fit.Modes[1].Skipped)
}

// TestFitInterruptedAndBadConfig: a cancelled context keeps the steps done (Stopped set);
// bad chain counts and burn-in are errors.
func TestFitInterruptedAndBadConfig(t *testing.T) {
	truth := event.Params{S: 0.8, Q: 0.02, Alpha: 0.6, U0: 0.2, T0: 36, TE: 15, Rho: 1e-3, Fs: 1}
	lc := simulatedCurve(truth, 0.2, 10)
	m := smallModel(t)
	smp := ballSampler{centre: m.Standardizer.Forward(truth), scale: 0.002}
	ctx, cancel := context.WithCancel(context.Background())
	fit, err := m.Fit(ctx, smp, []LightCurve{lc}, event.DefaultPrior(), FitConfig{Candidates: 32, Chains: 16, Steps: 100, Workers: 2,
		Progress: func(stage string, done, total int) {
			if strings.HasPrefix(stage, "mcmc") && done == 10 {
				cancel()
			}
		}})
	require.NoError(t, err)
	assert.ErrorIs(t, fit.Stopped, context.Canceled)
	assert.Equal(t, 10, fit.Chains.Steps)
	for _, cfg := range []FitConfig{{Chains: 15}, {Chains: 8}, {Candidates: 10, Chains: 16}, {Steps: 10, Burn: 10}} {
		_, err := m.Fit(context.Background(), smp, []LightCurve{lc}, event.DefaultPrior(), cfg)
		assert.Error(t, err, "%+v", cfg)
	}
}

// twoBalls is a Sampler drawing half its rows around each of two centres.
type twoBalls struct{ a, b ballSampler }

func (s twoBalls) Draw(out, x []float32, n int, seed, round uint64) error {
	h := n / 2
	D := len(s.a.centre)
	if err := s.a.Draw(out[:h*D], x, h, seed, round); err != nil {
		return err
	}
	return s.b.Draw(out[h*D:], x, n-h, seed+1, round)
}

func (twoBalls) Close() error { return nil }

// TestFitRunsEveryMode: candidates half around the close truth (s = 0.8) and half around a
// wide impostor (s = 1.25, the other parameters the truth's): each mode gets its own
// ensemble of 16 walkers restricted to it; the close one, with the lower χ², is the fit;
// the wide one's chains never leave s ≥ 1.
func TestFitRunsEveryMode(t *testing.T) {
	truth := event.Params{S: 0.8, Q: 0.02, Alpha: 0.6, U0: 0.2, T0: 36, TE: 15, Rho: 1e-3, Fs: 1}
	lc := simulatedCurve(truth, 0.2, 13)
	m := smallModel(t)
	wide := truth
	wide.S = 1.25
	smp := twoBalls{ballSampler{centre: m.Standardizer.Forward(truth), scale: 1e-4}, ballSampler{centre: m.Standardizer.Forward(wide), scale: 1e-4}}
	fit, err := m.Fit(context.Background(), smp, []LightCurve{lc}, event.DefaultPrior(), FitConfig{Candidates: 64, Chains: 16, Steps: 30, Workers: 2, Seed: 5})
	require.NoError(t, err)
	c, w := fit.Modes[0], fit.Modes[1]
	assert.InDelta(t, 0.5, c.NDEMass, 1e-9)
	require.NotNil(t, c.Result)
	require.NotNil(t, w.Result)
	assert.Equal(t, 16, c.Seeded)
	assert.Equal(t, 16, w.Seeded)
	assert.Less(t, c.BestChi2, w.BestChi2)
	assert.Equal(t, c.Result.BestChi2, fit.BestChi2, "the fit is the best mode's")
	assert.Less(t, fit.Best.S, 1.0)
	wc := w.Result
	for i := 0; i < len(wc.Physical); i += 7 {
		if wc.Physical[i] < 1 {
			t.Fatalf("the wide mode's chains reached s = %g", wc.Physical[i])
		}
	}
}

// TestModeSeeds: a mode's seeds are its best distinct candidates with a finite posterior,
// best first.
func TestModeSeeds(t *testing.T) {
	st := event.NewStandardizer(event.DefaultPrior())
	var ys [][]float64
	var lps []float64
	for k := range 40 {
		s := 0.7
		if k%2 == 1 {
			s = 1.4
		}
		ys = append(ys, st.Forward(event.Params{S: s, Q: 0.01, Alpha: 1, U0: 0.1 + 0.001*float64(k), T0: 30, TE: 20, Rho: 1e-3, Fs: 1}))
		lps = append(lps, -float64(k))
	}
	ys[4] = ys[0] // a duplicate of the best
	order := make([]int, len(ys))
	for i := range order {
		order[i] = i
	}
	for _, i := range []int{36, 38} { // posterior 0: sorted last, never seeds
		lps[i] = math.Inf(-1)
	}
	close := modeSeeds(order, ys, lps, 0, 30, st)
	assert.Len(t, close, 20-1-2, "20 close candidates, one duplicate, two with posterior 0")
	assert.Equal(t, ys[0], close[0])
	assert.Equal(t, ys[2], close[1])
	assert.Equal(t, ys[6], close[2], "the duplicate is skipped")
	assert.Len(t, modeSeeds(order, ys, lps, 1, 3, st), 3)
}

// TestLikelihoodErrScale: a dataset's χ² with ErrScale k is that of the same data with every
// error multiplied by k (an independent likelihood on rescaled copies), with the same fluxes.
func TestLikelihoodErrScale(t *testing.T) {
	truth := event.Params{S: 0.8, Q: 0.02, Alpha: 0.6, U0: 0.2, T0: 36, TE: 15, Rho: 1e-3, Fs: 1}
	a, b := simulatedCurve(truth, 0.5, 1), simulatedCurve(truth, 0.7, 2)
	e := event.Params{S: 0.81, Q: 0.02, Alpha: 0.6, U0: 0.21, T0: 36.1, TE: 15, Rho: 1e-3, Fs: 1}.Event()
	scaled := NewLikelihood([]LightCurve{a, b}, 0, 0)
	scaled.ErrScale = []float64{1.5, 0.5}
	got, gotFx, err := scaled.Chi2(e)
	require.NoError(t, err)
	b2 := LightCurve{T: b.T, Flux: b.Flux, Err: make([]float64, len(b.Err))}
	a2 := LightCurve{T: a.T, Flux: a.Flux, Err: make([]float64, len(a.Err))}
	for i, v := range a.Err {
		a2.Err[i] = 1.5 * v
	}
	for i, v := range b.Err {
		b2.Err[i] = 0.5 * v
	}
	want, wantFx, err := NewLikelihood([]LightCurve{a2, b2}, 0, 0).Chi2(e)
	require.NoError(t, err)
	assert.InDelta(t, want, got, 1e-9*want)
	for d := range wantFx {
		assert.InDelta(t, wantFx[d].Chi2, gotFx[d].Chi2, 1e-9*wantFx[d].Chi2)
		assert.InDelta(t, wantFx[d].Source, gotFx[d].Source, 1e-9*wantFx[d].Source)
		assert.InDelta(t, wantFx[d].Blend, gotFx[d].Blend, 1e-6)
	}
}

// TestErrorScales: k = √(χ²/(N − 2)) per dataset; too few points or a zero χ² are errors.
func TestErrorScales(t *testing.T) {
	lcs := []LightCurve{{T: make([]float64, 12)}, {T: make([]float64, 102)}}
	k, err := errorScales(lcs, []Fluxes{{Chi2: 40}, {Chi2: 25}})
	require.NoError(t, err)
	assert.InDelta(t, 2, k[0], 1e-12)
	assert.InDelta(t, 0.5, k[1], 1e-12)
	_, err = errorScales([]LightCurve{{T: make([]float64, 2)}}, []Fluxes{{Chi2: 1}})
	assert.ErrorContains(t, err, "at least 3")
	_, err = errorScales(lcs[:1], []Fluxes{{Chi2: 0}})
	assert.ErrorContains(t, err, "cannot rescale")
}

// TestFitRescaleErrors: two datasets of one event, the second's error bars reported at half
// its true noise. RescaleErrors finds k ≈ 1 for the first and ≈ 2 for the second (within
// 4.5 times the spread 1/√(2N) of a χ²-based estimate), and the fit's χ² at the best
// position, with the rescaled errors, is about the number of points.
func TestFitRescaleErrors(t *testing.T) {
	truth := event.Params{S: 0.8, Q: 0.02, Alpha: 0.6, U0: 0.2, T0: 36, TE: 15, Rho: 1e-3, Fs: 1}
	a, b := simulatedCurve(truth, 0.2, 5), simulatedCurve(truth, 0.25, 6)
	for i := range b.Err {
		b.Err[i] /= 2
	}
	m := smallModel(t)
	centre := m.Standardizer.Forward(truth)
	fit, err := m.Fit(context.Background(), ballSampler{centre: centre, scale: 1e-3}, []LightCurve{a, b}, event.DefaultPrior(),
		FitConfig{Candidates: 64, Chains: 16, Steps: 200, Workers: 2, Seed: 4, Polish: 2, RescaleErrors: true})
	require.NoError(t, err)
	require.Len(t, fit.ErrScale, 2)
	t.Logf("error scales %.4f, %.4f (χ² at the optimum %.1f of %d points, %.1f of %d); best χ² %.1f of %d points",
		fit.ErrScale[0], fit.ErrScale[1], fit.ErrScaleChi2[0], len(a.T), fit.ErrScaleChi2[1], len(b.T), fit.BestChi2, len(a.T)+len(b.T))
	assert.InDelta(t, 1, fit.ErrScale[0], 4.5/math.Sqrt(2*float64(len(a.T))))
	assert.InDelta(t, 2, fit.ErrScale[1], 2*4.5/math.Sqrt(2*float64(len(b.T))))
	assert.Equal(t, fit.ErrScale, fit.Likelihood.ErrScale)
	n := float64(len(a.T) + len(b.T))
	assert.InDelta(t, n, fit.BestChi2, 6*math.Sqrt(2*n))
}

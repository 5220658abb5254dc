package infer

import (
	"context"
	"math"
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
		FitConfig{Candidates: 64, Chains: 16, Steps: 600, Burn: 300, Workers: 2, Seed: 3})
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
	assert.InDelta(t, 1, fit.Modes[0].MCMCMass, 1e-12)
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
			if stage == "mcmc" && done == 10 {
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

// TestSeedWalkersInEveryMode: with 70% of the candidates close (s < 1) and 30% wide, 16
// walkers start 11 close and 5 wide, each the best of its mode; a mode under MinModeMass
// gets none; a mode short of distinct candidates is filled from the other.
func TestSeedWalkersInEveryMode(t *testing.T) {
	st := event.NewStandardizer(event.DefaultPrior())
	mk := func(s float64, k int) []float64 {
		p := event.Params{S: s, Q: 0.01, Alpha: 1, U0: 0.1 + 0.001*float64(k), T0: 30, TE: 20, Rho: 1e-3, Fs: 1}
		return st.Forward(p)
	}
	var ys [][]float64
	var lps []float64
	for k := range 100 {
		s := 0.7
		if k%10 >= 7 {
			s = 1.4
		}
		ys = append(ys, mk(s, k))
		lps = append(lps, -float64(k)) // candidate 0 is the best
	}
	order := make([]int, len(ys))
	for i := range order {
		order[i] = i
	}
	modes := candidateModes(ys, lps, st)
	assert.InDelta(t, 0.7, modes[0].NDEMass, 1e-9)
	assert.InDelta(t, 0.3, modes[1].NDEMass, 1e-9)
	init, err := seedWalkers(order, ys, lps, modes, 16, st)
	require.NoError(t, err)
	assert.Len(t, init, 16)
	assert.Equal(t, 11, modes[0].Seeded)
	assert.Equal(t, 5, modes[1].Seeded)
	assert.Equal(t, ys[0], init[0], "the best candidate seeds a walker")
	assert.InDelta(t, 0.7, modes[0].Best.S, 1e-9)
	assert.InDelta(t, 1.4, modes[1].Best.S, 1e-9)

	// 2 wide candidates of 100: under MinModeMass, no walker there.
	for k := range ys {
		s := 0.7
		if k == 50 || k == 60 {
			s = 1.4
		}
		ys[k] = mk(s, k)
	}
	modes = candidateModes(ys, lps, st)
	_, err = seedWalkers(order, ys, lps, modes, 16, st)
	require.NoError(t, err)
	assert.Equal(t, 16, modes[0].Seeded)
	assert.Equal(t, 0, modes[1].Seeded)
}

// TestFitTwoDatasets: the event observed by a second telescope (every 0.5 d, another flux
// scale and a blend: source 5000, blend 2000) in the same time system: each dataset gets its
// own fluxes, recovered within errors, and χ² sums over both.
func TestFitTwoDatasets(t *testing.T) {
	truth := event.Params{S: 0.8, Q: 0.02, Alpha: 0.6, U0: 0.2, T0: 36, TE: 15, Rho: 1e-3, Fs: 1}
	a := simulatedCurve(truth, 0.2, 11)
	var ts []float64
	for x := 0.25; x < 72; x += 0.5 {
		ts = append(ts, x)
	}
	mag := lens.LightCurve(truth.Event(), ts, lens.DefaultTol, nil)
	b := LightCurve{T: ts, Flux: make([]float64, len(ts)), Err: make([]float64, len(ts))}
	src := rng.New(12, 0)
	for i, v := range mag {
		f := 5000*v + 2000
		b.Err[i] = math.Sqrt(f)
		b.Flux[i] = f + b.Err[i]*src.Normal()
	}
	m := smallModel(t)
	fit, err := m.Fit(context.Background(), ballSampler{centre: m.Standardizer.Forward(truth), scale: 1e-4}, []LightCurve{a, b},
		event.DefaultPrior(), FitConfig{Candidates: 32, Chains: 16, Steps: 40, Workers: 2, Seed: 4})
	require.NoError(t, err)
	require.Len(t, fit.BestFluxes, 2)
	assert.InDelta(t, 1e4, fit.BestFluxes[0].Source, 300)
	assert.InDelta(t, 5000, fit.BestFluxes[1].Source, 300)
	assert.InDelta(t, 2000, fit.BestFluxes[1].Blend, 300)
	assert.InDelta(t, fit.BestFluxes[0].Chi2+fit.BestFluxes[1].Chi2, fit.BestChi2, 1e-6*fit.BestChi2)
	assert.Equal(t, len(a.T)+len(b.T), fit.Likelihood.Points())
}

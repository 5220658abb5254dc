package infer

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

// groundTruth is the simulated ground-survey event of groundEvent, t0 in its HJD − 2450000.
var groundTruth = event.Params{S: 0.8, Q: 0.02, Alpha: 0.6, U0: 0.15, T0: 9100.4, TE: 25, Rho: 1e-3, Fs: 1}

// groundEvent simulates photometry of groundTruth as two ground surveys take it. Survey A
// (flux, as difference-imaging pipelines give it up to a constant): one point a night at
// 0.3 ± 0.1 d into the night over two seasons, 8950–9180 and 9300–9420, source 2·10⁴ and
// blend 10⁴ in its unit, σ = √F (baseline S/N 173). Survey B (I magnitudes, zero point 22,
// written to 4 decimals and read back by ReadLightCurveUnit): four points a night during
// nights 9080–9120, source I = 19 (15.85 in flux) and blend 5, σ_F = 0.015·F_base·√(F/F_base).
func groundEvent(t *testing.T) []LightCurve {
	t.Helper()
	e := groundTruth.Event()
	src := rng.New(77, 0)
	var a LightCurve
	for n := 8950; n < 9420; n++ {
		if n >= 9180 && n < 9300 {
			continue
		}
		a.T = append(a.T, float64(n)+0.3+src.Between(-0.1, 0.1))
	}
	mag := lens.LightCurve(e, a.T, lens.DefaultTol, nil)
	for _, m := range mag {
		f := 2e4*m + 1e4
		a.Err = append(a.Err, math.Sqrt(f))
		a.Flux = append(a.Flux, f+math.Sqrt(f)*src.Normal())
	}
	var bt []float64
	for n := 9080; n < 9120; n++ {
		for _, h := range []float64{0.1, 0.3, 0.5, 0.7} {
			bt = append(bt, float64(n)+h)
		}
	}
	mag = lens.LightCurve(e, bt, lens.DefaultTol, nil)
	var sb strings.Builder
	sb.WriteString("# HJD-2450000 I sigma_I\n")
	const fs, fb = 15.848931924611136, 5.0
	for i, m := range mag {
		f := fs*m + fb
		sf := 0.015 * (fs + fb) * math.Sqrt(f/(fs+fb))
		fo := f + sf*src.Normal()
		fmt.Fprintf(&sb, "%.5f %.4f %.4f\n", bt[i], MagZeroPoint-2.5*math.Log10(fo), 2.5/math.Ln10*sf/fo)
	}
	b, err := ReadLightCurveUnit(strings.NewReader(sb.String()), "surveyB.dat", UnitMag, true)
	require.NoError(t, err)
	return []LightCurve{a, b}
}

// TestFitGroundSurveyEvent: a binary-lens event observed as ground surveys observe it —
// nightly points with a seasonal gap from one survey in flux, a denser follow-up in
// magnitudes from another, each with its own source and blend flux — is fitted end to end
// with the shipped network's proposal: the window is placed on the peak, the polish climbs
// from candidates hundreds of χ² away to the truth's basin, and the chains' best position is
// the truth's within the noise. (Short chains, for time: docs/fitting.md gives a full run's
// intervals.)
func TestFitGroundSurveyEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("fits an event")
	}
	lcs := groundEvent(t)
	m, err := LoadModel("../models/small-wn-100k")
	require.NoError(t, err)
	fit, err := m.Fit(context.Background(), CPUSampler{Net: m.Net}, lcs, event.DefaultPrior(),
		FitConfig{Candidates: 200, Chains: 16, Steps: 150, Burn: 75, Polish: 2, Workers: 2, Seed: 5})
	require.NoError(t, err)
	t.Logf("%s", fit.Window)
	inWindow := groundTruth // the likelihood's times are from the window's start
	inWindow.T0 -= fit.Window.Start
	tc, _, err := fit.Likelihood.Chi2(inWindow.Event())
	require.NoError(t, err)
	n := len(lcs[0].T) + len(lcs[1].T)
	t.Logf("χ² best %.1f, truth %.1f (%d points); best candidate %.1f; acceptance %.3f", fit.BestChi2, tc, n, minOfTest(fit.CandChi2), fit.Acceptance)
	for k, fx := range fit.BestFluxes {
		t.Logf("dataset %d: source %.5g, blend %.5g, χ² %.1f", k, fx.Source, fx.Blend, fx.Chi2)
	}
	for _, md := range fit.Modes {
		t.Logf("mode %s: NDE mass %.2f, best χ² %.1f, %s", md.Label, md.NDEMass, md.BestChi2, md.Skipped)
	}
	tv := groundTruth.Values()
	for j, s := range fit.Summary {
		t.Logf("%-5s median %.6g [%.6g, %.6g] 95%% [%.6g, %.6g], truth %.6g, R̂ %.3f, ESS %.0f", s.Name, s.Median, s.Lo68, s.Hi68, s.Lo95, s.Hi95, tv[j], fit.RHat[j], fit.ESS[j])
	}
	assert.InDelta(t, groundTruth.T0, fit.Window.Start+36, 3, "the window is centred on the peak")
	assert.True(t, fit.Window.Auto && fit.Window.Sparse())
	// The network's candidates alone are far from the solution (blending it was not trained
	// with, nightly data): the polish must reach the truth's basin and the chains stay there.
	assert.Greater(t, minOfTest(fit.CandChi2), tc+100, "the candidates were expected to be poor (else this test checks less)")
	assert.Less(t, fit.BestChi2, tc+2)
	b := fit.Best
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"s", b.S, groundTruth.S}, {"q", b.Q, groundTruth.Q}, {"u0", b.U0, groundTruth.U0}, {"tE", b.TE, groundTruth.TE}, {"alpha", b.Alpha, groundTruth.Alpha}} {
		assert.InEpsilon(t, c.want, c.got, 0.05, "best %s", c.name)
	}
	assert.InDelta(t, groundTruth.T0, b.T0, 0.1, "best t0")
	assert.InEpsilon(t, 2e4, fit.BestFluxes[0].Source, 0.05)
	assert.InEpsilon(t, 15.85, fit.BestFluxes[1].Source, 0.05)
	assert.Equal(t, "close", fit.Modes[0].Label)
	assert.Less(t, fit.Modes[0].BestChi2, fit.Modes[1].BestChi2, "the close mode (the truth's) is the best")
}

func minOfTest(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

package evaluate

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/internal/rng"
)

func normals(src *rng.Source, n int, mean, sd float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = mean + sd*src.Normal()
	}
	return xs
}

func TestEstimateUnimodal(t *testing.T) {
	m := Estimate(normals(rng.New(1, 0), 4000, 0.3, 1), Axis{Lo: -6, Hi: 6})
	require.Len(t, m.Modes, 1)
	assert.InDelta(t, 0.3, m.Modes[0].At, 0.15, "mode of N(0.3, 1)")
	// The KDE of N(0, 1) with bandwidth h is N(0, 1 + h²): peak 1/√(2π(1+h²)).
	want := 1 / math.Sqrt(2*math.Pi*(1+m.Bandwidth*m.Bandwidth))
	assert.InDelta(t, want, m.Modes[0].Density, 0.05*want, "peak density")
	// The estimate integrates to 1 over the grid.
	sum := 0.0
	for _, d := range m.Density {
		sum += d * 12 / GridPoints
	}
	assert.InDelta(t, 1, sum, 1e-3)
}

func TestEstimateBimodal(t *testing.T) {
	src := rng.New(2, 0)
	xs := append(normals(src, 1500, -2, 0.3), normals(src, 1000, 2, 0.3)...)
	m := Estimate(xs, Axis{Lo: -5, Hi: 5})
	require.Len(t, m.Modes, 2)
	assert.InDelta(t, -2, m.Modes[0].At, 0.1, "global mode: the heavier component")
	assert.InDelta(t, 2, m.Modes[1].At, 0.1)
	// A component of under ModeFraction of the highest peak's density is no mode.
	xs = append(normals(src, 3000, -2, 0.3), normals(src, 300, 2, 0.3)...)
	assert.Len(t, Estimate(xs, Axis{Lo: -5, Hi: 5}).Modes, 1, "a 10% component")
}

func TestEstimateBoundedAndPeriodic(t *testing.T) {
	src := rng.New(3, 0)
	xs := make([]float64, 20000)
	for i := range xs {
		xs[i] = src.Uniform()
	}
	m := Estimate(xs, Axis{Lo: 0, Hi: 1, Bounded: true})
	// Reflection keeps the density of U(0, 1) at 1 up to the ends.
	for _, i := range []int{0, GridPoints / 2, GridPoints - 1} {
		assert.InDelta(t, 1, m.Density[i], 0.12, "density at %.3f", m.Grid[i])
	}
	// A peak at the seam of a periodic axis is one mode, found at the seam.
	ys := normals(src, 3000, 0, 0.3)
	for i, y := range ys {
		ys[i] = math.Mod(y+2*math.Pi, 2*math.Pi)
	}
	a := Axis{Lo: 0, Hi: 2 * math.Pi, Bounded: true, Periodic: true}
	pm := Estimate(ys, a)
	require.Len(t, pm.Modes, 1)
	assert.Less(t, Distance(pm.Modes[0].At, 0, a), 0.1)
	assert.InDelta(t, 0.1, Distance(0.05, 2*math.Pi-0.05, a), 1e-12)
}

func TestSpecialFunctions(t *testing.T) {
	// χ²(19) upper critical values (tables): 30.144 at 5%, 36.191 at 1%.
	assert.InDelta(t, 0.05, chi2Survival(30.144, 19), 1e-4)
	assert.InDelta(t, 0.01, chi2Survival(36.191, 19), 1e-4)
	assert.InDelta(t, math.Exp(-1), chi2Survival(2, 2), 1e-12, "χ²(2) survival is exp(−x/2)")
	// Kolmogorov: P(K > 1.358) = 0.05, P(K > 1.628) = 0.01.
	assert.InDelta(t, 0.05, kolmogorovQ(1.358), 5e-4)
	assert.InDelta(t, 0.01, kolmogorovQ(1.628), 2e-4)
}

// conjugateToy returns, for n events of the Gaussian toy θ ~ N(0, 1), x = θ + N(0, σ²) per
// dimension (D dimensions), the truths and K samples each of a posterior whose width is
// scale × the exact one, N(x/(1+σ²), σ²/(1+σ²)) (scale 1: the exact posterior).
func conjugateToy(n, K, D int, scale float64, seed uint64) (truths [][]float64, samples [][]float64) {
	const sigma = 0.5
	src := rng.New(seed, 0)
	postSD := scale * math.Sqrt(sigma*sigma/(1+sigma*sigma))
	for range n {
		th := make([]float64, D)
		s := make([]float64, K*D)
		for j := range D {
			th[j] = src.Normal()
			x := th[j] + sigma*src.Normal()
			mean := x / (1 + sigma*sigma)
			for k := range K {
				s[k*D+j] = mean + postSD*src.Normal()
			}
		}
		truths, samples = append(truths, th), append(samples, s)
	}
	return truths, samples
}

// toyCalibration runs Analyse and TARPScore over the toy and returns the coverage at each
// level of dimension 0, the SBC χ² p-value of dimension 0 and the TARP KS p-value.
func toyCalibration(t *testing.T, scale float64) (coverage []float64, sbcP, tarpP float64) {
	const n, K, D = 1000, 200, 2
	truths, samples := conjugateToy(n, K, D, scale, 7)
	a := Axis{Lo: -6, Hi: 6}
	prior := func(u float64) float64 { return math.Exp(-0.5*u*u) / math.Sqrt(2*math.Pi) }
	coverage = make([]float64, len(Levels))
	var ranks []int
	var scores []float64
	refs := rng.New(8, 0)
	for i := range n {
		xs := make([]float64, K)
		for k := range K {
			xs[k] = samples[i][k*D]
		}
		r := Analyse(xs, truths[i][0], a, prior)
		for l, c := range r.Covered {
			if c {
				coverage[l] += 1.0 / n
			}
		}
		ranks = append(ranks, r.Rank)
		ref := []float64{refs.Between(-2, 2), refs.Between(-2, 2)}
		scores = append(scores, TARPScore(samples[i], truths[i], ref))
	}
	_, sbcP = RankChi2(ranks, K, 20)
	_, tarpP = KSUniform(scores)
	return coverage, sbcP, tarpP
}

// TestCalibrationOfTheExactPosterior: with the exact posterior of a Gaussian toy, the
// coverage of every level is nominal within 3.5 binomial standard deviations, the SBC ranks
// are uniform and TARP's scores too; a posterior half as wide (overconfident) fails all
// three, and one twice as wide (underconfident) fails coverage the other way.
func TestCalibrationOfTheExactPosterior(t *testing.T) {
	const n = 1000
	cov, sbcP, tarpP := toyCalibration(t, 1)
	for l, p := range Levels {
		assert.InDelta(t, p, cov[l], 3.5*math.Sqrt(p*(1-p)/n), "exact posterior: coverage at %.2f", p)
	}
	assert.Greater(t, sbcP, 1e-3, "exact posterior: SBC χ² p-value")
	assert.Greater(t, tarpP, 1e-3, "exact posterior: TARP KS p-value")

	cov, sbcP, tarpP = toyCalibration(t, 0.5)
	l68 := 6 // Levels[6] = 0.68
	assert.Less(t, cov[l68], 0.68-0.1, "overconfident: coverage of the 68% interval")
	assert.Less(t, sbcP, 1e-6, "overconfident: SBC χ² p-value")
	assert.Less(t, tarpP, 1e-6, "overconfident: TARP KS p-value")

	cov, _, _ = toyCalibration(t, 2)
	assert.Greater(t, cov[l68], 0.68+0.1, "underconfident: coverage of the 68% interval")
}

// TestConstrainedAndCorrect: Zhang et al.'s criteria on a bimodal posterior with the truth
// at the secondary mode (constrained, not correct), and on the prior itself (not
// constrained).
func TestConstrainedAndCorrect(t *testing.T) {
	src := rng.New(9, 0)
	a := Axis{Lo: -3, Hi: 3, Bounded: true}
	flat := func(float64) float64 { return 1.0 / 6 }
	xs := append(normals(src, 1200, -1, 0.1), normals(src, 800, 1.5, 0.1)...)
	r := Analyse(xs, 1.45, a, flat)
	assert.Equal(t, 2, r.Modes)
	assert.True(t, r.Constrained(), "peak ratio %.1f", r.PeakRatio)
	assert.False(t, r.Correct(), "the truth is at the secondary mode")
	assert.InDelta(t, 1.5, r.Nearest, 0.05)
	r = Analyse(xs, -1.02, a, flat)
	assert.True(t, r.Correct())

	u := make([]float64, 2000)
	for i := range u {
		u[i] = src.Between(-3, 3)
	}
	r = Analyse(u, 0, a, flat)
	assert.False(t, r.Constrained(), "the prior's own samples: peak ratio %.2f", r.PeakRatio)
}

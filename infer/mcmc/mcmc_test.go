package mcmc

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/internal/rng"
)

// ball returns W walkers around centre, each coordinate offset by N(0, scale²).
func ball(W int, centre []float64, scale float64, seed uint64) [][]float64 {
	src := rng.New(seed, 0)
	out := make([][]float64, W)
	for w := range out {
		x := make([]float64, len(centre))
		for d, c := range centre {
			x[d] = c + scale*src.Normal()
		}
		out[w] = x
	}
	return out
}

// moments returns the mean and variance of parameter j over the chains after burn.
func moments(c *Chains, j, burn int) (mean, variance float64) {
	var s, ss float64
	n := 0
	for w := range c.Walkers {
		for t := burn; t < c.Steps; t++ {
			v := c.At(w, t)[j]
			s += v
			ss += v * v
			n++
		}
	}
	mean = s / float64(n)
	return mean, ss/float64(n) - mean*mean
}

// TestGaussian: a correlated 4-D Gaussian (standard deviations 1, 2, 0.5, 10; correlation
// 0.9 between the first two) started far from its centre in a tight ball. After burn-in the
// means are within 5 standard errors (σ/√ESS, ESS measured by ESS) of the truth, the
// variances within 5 standard errors of theirs (σ²·√(2/ESS)), split-R̂ < 1.01, and the
// acceptance and autocorrelation time are emcee's on the same problem.
func TestGaussian(t *testing.T) {
	sd := []float64{1, 2, 0.5, 10}
	const rho = 0.9
	mu := []float64{1, -2, 3, 0}
	// Precision of the (x0, x1) block: inverse of [[1, 2ρ], [2ρ, 4]].
	det := 4 - 4*rho*rho
	lp := func(x []float64) float64 {
		a, b := x[0]-mu[0], x[1]-mu[1]
		q := (4*a*a - 4*rho*a*b + b*b) / det
		q += (x[2] - mu[2]) * (x[2] - mu[2]) / (sd[2] * sd[2])
		q += (x[3] - mu[3]) * (x[3] - mu[3]) / (sd[3] * sd[3])
		return -q / 2
	}
	// 20,000 steps: each walker's chain has τ ≈ 50 steps, so ~400 effective draws — what an
	// R̂ below 1.01 needs (its noise is ~1/ESS per chain).
	const burn = 2000
	c, err := Run(context.Background(), lp, ball(32, []float64{5, 5, 5, 5}, 1e-3, 1), Config{Steps: 20000, Seed: 2, Workers: 2})
	require.NoError(t, err)
	// emcee 3.1 on this density (32 walkers from the same ball, 20,000 steps, a = 2):
	// acceptance 0.595, τ = 47.4, 48.1, 49.2, 48.4 steps (discard 2000). The stretch move's
	// acceptance depends only on the density's shape (affine invariance), so it must agree.
	const emceeAcceptance, emceeTau = 0.595, 48.3
	acc := c.Acceptance()
	t.Logf("acceptance %.3f (emcee %.3f)", acc, emceeAcceptance)
	assert.InDelta(t, emceeAcceptance, acc, 0.01, "acceptance")
	for j := range sd {
		m, v := moments(c, j, burn)
		ch := c.Param(j, burn)
		ess, err := ESS(ch)
		require.NoError(t, err)
		r, err := SplitRHat(ch)
		require.NoError(t, err)
		t.Logf("x%d: mean %.4f (%g), var %.4f (%g), ESS %.0f, R̂ %.4f", j, m, mu[j], v, sd[j]*sd[j], ess, r)
		assert.InDelta(t, mu[j], m, 5*sd[j]/math.Sqrt(ess), "mean of x%d", j)
		assert.InDelta(t, sd[j]*sd[j], v, 5*sd[j]*sd[j]*math.Sqrt(2/ess), "variance of x%d", j)
		assert.Less(t, r, 1.01, "R̂ of x%d", j)
		tau := float64(32*(20000-burn)) / ess
		assert.InDelta(t, emceeTau, tau, 0.15*emceeTau, "τ of x%d", j)
	}
}

// TestBanana: the twisted Gaussian of Haario et al. (1999), x0 ~ N(0, 100),
// x1 = y − b(x0² − 100) with y ~ N(0, 1) and b = 0.03: E[x1] = 0, Var[x1] = 1 + 2b²·100² = 19,
// a curved density on which random-walk samplers struggle. Moments within 5 standard errors.
func TestBanana(t *testing.T) {
	const b = 0.03
	lp := func(x []float64) float64 {
		y := x[1] + b*(x[0]*x[0]-100)
		return -x[0]*x[0]/200 - y*y/2
	}
	const burn = 2000
	c, err := Run(context.Background(), lp, ball(40, []float64{0, 0}, 0.1, 3), Config{Steps: 12000, Seed: 4, Workers: 2})
	require.NoError(t, err)
	for j, want := range [][2]float64{{0, 100}, {0, 19}} {
		m, v := moments(c, j, burn)
		ch := c.Param(j, burn)
		ess, err := ESS(ch)
		require.NoError(t, err)
		r, err := SplitRHat(ch)
		require.NoError(t, err)
		t.Logf("x%d: mean %.3f, var %.3f (want %g, %g), ESS %.0f, R̂ %.4f, acceptance %.3f", j, m, v, want[0], want[1], ess, r, c.Acceptance())
		sd := math.Sqrt(want[1])
		assert.InDelta(t, want[0], m, 5*sd/math.Sqrt(ess))
		// The variance's standard error for a non-Gaussian marginal: √(μ4 − σ⁴)/√ESS; x1's
		// fourth moment is heavy (x0⁴ terms), so allow 10 standard errors of the Gaussian case.
		assert.InDelta(t, want[1], v, 10*want[1]*math.Sqrt(2/ess))
		assert.Less(t, r, 1.02)
	}
}

// TestRHatDetectsStuckChain: chains of independent N(0, 1) draws give R̂ < 1.01; one chain
// offset by 3 (stuck in another mode) or with 5× the spread gives R̂ > 1.05.
func TestRHatDetectsStuckChain(t *testing.T) {
	src := rng.New(5, 0)
	chains := make([][]float64, 8)
	for i := range chains {
		chains[i] = make([]float64, 2000)
		for k := range chains[i] {
			chains[i][k] = src.Normal()
		}
	}
	r, err := SplitRHat(chains)
	require.NoError(t, err)
	t.Logf("independent chains: R̂ %.4f", r)
	assert.Less(t, r, 1.01)
	for _, tc := range []struct {
		name         string
		shift, scale float64
	}{{"offset", 3, 1}, {"wider", 0, 5}} {
		bad := make([][]float64, len(chains))
		copy(bad, chains)
		bad[3] = make([]float64, len(chains[3]))
		for k, v := range chains[3] {
			bad[3][k] = tc.shift + tc.scale*v
		}
		r, err := SplitRHat(bad)
		require.NoError(t, err)
		t.Logf("%s chain: R̂ %.4f", tc.name, r)
		assert.Greater(t, r, 1.05, tc.name)
	}
	// A chain that drifts (the first half differs from the second) is caught by the split.
	drift := make([][]float64, 1)
	drift[0] = make([]float64, 2000)
	for k := range drift[0] {
		drift[0][k] = src.Normal() + 2*float64(k/1000)
	}
	r, err = SplitRHat(drift)
	require.NoError(t, err)
	assert.Greater(t, r, 1.05, "drifting chain: R̂ %.4f", r)
	_, err = SplitRHat([][]float64{{1, 2}})
	assert.Error(t, err)
	_, err = SplitRHat([][]float64{{1, 2, 3, math.NaN()}})
	assert.Error(t, err)
}

// TestAutocorrTime: independent draws have τ ≈ 1; an AR(1) process x_t = φx_{t−1} + ε has
// τ = (1 + φ)/(1 − φ) = 19 for φ = 0.9. Within 15% (the estimator's spread at 8 × 20,000
// draws is a few per cent).
func TestAutocorrTime(t *testing.T) {
	src := rng.New(6, 0)
	iid, ar := make([][]float64, 8), make([][]float64, 8)
	for i := range iid {
		iid[i], ar[i] = make([]float64, 20000), make([]float64, 20000)
		x := 0.0
		for k := range iid[i] {
			iid[i][k] = src.Normal()
			x = 0.9*x + src.Normal()
			ar[i][k] = x
		}
	}
	tau, ok, err := AutocorrTime(iid)
	require.NoError(t, err)
	t.Logf("iid: τ = %.3f", tau)
	assert.InDelta(t, 1, tau, 0.15)
	assert.True(t, ok)
	tau, ok, err = AutocorrTime(ar)
	require.NoError(t, err)
	t.Logf("AR(1) φ = 0.9: τ = %.3f (19)", tau)
	assert.InDelta(t, 19, tau, 19*0.15)
	assert.True(t, ok)
	ess, err := ESS(ar)
	require.NoError(t, err)
	assert.InDelta(t, 8*20000/19.0, ess, 8*20000/19.0*0.15)
	_, ok, _ = AutocorrTime([][]float64{ar[0][:200]})
	assert.False(t, ok, "200 draws of τ ≈ 19 are too few for a reliable τ")
}

// TestRunDeterministicAndInterruptible: the chains do not depend on Workers; a cancelled
// context returns the steps done with its error; bad input is an error.
func TestRunDeterministicAndInterruptible(t *testing.T) {
	lp := func(x []float64) float64 { return -(x[0]*x[0] + x[1]*x[1]) / 2 }
	init := ball(8, []float64{0, 0}, 1, 7)
	a, err := Run(context.Background(), lp, init, Config{Steps: 50, Seed: 8, Workers: 1})
	require.NoError(t, err)
	b, err := Run(context.Background(), lp, init, Config{Steps: 50, Seed: 8, Workers: 3})
	require.NoError(t, err)
	assert.Equal(t, a.X, b.X)
	assert.Equal(t, a.Accepted, b.Accepted)

	ctx, cancel := context.WithCancel(context.Background())
	c, err := Run(ctx, lp, init, Config{Steps: 50, Seed: 8, Progress: func(done int) {
		if done == 20 {
			cancel()
		}
	}})
	assert.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 20, c.Steps)
	assert.Equal(t, a.At(5, 19), c.At(5, 19), "the steps done are those of the full run")

	_, err = Run(context.Background(), lp, init[:3], Config{Steps: 5})
	assert.ErrorContains(t, err, "even number")
	out := append([][]float64{{math.Inf(1), 0}}, init[1:]...)
	_, err = Run(context.Background(), func(x []float64) float64 {
		if math.IsInf(x[0], 0) {
			return math.Inf(-1)
		}
		return lp(x)
	}, out, Config{Steps: 5})
	assert.ErrorContains(t, err, "walker 0 starts")
	_, err = Run(context.Background(), lp, init, Config{Steps: 0})
	assert.Error(t, err)
}

package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/internal/testutil"
)

// newTestMixture returns random float64 base parameters: logits and means N(0, 1),
// log-scales 0.3·N(0, 1).
func newTestMixture(rg *rand.Rand, s MixtureShape) ([]float64, MixtureParams[float64]) {
	flat := testutil.RandVec(rg, s.NumParams())
	p := NewMixtureParams(s, flat)
	for i := range p.LogScales {
		p.LogScales[i] *= 0.3
	}
	return flat, p
}

func TestMixtureGrad(t *testing.T) {
	rg := rand.New(rand.NewSource(4))
	s := MixtureShape{D: 3, K: 4}
	const B = 6
	_, p := newTestMixture(rg, s)
	u := testutil.RandVec(rg, B*s.D)
	for i := range u {
		u[i] *= 2 // reach the tails, where one component dominates
	}
	wl := testutil.RandVec(rg, B)
	logp, resp := make([]float64, B), make([]float64, B*s.D*s.K)
	loss := func() float64 {
		MixtureLogProb(logp, resp, u, p, B, s.D, s.K)
		return dot(wl, logp)
	}
	loss()
	g0 := testutil.RandVec(rg, s.NumParams())
	gflat := append([]float64(nil), g0...)
	du0 := testutil.RandVec(rg, B*s.D)
	du := append([]float64(nil), du0...)
	g := NewMixtureParams(s, gflat)
	MixtureBackward(du, g, wl, resp, u, p, B, s.D, s.K)
	for i := range gflat {
		gflat[i] -= g0[i]
	}
	for i := range du {
		du[i] -= du0[i]
	}
	checkGrad(t, "Logits", loss, p.Logits, g.Logits, flowGradAtol, flowGradRtol)
	checkGrad(t, "Means", loss, p.Means, g.Means, flowGradAtol, flowGradRtol)
	checkGrad(t, "LogScales", loss, p.LogScales, g.LogScales, flowGradAtol, flowGradRtol)
	checkGrad(t, "u", loss, u, du, flowGradAtol, flowGradRtol)
}

// The log-density is stable far in the tails (no −Inf, no NaN) and integrates to 1.
func TestMixtureLogProb(t *testing.T) {
	rg := rand.New(rand.NewSource(5))
	s := MixtureShape{D: 1, K: 5}
	_, p := newTestMixture(rg, s)
	// Far tail: the log-sum-exp is dominated by the widest component: log p ≈ −z²/2 − …
	far := []float64{1e3, -1e4}
	lp, resp := make([]float64, 2), make([]float64, 2*s.K)
	MixtureLogProb(lp, resp, far, p, 2, 1, 5)
	for i, v := range lp {
		if math.IsInf(v, 0) || math.IsNaN(v) || v > -1e4 {
			t.Errorf("log p(%g) = %v, want finite and ≪ 0", far[i], v)
		}
	}
	// ∫ p du = 1 by the trapezoid rule on [−20, 20] (the widest σ is e^{0.3·3} ≈ 2.5, so the
	// tails beyond 8σ are negligible), step 1e-3: the rule's error is O(h²·max|p''|) ≈ 1e-6.
	const n = 40001
	u := make([]float64, n)
	for i := range u {
		u[i] = -20 + 40*float64(i)/(n-1)
	}
	lp, resp = make([]float64, n), make([]float64, n*s.K)
	MixtureLogProb(lp, resp, u, p, n, 1, s.K)
	sum := 0.0
	for i, v := range lp {
		w := 1.0
		if i == 0 || i == n-1 {
			w = 0.5
		}
		sum += w * math.Exp(v)
	}
	sum *= 40.0 / (n - 1)
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("∫ p du = %.9f, want 1 ± 1e-6", sum)
	}
}

// MixtureSample's moments match the mixture's: mean Σ w m, variance Σ w (σ² + m²) − mean².
func TestMixtureSample(t *testing.T) {
	rg := rand.New(rand.NewSource(6))
	s := MixtureShape{D: 2, K: 3}
	_, p := newTestMixture(rg, s)
	const N = 200000
	u := make([]float64, N*s.D)
	MixtureSample(u, p, N, s.D, s.K, rng.New(7, 0))
	logw, _, _ := mixtureTables(p, s.D, s.K)
	for i := range s.D {
		mean, m2 := 0.0, 0.0
		for k := range s.K {
			j := i*s.K + k
			w, m, sg := math.Exp(logw[j]), p.Means[j], math.Exp(p.LogScales[j])
			mean += w * m
			m2 += w * (sg*sg + m*m)
		}
		variance := m2 - mean*mean
		sm, sv := 0.0, 0.0
		for r := range N {
			sm += u[r*s.D+i]
		}
		sm /= N
		for r := range N {
			d := u[r*s.D+i] - sm
			sv += d * d
		}
		sv /= N
		// 5 standard errors: SE(mean) = σ/√N, SE(var) ≈ σ²·√(2/N)·√(kurtosis/2) ≤ 2σ²/√N here.
		if math.Abs(sm-mean) > 5*math.Sqrt(variance/N) {
			t.Errorf("dim %d: sample mean %.5f, want %.5f", i, sm, mean)
		}
		if math.Abs(sv-variance) > 5*2*variance/math.Sqrt(N) {
			t.Errorf("dim %d: sample variance %.5f, want %.5f", i, sv, variance)
		}
	}
}

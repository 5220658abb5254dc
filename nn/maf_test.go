package nn

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/internal/testutil"
)

// newTestMAF returns a float64 flow of shape s with Init's parameters plus noise of scale
// noise, so that every block is far from the identity (Init's output layer is ≈ 0).
func newTestMAF(rg *rand.Rand, s MAFShape, noise float64) *MAF[float64] {
	f := NewMAF[float64](s)
	f.Init(11)
	for i := range f.Params {
		f.Params[i] += noise * rg.NormFloat64()
	}
	return f
}

// End-to-end gradient check of a 3-block flow: every parameter tensor, θ and the context,
// with each base.
func TestMAFGrad(t *testing.T) {
	for _, base := range []string{BaseMixture, BaseMADEMoG} {
		t.Run(base, func(t *testing.T) {
			mafGradCheck(t, MAFShape{D: 4, C: 3, H: 9, L: 2, NB: 3, K: 3, OrderSeed: 5, Base: base})
		})
	}
}

func mafGradCheck(t *testing.T, s MAFShape) {
	rg := rand.New(rand.NewSource(8))
	const B = 5
	f := newTestMAF(rg, s, 0.4)
	theta, ctx := testutil.RandVec(rg, B*s.D), testutil.RandVec(rg, B*s.C)
	wl := testutil.RandVec(rg, B)
	ws := NewMAFWork(f, B)
	logp := make([]float64, B)
	loss := func() float64 {
		MAFLogProb(logp, ws, theta, ctx, f, B)
		return dot(wl, logp)
	}
	loss()
	g0 := testutil.RandVec(rg, len(f.Grads))
	copy(f.Grads, g0)
	dth0, dctx0 := testutil.RandVec(rg, B*s.D), testutil.RandVec(rg, B*s.C)
	dtheta, dctx := append([]float64(nil), dth0...), append([]float64(nil), dctx0...)
	MAFBackward(f.Grads, dtheta, dctx, wl, ws, ctx, f, B)
	for i := range f.Grads {
		f.Grads[i] -= g0[i]
	}
	for i := range dtheta {
		dtheta[i] -= dth0[i]
	}
	for i := range dctx {
		dctx[i] -= dctx0[i]
	}
	ps, gs := f.P, f.G
	if s.MoG() {
		ps, gs = append(ps, f.PBase), append(gs, f.GBase)
	}
	for b := range ps {
		p, g := ps[b], gs[b]
		name := func(n string) string { return fmt.Sprintf("block %d %s", b, n) }
		checkGrad(t, name("W0"), loss, p.W0, g.W0, flowGradAtol, flowGradRtol)
		checkGrad(t, name("Wc"), loss, p.Wc, g.Wc, flowGradAtol, flowGradRtol)
		checkGrad(t, name("B0"), loss, p.B0, g.B0, flowGradAtol, flowGradRtol)
		for l := range p.Wh {
			checkGrad(t, name("Wh"), loss, p.Wh[l], g.Wh[l], flowGradAtol, flowGradRtol)
			checkGrad(t, name("Bh"), loss, p.Bh[l], g.Bh[l], flowGradAtol, flowGradRtol)
		}
		checkGrad(t, name("Wo"), loss, p.Wo, g.Wo, flowGradAtol, flowGradRtol)
		checkGrad(t, name("Bo"), loss, p.Bo, g.Bo, flowGradAtol, flowGradRtol)
	}
	if !s.MoG() {
		checkGrad(t, "base Logits", loss, f.Base.Logits, f.DBase.Logits, flowGradAtol, flowGradRtol)
		checkGrad(t, "base Means", loss, f.Base.Means, f.DBase.Means, flowGradAtol, flowGradRtol)
		checkGrad(t, "base LogScales", loss, f.Base.LogScales, f.DBase.LogScales, flowGradAtol, flowGradRtol)
	}
	checkGrad(t, "theta", loss, theta, dtheta, flowGradAtol, flowGradRtol)
	checkGrad(t, "ctx", loss, ctx, dctx, flowGradAtol, flowGradRtol)
}

// The flow's density integrates to 1 over θ for a fixed context: a check of the sign and
// size of the log-determinant that the gradient check cannot make.
func TestMAFNormalised(t *testing.T) {
	for _, base := range []string{BaseMixture, BaseMADEMoG} {
		t.Run(base, func(t *testing.T) {
			mafNormalised(t, MAFShape{D: 2, C: 1, H: 8, L: 2, NB: 3, K: 3, OrderSeed: 1, Base: base})
		})
	}
}

func mafNormalised(t *testing.T, s MAFShape) {
	rg := rand.New(rand.NewSource(9))
	f := newTestMAF(rg, s, 0.2)
	// Midpoint rule on [−R, R]², n² cells. For a smooth density that decays inside the box
	// the rule converges faster than any power of h (Euler–Maclaurin); the ReLU kinks leave
	// O(h²) terms of small weight. Measured: 1 to 1e-9; a log-determinant of the wrong sign
	// gives 1.33. R = 12 is ≳ 10 widths of this flow's density (noise 0.2 on the parameters
	// keeps every block's scale near 1).
	const R, n = 12.0, 600
	h := 2 * R / n
	ws := NewMAFWork(f, n)
	theta, ctx, logp := make([]float64, n*2), []float64{0.3}, make([]float64, n)
	ctxs := make([]float64, n)
	for i := range ctxs {
		ctxs[i] = ctx[0]
	}
	sum := 0.0
	for i := range n {
		for j := range n {
			theta[2*j] = -R + h*(float64(i)+0.5)
			theta[2*j+1] = -R + h*(float64(j)+0.5)
		}
		MAFLogProb(logp, ws, theta, ctxs, f, n)
		for _, v := range logp {
			sum += math.Exp(v)
		}
	}
	sum *= h * h
	t.Logf("∫ p(θ|c) dθ over [−%g, %g]² = %.9f", R, R, sum)
	if math.Abs(sum-1) > 1e-6 {
		t.Errorf("∫ p(θ|c) dθ = %.9f, want 1 ± 1e-6", sum)
	}
}

// Sampling inverts the flow: re-evaluating a sample gives back its base draw; the naive and
// incremental samplers agree; the chunk size does not change the samples.
func TestMAFSampleRoundTrip(t *testing.T) {
	for _, base := range []string{BaseMixture, BaseMADEMoG} {
		t.Run(base, func(t *testing.T) {
			mafSampleRoundTrip(t, MAFShape{D: 7, C: 4, H: 30, L: 2, NB: 3, K: 4, OrderSeed: 2, Base: base})
		})
	}
}

func mafSampleRoundTrip(t *testing.T, s MAFShape) {
	rg := rand.New(rand.NewSource(10))
	f := newTestMAF(rg, s, 0.1)
	const B, S = 3, 40
	ctx := testutil.RandVec(rg, B*s.C)
	out, u := make([]float64, B*S*s.D), make([]float64, B*S*s.D)
	MAFSample(out, u, NewMAFSampler(f, 32), ctx, f, B, S, rng.New(3, 0))

	ctxRows := make([]float64, B*S*s.C)
	for r := range B * S {
		copy(ctxRows[r*s.C:(r+1)*s.C], ctx[(r/S)*s.C:])
	}
	ws := NewMAFWork(f, B*S)
	logp := make([]float64, B*S)
	MAFLogProb(logp, ws, out, ctxRows, f, B*S)
	worst := 0.0
	for i, v := range ws.X[s.NB] {
		worst = math.Max(worst, math.Abs(v-u[i]))
	}
	t.Logf("round trip max |Δu| = %.3g", worst)
	// Three inversions and forwards of O(1) values: ~1e-14 expected, 1e-10 required.
	if worst > 1e-10 {
		t.Errorf("round trip max |Δu| = %g > 1e-10", worst)
	}

	for _, tc := range []struct {
		name  string
		naive bool
		chunk int
	}{{"naive", true, 32}, {"chunk 7", false, 7}, {"chunk 1000", false, 1000}} {
		sp := NewMAFSampler(f, tc.chunk)
		sp.Naive = tc.naive
		out2 := make([]float64, len(out))
		MAFSample(out2, nil, sp, ctx, f, B, S, rng.New(3, 0))
		worst := 0.0
		for i := range out {
			worst = math.Max(worst, math.Abs(out2[i]-out[i])/(1+math.Abs(out[i])))
		}
		t.Logf("%s vs incremental (chunk 32): max rel |Δθ| = %.3g", tc.name, worst)
		// The same sums up to the order of exact zero terms and the BLAS's blocking.
		if worst > 1e-12 {
			t.Errorf("%s vs incremental: max rel |Δθ| = %g > 1e-12", tc.name, worst)
		}
	}
}

// TestMADEMoGSampleDistribution: samples of a flow with a MADE-MoG base follow its density.
// D = 2, one context; the plane is cut into 6×6 cells by the quantiles of a large sample's
// coordinates (well filled cells), each cell's probability is the midpoint-rule integral of
// exp(log p) (TestMAFNormalised shows that rule is exact to 1e-6 here), and the counts of
// 20,000 fresh samples are tested against them with Pearson's χ² (35 degrees of freedom:
// the 0.999 quantile is 66.6). Samples from the wrong component or with a mis-scaled
// normal fail by orders of magnitude.
func TestMADEMoGSampleDistribution(t *testing.T) {
	rg := rand.New(rand.NewSource(12))
	s := MAFShape{D: 2, C: 1, H: 8, L: 2, NB: 1, K: 3, OrderSeed: 4, Base: BaseMADEMoG}
	f := newTestMAF(rg, s, 0.3)
	ctx := []float64{0.7}
	const N = 20000
	out := make([]float64, N*2)
	MAFSample(out, nil, NewMAFSampler(f, 64), ctx, f, 1, N, rng.New(5, 0))
	// Cell edges: quantiles of another sample.
	ref := make([]float64, N*2)
	MAFSample(ref, nil, NewMAFSampler(f, 64), ctx, f, 1, N, rng.New(6, 0))
	const nc = 6
	edges := [2][]float64{}
	for d := range 2 {
		v := make([]float64, N)
		for r := range N {
			v[r] = ref[2*r+d]
		}
		slices.Sort(v)
		e := []float64{math.Inf(-1)}
		for c := 1; c < nc; c++ {
			e = append(e, v[c*N/nc])
		}
		edges[d] = append(e, math.Inf(1))
	}
	cell := func(x, y float64) int {
		i, _ := slices.BinarySearch(edges[0], x)
		j, _ := slices.BinarySearch(edges[1], y)
		return (max(i, 1)-1)*nc + max(j, 1) - 1
	}
	counts := make([]float64, nc*nc)
	for r := range N {
		counts[cell(out[2*r], out[2*r+1])]++
	}
	const R, n = 12.0, 600
	h := 2 * R / n
	ws := NewMAFWork(f, n)
	theta, ctxs, logp := make([]float64, n*2), make([]float64, n), make([]float64, n)
	for i := range ctxs {
		ctxs[i] = ctx[0]
	}
	prob := make([]float64, nc*nc)
	total := 0.0
	for i := range n {
		for j := range n {
			theta[2*j], theta[2*j+1] = -R+h*(float64(i)+0.5), -R+h*(float64(j)+0.5)
		}
		MAFLogProb(logp, ws, theta, ctxs, f, n)
		for j, v := range logp {
			p := math.Exp(v) * h * h
			prob[cell(theta[2*j], theta[2*j+1])] += p
			total += p
		}
	}
	chi2 := 0.0
	for c, p := range prob {
		e := p * N
		chi2 += (counts[c] - e) * (counts[c] - e) / e
	}
	t.Logf("∫ p = %.7f; χ² = %.1f over %d cells (0.999 quantile at 35 dof: 66.6)", total, chi2, nc*nc)
	if math.Abs(total-1) > 1e-5 || chi2 > 66.6 {
		t.Errorf("∫ p = %.7f (want 1), χ² = %.1f (want ≤ 66.6)", total, chi2)
	}
}

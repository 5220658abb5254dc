package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// Gradient-check tolerances for the flow's float64 checks: checkGrad's central differences
// (h = 1e-6) are good to ~1e-9 on losses of order 10 (rounding ≈ 1e-16·|L|/h, truncation
// ≈ h² times the third derivative); 1e-7 + 1e-6·|ref| leaves two orders of margin.
const (
	flowGradAtol = 1e-7
	flowGradRtol = 1e-6
)

// madeTestShape is small but has every feature: several hidden layers (hidden → hidden
// masks), a context, and H not a multiple of D (groups of unequal size).
var madeTestShape = MADEShape{D: 4, C: 3, H: 10, L: 3}

// newTestMADE returns a float64 MADE of shape s with ordering order and random parameters of
// scale 0.5 (large enough that the output layer matters, small enough for no saturation).
func newTestMADE(rg *rand.Rand, s MADEShape, order []int) (*MADE[float64], []float64, MADEParams[float64]) {
	m := NewMADE[float64](s, order)
	flat := testutil.RandVec(rg, s.NumParams())
	for i := range flat {
		flat[i] *= 0.5
	}
	return m, flat, NewMADEParams(s, flat)
}

// effective returns the masked copy of flat as MADEParams.
func effective(m *MADE[float64], flat []float64) MADEParams[float64] {
	eff := append([]float64(nil), flat...)
	w := NewMADEParams(m.MADEShape, eff)
	w.ApplyMasks(m)
	return w
}

func TestMADEMasks(t *testing.T) {
	m := NewMADE[float32](MADEShape{D: 3, C: 0, H: 7, L: 2}, []int{1, 2, 0})
	// Degrees: InDeg = (3, 1, 2); HidDeg = ⌊7h/3⌋ = 0 0 0 1 1 2 2.
	wantIn := []int{3, 1, 2}
	wantHid := []int{0, 0, 0, 1, 1, 2, 2}
	for i, d := range wantIn {
		if m.InDeg[i] != d {
			t.Fatalf("InDeg = %v, want %v", m.InDeg, wantIn)
		}
	}
	for h, d := range wantHid {
		if m.HidDeg[h] != d {
			t.Fatalf("HidDeg = %v, want %v", m.HidDeg, wantHid)
		}
	}
	if m.GroupEnd[0] != 3 || m.GroupEnd[1] != 5 || m.GroupEnd[2] != 7 {
		t.Fatalf("GroupEnd = %v, want [3 5 7]", m.GroupEnd)
	}
	// Unit 3 (degree 1) sees input 1 (degree 1) only; output 0 (degree 3) sees all units;
	// output 1 (degree 1) sees the degree-0 units only.
	for j, want := range []float32{0, 1, 0} {
		if m.M0[3*3+j] != want {
			t.Errorf("M0[3, %d] = %v, want %v", j, m.M0[3*3+j], want)
		}
	}
	for h := range 7 {
		want1 := float32(0)
		if h < 3 {
			want1 = 1
		}
		if m.Mo[0*7+h] != 1 || m.Mo[1*7+h] != 1 || m.Mo[2*7+h] != want1 || m.Mo[3*7+h] != want1 {
			t.Errorf("Mo column %d wrong", h)
		}
	}
}

func TestMADEGrad(t *testing.T) {
	rg := rand.New(rand.NewSource(1))
	s := madeTestShape
	const B = 5
	m, flat, p := newTestMADE(rg, s, []int{2, 0, 3, 1})
	x, ctx := testutil.RandVec(rg, B*s.D), testutil.RandVec(rg, B*s.C)
	wy, wl := testutil.RandVec(rg, B*s.D), testutil.RandVec(rg, B)
	y, ld := make([]float64, B*s.D), make([]float64, B)
	acts := NewMADEActs[float64](s, B)
	var w MADEParams[float64]
	loss := func() float64 {
		w = effective(m, flat)
		MADEForward(y, ld, acts, x, ctx, w, m, B)
		return dot(wy, y) + dot(wl, ld)
	}
	loss()
	// Backward adds: start the gradients from random values and subtract them afterwards.
	g0 := testutil.RandVec(rg, s.NumParams())
	dx0, dctx0 := testutil.RandVec(rg, B*s.D), testutil.RandVec(rg, B*s.C)
	gflat := append([]float64(nil), g0...)
	dx, dctx := append([]float64(nil), dx0...), append([]float64(nil), dctx0...)
	g := NewMADEParams(s, gflat)
	scratch := make([]float64, MADEBackwardScratchLen(s, B))
	MADEBackward(dx, dctx, g, wy, wl, scratch, acts, y, x, ctx, w, m, B)
	sub := func(a, b []float64) {
		for i := range a {
			a[i] -= b[i]
		}
	}
	sub(gflat, g0)
	sub(dx, dx0)
	sub(dctx, dctx0)

	checkGrad(t, "W0", loss, p.W0, g.W0, flowGradAtol, flowGradRtol)
	checkGrad(t, "Wc", loss, p.Wc, g.Wc, flowGradAtol, flowGradRtol)
	checkGrad(t, "B0", loss, p.B0, g.B0, flowGradAtol, flowGradRtol)
	for l := range p.Wh {
		checkGrad(t, "Wh", loss, p.Wh[l], g.Wh[l], flowGradAtol, flowGradRtol)
		checkGrad(t, "Bh", loss, p.Bh[l], g.Bh[l], flowGradAtol, flowGradRtol)
	}
	checkGrad(t, "Wo", loss, p.Wo, g.Wo, flowGradAtol, flowGradRtol)
	checkGrad(t, "Bo", loss, p.Bo, g.Bo, flowGradAtol, flowGradRtol)
	checkGrad(t, "x", loss, x, dx, flowGradAtol, flowGradRtol)
	checkGrad(t, "ctx", loss, ctx, dctx, flowGradAtol, flowGradRtol)
	// Masked weights get exactly zero gradient.
	for i, v := range g.W0 {
		if m.M0[i] == 0 && v != 0 {
			t.Fatalf("masked dW0[%d] = %v, want 0", i, v)
		}
	}
}

// The autoregressive property: μ_i and α_i do not depend on x_j unless j comes before i in
// the block's ordering (∂μ_i/∂x_j = 0 for InDeg[j] ≥ InDeg[i]), and every output depends on
// the context, the first dimension of the ordering included.
func TestMADEAutoregressive(t *testing.T) {
	rg := rand.New(rand.NewSource(2))
	s := MADEShape{D: 7, C: 3, H: 28, L: 2}
	const B = 8
	order := []int{3, 6, 0, 5, 1, 4, 2}
	m, flat, _ := newTestMADE(rg, s, order)
	w := effective(m, flat)
	x, ctx := testutil.RandVec(rg, B*s.D), testutil.RandVec(rg, B*s.C)
	y, ld := make([]float64, B*s.D), make([]float64, B)
	acts := NewMADEActs[float64](s, B)
	MADEForward(y, ld, acts, x, ctx, w, m, B)
	base := append([]float64(nil), acts.O...)
	// changed reports, per output dimension, whether μ or α changed in any row.
	changed := func() []bool {
		MADEForward(y, ld, acts, x, ctx, w, m, B)
		c := make([]bool, s.D)
		for r := range B {
			for i := range s.D {
				for k := range 2 {
					if acts.O[(r*s.D+i)*2+k] != base[(r*s.D+i)*2+k] {
						c[i] = true
					}
				}
			}
		}
		return c
	}
	for j := range s.D {
		x0 := append([]float64(nil), x...)
		for r := range B {
			x[r*s.D+j] += 1.3
		}
		c := changed()
		copy(x, x0)
		for i := range s.D {
			if want := m.InDeg[j] < m.InDeg[i]; c[i] != want {
				t.Errorf("perturbing x_%d (degree %d): output %d (degree %d) changed = %v, want %v",
					j, m.InDeg[j], i, m.InDeg[i], c[i], want)
			}
		}
	}
	for k := range ctx {
		ctx[k] += 0.7
	}
	for i, ci := range changed() {
		if !ci {
			t.Errorf("perturbing the context left output %d (degree %d) unchanged", i, m.InDeg[i])
		}
	}
}

// MADEInverse inverts MADEForward (to rounding) and agrees with MADEInverseNaive.
func TestMADEInverse(t *testing.T) {
	rg := rand.New(rand.NewSource(3))
	s := MADEShape{D: 7, C: 5, H: 23, L: 3}
	const n = 9
	m, flat, _ := newTestMADE(rg, s, []int{4, 1, 6, 0, 2, 5, 3})
	w := effective(m, flat)
	y, ctx := testutil.RandVec(rg, n*s.D), testutil.RandVec(rg, n*s.C)
	cterm := make([]float64, n*s.H)
	MADEContext(cterm, ctx, w, m, n)
	acts := NewMADEActs[float64](s, n)
	x, xn := make([]float64, n*s.D), make([]float64, n*s.D)
	MADEInverse(x, acts, y, cterm, w, m, n)
	MADEInverseNaive(xn, acts, y, cterm, w, m, n)
	y2, ld := make([]float64, n*s.D), make([]float64, n)
	MADEForward(y2, ld, acts, x, ctx, w, m, n)
	worstRT, worstNaive := 0.0, 0.0
	for i := range y {
		// Round trip: a few dozen roundings of O(1) values, so 1e-10 absolute.
		worstRT = math.Max(worstRT, math.Abs(y2[i]-y[i]))
		// Naive vs incremental: the same sums up to the order of exact zero terms.
		worstNaive = math.Max(worstNaive, math.Abs(x[i]-xn[i])/(1+math.Abs(xn[i])))
	}
	t.Logf("round trip max |Δy| = %.3g, incremental vs naive max rel |Δx| = %.3g", worstRT, worstNaive)
	if worstRT > 1e-10 {
		t.Errorf("round trip max |Δy| = %g > 1e-10", worstRT)
	}
	if worstNaive > 1e-12 {
		t.Errorf("incremental vs naive max rel |Δx| = %g > 1e-12", worstNaive)
	}
}

package nn

import (
	"math"
	"testing"
)

// TestAdamSteps checks two AdamW steps against values worked out from Algorithm 1 of
// Kingma & Ba with decoupled decay. Step 1 by hand: the bias-corrected moments are g and g²,
// so p₁ = p₀ − lr·(g/(|g|+ε) + λ·p₀), e.g. 1 − 0.1·(0.5/(0.5+1e-8) + 0.01) = 0.899000002.
// Step 2 from an independent float64 evaluation of the same formulas (Python).
func TestAdamSteps(t *testing.T) {
	a := NewAdam[float64](2)
	a.WeightDecay = 0.01
	p := []float64{1, -2}
	const lr = 0.1
	a.Update(p, []float64{0.5, -0.1}, lr)
	want := []float64{1 - 0.1*(0.5/(0.5+1e-8)+0.01), -2 - 0.1*(-0.1/(0.1+1e-8)+0.01*-2)}
	checkClose(t, "step 1 params", p, want, 1e-15)
	checkClose(t, "step 1 M", a.M, []float64{0.05, -0.01}, 1e-15)
	checkClose(t, "step 1 V", a.V, []float64{0.00025, 1e-5}, 1e-15)
	a.Update(p, []float64{-0.5, 0.3}, lr)
	checkClose(t, "step 2 params", p, []float64{0.9033641597874735, -1.9455209911100655}, 1e-15)
	checkClose(t, "step 2 M", a.M, []float64{-0.005, 0.021}, 1e-15)
	checkClose(t, "step 2 V", a.V, []float64{0.00049975, 9.999e-05}, 1e-15)
	if a.Step != 2 {
		t.Errorf("Step = %d, want 2", a.Step)
	}
}

// checkClose fails unless |got−want| ≤ tol·max(1,|want|) elementwise.
func checkClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > tol*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %.17g, want %.17g (diff %.3g)", what, i, got[i], want[i], d)
		}
	}
}

// TestAdamQuadratic minimises f(p) = Σ cᵢ(pᵢ−tᵢ)², badly conditioned (c spans 1e4), in
// float32 with the cosine schedule; Adam's per-coordinate scaling must reach every tᵢ.
func TestAdamQuadratic(t *testing.T) {
	c := []float64{1e-2, 1, 100}
	target := []float64{3, -1, 0.5}
	p := make([]float32, 3)
	g := make([]float32, 3)
	a := NewAdam[float32](3)
	a.LR = 0.1
	const steps = 1500
	for s := 0; s < steps; s++ {
		for i := range p {
			g[i] = float32(2 * c[i] * (float64(p[i]) - target[i]))
		}
		a.Update(p, g, CosineLR(s, steps, a.LR, 1e-5, 50))
	}
	for i := range p {
		// 1e-3: the last steps move by ≲ lr ≈ 1e-5, far below; float32 rounding is 1e-7.
		if d := math.Abs(float64(p[i]) - target[i]); d > 1e-3 {
			t.Errorf("p[%d] = %v, want %v (off by %.3g)", i, p[i], target[i], d)
		}
	}
}

func TestAdamPanicsOnLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for mismatched lengths")
		}
	}()
	NewAdam[float32](3).Update(make([]float32, 3), make([]float32, 2), 1e-3)
}

func TestClipGradNorm(t *testing.T) {
	g := []float64{3, 4}
	if n := ClipGradNorm(g, 1); n != 5 {
		t.Errorf("returned norm %v, want 5", n)
	}
	// 3/5 and 4/5 scaled by 1/5 in float64: exact to the last bit or one ulp.
	checkClose(t, "clipped", g, []float64{0.6, 0.8}, 2e-16)
	if n := GradNorm(g); math.Abs(n-1) > 2e-16 {
		t.Errorf("norm after clipping %.17g, want 1", n)
	}
	// Within the bound, clipping off, or a non-finite norm: untouched.
	for _, tc := range []struct {
		g   []float64
		max float64
	}{{[]float64{3, 4}, 5}, {[]float64{3, 4}, 0}, {[]float64{math.NaN(), 1}, 1}, {[]float64{math.Inf(1), 1}, 1}} {
		before := append([]float64(nil), tc.g...)
		ClipGradNorm(tc.g, tc.max)
		if tc.g[1] != before[1] {
			t.Errorf("ClipGradNorm(%v, %v) changed the gradients to %v", before, tc.max, tc.g)
		}
	}
	// float32 gradients whose squares overflow float32: the float64 sum does not.
	g32 := []float32{3e20, 4e20}
	if n := ClipGradNorm(g32, 1); math.Abs(n-5e20)/5e20 > 1e-7 {
		t.Errorf("float32 norm %v, want 5e20", n)
	}
	if n := GradNorm(g32); math.Abs(n-1) > 1e-7 {
		t.Errorf("float32 norm after clipping %v, want 1", n)
	}
}

package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// Gradient-check tolerances for the float64 checks of linear.go, conv1d.go, relu.go,
// maxpool.go, batchnorm.go and resblock.go: checkGrad's central differences (h = 1e-6) are
// good to ~1e-9 absolute on these O(1)–O(10) losses (rounding ε·|L|/h ≈ 1e-9, truncation
// h²·|third derivative| ≈ 1e-12), so 1e-7 absolute plus 1e-6 relative leaves two orders of
// margin while still catching any wrong term (an error of one term is O(1e-2) or more).
const (
	layerGradAtol = 1e-7
	layerGradRtol = 1e-6
)

// linearGradBuf returns a gradient buffer of n values pre-filled with 0.5, so that the
// checks also verify that backward passes add into their gradients (linearUnfill removes
// the 0.5 before the comparison).
func linearGradBuf(n int) []float64 {
	g := make([]float64, n)
	for i := range g {
		g[i] = 0.5
	}
	return g
}

// linearUnfill subtracts the 0.5 that linearGradBuf put into each of gs.
func linearUnfill(gs ...[]float64) {
	for _, g := range gs {
		for i := range g {
			g[i] -= 0.5
		}
	}
}

// linearTo32 converts a float64 slice to float32 (nil stays nil).
func linearTo32(x []float64) []float32 {
	if x == nil {
		return nil
	}
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// linearCheckParity checks a float32 forward result against the float64 one computed from
// the same (float32-representable) inputs: |a − b| ≤ 1e-5 + 1e-5·|b|. The float32 results
// carry rounding of a few ulps (6e-8 each) per accumulated term, relative to the terms'
// magnitudes; at these sizes (≤ 50 terms of O(1), normalisations by O(1) statistics) that
// is ~1e-6, so 1e-5 holds with margin and still catches any real difference.
func linearCheckParity(t *testing.T, name string, a []float32, b []float64) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: float32 length %d, float64 length %d", name, len(a), len(b))
	}
	worst := 0.0
	for i := range b {
		d := math.Abs(float64(a[i]) - b[i])
		worst = math.Max(worst, d)
		if d > 1e-5+1e-5*math.Abs(b[i]) {
			t.Fatalf("%s[%d]: float32 %.8g, float64 %.12g (|diff| %.3g)", name, i, a[i], b[i], d)
		}
	}
	t.Logf("%s: float32 vs float64 max |diff| = %.3g over %d values", name, worst, len(b))
}

// linearRound32 rounds each value of x to float32 in place, so that the float32 and the
// float64 passes of a parity test start from identical inputs.
func linearRound32(xs ...[]float64) {
	for _, x := range xs {
		for i := range x {
			x[i] = float64(float32(x[i]))
		}
	}
}

func TestLinearForwardValues(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	B, C, OC := 3, 4, 5
	inp, w, b := testutil.RandVec(rng, B*C), testutil.RandVec(rng, OC*C), testutil.RandVec(rng, OC)
	out := make([]float64, B*OC)
	LinearForward(out, inp, w, b, B, C, OC)
	for i := 0; i < B; i++ {
		for o := 0; o < OC; o++ {
			want := b[o]
			for c := 0; c < C; c++ {
				want += inp[i*C+c] * w[o*C+c]
			}
			if math.Abs(out[i*OC+o]-want) > 1e-12 {
				t.Fatalf("out[%d,%d] = %v, want %v", i, o, out[i*OC+o], want)
			}
		}
	}
	nob := make([]float64, B*OC)
	LinearForward(nob, inp, w, nil, B, C, OC)
	for i := range nob {
		if d := out[i] - b[i%OC] - nob[i]; math.Abs(d) > 1e-12 {
			t.Fatalf("without bias: out[%d] = %v, want %v", i, nob[i], out[i]-b[i%OC])
		}
	}
}

func TestLinearGrad(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	B, C, OC := 2, 3, 5
	inp, w, b := testutil.RandVec(rng, B*C), testutil.RandVec(rng, OC*C), testutil.RandVec(rng, OC)
	wout := testutil.RandVec(rng, B*OC)
	out := make([]float64, B*OC)
	loss := func() float64 {
		LinearForward(out, inp, w, b, B, C, OC)
		return dot(wout, out)
	}
	loss()
	dinp, dw, db := linearGradBuf(B*C), linearGradBuf(OC*C), linearGradBuf(OC)
	LinearBackward(dinp, dw, db, wout, inp, w, B, C, OC)
	linearUnfill(dinp, dw, db)
	checkGrad(t, "inp", loss, inp, dinp, layerGradAtol, layerGradRtol)
	checkGrad(t, "w", loss, w, dw, layerGradAtol, layerGradRtol)
	checkGrad(t, "b", loss, b, db, layerGradAtol, layerGradRtol)

	// nil gradients are skipped.
	LinearBackward(nil, nil, db, wout, inp, w, B, C, OC)
}

func TestLinearParity(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	B, C, OC := 3, 17, 9
	inp, w, b := testutil.RandVec(rng, B*C), testutil.RandVec(rng, OC*C), testutil.RandVec(rng, OC)
	linearRound32(inp, w, b)
	out := make([]float64, B*OC)
	out32 := make([]float32, B*OC)
	LinearForward(out, inp, w, b, B, C, OC)
	LinearForward(out32, linearTo32(inp), linearTo32(w), linearTo32(b), B, C, OC)
	linearCheckParity(t, "LinearForward", out32, out)
}

func TestLinearPanicsOnBadLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("LinearForward with a short w did not panic")
		}
	}()
	LinearForward(make([]float64, 6), make([]float64, 4), make([]float64, 5), nil, 2, 2, 3)
}

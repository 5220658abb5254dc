package nn

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

func TestReLUValues(t *testing.T) {
	inp := []float64{-2, -1e-300, 0, 0.5, 3}
	out := make([]float64, len(inp))
	ReLUForward(out, inp)
	if want := []float64{0, 0, 0, 0.5, 3}; !slices.Equal(out, want) {
		t.Fatalf("ReLUForward = %v, want %v", out, want)
	}
	dinp := []float64{10, 10, 10, 10, 10}
	ReLUBackward(dinp, []float64{1, 2, 3, 4, 5}, out)
	if want := []float64{10, 10, 10, 14, 15}; !slices.Equal(dinp, want) {
		t.Fatalf("ReLUBackward added %v, want %v", dinp, want)
	}
	// In place, forward and backward.
	x := slices.Clone(inp)
	ReLUForward(x, x)
	if !slices.Equal(x, out) {
		t.Fatalf("in-place ReLUForward = %v, want %v", x, out)
	}
	d := []float64{1, 2, 3, 4, 5}
	ReLUBackward(d, d, x)
	if want := []float64{0, 0, 0, 4, 5}; !slices.Equal(d, want) {
		t.Fatalf("in-place ReLUBackward = %v, want %v", d, want)
	}
}

func TestReLUGrad(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	n := 2 * 3 * 7
	inp, wout := testutil.RandVec(rng, n), testutil.RandVec(rng, n)
	out := make([]float64, n)
	loss := func() float64 {
		ReLUForward(out, inp)
		return dot(wout, out)
	}
	loss()
	dinp := linearGradBuf(n)
	ReLUBackward(dinp, wout, out)
	linearUnfill(dinp)
	checkGrad(t, "inp", loss, inp, dinp, layerGradAtol, layerGradRtol)
}

func TestReLUParity(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	inp := testutil.RandVec(rng, 41)
	linearRound32(inp)
	out, out32 := make([]float64, len(inp)), make([]float32, len(inp))
	ReLUForward(out, inp)
	ReLUForward(out32, linearTo32(inp))
	linearCheckParity(t, "ReLUForward", out32, out)
}

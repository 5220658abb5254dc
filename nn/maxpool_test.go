package nn

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

func TestMaxPool1dValues(t *testing.T) {
	// (B, C, L) = (1, 2, 5): odd L drops the last element of each row; ties go to the first.
	inp := []float64{1, 3, 2, 2, 5, -1, -4, 0, 7, 9}
	out := make([]float64, 4)
	idx := make([]int32, 4)
	MaxPool1dForward(out, idx, inp, 1, 2, 5)
	if want := []float64{3, 2, -1, 7}; !slices.Equal(out, want) {
		t.Fatalf("out = %v, want %v", out, want)
	}
	if want := []int32{1, 2, 0, 3}; !slices.Equal(idx, want) {
		t.Fatalf("idx = %v, want %v", idx, want)
	}
	dinp := make([]float64, 10)
	MaxPool1dBackward(dinp, []float64{1, 2, 3, 4}, idx, 1, 2, 5)
	if want := []float64{0, 1, 2, 0, 0, 3, 0, 0, 4, 0}; !slices.Equal(dinp, want) {
		t.Fatalf("dinp = %v, want %v", dinp, want)
	}
}

func TestMaxPool1dGrad(t *testing.T) {
	for _, L := range []int{7, 8} {
		rng := rand.New(rand.NewSource(int64(6 + L)))
		B, C := 2, 3
		inp := testutil.RandVec(rng, B*C*L)
		wout := testutil.RandVec(rng, B*C*(L/2))
		out := make([]float64, B*C*(L/2))
		idx := make([]int32, len(out))
		loss := func() float64 {
			MaxPool1dForward(out, idx, inp, B, C, L)
			return dot(wout, out)
		}
		loss()
		dinp := linearGradBuf(len(inp))
		MaxPool1dBackward(dinp, wout, idx, B, C, L)
		linearUnfill(dinp)
		checkGrad(t, "inp", loss, inp, dinp, layerGradAtol, layerGradRtol)
	}
}

func TestMaxPool1dParity(t *testing.T) {
	rng := rand.New(rand.NewSource(8))
	B, C, L := 2, 3, 9
	inp := testutil.RandVec(rng, B*C*L)
	linearRound32(inp)
	out, out32 := make([]float64, B*C*(L/2)), make([]float32, B*C*(L/2))
	idx, idx32 := make([]int32, len(out)), make([]int32, len(out))
	MaxPool1dForward(out, idx, inp, B, C, L)
	MaxPool1dForward(out32, idx32, linearTo32(inp), B, C, L)
	linearCheckParity(t, "MaxPool1dForward", out32, out)
	if !slices.Equal(idx, idx32) {
		t.Fatalf("indices differ: float64 %v, float32 %v", idx, idx32)
	}
}

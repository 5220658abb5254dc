//go:build cuda || cudaemu

package cuda

import (
	"math"
	"testing"
)

// Helpers shared by the parity tests of package cuda.

// guardBits marks the guard elements around an output view: a NaN no kernel produces.
const guardBits = 0x7fc0dead

// guardBuf is a device buffer of n elements between two guards of g sentinel elements: View
// is what a kernel gets, Check reports a guard that changed.
type guardBuf struct {
	all  *Buffer[float32]
	g, n int
}

func newGuardBuf(t *testing.T, init []float32) *guardBuf {
	const g = 7
	h := make([]float32, len(init)+2*g)
	for i := range h {
		h[i] = math.Float32frombits(guardBits)
	}
	copy(h[g:], init)
	return &guardBuf{all: MustFromHost(h), g: g, n: len(init)}
}

func (b *guardBuf) View() *Buffer[float32] { return b.all.Slice(b.g, b.g+b.n) }

// Host returns the view's contents and fails t if a guard element changed.
func (b *guardBuf) Host(t *testing.T, name string) []float32 {
	t.Helper()
	h, err := b.all.Host()
	must(err)
	for i := range h {
		if (i < b.g || i >= b.g+b.n) && math.Float32bits(h[i]) != guardBits {
			t.Errorf("%s: guard element %d of %d overwritten (%v)", name, i-b.g, b.n, h[i])
		}
	}
	return h[b.g : b.g+b.n]
}

// cmpVec fails t at the first i with |got−want| > atol + rtol·|want| and returns the
// largest |got−want|.
func cmpVec[W float32 | float64](t *testing.T, name string, got []float32, want []W, atol, rtol float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	worst, failed := 0.0, false
	for i := range want {
		w := float64(want[i])
		d := math.Abs(float64(got[i]) - w)
		if !(d <= worst) { // NaN propagates into worst
			worst = d
		}
		if !failed && !(d <= atol+rtol*math.Abs(w)) {
			t.Errorf("%s[%d] = %v, want %v (|diff| %.3g > %.3g)", name, i, got[i], w, d, atol+rtol*math.Abs(w))
			failed = true
		}
	}
	return worst
}

func to32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

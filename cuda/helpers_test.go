//go:build cuda || cudaemu

package cuda

import (
	"math"
	"testing"
)

// Helpers shared by the parity tests of package cuda.

// guard is the number of sentinel elements on each side of a guarded output buffer.
const guard = 7

// guardBits are the bits of a guard element: a quiet NaN with a payload no kernel produces.
const guardBits = 0x7fc0dead

// sentinel is the value of a guard element.
var sentinel = math.Float32frombits(guardBits)

// guarded returns a device buffer of n+2·guard elements whose guards hold the sentinel and
// whose middle holds init (or zeros when init is nil), and the view of the middle.
func guarded(t *testing.T, n int, init []float32) (whole, mid *F32) {
	t.Helper()
	h := make([]float32, n+2*guard)
	for i := range guard {
		h[i], h[n+guard+i] = sentinel, sentinel
	}
	copy(h[guard:], init)
	whole = MustFromHost(h)
	return whole, whole.Slice(guard, guard+n)
}

// guardedNaN is guarded with the middle full of NaN too: for outputs that must be written
// without being read.
func guardedNaN(t *testing.T, n int) (whole, mid *F32) {
	t.Helper()
	init := make([]float32, n)
	for i := range init {
		init[i] = float32(math.NaN())
	}
	return guarded(t, n, init)
}

// readGuarded downloads the middle of a guarded buffer, fails the test when a guard was
// touched, and frees the buffer.
func readGuarded(t *testing.T, name string, whole *F32) []float32 {
	t.Helper()
	h := peekGuarded(t, name, whole)
	whole.Free()
	return h
}

// peekGuarded is readGuarded without freeing the buffer.
func peekGuarded(t *testing.T, name string, whole *F32) []float32 {
	t.Helper()
	h, err := whole.Host()
	must(err)
	n := len(h) - 2*guard
	for i := range guard {
		for _, j := range []int{i, n + guard + i} {
			if math.Float32bits(h[j]) != guardBits {
				t.Errorf("%s: guard element %d of %d overwritten (%v)", name, j, len(h), h[j])
			}
		}
	}
	return h[guard : guard+n]
}

// guardBuf is guarded as one value: View is what a kernel gets, Host reads the middle back
// and fails t if a guard changed; all is the whole buffer (Free it).
type guardBuf struct {
	all, mid *Buffer[float32]
}

// newGuardBuf returns a guarded copy of init, freed when t ends.
func newGuardBuf(t *testing.T, init []float32) *guardBuf {
	t.Helper()
	all, mid := guarded(t, len(init), init)
	t.Cleanup(all.Free)
	return &guardBuf{all: all, mid: mid}
}

// onDevice returns a device copy of h, freed when t ends.
func onDevice[T Elem](t *testing.T, h []T) *Buffer[T] {
	t.Helper()
	b := MustFromHost(h)
	t.Cleanup(b.Free)
	return b
}

func (b *guardBuf) View() *Buffer[float32] { return b.mid }

// Host returns the view's contents and fails t if a guard element changed.
func (b *guardBuf) Host(t *testing.T, name string) []float32 {
	t.Helper()
	return peekGuarded(t, name, b.all)
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

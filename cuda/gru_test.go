//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

func normals(rnd *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	return x
}

// Tolerances of the GPU-vs-CPU comparisons, both float32. The two differ only in the order
// of the sums (tiles here, BLAS blocking there), each sum rounding at ~6e-8 relative. The
// forward sums have length ≤ max(C, H) ≤ 64 of O(1) terms (weights ×3 PyTorch's, unit
// inputs), carried through T steps of contracting gates: measured ≤ 7e-7, the same size as
// the float32 CPU op's own distance from float64 (logged), so atol 2e-5 + rtol 2e-5 (as nn's
// float32-vs-float64 forward bound, 1e-5, doubled for two float32 results) is ~30× the
// measured worst. The gradients add sums over 3H and over B·T ≤ 51 rows of O(1–10) terms
// onto O(1) pre-filled values: measured ≤ 3e-6; atol 1e-4 + rtol 1e-4 is nn's
// float32-vs-float64 gradient bound, ~30× the measured.
const (
	gruFwdAtol, gruFwdRtol = 2e-5, 2e-5
	gruBwdAtol, gruBwdRtol = 1e-4, 1e-4
)

// TestGRUParity runs the device GRU and nn's float32 GRU on the same inputs and compares
// the output, every saved activation, dinp and every parameter gradient, with the
// gradients ADDED into pre-filled, guard-padded buffers.
func TestGRUParity(t *testing.T) {
	for i, s := range []nn.GRUShape{
		{B: 3, T: 5, C: 7, H: 9, Layers: 2},   // odd everything
		{B: 1, T: 1, C: 4, H: 5, Layers: 1},   // batch 1, one step
		{B: 17, T: 3, C: 5, H: 40, Layers: 1}, // H and B over one 16-tile, not multiples of 32
		{B: 2, T: 4, C: 33, H: 64, Layers: 2}, // H = 64; C over one 32-wide GEMM tile
	} {
		t.Run(fmt.Sprintf("B%dT%dC%dH%dL%d", s.B, s.T, s.C, s.H, s.Layers), func(t *testing.T) {
			testGRUParity(t, s, int64(10+i), i == 0)
		})
	}
}

func testGRUParity(t *testing.T, s nn.GRUShape, seed int64, extra bool) {
	// Parameters from PyTorch's initialisation scaled ×3 so the gates leave their linear
	// range (as nn's tests), standard normal inputs and output gradient.
	p64 := nn.NewGRUParams(s, make([]float64, s.NumParams()))
	p64.Init(rng.New(uint64(seed), 0))
	for i := range p64.Flat {
		p64.Flat[i] *= 3
	}
	rnd := rand.New(rand.NewSource(seed))
	inp64 := normals(rnd, s.B*s.T*s.C)
	dout64 := normals(rnd, s.B*s.H)
	pre := to32(normals(rnd, s.NumParams())) // gradients start here: Backward adds
	preIn := to32(normals(rnd, s.B*s.T*s.C)) // and dinp here

	p32 := nn.NewGRUParams(s, to32(p64.Flat))
	inp32, dout32 := to32(inp64), to32(dout64)

	// CPU float32 (the reference) and float64 (for scale).
	acts32, acts64 := nn.NewGRUActs[float32](s), nn.NewGRUActs[float64](s)
	out32, out64 := make([]float32, s.B*s.H), make([]float64, s.B*s.H)
	nn.GRUForward(out32, acts32, p32, inp32)
	nn.GRUForward(out64, acts64, p64, inp64)
	g32 := nn.NewGRUParams(s, append([]float32(nil), pre...))
	dinp32 := append([]float32(nil), preIn...)
	nn.GRUBackward(dinp32, g32, dout32, acts32, p32, inp32)

	// Device.
	g, err := NewGRU(s)
	must(err)
	defer g.Free()
	params, inp, dout := MustFromHost(p32.Flat), MustFromHost(inp32), MustFromHost(dout32)
	defer params.Free()
	defer inp.Free()
	defer dout.Free()
	out := newGuardBuf(t, make([]float32, s.B*s.H))
	defer out.all.Free()
	must(g.Forward(out.View(), params, inp))
	gotOut := out.Host(t, "out")
	w := cmpVec(t, "out", gotOut, out32, gruFwdAtol, gruFwdRtol)
	t.Logf("forward: out max |GPU−CPU32| %.3g, |CPU32−CPU64| %.3g, |GPU−CPU64| %.3g", w,
		maxDiff(out32, out64), maxDiff(gotOut, out64))
	worstActs := 0.0
	for l := range s.Layers {
		gates, hn, h := g.LayerActs(l)
		ref := acts32.Layers[l]
		for _, c := range []struct {
			name string
			b    *Buffer[float32]
			want []float32
		}{{"Gates", gates, ref.Gates}, {"HN", hn, ref.HN}, {"H", h, ref.H}} {
			got, err := c.b.Host()
			must(err)
			worstActs = math.Max(worstActs, cmpVec(t, fmt.Sprintf("layer %d %s", l, c.name), got, c.want, gruFwdAtol, gruFwdRtol))
		}
	}
	t.Logf("forward: saved activations max |GPU−CPU32| %.3g", worstActs)

	grads := newGuardBuf(t, pre)
	defer grads.all.Free()
	dinp := newGuardBuf(t, preIn)
	defer dinp.all.Free()
	must(g.Backward(dinp.View(), grads.View(), dout, params, inp))
	gotG, gotIn := grads.Host(t, "grads"), dinp.Host(t, "dinp")
	wIn := cmpVec(t, "dinp", gotIn, dinp32, gruBwdAtol, gruBwdRtol)
	// Per parameter tensor, for messages that name it.
	gv := nn.NewGRUParams(s, gotG)
	wG := 0.0
	for l := range s.Layers {
		a, b := gv.Layers[l], g32.Layers[l]
		for _, c := range []struct {
			name      string
			got, want []float32
		}{{"dW_ih", a.Wih, b.Wih}, {"dW_hh", a.Whh, b.Whh}, {"db_ih", a.Bih, b.Bih}, {"db_hh", a.Bhh, b.Bhh}} {
			wG = math.Max(wG, cmpVec(t, fmt.Sprintf("layer %d %s", l, c.name), c.got, c.want, gruBwdAtol, gruBwdRtol))
		}
	}
	t.Logf("backward: max |GPU−CPU32| dinp %.3g, parameter gradients %.3g", wIn, wG)

	if !extra {
		return
	}
	// Reproducible: the same backward into the same starting values gives the same bits.
	grads2 := newGuardBuf(t, pre)
	defer grads2.all.Free()
	dinp2 := newGuardBuf(t, preIn)
	defer dinp2.all.Free()
	must(g.Backward(dinp2.View(), grads2.View(), dout, params, inp))
	sameBits(t, "grads (second run)", grads2.Host(t, "grads2"), gotG)
	sameBits(t, "dinp (second run)", dinp2.Host(t, "dinp2"), gotIn)
	// A nil dinp leaves the parameter gradients the same.
	grads3 := newGuardBuf(t, pre)
	defer grads3.all.Free()
	must(g.Backward(nil, grads3.View(), dout, params, inp))
	sameBits(t, "grads (dinp = nil)", grads3.Host(t, "grads3"), gotG)
}

func maxDiff[W float32 | float64](a []float32, b []W) float64 {
	m := 0.0
	for i := range b {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func sameBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("%s[%d] = %v, first run %v", name, i, got[i], want[i])
			return
		}
	}
}

// benchGRU returns the paper preset's GRU at batch 64 on the device with random parameters
// and input, skipping under emulation.
func benchGRU(b *testing.B) (*GRU, *Buffer[float32], *Buffer[float32], *Buffer[float32]) {
	if Emulated() {
		b.Skip("emulation: timings mean nothing")
	}
	cfg, err := event.Preset("paper")
	if err != nil {
		b.Fatal(err)
	}
	fs := cfg.Featurizer
	fs.B = 64
	s := fs.GRU() // T 14, C 256, H 256, 2 layers
	p := nn.NewGRUParams(s, make([]float32, s.NumParams()))
	p.Init(rng.New(1, 0))
	rnd := rand.New(rand.NewSource(1))
	g, err := NewGRU(s)
	must(err)
	b.Cleanup(g.Free)
	params, inp := MustFromHost(p.Flat), MustFromHost(to32(normals(rnd, s.B*s.T*s.C)))
	out := MustAlloc[float32](s.B * s.H)
	b.Cleanup(func() { params.Free(); inp.Free(); out.Free() })
	b.Logf("%+v", s)
	return g, params, inp, out
}

// BenchmarkGRUForward times the forward pass of the paper preset's GRU at batch 64.
func BenchmarkGRUForward(b *testing.B) {
	g, params, inp, out := benchGRU(b)
	must(g.Forward(out, params, inp))
	must(Synchronize())
	for b.Loop() {
		must(g.Forward(out, params, inp))
	}
	must(Synchronize())
}

// BenchmarkGRUBackward times the backward pass (input and parameter gradients) of the same
// GRU.
func BenchmarkGRUBackward(b *testing.B) {
	g, params, inp, out := benchGRU(b)
	s := g.Shape
	grads, dinp := MustAlloc[float32](s.NumParams()), MustAlloc[float32](s.B*s.T*s.C)
	b.Cleanup(func() { grads.Free(); dinp.Free() })
	must(grads.Zero())
	must(dinp.Zero())
	must(g.Forward(out, params, inp))
	for b.Loop() {
		must(g.Backward(dinp, grads, out, params, inp))
	}
	must(Synchronize())
}

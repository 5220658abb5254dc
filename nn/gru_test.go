package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/internal/testutil"
)

// newTestGRU returns float64 parameters, drawn from PyTorch's initialisation scaled up ×3 so
// that the gates leave their linear range, and a standard normal input for shape s.
func newTestGRU(s GRUShape, seed int64) (*GRUParams[float64], []float64) {
	p := NewGRUParams(s, make([]float64, s.NumParams()))
	p.Init(rng.New(uint64(seed), 0))
	for i := range p.Flat {
		p.Flat[i] *= 3
	}
	rnd := rand.New(rand.NewSource(seed))
	return p, testutil.RandVec(rnd, s.B*s.T*s.C)
}

// refGRU is an independent plain-loop GRU (PyTorch's equations written out per element, one
// dot product at a time) returning the top layer's h_T (B, H).
func refGRU(s GRUShape, p *GRUParams[float64], inp []float64) []float64 {
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	H := s.H
	x, C := inp, s.C // (B, T, C)
	for l := 0; l < s.Layers; l++ {
		w := p.Layers[l]
		y := make([]float64, s.B*s.T*H) // (B, T, H)
		for b := 0; b < s.B; b++ {
			h := make([]float64, H)
			for t := 0; t < s.T; t++ {
				xt := x[(b*s.T+t)*C : (b*s.T+t+1)*C]
				// gi[k] = W_ih[k]·x + b_ih[k], gh[k] = W_hh[k]·h + b_hh[k], k < 3H.
				gi, gh := make([]float64, 3*H), make([]float64, 3*H)
				for k := 0; k < 3*H; k++ {
					gi[k], gh[k] = w.Bih[k], w.Bhh[k]
					for c := 0; c < C; c++ {
						gi[k] += w.Wih[k*C+c] * xt[c]
					}
					for c := 0; c < H; c++ {
						gh[k] += w.Whh[k*H+c] * h[c]
					}
				}
				hNew := make([]float64, H)
				for j := 0; j < H; j++ {
					r := sig(gi[j] + gh[j])
					z := sig(gi[H+j] + gh[H+j])
					n := math.Tanh(gi[2*H+j] + r*gh[2*H+j])
					hNew[j] = (1-z)*n + z*h[j]
				}
				h = hNew
				copy(y[(b*s.T+t)*H:], h)
			}
		}
		x, C = y, H
	}
	out := make([]float64, s.B*H)
	for b := 0; b < s.B; b++ {
		copy(out[b*H:], x[(b*s.T+s.T-1)*H:(b*s.T+s.T)*H])
	}
	return out
}

// TestGRUSingleStep checks one step of a one-unit GRU against the equations evaluated by
// hand: with h_0 = 0 the hidden projections reduce to the biases.
func TestGRUSingleStep(t *testing.T) {
	s := GRUShape{B: 1, T: 1, C: 1, H: 1, Layers: 1}
	p := NewGRUParams(s, make([]float64, s.NumParams()))
	w := p.Layers[0]
	copy(w.Wih, []float64{0.5, -0.3, 0.8}) // W_ir, W_iz, W_in
	copy(w.Whh, []float64{0.7, 0.2, -0.6}) // unused at h_0 = 0
	copy(w.Bih, []float64{0.1, 0.2, -0.1})
	copy(w.Bhh, []float64{-0.2, 0.3, 0.4})
	x := 1.5
	r := 1 / (1 + math.Exp(-(0.5*x + 0.1 - 0.2)))
	z := 1 / (1 + math.Exp(-(-0.3*x + 0.2 + 0.3)))
	n := math.Tanh(0.8*x - 0.1 + r*0.4)
	want := (1 - z) * n
	out := make([]float64, 1)
	GRUForward(out, NewGRUActs[float64](s), p, []float64{x})
	// Same operations in another order: rounding only.
	if d := math.Abs(out[0] - want); d > 1e-15 {
		t.Errorf("h_1 = %.17g, want %.17g (|diff| %.3g)", out[0], want, d)
	}
}

// TestGRUReference compares a two-layer GRU with the plain-loop refGRU over a sequence.
func TestGRUReference(t *testing.T) {
	for _, s := range []GRUShape{
		{B: 2, T: 5, C: 3, H: 4, Layers: 2},
		{B: 3, T: 1, C: 2, H: 5, Layers: 3},
		{B: 1, T: 4, C: 1, H: 3, Layers: 1},
	} {
		p, inp := newTestGRU(s, 2)
		want := refGRU(s, p, inp)
		got := make([]float64, s.B*s.H)
		GRUForward(got, NewGRUActs[float64](s), p, inp)
		// Both are float64 sums of a few terms in different orders: ~1e-15 apart.
		const atol, rtol = 1e-13, 1e-12
		worst := 0.0
		for i := range want {
			d := math.Abs(got[i] - want[i])
			worst = math.Max(worst, d)
			if d > atol+rtol*math.Abs(want[i]) {
				t.Errorf("%+v: out[%d] = %.17g, reference %.17g", s, i, got[i], want[i])
			}
		}
		t.Logf("%+v: largest |diff| %.3g", s, worst)
	}
}

// TestGRUGrad checks the input gradient and every parameter tensor of a two-layer GRU
// against central finite differences of L = Σ w ⊙ out.
func TestGRUGrad(t *testing.T) {
	s := GRUShape{B: 2, T: 5, C: 3, H: 4, Layers: 2}
	p, inp := newTestGRU(s, 3)
	rnd := rand.New(rand.NewSource(4))
	wout := testutil.RandVec(rnd, s.B*s.H)
	acts := NewGRUActs[float64](s)
	out := make([]float64, s.B*s.H)
	loss := func() float64 {
		GRUForward(out, acts, p, inp)
		return dot(wout, out)
	}
	// Backward adds into gradients: start them from a known offset and remove it after.
	const offset = 0.25
	grads := NewGRUParams(s, make([]float64, s.NumParams()))
	dinp := make([]float64, len(inp))
	for i := range grads.Flat {
		grads.Flat[i] = offset
	}
	for i := range dinp {
		dinp[i] = offset
	}
	loss()
	GRUBackward(dinp, grads, wout, acts, p, inp)
	for i := range grads.Flat {
		grads.Flat[i] -= offset
	}
	for i := range dinp {
		dinp[i] -= offset
	}
	// Central differences with h = 1e-6 are good to ~1e-9 here (see checkGrad); the
	// gradients are O(0.01–1), so atol 1e-8 and rtol 1e-6 leave a >10× margin (the worst
	// ratio measured is 0.04).
	const atol, rtol = 1e-8, 1e-6
	checkGrad(t, "inp", loss, inp, dinp, atol, rtol)
	for l := range s.Layers {
		w, g := p.Layers[l], grads.Layers[l]
		checkGrad(t, fmt.Sprintf("W_ih[%d]", l), loss, w.Wih, g.Wih, atol, rtol)
		checkGrad(t, fmt.Sprintf("W_hh[%d]", l), loss, w.Whh, g.Whh, atol, rtol)
		checkGrad(t, fmt.Sprintf("b_ih[%d]", l), loss, w.Bih, g.Bih, atol, rtol)
		checkGrad(t, fmt.Sprintf("b_hh[%d]", l), loss, w.Bhh, g.Bhh, atol, rtol)
	}

	// A nil dinp leaves the parameter gradients unchanged.
	grads2 := NewGRUParams(s, make([]float64, s.NumParams()))
	loss()
	GRUBackward(nil, grads2, wout, acts, p, inp)
	for i := range grads.Flat {
		if d := math.Abs(grads2.Flat[i] - grads.Flat[i]); d > 1e-12 {
			t.Fatalf("dinp = nil: grads[%d] = %v, want %v", i, grads2.Flat[i], grads.Flat[i])
		}
	}
}

// TestGRUFloat32 checks that float32 and float64 agree on the forward pass and the
// gradients of the same GRU.
func TestGRUFloat32(t *testing.T) {
	s := GRUShape{B: 3, T: 7, C: 5, H: 6, Layers: 2}
	p64, inp64 := newTestGRU(s, 5)
	p32 := NewGRUParams(s, make([]float32, s.NumParams()))
	for i, v := range p64.Flat {
		p32.Flat[i] = float32(v)
	}
	inp32 := make([]float32, len(inp64))
	for i, v := range inp64 {
		inp32[i] = float32(v)
	}
	out64, out32 := make([]float64, s.B*s.H), make([]float32, s.B*s.H)
	acts64, acts32 := NewGRUActs[float64](s), NewGRUActs[float32](s)
	GRUForward(out64, acts64, p64, inp64)
	GRUForward(out32, acts32, p32, inp32)
	// float32 rounding (6e-8 relative) of O(1) values, accumulated over dot products of
	// length ≤ 3H and T steps through contracting gates: 1e-5 is ~100× that.
	const atol = 1e-5
	worst := 0.0
	for i := range out64 {
		d := math.Abs(float64(out32[i]) - out64[i])
		worst = math.Max(worst, d)
		if d > atol {
			t.Errorf("out[%d]: float32 %v, float64 %v", i, out32[i], out64[i])
		}
	}
	t.Logf("forward: largest |diff| %.3g", worst)

	rnd := rand.New(rand.NewSource(6))
	dout64 := testutil.RandVec(rnd, s.B*s.H)
	dout32 := make([]float32, len(dout64))
	for i, v := range dout64 {
		dout32[i] = float32(v)
	}
	g64 := NewGRUParams(s, make([]float64, s.NumParams()))
	g32 := NewGRUParams(s, make([]float32, s.NumParams()))
	dinp64, dinp32 := make([]float64, len(inp64)), make([]float32, len(inp32))
	GRUBackward(dinp64, g64, dout64, acts64, p64, inp64)
	GRUBackward(dinp32, g32, dout32, acts32, p32, inp32)
	// Gradients sum over B·T terms of O(1): rtol 1e-4 on top of atol 1e-4.
	const gatol, grtol = 1e-4, 1e-4
	worst = 0
	cmp := func(name string, a []float32, b []float64) {
		for i := range b {
			d := math.Abs(float64(a[i]) - b[i])
			worst = math.Max(worst, d)
			if d > gatol+grtol*math.Abs(b[i]) {
				t.Errorf("%s[%d]: float32 %v, float64 %v", name, i, a[i], b[i])
				return
			}
		}
	}
	cmp("grads", g32.Flat, g64.Flat)
	cmp("dinp", dinp32, dinp64)
	t.Logf("backward: largest |diff| %.3g", worst)
}

// TestGRUWholeSequence checks that out depends on the first step: perturbing x[b, 0, :]
// changes out[b, :] and no other batch row.
func TestGRUWholeSequence(t *testing.T) {
	s := GRUShape{B: 2, T: 12, C: 3, H: 4, Layers: 2}
	p, inp := newTestGRU(s, 7)
	acts := NewGRUActs[float64](s)
	out0, out1 := make([]float64, s.B*s.H), make([]float64, s.B*s.H)
	GRUForward(out0, acts, p, inp)
	for c := range s.C {
		inp[c] += 0.5 // x[0, 0, c]
	}
	GRUForward(out1, acts, p, inp)
	change := 0.0
	for j := range s.H {
		change = math.Max(change, math.Abs(out1[j]-out0[j]))
	}
	// Eleven steps of contraction shrink the effect, but it stays far above rounding.
	if change < 1e-6 {
		t.Errorf("perturbing x[0, 0, :] changed out[0, :] by %.3g only", change)
	}
	for j := s.H; j < 2*s.H; j++ {
		if out1[j] != out0[j] {
			t.Errorf("perturbing batch row 0 changed out[1, %d]", j-s.H)
		}
	}
	t.Logf("largest change of out[0, :]: %.3g", change)
}

func TestGRUParamsLayout(t *testing.T) {
	s := GRUShape{B: 1, T: 1, C: 3, H: 4, Layers: 2}
	// PyTorch: layer 0 has 12·3 + 12·4 + 12 + 12 = 108, layer 1 12·4 + 12·4 + 24 = 120.
	if got := s.NumParams(); got != 228 {
		t.Fatalf("NumParams = %d, want 228", got)
	}
	flat := make([]float64, s.NumParams())
	p := NewGRUParams(s, flat)
	n := 0
	for _, l := range p.Layers {
		for _, v := range [][]float64{l.Wih, l.Whh, l.Bih, l.Bhh} {
			if &v[0] != &flat[n] {
				t.Fatalf("view at %d does not follow the state_dict order", n)
			}
			n += len(v)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("NewGRUParams accepted a flat slice of the wrong length")
		}
	}()
	NewGRUParams(s, flat[1:])
}

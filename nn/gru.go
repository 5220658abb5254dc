package nn

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/internal/rng"
)

// GRU: a multi-layer, batch-first gated recurrent unit returning the last hidden state of
// its top layer, with PyTorch's equations (torch.nn.GRU, batch_first=True, h0 = 0), so that
// a PyTorch model of the same architecture loads the same weights and gives the same output:
//
//	r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//	z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//	n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//	h' = (1 − z) ⊙ n + z ⊙ h
//
// Layer l > 0 reads the hidden states h_1 … h_T of layer l − 1 as its input sequence.

// GRUShape holds the sizes of a GRU: input (B, T, C), hidden size H, Layers stacked layers.
type GRUShape struct {
	B, T, C, H, Layers int
}

// inputSize returns the input width of layer l: C for the first layer, H above it.
func (s GRUShape) inputSize(l int) int {
	if l == 0 {
		return s.C
	}
	return s.H
}

// check panics unless every size is positive.
func (s GRUShape) check() {
	if s.B <= 0 || s.T <= 0 || s.C <= 0 || s.H <= 0 || s.Layers <= 0 {
		panic(fmt.Sprintf("nn: GRU: sizes must be positive, got %+v", s))
	}
}

// layerParams returns the number of parameters of layer l: 3H·C_l + 3H·H + 3H + 3H.
func (s GRUShape) layerParams(l int) int {
	return 3*s.H*s.inputSize(l) + 3*s.H*s.H + 6*s.H
}

// NumParams returns the number of parameters of the GRU (B and T do not enter):
// Σ_l 3H·(C_l + H + 2) with C_0 = C and C_l = H above.
func (s GRUShape) NumParams() int {
	n := 0
	for l := range s.Layers {
		n += s.layerParams(l)
	}
	return n
}

// GRULayer holds the parameters of one GRU layer, as views into the GRU's flat parameter
// slice. The stacked matrices hold the gates in PyTorch's order r, z, n: rows [0, H) belong
// to r, [H, 2H) to z and [2H, 3H) to n.
type GRULayer[T Float] struct {
	Wih []T // (3H, C_l) input weights, PyTorch's weight_ih_l{l}
	Whh []T // (3H, H) hidden weights, weight_hh_l{l}
	Bih []T // (3H) input bias, bias_ih_l{l}
	Bhh []T // (3H) hidden bias, bias_hh_l{l}
}

// GRUParams addresses a GRU's parameters (or their gradients) in one flat slice. The flat
// layout is PyTorch's state_dict order: for each layer l, W_ih, W_hh, b_ih, b_hh.
type GRUParams[T Float] struct {
	Shape  GRUShape
	Flat   []T // (NumParams) all parameters
	Layers []GRULayer[T]
}

// NewGRUParams returns views of flat as the parameters of a GRU of shape s. The views alias
// flat; nothing is copied. It panics unless len(flat) == s.NumParams().
func NewGRUParams[T Float](s GRUShape, flat []T) *GRUParams[T] {
	s.check()
	if len(flat) != s.NumParams() {
		panic(fmt.Sprintf("nn: NewGRUParams: len(flat) = %d, want NumParams() = %d", len(flat), s.NumParams()))
	}
	p := &GRUParams[T]{Shape: s, Flat: flat, Layers: make([]GRULayer[T], s.Layers)}
	H3 := 3 * s.H
	off := 0
	take := func(n int) []T {
		v := flat[off : off+n : off+n]
		off += n
		return v
	}
	for l := range p.Layers {
		p.Layers[l] = GRULayer[T]{
			Wih: take(H3 * s.inputSize(l)),
			Whh: take(H3 * s.H),
			Bih: take(H3),
			Bhh: take(H3),
		}
	}
	return p
}

// Init fills every parameter (weights and biases) with independent draws from
// U(−1/√H, 1/√H), PyTorch's initialisation of nn.GRU, consuming one raw output of src per
// parameter in flat order.
func (p *GRUParams[T]) Init(src *rng.Source) {
	k := 1 / math.Sqrt(float64(p.Shape.H))
	for i := range p.Flat {
		p.Flat[i] = T(src.Between(-k, k))
	}
}

// GRULayerActs holds what one layer's forward pass saves for its backward pass.
type GRULayerActs[T Float] struct {
	// Gates (B, T, 3H): per row, the gate activations r, z, n. The forward pass first
	// fills it with the input projections W_ih x_t + b_ih for all t by one Gemm over
	// (B·T, C_l) and then overwrites each step's row with the activations.
	Gates []T
	HN    []T // (B, T, H) hidden projection of the n gate, W_hn h_{t−1} + b_hn
	H     []T // (B, T, H) hidden states h_1 … h_T (h_0 = 0 is not stored)
}

// GRUActs holds the saved activations of a GRU forward pass and the scratch of its
// backward pass, allocated once for a shape and reused across steps.
type GRUActs[T Float] struct {
	Shape  GRUShape
	Layers []GRULayerActs[T]

	gh    []T // (B, 3H) forward: hidden projections W_hh h_{t−1} + b_hh of one step
	dg    []T // (B, T, 3H) backward: gradient of the input projections (pre-activations)
	dgh   []T // (B, T, 3H) backward: gradient of the hidden projections
	dh    []T // (B, T, H) backward: gradient of the current layer's outputs h_1 … h_T
	dhIn  []T // (B, T, H) backward: gradient of the layer below's outputs
	carry []T // (B, H) backward: gradient flowing from step t into h_{t−1}
}

// NewGRUActs allocates the activations and backward scratch for a GRU of shape s:
// Layers·5·B·T·H saved values plus 8·B·T·H + 4·B·H scratch. It panics on a non-positive size.
func NewGRUActs[T Float](s GRUShape) *GRUActs[T] {
	s.check()
	B, TT, H := s.B, s.T, s.H
	a := &GRUActs[T]{
		Shape:  s,
		Layers: make([]GRULayerActs[T], s.Layers),
		gh:     make([]T, B*3*H),
		dg:     make([]T, B*TT*3*H),
		dgh:    make([]T, B*TT*3*H),
		dh:     make([]T, B*TT*H),
		dhIn:   make([]T, B*TT*H),
		carry:  make([]T, B*H),
	}
	for l := range a.Layers {
		a.Layers[l] = GRULayerActs[T]{
			Gates: make([]T, B*TT*3*H),
			HN:    make([]T, B*TT*H),
			H:     make([]T, B*TT*H),
		}
	}
	return a
}

// checkGRU panics unless acts and p were made for the same shape and the lengths of the
// given tensors match it.
func checkGRU[T Float](name string, acts *GRUActs[T], p *GRUParams[T], inp, out []T) GRUShape {
	s := acts.Shape
	if p.Shape != s {
		panic(fmt.Sprintf("nn: %s: params shape %+v, acts shape %+v", name, p.Shape, s))
	}
	if len(inp) != s.B*s.T*s.C {
		panic(fmt.Sprintf("nn: %s: len(inp) = %d, want B·T·C = %d", name, len(inp), s.B*s.T*s.C))
	}
	if len(out) != s.B*s.H {
		panic(fmt.Sprintf("nn: %s: len(out) = %d, want B·H = %d", name, len(out), s.B*s.H))
	}
	return s
}

// GRUForward runs the GRU over the sequence inp and writes the top layer's last hidden
// state h_T to out, saving in acts what GRUBackward needs.
//
//	out  (B, H)    top layer's h_T, the summary of the sequence
//	acts           saved activations, from NewGRUActs(p.Shape)
//	p              parameters
//	inp  (B, T, C) input sequence, batch-first
//
// Per layer, the input projections for all T steps are one Gemm over (B·T, C_l); each step
// then costs one (B, H)·(H, 3H) Gemm and the elementwise gates, split over the workers in
// gruParts fixed blocks of batch rows. It panics on inconsistent shapes.
func GRUForward[T Float](out []T, acts *GRUActs[T], p *GRUParams[T], inp []T) {
	s := checkGRU("GRUForward", acts, p, inp, out)
	B, TT, H := s.B, s.T, s.H
	H3 := 3 * H
	x := inp // (B, T, C_l) input of layer l
	for l := range s.Layers {
		w, a := &p.Layers[l], &acts.Layers[l]
		C := s.inputSize(l)
		// Gates (B·T, 3H) = x (B·T, C) · W_ihᵀ (C, 3H) + b_ih.
		for row := range B * TT {
			copy(a.Gates[row*H3:(row+1)*H3], w.Bih)
		}
		Gemm(false, true, B*TT, H3, C, 1, x, C, w.Wih, C, 1, a.Gates, H3)
		for t := range TT {
			// The batch rows of a step are independent: split them into gruParts parts.
			forParts(B, gruParts, B*H3*H, func(_, lo, hi int) {
				gruForwardStep(a, acts.gh, w, lo, hi, t, TT, H)
			})
		}
		x = a.H
	}
	top := acts.Layers[s.Layers-1].H
	for b := range B {
		row := b*TT + TT - 1
		copy(out[b*H:(b+1)*H], top[row*H:(row+1)*H])
	}
}

// gruParts is the number of parts the GRU splits a step's batch rows into (see forParts).
const gruParts = 8

// gruForwardStep runs step t of GRUForward's layer (a, w) for the batch rows [lo, hi).
func gruForwardStep[T Float](a *GRULayerActs[T], ghAll []T, w *GRULayer[T], lo, hi, t, TT, H int) {
	H3 := 3 * H
	// gh (B, 3H) = h_{t−1} (B, H) · W_hhᵀ (H, 3H) + b_hh; h_0 = 0. Row b of h_{t−1}
	// is H[b, t−1, :], so the rows are T·H apart.
	for b := lo; b < hi; b++ {
		copy(ghAll[b*H3:(b+1)*H3], w.Bhh)
	}
	if t > 0 {
		Gemm(false, true, hi-lo, H3, H, 1, a.H[(lo*TT+t-1)*H:], TT*H, w.Whh, H, 1, ghAll[lo*H3:], H3)
	}
	for b := lo; b < hi; b++ {
		row := b*TT + t
		g := a.Gates[row*H3 : (row+1)*H3] // (3H) input projections → r, z, n
		gh := ghAll[b*H3 : (b+1)*H3]      // (3H)
		hn := a.HN[row*H : (row+1)*H]     // (H)
		h := a.H[row*H : (row+1)*H]       // (H)
		rz := g[:2*H]
		for j := range rz {
			rz[j] += gh[j]
		}
		Sigmoid(rz, rz)
		r, z, n := g[:H], g[H:2*H], g[2*H:]
		copy(hn, gh[2*H:])
		for j := range n {
			n[j] += r[j] * hn[j]
		}
		Tanh(n, n)
		if t == 0 {
			for j := range h {
				h[j] = (1 - z[j]) * n[j]
			}
		} else {
			hp := a.H[(row-1)*H : row*H] // h_{t−1}
			for j := range h {
				h[j] = (1-z[j])*n[j] + z[j]*hp[j]
			}
		}
	}
}

// GRUBackward backpropagates dout through the GRU (through time and over all layers),
// ADDING the parameter gradients into grads and the input gradient into dinp.
//
//	dinp  (B, T, C) gradient of the input sequence; may be nil when not needed
//	grads           gradients, a GRUParams view of the gradient buffer (same shape as p)
//	dout  (B, H)    gradient of the output h_T
//	acts            activations saved by GRUForward(out, acts, p, inp)
//	p               parameters
//	inp   (B, T, C) the input sequence given to GRUForward
//
// acts also holds the backward scratch, so one acts must not serve two backward passes at
// once. It panics on inconsistent shapes.
func GRUBackward[T Float](dinp []T, grads *GRUParams[T], dout []T, acts *GRUActs[T], p *GRUParams[T], inp []T) {
	s := checkGRU("GRUBackward", acts, p, inp, dout)
	if grads.Shape != s {
		panic(fmt.Sprintf("nn: GRUBackward: grads shape %+v, acts shape %+v", grads.Shape, s))
	}
	if dinp != nil && len(dinp) != len(inp) {
		panic(fmt.Sprintf("nn: GRUBackward: len(dinp) = %d, want B·T·C = %d", len(dinp), len(inp)))
	}
	B, TT, H := s.B, s.T, s.H
	H3 := 3 * H
	dh, dhIn := acts.dh, acts.dhIn // (B, T, H) each
	// The top layer's outputs receive dout at t = T−1 only.
	clear(dh)
	for b := range B {
		row := b*TT + TT - 1
		copy(dh[row*H:(row+1)*H], dout[b*H:(b+1)*H])
	}
	for l := s.Layers - 1; l >= 0; l-- {
		w, dw, a := &p.Layers[l], &grads.Layers[l], &acts.Layers[l]
		C := s.inputSize(l)
		x := inp // (B, T, C_l) input of layer l
		if l > 0 {
			x = acts.Layers[l-1].H
		}
		dg, dgh, carry := acts.dg, acts.dgh, acts.carry
		clear(carry)
		for t := TT - 1; t >= 0; t-- {
			// The batch rows of a step are independent: split them as GRUForward does.
			forParts(B, gruParts, B*H3*H, func(_, lo, hi int) {
				for b := lo; b < hi; b++ {
					row := b*TT + t
					g := a.Gates[row*H3 : (row+1)*H3]
					r, z, n := g[:H], g[H:2*H], g[2*H:]
					hn := a.HN[row*H : (row+1)*H]
					var hp []T // h_{t−1}; nil for h_0 = 0
					if t > 0 {
						hp = a.H[(row-1)*H : row*H]
					}
					dhr := dh[row*H : (row+1)*H]
					c := carry[b*H : (b+1)*H]
					dgr := dg[row*H3 : (row+1)*H3]
					dghr := dgh[row*H3 : (row+1)*H3]
					for j := range H {
						d := dhr[j] + c[j] // dL/dh_t
						hpj := T(0)
						if hp != nil {
							hpj = hp[j]
						}
						// h_t = (1 − z) n + z h_{t−1}.
						dn := d * (1 - z[j])
						dz := d * (hpj - n[j])
						c[j] = d * z[j]
						// n = tanh(a_n), a_n = x_n + r·hn; z = σ(a_z); r = σ(a_r).
						dan := dn * (1 - n[j]*n[j])
						daz := dz * z[j] * (1 - z[j])
						dar := dan * hn[j] * r[j] * (1 - r[j])
						dgr[j], dgr[H+j], dgr[2*H+j] = dar, daz, dan
						dghr[j], dghr[H+j], dghr[2*H+j] = dar, daz, dan*r[j]
					}
				}
				if t > 0 {
					// carry (B, H) += dgh_t (B, 3H) · W_hh (3H, H): the path into h_{t−1}
					// through the hidden projections. Rows of dgh_t are T·3H apart.
					Gemm(false, false, hi-lo, H, H3, 1, dgh[(lo*TT+t)*H3:], TT*H3, w.Whh, H, 1, carry[lo*H:], H)
				}
			})
		}
		// Biases: db_ih += Σ dg, db_hh += Σ dgh over all (b, t).
		for row := range B * TT {
			dgr, dghr := dg[row*H3:(row+1)*H3], dgh[row*H3:(row+1)*H3]
			for j := range H3 {
				dw.Bih[j] += dgr[j]
				dw.Bhh[j] += dghr[j]
			}
		}
		// dW_hh (3H, H) += Σ_{b, t ≥ 1} dgh[b, t]ᵀ h[b, t−1]: per b, a product over the
		// T − 1 steps with a predecessor (t = 0 sees h_0 = 0).
		if TT > 1 {
			for b := range B {
				Gemm(true, false, H3, H, TT-1, 1, dgh[(b*TT+1)*H3:], H3, a.H[b*TT*H:], H, 1, dw.Whh, H)
			}
		}
		// dW_ih (3H, C) += dgᵀ (3H, B·T) · x (B·T, C).
		Gemm(true, false, H3, C, B*TT, 1, dg, H3, x, C, 1, dw.Wih, C)
		// dx (B·T, C) = dg (B·T, 3H) · W_ih (3H, C): into the layer below's outputs, or
		// added into dinp for the first layer.
		if l > 0 {
			Gemm(false, false, B*TT, C, H3, 1, dg, H3, w.Wih, C, 0, dhIn, C)
			dh, dhIn = dhIn, dh
		} else if dinp != nil {
			Gemm(false, false, B*TT, C, H3, 1, dg, H3, w.Wih, C, 1, dinp, C)
		}
	}
}

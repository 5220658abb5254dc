//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/mlcu/mlcu/nn"
)

// GRU is the device side of nn's GRU (nn.GRUForward, nn.GRUBackward) for one shape: it owns
// the saved activations and the backward scratch in device memory, the mirror of
// nn.GRUActs, and runs the float32 kernels of kernels/gru.cu. Parameters and gradients stay
// the caller's, in nn.GRUParams' flat layout (PyTorch's state_dict order), so a model's flat
// parameter vector is uploaded as is. Free it when done.
type GRU struct {
	Shape nn.GRUShape
	// Acts (Layers·5·B·T·H): per layer l, from l·5·B·T·H, Gates (B, T, 3H) = r, z, n,
	// HN (B, T, H) = W_hn h_{t−1} + b_hn and H (B, T, H) = h_1 … h_T, as nn.GRULayerActs.
	Acts    *Buffer[float32]
	scratch *Buffer[float32] // (8·B·T·H) backward: dg, dgh (B, T, 3H), dh, dhIn (B, T, H)
}

// NewGRU allocates the activations (Layers·5·B·T·H floats) and backward scratch
// (8·B·T·H floats) of a GRU of shape s. It panics on a non-positive size.
func NewGRU(s nn.GRUShape) (*GRU, error) {
	if s.B <= 0 || s.T <= 0 || s.C <= 0 || s.H <= 0 || s.Layers <= 0 {
		panic(fmt.Sprintf("cuda: NewGRU: sizes must be positive, got %+v", s))
	}
	bth := s.B * s.T * s.H
	acts, err := Alloc[float32](s.Layers * 5 * bth)
	if err != nil {
		return nil, err
	}
	scratch, err := Alloc[float32](8 * bth)
	if err != nil {
		acts.Free()
		return nil, err
	}
	return &GRU{Shape: s, Acts: acts, scratch: scratch}, nil
}

// Free releases the device memory.
func (g *GRU) Free() {
	g.Acts.Free()
	g.scratch.Free()
}

// checkLens panics unless the buffers have the lengths of the GRU's shape.
func (g *GRU) checkLens(op string, out, params, inp *Buffer[float32]) {
	s := g.Shape
	for _, c := range []struct {
		name string
		b    *Buffer[float32]
		n    int
	}{{"params", params, s.NumParams()}, {"inp", inp, s.B * s.T * s.C}, {"out", out, s.B * s.H}} {
		if c.b == nil || c.b.Len() != c.n {
			n := -1
			if c.b != nil {
				n = c.b.Len()
			}
			panic(fmt.Sprintf("cuda: GRU.%s: len(%s) = %d, want %d for %+v", op, c.name, n, c.n, s))
		}
	}
}

// Forward runs the GRU over inp and writes the top layer's last hidden state h_T to out,
// saving in g.Acts what Backward needs (nn.GRUForward's contract).
//
//	out     (B, H)         top layer's h_T
//	params  (NumParams)    nn.GRUParams' flat layout
//	inp     (B, T, C)      input sequence, batch-first
//
// It panics on buffers of the wrong length.
func (g *GRU) Forward(out, params, inp *Buffer[float32]) error {
	g.checkLens("Forward", out, params, inp)
	s := g.Shape
	return mlcuGRUForwardF32(out, g.Acts, params, inp, s.B, s.T, s.C, s.H, s.Layers)
}

// Backward backpropagates dout through the GRU, ADDING the parameter gradients into grads
// and the input gradient into dinp (nn.GRUBackward's contract). It reads the activations
// of the last Forward, which must have run on the same params and inp.
//
//	dinp    (B, T, C)      gradient of the input; may be nil when not needed
//	grads   (NumParams)    gradients, params' layout
//	dout    (B, H)         gradient of the output h_T
//	params, inp            as given to Forward
//
// The scratch is the GRU's own, so one GRU must not run two backward passes at once. The
// result is bitwise reproducible (no atomics). It panics on buffers of the wrong length.
func (g *GRU) Backward(dinp, grads, dout, params, inp *Buffer[float32]) error {
	g.checkLens("Backward", dout, params, inp)
	s := g.Shape
	if grads == nil || grads.Len() != s.NumParams() {
		panic(fmt.Sprintf("cuda: GRU.Backward: grads must have NumParams = %d elements", s.NumParams()))
	}
	if dinp != nil && dinp.Len() != inp.Len() {
		panic(fmt.Sprintf("cuda: GRU.Backward: len(dinp) = %d, want B·T·C = %d", dinp.Len(), inp.Len()))
	}
	return mlcuGRUBackwardF32(dinp, grads, dout, g.Acts, params, inp, g.scratch, s.B, s.T, s.C, s.H, s.Layers)
}

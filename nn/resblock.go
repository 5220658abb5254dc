package nn

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/internal/rng"
)

// ResBlockShape gives the sizes of a residual block of the featurizer: batch B, input
// channels C, output channels OC, sequence length L (unchanged by the block) and the odd
// kernel size K of its two convolutions. When C ≠ OC the skip path is a 1×1 convolution
// followed by batch normalisation (a projection); otherwise it is the identity.
// With WeightNorm every convolution is weight-normalised with a bias (weightnorm.go)
// instead of followed by a batch normalisation.
type ResBlockShape struct {
	B, C, OC, L, K int
	WeightNorm     bool
}

// Proj reports whether the block's skip path is a projection (C ≠ OC).
func (s ResBlockShape) Proj() bool { return s.C != s.OC }

// NumParams returns the number of trainable parameters of the block (the length of the
// flat slice behind ResBlockParams): two convolution weights and two batch-norm affine
// maps, plus a 1×1 convolution and a third affine map with a projection. The convolutions
// have no bias: the batch normalisation after each would cancel it. A weight-normalised
// block has the same count: each affine map is a convolution's (g, bias).
func (s ResBlockShape) NumParams() int {
	n := s.OC*s.C*s.K + 2*s.OC + s.OC*s.OC*s.K + 2*s.OC
	if s.Proj() {
		n += s.OC*s.C + 2*s.OC
	}
	return n
}

// NumBuffers returns the number of non-trainable values of the block: the running mean and
// variance of each batch normalisation. They live in their own flat slice so that the
// optimizer (weight decay in particular) never touches them. A weight-normalised block has
// none.
func (s ResBlockShape) NumBuffers() int {
	if s.WeightNorm {
		return 0
	}
	if s.Proj() {
		return 6 * s.OC
	}
	return 4 * s.OC
}

// BatchNormParams holds the views of one batch normalisation over C channels: the
// trainable affine map (Gamma, Beta) and the running statistics (RunMean, RunVar), which
// are nil in a gradient struct. Each is (C). In a weight-normalised block it holds the
// convolution's per-channel norm g (Gamma) and bias (Beta), and no running statistics.
type BatchNormParams[T Float] struct {
	Gamma, Beta     []T // (C)
	RunMean, RunVar []T // (C), nil in gradients
}

// ResBlockParams holds a residual block's parameters (or their gradients) as named views
// into flat slices: the trainable values, in the order listed, are one slice of length
// NumParams, and the running statistics another of length NumBuffers. Build it with
// NewResBlockParams.
type ResBlockParams[T Float] struct {
	W1     []T // (OC, C, K): first convolution
	BN1    BatchNormParams[T]
	W2     []T // (OC, OC, K): second convolution
	BN2    BatchNormParams[T]
	WProj  []T // (OC, C, 1): skip projection; nil when C = OC
	BNProj BatchNormParams[T]
}

// NewResBlockParams slices the views of a block of shape s from params (length
// s.NumParams(), trainable values) and buffers (length s.NumBuffers(), running statistics;
// nil for a gradient struct, whose RunMean and RunVar views are then nil). The views share
// memory with params and buffers and are capped so that appending to one cannot overwrite
// the next. It panics when a length is wrong.
func NewResBlockParams[T Float](s ResBlockShape, params, buffers []T) ResBlockParams[T] {
	const op = "NewResBlockParams"
	linearCheckLen(op, "params", len(params), s.NumParams())
	if buffers != nil {
		linearCheckLen(op, "buffers", len(buffers), s.NumBuffers())
	}
	take := func(src *[]T, n int) []T {
		v := (*src)[:n:n]
		*src = (*src)[n:]
		return v
	}
	bn := func() BatchNormParams[T] {
		p := BatchNormParams[T]{Gamma: take(&params, s.OC), Beta: take(&params, s.OC)}
		if buffers != nil && !s.WeightNorm {
			p.RunMean, p.RunVar = take(&buffers, s.OC), take(&buffers, s.OC)
		}
		return p
	}
	var p ResBlockParams[T]
	p.W1 = take(&params, s.OC*s.C*s.K)
	p.BN1 = bn()
	p.W2 = take(&params, s.OC*s.OC*s.K)
	p.BN2 = bn()
	if s.Proj() {
		p.WProj = take(&params, s.OC*s.C)
		p.BNProj = bn()
	}
	return p
}

// Init initialises the block for training: each convolution weight from a He (Kaiming)
// normal distribution, N(0, 2/fan_in) with fan_in = input channels × kernel size (the
// gain for ReLU, He et al. 2015), drawn from src in the order W1, W2, WProj; every gamma
// 1, beta 0, running mean 0 and running variance 1 (where present).
//
// A weight-normalised block draws v the same way and sets g[o] = ‖v[o]‖/√6, so that the
// effective weight W = g·v/‖v‖ starts with variance 1/(3·fan_in), PyTorch's default for a
// convolution (kaiming_uniform with a = √5), which nbi's weight-normalised ResNet starts
// from: each residual branch starts small against its skip path, and the activations do
// not grow with depth as they would with He-scaled branches and no normalisation. Biases
// start at 0.
func (p ResBlockParams[T]) Init(s ResBlockShape, src *rng.Source) {
	resBlockHeNormal(p.W1, s.C*s.K, src)
	resBlockHeNormal(p.W2, s.OC*s.K, src)
	resBlockHeNormal(p.WProj, s.C, src)
	if s.WeightNorm {
		for _, c := range []struct {
			v     []T
			g, b  []T
			fanIn int
		}{{p.W1, p.BN1.Gamma, p.BN1.Beta, s.C * s.K}, {p.W2, p.BN2.Gamma, p.BN2.Beta, s.OC * s.K}, {p.WProj, p.BNProj.Gamma, p.BNProj.Beta, s.C}} {
			if c.v == nil {
				continue
			}
			WeightNormRinv(c.g, c.v, s.OC, c.fanIn)
			for o, r := range c.g {
				c.g[o] = 1 / (r * T(math.Sqrt(6)))
			}
			resBlockFill(c.b, 0)
		}
		return
	}
	for _, bn := range []BatchNormParams[T]{p.BN1, p.BN2, p.BNProj} {
		resBlockFill(bn.Gamma, 1)
		resBlockFill(bn.Beta, 0)
		resBlockFill(bn.RunMean, 0)
		resBlockFill(bn.RunVar, 1)
	}
}

// resBlockHeNormal fills w with N(0, 2/fanIn) variates from src.
func resBlockHeNormal[T Float](w []T, fanIn int, src *rng.Source) {
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = T(std * src.Normal())
	}
}

func resBlockFill[T Float](x []T, v T) {
	for i := range x {
		x[i] = v
	}
}

// ResBlockActs holds what a residual block's forward pass saves for its backward pass, plus
// the backward pass's scratch, for one shape; allocate it once with NewResBlockActs (one
// allocation, addressed by the named views). Out is the block's output.
type ResBlockActs[T Float] struct {
	Shape ResBlockShape
	Train bool // the mode of the last forward pass
	Inp   []T  // (B, C, L): the last forward pass's input (the caller's slice, not a copy)

	Col1         []T // (B, C·K, L): im2col of Inp for the first convolution
	H1           []T // (B, OC, L): first convolution's output (batch norm only)
	Mean1, Rstd1 []T // (OC): first batch norm's batch statistics; with weight norm, Rstd1 is 1/‖v‖
	A1           []T // (B, OC, L): ReLU(BN1(H1))
	Col2         []T // (B, OC·K, L): im2col of A1
	H2           []T // (B, OC, L): second convolution's output (batch norm only)
	Mean2, Rstd2 []T // (OC)
	HP           []T // (B, OC, L): projection's output; nil without projection or with weight norm
	MeanP, RstdP []T // (OC); nil without projection
	Out          []T // (B, OC, L): ReLU(BN2(H2) + skip)

	scratch0, scratch1 []T // (B, OC, L): forward and backward scratch
	dcol               []T // (max(C, OC)·K, L): one sample's column gradient

	// With weight norm: the convolutions' effective weights g·v/‖v‖ (W1, W2, WProj's
	// shapes), set by the forward pass, and the backward pass's gradients with respect to
	// them (scratch); nil otherwise.
	weff1, weff2, weffP    []T
	dweff1, dweff2, dweffP []T
}

// NewResBlockActs allocates the activations of a block of shape s. Their size is dominated
// by the two im2col buffers, (C + OC)·K·B·L values, and seven (B, OC, L) tensors.
func NewResBlockActs[T Float](s ResBlockShape) *ResBlockActs[T] {
	BL, BOL := s.B*s.L, s.B*s.OC*s.L
	sizes := []int{s.C * s.K * BL, BOL, s.OC, s.OC, BOL, s.OC * s.K * BL, BOL, s.OC, s.OC, 0, 0, 0,
		BOL, BOL, BOL, max(s.C, s.OC) * s.K * s.L, 0, 0, 0, 0, 0, 0}
	if s.Proj() {
		sizes[9], sizes[10], sizes[11] = BOL, s.OC, s.OC
	}
	if s.WeightNorm {
		// The convolutions write their outputs with the effective weights directly: no
		// unnormalised outputs H1, H2, HP.
		sizes[1], sizes[6], sizes[9] = 0, 0, 0
		n1, n2, nP := s.OC*s.C*s.K, s.OC*s.OC*s.K, 0
		if s.Proj() {
			nP = s.OC * s.C
		}
		copy(sizes[16:], []int{n1, n2, nP, n1, n2, nP})
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	buf := make([]T, total)
	views := make([][]T, len(sizes))
	for i, n := range sizes {
		if n > 0 {
			views[i], buf = buf[:n:n], buf[n:]
		}
	}
	return &ResBlockActs[T]{Shape: s,
		Col1: views[0], H1: views[1], Mean1: views[2], Rstd1: views[3], A1: views[4],
		Col2: views[5], H2: views[6], Mean2: views[7], Rstd2: views[8],
		HP: views[9], MeanP: views[10], RstdP: views[11],
		Out: views[12], scratch0: views[13], scratch1: views[14], dcol: views[15],
		weff1: views[16], weff2: views[17], weffP: views[18], dweff1: views[19], dweff2: views[20], dweffP: views[21]}
}

// ResBlockForward runs the residual block on inp (B, C, L), writing acts.Out (B, OC, L):
//
//	Out = ReLU(BN2(conv2(ReLU(BN1(conv1(inp))))) + skip(inp)),
//	skip(inp) = inp, or BNProj(conv1×1(inp)) when C ≠ OC,
//
// with "same" padding, so L is unchanged. In training mode (train true) the batch norms use
// batch statistics and update their running statistics (momentum BatchNormMomentum, eps
// BatchNormEps); otherwise they use the running statistics. A weight-normalised block
// (Shape.WeightNorm) computes the same in both modes, with each BN(conv(·)) replaced by the
// weight-normalised convolution with bias. acts keeps a reference to inp
// for the backward pass, so the caller must not change inp before calling ResBlockBackward.
// It panics when len(inp) does not match acts.Shape.
func ResBlockForward[T Float](acts *ResBlockActs[T], params ResBlockParams[T], inp []T, train bool) {
	s := acts.Shape
	B, C, OC, L, K := s.B, s.C, s.OC, s.L, s.K
	linearCheckLen("ResBlockForward", "inp", len(inp), B*C*L)
	acts.Inp, acts.Train = inp, train
	if s.WeightNorm {
		resBlockWeightNormForward(acts, params, inp)
		return
	}
	bn := func(out, mean, rstd, x []T, p BatchNormParams[T]) {
		if train {
			BatchNorm1dForward(out, mean, rstd, x, p.Gamma, p.Beta, p.RunMean, p.RunVar, B, OC, L, BatchNormMomentum, BatchNormEps)
		} else {
			BatchNorm1dEvalForward(out, x, p.Gamma, p.Beta, p.RunMean, p.RunVar, B, OC, L, BatchNormEps)
		}
	}
	Conv1dForward(acts.H1, acts.Col1, inp, params.W1, nil, B, C, L, OC, K)
	bn(acts.A1, acts.Mean1, acts.Rstd1, acts.H1, params.BN1)
	ReLUForward(acts.A1, acts.A1)
	Conv1dForward(acts.H2, acts.Col2, acts.A1, params.W2, nil, B, OC, L, OC, K)
	bn(acts.Out, acts.Mean2, acts.Rstd2, acts.H2, params.BN2)
	skip := inp
	if s.Proj() {
		Conv1dForward(acts.HP, nil, inp, params.WProj, nil, B, C, L, OC, 1)
		skip = acts.scratch0
		bn(skip, acts.MeanP, acts.RstdP, acts.HP, params.BNProj)
	}
	for i, v := range skip {
		acts.Out[i] += v
	}
	ReLUForward(acts.Out, acts.Out)
}

// resBlockWeightNormForward is ResBlockForward of a weight-normalised block: each
// convolution runs with its effective weight g·v/‖v‖ (WeightNormEffective) and its bias,
// so the normalisation costs O(weights), not a pass over the activations. Rstd1, Rstd2 and
// RstdP keep 1/‖v‖ for the backward pass.
func resBlockWeightNormForward[T Float](acts *ResBlockActs[T], params ResBlockParams[T], inp []T) {
	s := acts.Shape
	B, C, OC, L, K := s.B, s.C, s.OC, s.L, s.K
	WeightNormEffective(acts.weff1, acts.Rstd1, params.W1, params.BN1.Gamma, OC, C*K)
	Conv1dReLUForward(acts.A1, acts.Col1, inp, acts.weff1, params.BN1.Beta, B, C, L, OC, K)
	WeightNormEffective(acts.weff2, acts.Rstd2, params.W2, params.BN2.Gamma, OC, OC*K)
	Conv1dForward(acts.Out, acts.Col2, acts.A1, acts.weff2, params.BN2.Beta, B, OC, L, OC, K)
	skip := inp
	if s.Proj() {
		WeightNormEffective(acts.weffP, acts.RstdP, params.WProj, params.BNProj.Gamma, OC, C)
		skip = acts.scratch0
		Conv1dForward(skip, nil, inp, acts.weffP, params.BNProj.Beta, B, C, L, OC, 1)
	}
	for i, v := range skip {
		acts.Out[i] += v
	}
	ReLUForward(acts.Out, acts.Out)
}

// ResBlockBackward adds the gradients of the training-mode ResBlockForward into dinp
// (B, C, L) and grads (the same views as params; its running-statistics views are
// ignored), given dout (B, OC, L), the gradient of the loss with respect to acts.Out. It
// uses acts as saved by the last forward pass, and acts' scratch. dinp may be nil to skip
// the input gradient, as may any view of grads. It panics when the last forward pass ran in
// evaluation mode or when a length does not match acts.Shape.
func ResBlockBackward[T Float](dinp []T, grads ResBlockParams[T], dout []T, acts *ResBlockActs[T], params ResBlockParams[T]) {
	const op = "ResBlockBackward"
	if !acts.Train {
		panic(fmt.Sprintf("nn: %s: the last forward pass ran in evaluation mode", op))
	}
	s := acts.Shape
	B, C, OC, L, K := s.B, s.C, s.OC, s.L, s.K
	linearCheckLen(op, "dout", len(dout), B*OC*L)
	if dinp != nil {
		linearCheckLen(op, "dinp", len(dinp), B*C*L)
	}
	dz, dh := acts.scratch0, acts.scratch1 // (B, OC, L) each
	if s.WeightNorm {
		resBlockWeightNormBackward(dinp, grads, dout, acts, params)
		return
	}

	// Output ReLU: dz = gradient at BN2(H2) + skip.
	clear(dz)
	ReLUBackward(dz, dout, acts.Out)

	// Skip path.
	if s.Proj() {
		clear(dh)
		BatchNorm1dBackward(dh, grads.BNProj.Gamma, grads.BNProj.Beta, dz, acts.HP, acts.MeanP, acts.RstdP, params.BNProj.Gamma, B, OC, L)
		Conv1dBackward(dinp, grads.WProj, nil, nil, dh, acts.Inp, params.WProj, B, C, L, OC, 1)
	} else if dinp != nil {
		for i, g := range dz {
			dinp[i] += g
		}
	}

	// Main path, from the second batch norm back to the input.
	clear(dh)
	BatchNorm1dBackward(dh, grads.BN2.Gamma, grads.BN2.Beta, dz, acts.H2, acts.Mean2, acts.Rstd2, params.BN2.Gamma, B, OC, L)
	da := dz // dz is no longer needed
	clear(da)
	Conv1dBackward(da, grads.W2, nil, acts.dcol, dh, acts.Col2, params.W2, B, OC, L, OC, K)
	ReLUBackward(da, da, acts.A1)
	clear(dh)
	BatchNorm1dBackward(dh, grads.BN1.Gamma, grads.BN1.Beta, da, acts.H1, acts.Mean1, acts.Rstd1, params.BN1.Gamma, B, OC, L)
	Conv1dBackward(dinp, grads.W1, nil, acts.dcol, dh, acts.Col1, params.W1, B, C, L, OC, K)
}

// resBlockWeightNormBackward is ResBlockBackward of a weight-normalised block, the backward
// of resBlockWeightNormForward: each convolution's backward pass gives the gradient with
// respect to its effective weight (and its bias), which WeightNormEffectiveBackward turns
// into the gradients of v and g.
func resBlockWeightNormBackward[T Float](dinp []T, grads ResBlockParams[T], dout []T, acts *ResBlockActs[T], params ResBlockParams[T]) {
	s := acts.Shape
	B, C, OC, L, K := s.B, s.C, s.OC, s.L, s.K
	dz, da := acts.scratch0, acts.scratch1 // (B, OC, L) each

	// Output ReLU: dz = gradient at conv2(A1) + bias + skip.
	clear(dz)
	ReLUBackward(dz, dout, acts.Out)

	// Skip path.
	if s.Proj() {
		clear(acts.dweffP)
		Conv1dBackward(dinp, acts.dweffP, grads.BNProj.Beta, nil, dz, acts.Inp, acts.weffP, B, C, L, OC, 1)
		WeightNormEffectiveBackward(grads.WProj, grads.BNProj.Gamma, acts.dweffP, params.WProj, params.BNProj.Gamma, acts.RstdP, OC, C)
	} else if dinp != nil {
		for i, g := range dz {
			dinp[i] += g
		}
	}

	// Main path, from the second convolution back to the input.
	clear(acts.dweff2)
	clear(da)
	Conv1dBackward(da, acts.dweff2, grads.BN2.Beta, acts.dcol, dz, acts.Col2, acts.weff2, B, OC, L, OC, K)
	WeightNormEffectiveBackward(grads.W2, grads.BN2.Gamma, acts.dweff2, params.W2, params.BN2.Gamma, acts.Rstd2, OC, OC*K)
	ReLUBackward(da, da, acts.A1)
	clear(acts.dweff1)
	Conv1dBackward(dinp, acts.dweff1, grads.BN1.Beta, acts.dcol, da, acts.Col1, acts.weff1, B, C, L, OC, K)
	WeightNormEffectiveBackward(grads.W1, grads.BN1.Gamma, acts.dweff1, params.W1, params.BN1.Gamma, acts.Rstd1, OC, C*K)
}

package nn

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/internal/rng"
)

// The ResNet-GRU featurizer maps a light curve x (B, 1, L) to a context vector (B, Context)
// that conditions the flow:
//
//	x (B, 1, L) → Blocks residual blocks (with MaxPool1d(2) between stages)
//	            → transpose (B, C, L') → (B, L', C)
//	            → GRU (GRULayers layers, hidden GRUHidden, batch-first), last hidden (B, H)
//	            → Linear (H → Context) → context (B, Context)
//
// Stage plan. The blocks are grouped into stages of PoolEvery consecutive blocks. Block i
// (0-based) is in stage g = i / PoolEvery and has OC_i = min(C0·2^g, Cmax) output channels;
// its input channels are 1 for block 0 and OC_{i−1} otherwise, so the first block of each
// stage (and block 0) has a 1×1 projection on its skip path whenever its channels change.
// A MaxPool1d(2) follows block i exactly when (i+1) is a multiple of PoolEvery, so the
// sequence length halves (rounding down) after each complete stage, including after the
// last block when Blocks is a multiple of PoolEvery — unless NoFinalPool, which keeps the
// pools between stages only (nbi's ResNet: 9 stages, 8 pools). With PoolEvery = 1 every
// block is followed by a pool and the channels double block by block up to Cmax.

// FeaturizerShape gives the sizes of a featurizer: batch B (not saved with a model), input
// length L (one input channel), first-stage channels C0, channel cap Cmax, odd kernel size
// K of every convolution, the number of residual blocks Blocks, blocks per stage PoolEvery,
// the GRU's hidden size GRUHidden and depth GRULayers, and the context width Context.
type FeaturizerShape struct {
	B         int `json:"-"`
	L         int `json:"length"`
	C0        int `json:"channels"`
	Cmax      int `json:"max_channels"`
	K         int `json:"kernel"`
	Blocks    int `json:"blocks"`
	PoolEvery int `json:"pool_every"`
	// NoFinalPool drops the pool after the last block (pools between stages only).
	NoFinalPool bool `json:"no_final_pool,omitempty"`
	GRUHidden   int  `json:"gru_hidden"`
	GRULayers   int  `json:"gru_layers"`
	Context     int  `json:"context"`
	// Norm is the blocks' normalisation: NormBatch (also when empty, as in models saved
	// before the field existed) or NormWeight.
	Norm string `json:"norm,omitempty"`
}

// The normalisations of the featurizer's residual blocks (FeaturizerShape.Norm).
const (
	// NormBatch follows every convolution with a batch normalisation: batch statistics in
	// training, running statistics at inference.
	NormBatch = "batch"
	// NormWeight weight-normalises every convolution and gives it a bias (weightnorm.go):
	// no batch statistics, the same function in training and at inference (nbi's default).
	NormWeight = "weight"
)

// WeightNorm reports whether the blocks are weight-normalised.
func (s FeaturizerShape) WeightNorm() bool { return s.Norm == NormWeight }

// Validate reports whether s describes a featurizer that can be built: every size positive
// (B may be 0 in a saved configuration), K odd, C0 ≤ Cmax, and an input long enough to
// leave at least one time step after the pools.
func (s FeaturizerShape) Validate() error {
	if s.B < 0 || s.L <= 0 || s.C0 <= 0 || s.Cmax < s.C0 || s.K <= 0 || s.K%2 == 0 || s.Blocks <= 0 ||
		s.PoolEvery <= 0 || s.GRUHidden <= 0 || s.GRULayers <= 0 || s.Context <= 0 {
		return fmt.Errorf("nn: featurizer shape %+v: need positive sizes, odd K and C0 ≤ Cmax", s)
	}
	if s.Norm != "" && s.Norm != NormBatch && s.Norm != NormWeight {
		return fmt.Errorf("nn: featurizer norm %q: want %q or %q", s.Norm, NormBatch, NormWeight)
	}
	if t := s.SeqLen(); t < 1 {
		return fmt.Errorf("nn: featurizer shape %+v: input length %d leaves no time step after %d pools", s, s.L, s.Blocks/s.PoolEvery)
	}
	return nil
}

// check panics unless s is valid and B > 0.
func (s FeaturizerShape) check(op string) {
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("nn: %s: %v", op, err))
	}
	if s.B <= 0 {
		panic(fmt.Sprintf("nn: %s: batch size B = %d, want > 0", op, s.B))
	}
}

// Pool reports whether a MaxPool1d(2) follows block i.
func (s FeaturizerShape) Pool(i int) bool {
	return (i+1)%s.PoolEvery == 0 && !(s.NoFinalPool && i == s.Blocks-1)
}

// Block returns the shape of residual block i (see the stage plan above).
func (s FeaturizerShape) Block(i int) ResBlockShape {
	c, l := 1, s.L
	for j := range i {
		c = s.channels(j)
		if s.Pool(j) {
			l /= 2
		}
	}
	return ResBlockShape{B: s.B, C: c, OC: s.channels(i), L: l, K: s.K, WeightNorm: s.WeightNorm()}
}

// channels returns OC_i = min(C0·2^(i/PoolEvery), Cmax).
func (s FeaturizerShape) channels(i int) int {
	c := s.C0
	for range i / s.PoolEvery {
		if c >= s.Cmax {
			break
		}
		c *= 2
	}
	return min(c, s.Cmax)
}

// SeqLen returns the length L' of the sequence the GRU reads: L halved (rounding down)
// after every complete stage.
func (s FeaturizerShape) SeqLen() int {
	l := s.L
	for i := range s.Blocks {
		if s.Pool(i) {
			l /= 2
		}
	}
	return l
}

// OutChannels returns the channels of the last block, the GRU's input width.
func (s FeaturizerShape) OutChannels() int { return s.channels(s.Blocks - 1) }

// GRU returns the shape of the featurizer's GRU: (B, SeqLen, OutChannels) → hidden
// GRUHidden, GRULayers layers.
func (s FeaturizerShape) GRU() GRUShape {
	return GRUShape{B: s.B, T: s.SeqLen(), C: s.OutChannels(), H: s.GRUHidden, Layers: s.GRULayers}
}

// NumParams returns the number of trainable parameters: the blocks', the GRU's and the
// output layer's (Context·GRUHidden weights and Context biases). B does not enter.
func (s FeaturizerShape) NumParams() int {
	n := 0
	for i := range s.Blocks {
		n += s.Block(i).NumParams()
	}
	g := s.GRU()
	g.B = max(g.B, 1)
	return n + g.NumParams() + s.Context*s.GRUHidden + s.Context
}

// NumBuffers returns the number of non-trainable values (the blocks' batch-norm running
// statistics; none with weight norm).
func (s FeaturizerShape) NumBuffers() int {
	n := 0
	for i := range s.Blocks {
		n += s.Block(i).NumBuffers()
	}
	return n
}

// FeaturizerParams holds a featurizer's parameters (or their gradients) as named views
// into two flat slices. The trainable slice (length NumParams) holds, in order:
//
//	block 0, …, block Blocks−1 (each ResBlockParams' layout), the GRU (GRUParams' layout),
//	W (Context, GRUHidden), Bias (Context);
//
// the buffer slice (length NumBuffers) holds the blocks' running statistics in block order.
type FeaturizerParams[T Float] struct {
	Blocks []ResBlockParams[T] // (Blocks)
	GRU    *GRUParams[T]
	W      []T // (Context, GRUHidden) output layer, PyTorch's nn.Linear layout
	Bias   []T // (Context)
}

// NewFeaturizerParams slices the views of a featurizer of shape s from params (length
// s.NumParams()) and buffers (length s.NumBuffers(); nil for a gradient struct). The views
// share memory with params and buffers. It panics when a length or the shape is wrong.
func NewFeaturizerParams[T Float](s FeaturizerShape, params, buffers []T) FeaturizerParams[T] {
	const op = "NewFeaturizerParams"
	if err := s.Validate(); err != nil {
		panic(fmt.Sprintf("nn: %s: %v", op, err))
	}
	linearCheckLen(op, "params", len(params), s.NumParams())
	if buffers != nil {
		linearCheckLen(op, "buffers", len(buffers), s.NumBuffers())
	}
	var p FeaturizerParams[T]
	for i := range s.Blocks {
		bs := s.Block(i)
		np, nb := bs.NumParams(), bs.NumBuffers()
		var buf []T
		if buffers != nil {
			buf, buffers = buffers[:nb:nb], buffers[nb:]
		}
		p.Blocks = append(p.Blocks, NewResBlockParams(bs, params[:np:np], buf))
		params = params[np:]
	}
	g := s.GRU()
	g.B = max(g.B, 1)
	ng := g.NumParams()
	p.GRU = NewGRUParams(g, params[:ng:ng])
	params = params[ng:]
	nw := s.Context * s.GRUHidden
	p.W, p.Bias = params[:nw:nw], params[nw:]
	return p
}

// Init initialises the featurizer for training, drawing from src in this order: each block
// (ResBlockParams.Init: He-normal convolutions, unit batch norms), the GRU (GRUParams.Init,
// U(±1/√H)), then W and Bias from U(±1/√GRUHidden), PyTorch's nn.Linear initialisation.
func (p FeaturizerParams[T]) Init(s FeaturizerShape, src *rng.Source) {
	for i, b := range p.Blocks {
		b.Init(s.Block(i), src)
	}
	p.GRU.Init(src)
	a := 1 / math.Sqrt(float64(s.GRUHidden))
	for _, w := range [][]T{p.W, p.Bias} {
		for i := range w {
			w[i] = T(src.Between(-a, a))
		}
	}
}

// FeaturizerActs holds what a featurizer's forward pass saves for its backward pass and the
// backward pass's scratch, for one shape (batch size included); allocate it once with
// NewFeaturizerActs and reuse it. One acts serves one forward/backward at a time.
type FeaturizerActs[T Float] struct {
	Shape  FeaturizerShape
	Train  bool               // the mode of the last forward pass
	Blocks []*ResBlockActs[T] // (Blocks)
	Pooled [][]T              // per block: (B, OC_i, L_i/2) pooled output; nil without a pool
	PoolIx [][]int32          // per block: (B, OC_i, L_i/2) argmax positions; nil without a pool
	Seq    []T                // (B, T, C) the last stage's output, transposed for the GRU
	GRU    *GRUActs[T]        //
	Hidden []T                // (B, GRUHidden) the GRU's last hidden state
	Out    []T                // (B, Context) the context
	dOut   [][]T              // per block: (B, OC_i, L_i) gradient of the block's output
	dPool  [][]T              // per block: (B, OC_i, L_i/2) gradient of the pooled output
	dSeq   []T                // (B, T, C)
	dHid   []T                // (B, GRUHidden)

	// GRUParams carry the batch size in their shape; these are views of the caller's
	// parameters and gradients reshaped to this acts' batch, rebuilt when the flat slice
	// behind them changes.
	gruP, gruG *GRUParams[T]
}

// gruView returns p viewed with shape s: p itself when the shapes agree, else *cache,
// rebuilt when it does not view the same flat slice.
func gruView[T Float](cache **GRUParams[T], p *GRUParams[T], s GRUShape) *GRUParams[T] {
	if p.Shape == s {
		return p
	}
	if c := *cache; c == nil || &c.Flat[0] != &p.Flat[0] {
		*cache = NewGRUParams(s, p.Flat)
	}
	return *cache
}

// NewFeaturizerActs allocates the activations of a featurizer of shape s (s.B > 0). It
// panics on an invalid shape.
func NewFeaturizerActs[T Float](s FeaturizerShape) *FeaturizerActs[T] {
	s.check("NewFeaturizerActs")
	g := s.GRU()
	a := &FeaturizerActs[T]{
		Shape:  s,
		Seq:    make([]T, g.B*g.T*g.C),
		GRU:    NewGRUActs[T](g),
		Hidden: make([]T, s.B*s.GRUHidden),
		Out:    make([]T, s.B*s.Context),
		dSeq:   make([]T, g.B*g.T*g.C),
		dHid:   make([]T, s.B*s.GRUHidden),
	}
	for i := range s.Blocks {
		bs := s.Block(i)
		a.Blocks = append(a.Blocks, NewResBlockActs[T](bs))
		a.dOut = append(a.dOut, make([]T, bs.B*bs.OC*bs.L))
		var pooled, dpool []T
		var ix []int32
		if s.Pool(i) {
			n := bs.B * bs.OC * (bs.L / 2)
			pooled, dpool, ix = make([]T, n), make([]T, n), make([]int32, n)
		}
		a.Pooled, a.dPool, a.PoolIx = append(a.Pooled, pooled), append(a.dPool, dpool), append(a.PoolIx, ix)
	}
	return a
}

// FeaturizerForward runs the featurizer on x (B, 1, L) and returns the context acts.Out
// (B, Context), saving in acts what FeaturizerBackward needs. In training mode (train true)
// the batch norms use batch statistics and update their running statistics in p's buffers;
// otherwise they use the running statistics. acts keeps a reference to x, which the caller
// must not change before the backward pass. It panics when len(x) does not match
// acts.Shape.
func FeaturizerForward[T Float](acts *FeaturizerActs[T], p FeaturizerParams[T], x []T, train bool) []T {
	s := acts.Shape
	linearCheckLen("FeaturizerForward", "x", len(x), s.B*s.L)
	acts.Train = train
	inp := x
	for i, ba := range acts.Blocks {
		bs := ba.Shape
		ResBlockForward(ba, p.Blocks[i], inp, train)
		inp = ba.Out
		if s.Pool(i) {
			MaxPool1dForward(acts.Pooled[i], acts.PoolIx[i], ba.Out, bs.B, bs.OC, bs.L)
			inp = acts.Pooled[i]
		}
	}
	g := s.GRU()
	transposeLast2(acts.Seq, inp, g.B, g.C, g.T) // (B, C, T) → (B, T, C)
	GRUForward(acts.Hidden, acts.GRU, gruView(&acts.gruP, p.GRU, g), acts.Seq)
	LinearForward(acts.Out, acts.Hidden, p.W, p.Bias, s.B, s.GRUHidden, s.Context)
	return acts.Out
}

// FeaturizerBackward adds the gradients of the training-mode FeaturizerForward into dx
// (B, 1, L) (nil to skip) and grads (views of the gradient buffer; its running-statistics
// views are ignored), given dctx (B, Context), the gradient of the loss with respect to
// acts.Out. It uses acts as saved by the last forward pass and p as used there. It panics
// when that pass ran in evaluation mode or a length does not match acts.Shape.
func FeaturizerBackward[T Float](dx []T, grads FeaturizerParams[T], dctx []T, acts *FeaturizerActs[T], p FeaturizerParams[T]) {
	const op = "FeaturizerBackward"
	if !acts.Train {
		panic(fmt.Sprintf("nn: %s: the last forward pass ran in evaluation mode", op))
	}
	s := acts.Shape
	linearCheckLen(op, "dctx", len(dctx), s.B*s.Context)
	if dx != nil {
		linearCheckLen(op, "dx", len(dx), s.B*s.L)
	}
	clear(acts.dHid)
	LinearBackward(acts.dHid, grads.W, grads.Bias, dctx, acts.Hidden, p.W, s.B, s.GRUHidden, s.Context)
	clear(acts.dSeq)
	g := s.GRU()
	GRUBackward(acts.dSeq, gruView(&acts.gruG, grads.GRU, g), acts.dHid, acts.GRU, gruView(&acts.gruP, p.GRU, g), acts.Seq)
	// dlast: the gradient of the last stage's output, (B, C, T).
	last := s.Blocks - 1
	dlast := acts.dOut[last]
	if s.Pool(last) {
		dlast = acts.dPool[last]
	}
	transposeLast2(dlast, acts.dSeq, g.B, g.T, g.C) // (B, T, C) → (B, C, T)
	for i := last; i >= 0; i-- {
		ba := acts.Blocks[i]
		bs := ba.Shape
		if s.Pool(i) {
			clear(acts.dOut[i])
			MaxPool1dBackward(acts.dOut[i], acts.dPool[i], acts.PoolIx[i], bs.B, bs.OC, bs.L)
		}
		// The block's input gradient goes to the previous block's (pooled) output, or dx.
		dinp := dx
		if i > 0 {
			dinp = acts.dOut[i-1]
			if s.Pool(i - 1) {
				dinp = acts.dPool[i-1]
			}
			clear(dinp)
		}
		ResBlockBackward(dinp, grads.Blocks[i], acts.dOut[i], ba, p.Blocks[i])
	}
}

// transposeLast2 writes dst (B, N, M) = the transpose of src (B, M, N) in its last two axes.
func transposeLast2[T Float](dst, src []T, B, M, N int) {
	for b := range B {
		s, d := src[b*M*N:(b+1)*M*N], dst[b*M*N:(b+1)*M*N]
		for m := range M {
			row := s[m*N : (m+1)*N]
			for n, v := range row {
				d[n*M+m] = v
			}
		}
	}
}

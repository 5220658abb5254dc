package nn

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/mlcu/mlcu/internal/rng"
)

// ModelConfig is everything needed to rebuild a Model around saved weights; it is the JSON
// document saved beside them. The featurizer reads InputLen/Bin points: the light-curve
// window of InputLen points mean-binned by Bin (BinInput).
type ModelConfig struct {
	Preset     string          `json:"preset,omitempty"` // the preset it came from, if any
	InputLen   int             `json:"input_len"`        // points of the input window before binning
	Bin        int             `json:"bin"`              // mean-binning factor (1: none)
	Featurizer FeaturizerShape `json:"featurizer"`       // Featurizer.L = InputLen/Bin; B unused
	Flow       MAFShape        `json:"flow"`             // Flow.C = Featurizer.Context; Flow.D = dim θ
}

// D returns the dimension of θ.
func (c ModelConfig) D() int { return c.Flow.D }

// Validate reports whether c describes a model that can be built.
func (c ModelConfig) Validate() error {
	if c.InputLen <= 0 || c.Bin <= 0 || c.InputLen%c.Bin != 0 {
		return fmt.Errorf("nn: model config: input length %d and bin %d: need positive values, bin dividing the length", c.InputLen, c.Bin)
	}
	if c.Featurizer.L != c.InputLen/c.Bin {
		return fmt.Errorf("nn: model config: featurizer length %d, want input_len/bin = %d", c.Featurizer.L, c.InputLen/c.Bin)
	}
	if err := c.Featurizer.Validate(); err != nil {
		return err
	}
	f := c.Flow
	if f.C != c.Featurizer.Context {
		return fmt.Errorf("nn: model config: flow context %d, want the featurizer's context %d", f.C, c.Featurizer.Context)
	}
	if f.D < 2 || f.H < f.D || f.L < 1 || f.NB < 1 || f.K < 1 {
		return fmt.Errorf("nn: model config: bad flow shape %+v (need D ≥ 2, H ≥ D, L, NB, K ≥ 1)", f)
	}
	if f.Base != "" && f.Base != BaseMixture && f.Base != BaseMADEMoG {
		return fmt.Errorf("nn: model config: flow base %q: want %q or %q", f.Base, BaseMixture, BaseMADEMoG)
	}
	return nil
}

// NumParams returns the number of trainable parameters: the featurizer's, then the flow's.
func (c ModelConfig) NumParams() int { return c.Featurizer.NumParams() + c.Flow.NumParams() }

// NumBuffers returns the number of non-trainable values (batch-norm running statistics).
func (c ModelConfig) NumBuffers() int { return c.Featurizer.NumBuffers() }

// BinInput writes dst[i] = mean(src[i·factor : (i+1)·factor]), the mean-binning that maps
// an input window to the featurizer's length. It panics unless factor ≥ 1 and
// len(src) = factor·len(dst).
func BinInput[T Float](dst, src []T, factor int) {
	if factor < 1 || len(src) != factor*len(dst) {
		panic(fmt.Sprintf("nn: BinInput: len(src) = %d, len(dst) = %d, factor %d: want len(src) = factor·len(dst)", len(src), len(dst), factor))
	}
	inv := 1 / float64(factor)
	for i := range dst {
		s := 0.0
		for _, v := range src[i*factor : (i+1)*factor] {
			s += float64(v)
		}
		dst[i] = T(s * inv)
	}
}

// Model is the neural posterior estimator: a featurizer that summarises a light curve x
// (B, 1, L) into a context (B, Context), and a MAF that models p(θ | context).
//
// Params is one allocation holding every trainable value: the featurizer's
// (FeaturizerParams' layout) followed by the flow's (MAF's layout); Grads has the same
// layout; Buffers holds the featurizer's batch-norm running statistics. Feat, DFeat and
// Flow's P, Base, G and DBase are views of them (Flow.Params and Flow.Grads are the tails
// of Params and Grads), so zeroing gradients, the optimizer step and checkpoints each touch
// one slice. Activations are allocated once per batch size, on first use. A Model is not
// safe for concurrent use.
type Model[T Float] struct {
	Config  ModelConfig
	Params  []T // (NumParams) featurizer, then flow
	Grads   []T // (NumParams) same layout
	Buffers []T // (NumBuffers) running statistics
	Feat    FeaturizerParams[T]
	DFeat   FeaturizerParams[T]
	Flow    *MAF[T]
	// Balance adds the BNPE penalty to training-mode losses (see Balance); zero: none.
	Balance Balance

	acts     map[int]*modelActs[T] // by batch size
	last     *modelActs[T]         // of the last LossForward, for LossBackward
	samplers []*MAFSampler[T]      // one per sampling goroutine, made on first use
	saved    []T                   // the running statistics of the last SaveBuffers
}

// modelActs is a Model's workspace for one batch size.
type modelActs[T Float] struct {
	B     int
	feat  *FeaturizerActs[T]
	work  *MAFWork[T]
	logp  []T // (B)
	dlogp []T // (B)
	dctx  []T // (B, Context)

	bal      *balanceActs[T] // the balancing penalty's workspace, made on first use
	balanced bool            // the last LossForward added the penalty
}

// samplerChunk returns the number of rows MAFSample inverts at a time (see NewMAFSampler):
// measured on the paper flow, gonum's Gemm is fastest at 128 rows (it turns to its own
// goroutines at 256), OpenBLAS (one thread) at 256 (30.8k against 25.3k samples/s).
func samplerChunk() int {
	if BLASName() == "openblas" {
		return 256
	}
	return 128
}

// samplePart is the number of samples of one event that one goroutine draws from one random
// stream: the unit of Model.Sample's parallelism, fixed so that the samples do not depend on
// the number of workers.
const samplePart = 4096

// NewModel returns the model of configuration c with zero parameters, unit running
// variances and zero running means (call Init before training). It returns an error when c
// is not valid.
func NewModel[T Float](c ModelConfig) (*Model[T], error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	fs := c.Featurizer
	fs.B = 0
	c.Featurizer = fs
	nf := fs.NumParams()
	m := &Model[T]{
		Config:  c,
		Params:  make([]T, c.NumParams()),
		Grads:   make([]T, c.NumParams()),
		Buffers: make([]T, c.NumBuffers()),
		acts:    map[int]*modelActs[T]{},
	}
	m.Feat = NewFeaturizerParams(fs, m.Params[:nf:nf], m.Buffers)
	m.DFeat = NewFeaturizerParams(fs, m.Grads[:nf:nf], nil)
	for _, bp := range m.Feat.Blocks {
		for _, bn := range []BatchNormParams[T]{bp.BN1, bp.BN2, bp.BNProj} {
			resBlockFill(bn.RunVar, 1)
		}
	}
	// The flow's parameters and gradients become the tails of the model's slices.
	f := NewMAF[T](c.Flow)
	f.SetViews(m.Params[nf:], m.Grads[nf:])
	m.Flow = f
	return m, nil
}

// FeaturizerStream is the rng stream from which Model.Init draws the featurizer's
// parameters (rng.New(seed, FeaturizerStream)); the flow uses streams 0 … NB (MAF.Init).
const FeaturizerStream = 1 << 32

// Init initialises every parameter for training from seed: the featurizer from
// rng.New(seed, FeaturizerStream) (FeaturizerParams.Init, which also resets the running
// statistics), the flow by MAF.Init(seed). It does not touch Grads.
func (m *Model[T]) Init(seed uint64) {
	fs := m.Config.Featurizer
	m.Feat.Init(fs, rng.New(seed, FeaturizerStream))
	m.Flow.Init(seed)
}

// NumParams returns len(m.Params).
func (m *Model[T]) NumParams() int { return len(m.Params) }

// SaveBuffers copies the running statistics aside, for RestoreBuffers.
func (m *Model[T]) SaveBuffers() { m.saved = append(m.saved[:0], m.Buffers...) }

// RestoreBuffers puts back the running statistics of the last SaveBuffers (nn.TrainStep
// does after a non-finite loss).
func (m *Model[T]) RestoreBuffers() { copy(m.Buffers, m.saved) }

// ZeroGrads sets every gradient to 0.
func (m *Model[T]) ZeroGrads() { clear(m.Grads) }

// actsFor returns the workspace for batch size B, allocating it on first use.
func (m *Model[T]) actsFor(B int) *modelActs[T] {
	if a, ok := m.acts[B]; ok {
		return a
	}
	fs := m.Config.Featurizer
	fs.B = B
	a := &modelActs[T]{
		B:     B,
		feat:  NewFeaturizerActs[T](fs),
		work:  NewMAFWork(m.Flow, B),
		logp:  make([]T, B),
		dlogp: make([]T, B),
		dctx:  make([]T, B*fs.Context),
	}
	m.acts[B] = a
	return a
}

// LossForward returns the mean negative log-likelihood of a batch,
//
//	loss = −(1/B) Σ_b log p(θ_b | x_b),  x (B, 1, L), theta (B, D) standardised,
//
// with B = len(theta)/D, plus, in training mode with m.Balance.Lambda > 0, the balancing
// penalty (Balance; BalancePenalty returns it). In training mode (train true) the featurizer's batch norms use
// batch statistics and update the running statistics in Buffers; otherwise they use the
// running statistics. The pass is saved for LossBackward, which needs train true; x and
// theta must not change in between. It panics when the lengths disagree.
func (m *Model[T]) LossForward(x, theta []T, train bool) float64 {
	const op = "Model.LossForward"
	D, L := m.Config.D(), m.Config.Featurizer.L
	B := len(theta) / D
	if B == 0 || len(theta) != B*D || len(x) != B*L {
		panic(fmt.Sprintf("nn: %s: len(x) = %d, len(theta) = %d: want B·%d and B·%d with B ≥ 1", op, len(x), len(theta), L, D))
	}
	a := m.actsFor(B)
	ctx := FeaturizerForward(a.feat, m.Feat, x, train)
	MAFLogProb(a.logp, a.work, theta, ctx, m.Flow, B)
	s := 0.0
	for _, v := range a.logp {
		s += float64(v)
	}
	m.last = a
	a.balanced = train && m.Balance.Lambda > 0
	if !a.balanced {
		return -s / float64(B)
	}
	if m.Balance.LogPrior == nil {
		panic(fmt.Sprintf("nn: %s: Balance.Lambda %g without LogPrior", op, m.Balance.Lambda))
	}
	if a.bal == nil {
		a.bal = &balanceActs[T]{
			theta: make([]T, B*D), work: NewMAFWork(m.Flow, B), logp: make([]T, B), dlogp: make([]T, B),
			lprior: make([]float64, B), dJoint: make([]float64, B), dMarg: make([]float64, B),
		}
	}
	return -s/float64(B) + balanceForward(a.bal, m.Balance, a.logp, theta, ctx, m.Flow, B)
}

// BalancePenalty returns the balancing penalty included in the last LossForward's loss (0
// when it had none).
func (m *Model[T]) BalancePenalty() float64 {
	if m.last == nil || !m.last.balanced {
		return 0
	}
	return m.last.bal.penalty
}

// LogProb returns the per-row log p(θ | x) (B) of the last LossForward; the slice is reused
// by the next pass of the same batch size.
func (m *Model[T]) LogProb() []T {
	if m.last == nil {
		return nil
	}
	return m.last.logp
}

// LossBackward adds the gradient of the last LossForward's loss into Grads and, when dx
// is not nil, into dx (B, 1, L). It panics when no training-mode LossForward precedes it
// (Sample in between also invalidates it).
func (m *Model[T]) LossBackward(dx []T) {
	const op = "Model.LossBackward"
	a := m.last
	if a == nil || !a.feat.Train {
		panic(fmt.Sprintf("nn: %s: no training-mode LossForward to differentiate", op))
	}
	g := T(-1 / float64(a.B))
	for i := range a.dlogp {
		a.dlogp[i] = g
	}
	clear(a.dctx)
	if a.balanced {
		balanceBackward(a.bal, m.Flow.Grads, a.dctx, a.dlogp, a.feat.Out, m.Flow, a.B)
	}
	MAFBackward(m.Flow.Grads, nil, a.dctx, a.dlogp, a.work, a.feat.Out, m.Flow, a.B)
	FeaturizerBackward(dx, m.DFeat, a.dctx, a.feat, m.Feat)
}

// Sample draws S samples of standardised θ from p(θ | x) for each of E events,
//
//	out (E, S, D), x (E, 1, L), E = len(x)/L,
//
// running the featurizer once per event (evaluation mode, one batch of E) and then the
// flow's sampler (MAFSample). Each event's samples are drawn in parts of samplePart rows on
// up to Workers() goroutines; part p of event e draws from its own stream
// rng.New(base, e<<32 | p), base being one draw from src, so the samples depend on src but
// not on the number of workers. It panics when the lengths disagree.
func (m *Model[T]) Sample(out, x []T, S int, src *rng.Source) {
	const op = "Model.Sample"
	D, L := m.Config.D(), m.Config.Featurizer.L
	E := len(x) / L
	if E == 0 || len(x) != E*L || S < 1 || len(out) != E*S*D {
		panic(fmt.Sprintf("nn: %s: len(x) = %d, S = %d, len(out) = %d: want E·%d, S ≥ 1, E·S·%d", op, len(x), S, len(out), L, D))
	}
	ctx := m.Context(x)
	C := m.Flow.Shape.C
	base := src.Uint64()
	parts := (S + samplePart - 1) / samplePart
	w := min(Workers(), E*parts)
	for len(m.samplers) < w {
		m.samplers = append(m.samplers, NewMAFSampler(m.Flow, samplerChunk()))
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < w; g++ {
		wg.Add(1)
		go func(sp *MAFSampler[T]) {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= E*parts {
					return
				}
				e, p := k/parts, k%parts
				lo, hi := p*samplePart, min(S, (p+1)*samplePart)
				MAFSample(out[(e*S+lo)*D:(e*S+hi)*D], nil, sp, ctx[e*C:(e+1)*C], m.Flow, 1, hi-lo,
					rng.New(base, uint64(e)<<32|uint64(p)))
			}
		}(m.samplers[g])
	}
	wg.Wait()
}

// Context runs the featurizer in evaluation mode on E = len(x)/L events x (E, 1, L) and
// returns their context vectors (E, Context): the flow's conditioning input, which
// Model.Sample and the CUDA sampler (package cuda) share. The slice is the model's workspace,
// valid until the next call with the same E.
func (m *Model[T]) Context(x []T) []T {
	L := m.Config.Featurizer.L
	E := len(x) / L
	if E == 0 || len(x) != E*L {
		panic(fmt.Sprintf("nn: Model.Context: len(x) = %d, want a multiple of %d", len(x), L))
	}
	a := m.actsFor(E)
	m.last = nil
	return FeaturizerForward(a.feat, m.Feat, x, false)
}

// NamedTensor is one named parameter tensor of a Model: Data is the view of the flat slice
// at [Offset, Offset+len(Data)), Shape its dimensions (row-major, PyTorch's layout).
type NamedTensor[T Float] struct {
	Name   string
	Shape  []int
	Offset int
	Data   []T
}

// ParamTensors lists the views of Params in layout order, with names such as
// "featurizer.block0.conv1.weight", "featurizer.gru.weight_ih_l0", "flow.block3.w0",
// "flow.base.means". The gradient of a tensor is Grads[Offset : Offset+len(Data)].
func (m *Model[T]) ParamTensors() []NamedTensor[T] {
	c := m.Config
	fs, ms := c.Featurizer, c.Flow.MADE()
	var ts []NamedTensor[T]
	add := func(name string, v []T, shape ...int) {
		ts = append(ts, NamedTensor[T]{Name: name, Shape: shape, Offset: OffsetIn(m.Params, v), Data: v})
	}
	for i, b := range m.Feat.Blocks {
		s := fs.Block(i)
		p := fmt.Sprintf("featurizer.block%d.", i)
		if s.WeightNorm {
			// PyTorch's weight_norm names (weight_g holds one norm per output channel).
			for _, c := range []struct {
				name string
				v    []T
				n    BatchNormParams[T]
				in   int
				k    int
			}{{"conv1", b.W1, b.BN1, s.C, s.K}, {"conv2", b.W2, b.BN2, s.OC, s.K}, {"proj", b.WProj, b.BNProj, s.C, 1}} {
				if c.v != nil {
					add(p+c.name+".weight_v", c.v, s.OC, c.in, c.k)
					add(p+c.name+".weight_g", c.n.Gamma, s.OC)
					add(p+c.name+".bias", c.n.Beta, s.OC)
				}
			}
			continue
		}
		add(p+"conv1.weight", b.W1, s.OC, s.C, s.K)
		add(p+"bn1.weight", b.BN1.Gamma, s.OC)
		add(p+"bn1.bias", b.BN1.Beta, s.OC)
		add(p+"conv2.weight", b.W2, s.OC, s.OC, s.K)
		add(p+"bn2.weight", b.BN2.Gamma, s.OC)
		add(p+"bn2.bias", b.BN2.Beta, s.OC)
		if s.Proj() {
			add(p+"proj.weight", b.WProj, s.OC, s.C, 1)
			add(p+"bnproj.weight", b.BNProj.Gamma, s.OC)
			add(p+"bnproj.bias", b.BNProj.Beta, s.OC)
		}
	}
	g := fs.GRU()
	for l, w := range m.Feat.GRU.Layers {
		add(fmt.Sprintf("featurizer.gru.weight_ih_l%d", l), w.Wih, 3*g.H, g.inputSize(l))
		add(fmt.Sprintf("featurizer.gru.weight_hh_l%d", l), w.Whh, 3*g.H, g.H)
		add(fmt.Sprintf("featurizer.gru.bias_ih_l%d", l), w.Bih, 3*g.H)
		add(fmt.Sprintf("featurizer.gru.bias_hh_l%d", l), w.Bhh, 3*g.H)
	}
	add("featurizer.out.weight", m.Feat.W, fs.Context, fs.GRUHidden)
	add("featurizer.out.bias", m.Feat.Bias, fs.Context)
	for b, p := range m.Flow.P {
		n := fmt.Sprintf("flow.block%d.", b)
		add(n+"w0", p.W0, ms.H, ms.D)
		add(n+"wc", p.Wc, ms.H, ms.C)
		add(n+"b0", p.B0, ms.H)
		for l := range p.Wh {
			add(fmt.Sprintf("%swh%d", n, l+1), p.Wh[l], ms.H, ms.H)
			add(fmt.Sprintf("%sbh%d", n, l+1), p.Bh[l], ms.H)
		}
		add(n+"wo", p.Wo, 2*ms.D, ms.H)
		add(n+"bo", p.Bo, 2*ms.D)
	}
	if c.Flow.MoG() {
		p, D, H, P := m.Flow.PBase, ms.D, ms.H, 3*c.Flow.K
		add("flow.base.w0", p.W0, H, D)
		add("flow.base.wc", p.Wc, H, ms.C)
		add("flow.base.b0", p.B0, H)
		for l := range p.Wh {
			add(fmt.Sprintf("flow.base.wh%d", l+1), p.Wh[l], H, H)
			add(fmt.Sprintf("flow.base.bh%d", l+1), p.Bh[l], H)
		}
		add("flow.base.wo", p.Wo, P*D, H)
		add("flow.base.bo", p.Bo, P*D)
		return ts
	}
	add("flow.base.logits", m.Flow.Base.Logits, c.Flow.D, c.Flow.K)
	add("flow.base.means", m.Flow.Base.Means, c.Flow.D, c.Flow.K)
	add("flow.base.log_scales", m.Flow.Base.LogScales, c.Flow.D, c.Flow.K)
	return ts
}

// BufferTensors lists the views of Buffers in layout order
// ("featurizer.block0.bn1.running_mean", …).
func (m *Model[T]) BufferTensors() []NamedTensor[T] {
	var ts []NamedTensor[T]
	for i, b := range m.Feat.Blocks {
		bns := []BatchNormParams[T]{b.BN1, b.BN2}
		names := []string{"bn1", "bn2"}
		if b.WProj != nil {
			bns, names = append(bns, b.BNProj), append(names, "bnproj")
		}
		for j, bn := range bns {
			if bn.RunMean == nil { // weight norm
				continue
			}
			p := fmt.Sprintf("featurizer.block%d.%s.", i, names[j])
			ts = append(ts,
				NamedTensor[T]{Name: p + "running_mean", Shape: []int{len(bn.RunMean)}, Offset: OffsetIn(m.Buffers, bn.RunMean), Data: bn.RunMean},
				NamedTensor[T]{Name: p + "running_var", Shape: []int{len(bn.RunVar)}, Offset: OffsetIn(m.Buffers, bn.RunVar), Data: bn.RunVar})
		}
	}
	return ts
}

// OffsetIn returns the index in flat of v's first element, or −1 when v is empty; v must be
// a view of flat (it panics otherwise). The named views of a model's flat buffers (Feat,
// Flow's blocks) map to the same offsets in any mirror of those buffers, such as the CUDA
// backend's device copies. The address arithmetic never turns an integer back into a
// pointer.
func OffsetIn[T Float](flat, v []T) int {
	if len(v) == 0 {
		return -1
	}
	var z T
	d := uintptr(unsafe.Pointer(&v[0])) - uintptr(unsafe.Pointer(&flat[0]))
	off := int(d / unsafe.Sizeof(z))
	if off < 0 || off+len(v) > len(flat) {
		panic("nn: OffsetIn: view outside its flat slice")
	}
	return off
}

// logProbChunk is the number of rows EventLogProb evaluates at a time.
const logProbChunk = 256

// EventLogProb sets logp[i] = log q(θ_i | x), the flow's density of the rows of theta (n, D) in
// its standardised coordinates given one event x (1, 1, L), the featurizer run once in
// evaluation mode; len(logp) = n. It panics when the lengths disagree.
func (m *Model[T]) EventLogProb(logp, x, theta []T) {
	D, C := m.Config.D(), m.Flow.Shape.C
	n := len(logp)
	if len(x) != m.Config.Featurizer.L || len(theta) != n*D {
		panic(fmt.Sprintf("nn: Model.EventLogProb: len(x) = %d, len(theta) = %d for %d rows: want %d and n·%d", len(x), len(theta), n, m.Config.Featurizer.L, D))
	}
	ctx := append([]T(nil), m.Context(x)...)
	rows := min(n, logProbChunk)
	ws := NewMAFWork(m.Flow, rows)
	ctxRows := make([]T, rows*C)
	for r := range rows {
		copy(ctxRows[r*C:(r+1)*C], ctx)
	}
	for lo := 0; lo < n; lo += rows {
		hi := min(n, lo+rows)
		MAFLogProb(logp[lo:hi], ws, theta[lo*D:hi*D], ctxRows[:(hi-lo)*C], m.Flow, hi-lo)
	}
}

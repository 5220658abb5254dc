//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/mlcu/mlcu/nn"
)

// Model is the device mirror of an nn.Model for training and evaluation: its parameters,
// gradients and running statistics live in device buffers with nn's flat layouts, and
// LossForward/LossBackward run the featurizer (convolutions, batch norms, ReLUs, max-pools,
// GRU, output layer) and the flow's density pass on the device. The host model gives the
// shapes and, through Upload and Download, the values (checkpoints are written from it).
type Model struct {
	Config nn.ModelConfig
	host   *nn.Model[float32]

	Params, Grads, Buffers *F32

	acts map[int]*modelActs
	last *modelActs
}

// blockActs are one residual block's device activations (nn.ResBlockActs).
type blockActs struct {
	s                          nn.ResBlockShape
	inp                        *F32 // the forward input (a view of the previous stage)
	col1, h1, mean1, rstd1, a1 *F32
	col2, h2, mean2, rstd2     *F32
	hp, meanP, rstdP           *F32 // nil without projection
	out, s0, s1, work          *F32
	pooled, dOut, dPool        *F32
	poolIx                     *Buffer[int32]
}

// modelActs is the device workspace of one batch size.
type modelActs struct {
	B         int
	train     bool
	blocks    []*blockActs
	seq, dseq *F32 // (B, T, C)
	gru       *GRU
	hidden    *F32 // (B, GRUHidden)
	dhid      *F32
	ctx, dctx *F32 // (B, Context)
	maf       *MAF
	theta     *F32 // (B, D)
	logp      *F32 // (B)
	dlogp     *F32 // (B)
	hostLogp  []float32
	hostDlogp []float32
	all       []*F32
	ix        []*Buffer[int32]
}

// errMoG refuses a flow whose base is a MADE-MoG, which no kernel implements yet.
var errMoG = fmt.Errorf("cuda: the device kernels do not implement the flow's %q base: use --device cpu, or train with --base %s", nn.BaseMADEMoG, nn.BaseMixture)

// NewModel uploads host's parameters and running statistics. The device passes implement
// batch-normalised blocks only: a model with weight-normalised blocks is an error (for
// inference, nn.FoldWeightNorm turns it into an equivalent batch-norm model, which
// NewModelSampler does).
func NewModel(host *nn.Model[float32]) (*Model, error) {
	if host.Config.Featurizer.WeightNorm() {
		return nil, fmt.Errorf("cuda: the device passes do not implement weight-normalised blocks (featurizer norm %q): train on the cpu, or with --norm %s", nn.NormWeight, nn.NormBatch)
	}
	if host.Config.Flow.MoG() {
		return nil, errMoG
	}
	if err := Init(); err != nil {
		return nil, err
	}
	m := &Model{Config: host.Config, host: host, acts: map[int]*modelActs{}}
	var err error
	if m.Params, err = Alloc[float32](len(host.Params)); err == nil {
		if m.Grads, err = Alloc[float32](len(host.Grads)); err == nil {
			m.Buffers, err = Alloc[float32](max(len(host.Buffers), 1))
		}
	}
	if err != nil {
		m.Free()
		return nil, err
	}
	// A model without running statistics still allocates one element (its view is empty).
	m.Buffers = m.Buffers.Slice(0, len(host.Buffers))
	if err := m.Upload(); err != nil {
		m.Free()
		return nil, err
	}
	if err := m.Grads.Zero(); err != nil {
		m.Free()
		return nil, err
	}
	return m, nil
}

// Upload copies the host model's parameters and running statistics to the device.
func (m *Model) Upload() error {
	if err := m.Params.Upload(m.host.Params); err != nil {
		return err
	}
	return m.Buffers.Upload(m.host.Buffers)
}

// Download copies the device's parameters and running statistics into the host model.
func (m *Model) Download() error {
	if err := m.Params.Download(m.host.Params); err != nil {
		return err
	}
	return m.Buffers.Download(m.host.Buffers)
}

// Free releases the device memory.
func (m *Model) Free() {
	for _, a := range m.acts {
		a.free()
	}
	m.acts = nil
	m.Params.Free()
	m.Grads.Free()
	m.Buffers.Free()
}

func (a *modelActs) free() {
	for _, b := range a.all {
		b.Free()
	}
	for _, b := range a.ix {
		b.Free()
	}
	if a.gru != nil {
		a.gru.Free()
	}
	if a.maf != nil {
		a.maf.Free()
	}
}

// view returns the device view of the host slice v, a view into the host flat slice flat
// (the same offsets in dev, which mirrors flat), or nil when v is empty.
func view(dev *F32, flat, v []float32) *F32 {
	if len(v) == 0 {
		return nil
	}
	off := nn.OffsetIn(flat, v)
	return dev.Slice(off, off+len(v))
}

func (m *Model) actsFor(B int) (*modelActs, error) {
	if a, ok := m.acts[B]; ok {
		return a, nil
	}
	a := &modelActs{B: B}
	var err error
	alloc := func(n int) *F32 {
		if err != nil {
			return nil
		}
		var b *F32
		if b, err = Alloc[float32](max(n, 1)); err != nil {
			return nil
		}
		a.all = append(a.all, b)
		return b.Slice(0, n)
	}
	fs := m.Config.Featurizer
	fs.B = B
	// The scratch of a block's passes (s0, s1: the projection's skip in forward, dz and dh
	// in backward; work: the convolutions' backward) is dead between blocks: one buffer of
	// the largest size serves every block (for the paper preset at batch 512 that saves
	// ~10 GB of device memory).
	maxBOL, maxWork := 0, 0
	for i := range fs.Blocks {
		s := fs.Block(i)
		maxBOL = max(maxBOL, s.B*s.OC*s.L)
		maxWork = max(maxWork, Conv1dBackwardWork(s.B, s.C, s.L, s.OC, s.K), Conv1dBackwardWork(s.B, s.OC, s.L, s.OC, s.K))
	}
	s0, s1, work := alloc(maxBOL), alloc(maxBOL), alloc(maxWork)
	for i := range fs.Blocks {
		s := fs.Block(i)
		BOL := s.B * s.OC * s.L
		ba := &blockActs{s: s,
			col1: alloc(s.B * s.C * s.K * s.L), h1: alloc(BOL), mean1: alloc(s.OC), rstd1: alloc(s.OC), a1: alloc(BOL),
			col2: alloc(s.B * s.OC * s.K * s.L), h2: alloc(BOL), mean2: alloc(s.OC), rstd2: alloc(s.OC),
			out: alloc(BOL), dOut: alloc(BOL),
		}
		if err == nil {
			ba.s0, ba.s1 = s0.Slice(0, BOL), s1.Slice(0, BOL)
			ba.work = work.Slice(0, max(Conv1dBackwardWork(s.B, s.C, s.L, s.OC, s.K), Conv1dBackwardWork(s.B, s.OC, s.L, s.OC, s.K)))
		}
		if s.Proj() {
			ba.hp, ba.meanP, ba.rstdP = alloc(BOL), alloc(s.OC), alloc(s.OC)
		}
		if fs.Pool(i) {
			n := s.B * s.OC * (s.L / 2)
			ba.pooled, ba.dPool = alloc(n), alloc(n)
			if err == nil {
				var ix *Buffer[int32]
				if ix, err = Alloc[int32](max(n, 1)); err == nil {
					a.ix = append(a.ix, ix)
					ba.poolIx = ix.Slice(0, n)
				}
			}
		}
		a.blocks = append(a.blocks, ba)
	}
	g := fs.GRU()
	a.seq, a.dseq = alloc(g.B*g.T*g.C), alloc(g.B*g.T*g.C)
	a.hidden, a.dhid = alloc(B*fs.GRUHidden), alloc(B*fs.GRUHidden)
	a.ctx, a.dctx = alloc(B*fs.Context), alloc(B*fs.Context)
	a.theta, a.logp, a.dlogp = alloc(B*m.Config.D()), alloc(B), alloc(B)
	if err == nil {
		a.gru, err = NewGRU(g)
	}
	if err == nil {
		a.maf, err = NewMAF(m.host.Flow, B)
	}
	if err != nil {
		a.free()
		return nil, err
	}
	a.hostLogp, a.hostDlogp = make([]float32, B), make([]float32, B)
	m.acts[B] = a
	return a, nil
}

// LossForward returns the mean negative log-likelihood of the batch x (B, 1, L), theta
// (B, D) (host slices, copied to the device), as nn.Model.LossForward: training mode uses
// batch statistics and updates the running statistics on the device.
func (m *Model) LossForward(x, theta []float32, train bool) (float64, error) {
	D, L := m.Config.D(), m.Config.Featurizer.L
	B := len(theta) / D
	if B == 0 || len(theta) != B*D || len(x) != B*L {
		panic(fmt.Sprintf("cuda: Model.LossForward: len(x) = %d, len(theta) = %d: want B·%d and B·%d with B ≥ 1", len(x), len(theta), L, D))
	}
	a, err := m.actsFor(B)
	if err != nil {
		return 0, err
	}
	m.last = nil
	xd, err := m.input(a, x)
	if err != nil {
		return 0, err
	}
	if err := a.theta.Upload(theta); err != nil {
		return 0, err
	}
	if err := m.featurize(a, xd, train); err != nil {
		return 0, err
	}
	if err := a.maf.LogProb(a.logp, m.flowParams(), a.theta, a.ctx, B); err != nil {
		return 0, err
	}
	if err := a.logp.Download(a.hostLogp); err != nil {
		return 0, err
	}
	s := 0.0
	for _, v := range a.hostLogp {
		s += float64(v)
	}
	a.train = train
	m.last = a
	return -s / float64(B), nil
}

// LogProb returns the per-row log p(θ | x) of the last LossForward (host copy).
func (m *Model) LogProb() []float32 {
	if m.last == nil {
		return nil
	}
	return m.last.hostLogp
}

// Context runs the featurizer in evaluation mode on the E = len(x)/L events x (E, 1, L) on
// the device and returns their context vectors (E, Context) in device memory
// (nn.Model.Context); the buffer is reused by the next pass with E rows.
func (m *Model) Context(x []float32) (*F32, error) {
	L := m.Config.Featurizer.L
	E := len(x) / L
	if E == 0 || len(x) != E*L {
		panic(fmt.Sprintf("cuda: Model.Context: len(x) = %d, want a multiple of %d", len(x), L))
	}
	a, err := m.actsFor(E)
	if err != nil {
		return nil, err
	}
	m.last = nil
	xd, err := m.input(a, x)
	if err != nil {
		return nil, err
	}
	return a.ctx, m.featurize(a, xd, false)
}

// input copies x into a device buffer owned by a (the network input of the first block).
func (m *Model) input(a *modelActs, x []float32) (*F32, error) {
	if a.blocks[0].inp == nil {
		b, err := Alloc[float32](len(x))
		if err != nil {
			return nil, err
		}
		a.all = append(a.all, b)
		a.blocks[0].inp = b
	}
	return a.blocks[0].inp, a.blocks[0].inp.Upload(x)
}

func (m *Model) flowParams() *F32 {
	nf := m.Config.Featurizer.NumParams()
	return m.Params.Slice(nf, m.Params.Len())
}

func (m *Model) flowGrads() *F32 {
	nf := m.Config.Featurizer.NumParams()
	return m.Grads.Slice(nf, m.Grads.Len())
}

// bnViews are the device views of one batch norm's parameters (or gradients) and running
// statistics (nil for gradients, and for a batch norm that is absent).
type bnViews struct {
	gamma, beta     *F32
	runMean, runVar *F32
}

// blockViews are the device views of one residual block's parameters, or of their
// gradients: the two convolutions' weights and batch norms, and the projection's (nil
// without projection).
type blockViews struct {
	w1, w2, wp    *F32
	bn1, bn2, bnp bnViews
}

// blockParams returns the device views of block i's parameters and running statistics, or
// with grads = true of its gradients (running statistics nil).
func (m *Model) blockParams(i int, grads bool) blockViews {
	h := m.host
	flat, dev, p := h.Params, m.Params, h.Feat.Blocks[i]
	if grads {
		flat, dev, p = h.Grads, m.Grads, h.DFeat.Blocks[i]
	}
	bv := func(v []float32) *F32 {
		if grads || len(v) == 0 {
			return nil
		}
		return view(m.Buffers, h.Buffers, v)
	}
	hp := h.Feat.Blocks[i] // running statistics live with the parameters' views
	bn := func(gamma, beta, runMean, runVar []float32) bnViews {
		return bnViews{gamma: view(dev, flat, gamma), beta: view(dev, flat, beta), runMean: bv(runMean), runVar: bv(runVar)}
	}
	return blockViews{
		w1: view(dev, flat, p.W1), w2: view(dev, flat, p.W2), wp: view(dev, flat, p.WProj),
		bn1: bn(p.BN1.Gamma, p.BN1.Beta, hp.BN1.RunMean, hp.BN1.RunVar),
		bn2: bn(p.BN2.Gamma, p.BN2.Beta, hp.BN2.RunMean, hp.BN2.RunVar),
		bnp: bn(p.BNProj.Gamma, p.BNProj.Beta, hp.BNProj.RunMean, hp.BNProj.RunVar),
	}
}

// featurize runs nn.FeaturizerForward on the device: context vectors into a.ctx.
func (m *Model) featurize(a *modelActs, x *F32, train bool) error {
	fs := m.Config.Featurizer
	fs.B = a.B
	inp := x
	for i, ba := range a.blocks {
		ba.inp = inp
		if err := m.blockForward(ba, i, train); err != nil {
			return err
		}
		inp = ba.out
		if fs.Pool(i) {
			s := ba.s
			if err := MaxPool1dForward(ba.pooled, ba.poolIx, ba.out, s.B, s.OC, s.L); err != nil {
				return err
			}
			inp = ba.pooled
		}
	}
	g := fs.GRU()
	if err := transpose(a.seq, inp, g.B, g.C, g.T); err != nil {
		return err
	}
	h := m.host
	if err := a.gru.Forward(a.hidden, view(m.Params, h.Params, h.Feat.GRU.Flat), a.seq); err != nil {
		return err
	}
	return LinearForward(a.ctx, a.hidden, view(m.Params, h.Params, h.Feat.W), view(m.Params, h.Params, h.Feat.Bias), a.B, fs.GRUHidden, fs.Context)
}

func transpose(dst, src *F32, B, M, N int) error {
	return mlcuTransposeLast2F32(dst, src, B, M, N)
}

// blockForward is nn.ResBlockForward on the device.
func (m *Model) blockForward(ba *blockActs, i int, train bool) error {
	s := ba.s
	B, Cn, OC, L, K := s.B, s.C, s.OC, s.L, s.K
	p := m.blockParams(i, false)
	bn := func(out, mean, rstd, x *F32, v bnViews) error {
		if train {
			return BatchNorm1dForward(out, mean, rstd, x, v.gamma, v.beta, v.runMean, v.runVar, B, OC, L, nn.BatchNormMomentum, nn.BatchNormEps)
		}
		return BatchNorm1dEvalForward(out, x, v.gamma, v.beta, v.runMean, v.runVar, B, OC, L, nn.BatchNormEps)
	}
	// BN1 → ReLU fused into one pass (BatchNorm1dReLUForward; the backward is unfused).
	bnReLU := func(out, mean, rstd, x *F32, v bnViews) error {
		if train {
			return BatchNorm1dReLUForward(out, mean, rstd, x, v.gamma, v.beta, v.runMean, v.runVar, B, OC, L, nn.BatchNormMomentum, nn.BatchNormEps)
		}
		return BatchNorm1dReLUEvalForward(out, x, v.gamma, v.beta, v.runMean, v.runVar, B, OC, L, nn.BatchNormEps)
	}
	steps := []func() error{
		func() error { return Conv1dForward(ba.h1, ba.col1, ba.inp, p.w1, nil, B, Cn, L, OC, K) },
		func() error { return bnReLU(ba.a1, ba.mean1, ba.rstd1, ba.h1, p.bn1) },
		func() error { return Conv1dForward(ba.h2, ba.col2, ba.a1, p.w2, nil, B, OC, L, OC, K) },
		func() error { return bn(ba.out, ba.mean2, ba.rstd2, ba.h2, p.bn2) },
	}
	for _, f := range steps {
		if err := f(); err != nil {
			return err
		}
	}
	skip := ba.inp
	if s.Proj() {
		if err := Conv1dForward(ba.hp, nil, ba.inp, p.wp, nil, B, Cn, L, OC, 1); err != nil {
			return err
		}
		skip = ba.s0
		if err := bn(skip, ba.meanP, ba.rstdP, ba.hp, p.bnp); err != nil {
			return err
		}
	}
	if err := mlcuAddF32(ba.out, skip, ba.out.n); err != nil {
		return err
	}
	return ReLUForward(ba.out, ba.out)
}

// LossBackward adds the gradient of the last training-mode LossForward's loss into Grads
// (nn.Model.LossBackward).
func (m *Model) LossBackward() error {
	a := m.last
	if a == nil || !a.train {
		panic("cuda: Model.LossBackward: no training-mode LossForward to differentiate")
	}
	g := float32(-1 / float64(a.B))
	for i := range a.hostDlogp {
		a.hostDlogp[i] = g
	}
	if err := a.dlogp.Upload(a.hostDlogp); err != nil {
		return err
	}
	if err := a.dctx.Zero(); err != nil {
		return err
	}
	if err := a.maf.Backward(m.flowGrads(), nil, a.dctx, a.dlogp, m.flowParams(), a.ctx, a.B); err != nil {
		return err
	}
	return m.featurizerBackward(a)
}

// featurizerBackward is nn.FeaturizerBackward on the device (no input gradient).
func (m *Model) featurizerBackward(a *modelActs) error {
	fs := m.Config.Featurizer
	fs.B = a.B
	h := m.host
	if err := a.dhid.Zero(); err != nil {
		return err
	}
	if err := LinearBackward(a.dhid, view(m.Grads, h.Grads, h.DFeat.W), view(m.Grads, h.Grads, h.DFeat.Bias), a.dctx, a.hidden,
		view(m.Params, h.Params, h.Feat.W), a.B, fs.GRUHidden, fs.Context); err != nil {
		return err
	}
	if err := a.dseq.Zero(); err != nil {
		return err
	}
	g := fs.GRU()
	if err := a.gru.Backward(a.dseq, view(m.Grads, h.Grads, h.DFeat.GRU.Flat), a.dhid, view(m.Params, h.Params, h.Feat.GRU.Flat), a.seq); err != nil {
		return err
	}
	last := fs.Blocks - 1
	dlast := a.blocks[last].dOut
	if fs.Pool(last) {
		dlast = a.blocks[last].dPool
	}
	if err := transpose(dlast, a.dseq, g.B, g.T, g.C); err != nil {
		return err
	}
	for i := last; i >= 0; i-- {
		ba := a.blocks[i]
		s := ba.s
		if fs.Pool(i) {
			if err := ba.dOut.Zero(); err != nil {
				return err
			}
			if err := MaxPool1dBackward(ba.dOut, ba.dPool, ba.poolIx, s.B, s.OC, s.L); err != nil {
				return err
			}
		}
		var dinp *F32
		if i > 0 {
			dinp = a.blocks[i-1].dOut
			if fs.Pool(i - 1) {
				dinp = a.blocks[i-1].dPool
			}
			if err := dinp.Zero(); err != nil {
				return err
			}
		}
		if err := m.blockBackward(dinp, ba, i); err != nil {
			return err
		}
	}
	return nil
}

// blockBackward is nn.ResBlockBackward on the device.
func (m *Model) blockBackward(dinp *F32, ba *blockActs, i int) error {
	s := ba.s
	B, Cn, OC, L, K := s.B, s.C, s.OC, s.L, s.K
	p, d := m.blockParams(i, false), m.blockParams(i, true)
	dz, dh := ba.s0, ba.s1
	steps := []func() error{
		dz.Zero,
		func() error { return ReLUBackward(dz, ba.dOut, ba.out) },
	}
	if s.Proj() {
		steps = append(steps, dh.Zero,
			func() error {
				return BatchNorm1dBackward(dh, d.bnp.gamma, d.bnp.beta, dz, ba.hp, ba.meanP, ba.rstdP, p.bnp.gamma, B, OC, L)
			},
			func() error { return Conv1dBackward(dinp, d.wp, nil, ba.work, dh, ba.inp, p.wp, B, Cn, L, OC, 1) })
	} else if dinp != nil {
		steps = append(steps, func() error { return mlcuAddF32(dinp, dz, dz.n) })
	}
	da := dz
	steps = append(steps, dh.Zero,
		func() error {
			return BatchNorm1dBackward(dh, d.bn2.gamma, d.bn2.beta, dz, ba.h2, ba.mean2, ba.rstd2, p.bn2.gamma, B, OC, L)
		},
		da.Zero,
		func() error { return Conv1dBackward(da, d.w2, nil, ba.work, dh, ba.col2, p.w2, B, OC, L, OC, K) },
		func() error { return ReLUBackward(da, da, ba.a1) },
		dh.Zero,
		func() error {
			return BatchNorm1dBackward(dh, d.bn1.gamma, d.bn1.beta, da, ba.h1, ba.mean1, ba.rstd1, p.bn1.gamma, B, OC, L)
		},
		func() error { return Conv1dBackward(dinp, d.w1, nil, ba.work, dh, ba.col1, p.w1, B, Cn, L, OC, K) },
	)
	for _, f := range steps {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// ZeroGrads sets the device gradients to 0.
func (m *Model) ZeroGrads() error { return m.Grads.Zero() }

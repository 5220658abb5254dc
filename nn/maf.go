package nn

import (
	"fmt"

	"github.com/mlcu/mlcu/internal/rng"
)

// The conditional masked autoregressive flow (Papamakarios et al. 2017): NB MADE blocks on a
// Gaussian-mixture base. In the density direction block b maps x_b to x_{b+1}, with x_0 = θ
// and u = x_NB:
//
//	log p(θ | c) = log p_base(u) + Σ_b log|det ∂x_{b+1}/∂x_b| = log p_base(u) − Σ_b Σ_i α_b,i
//
// Block b's ordering is a random permutation of 0..D−1 fixed at construction: the
// Fisher–Yates shuffle of (0, …, D−1) by rng.New(OrderSeed, b).Shuffle. Sampling draws u from
// the base and inverts the blocks from the last to the first.

// MAFShape gives a flow's architecture: D dimensions, C context features, NB MADE blocks of
// L hidden layers of H units, K base components per dimension, and the seed of the blocks'
// orderings. It is all a saved model needs to rebuild the flow around its parameters.
type MAFShape struct {
	D         int    `json:"dim"`        // dimensions of θ (≥ 2)
	C         int    `json:"context"`    // context features (≥ 0)
	H         int    `json:"hidden"`     // hidden units per layer (≥ D)
	L         int    `json:"layers"`     // hidden layers per MADE (≥ 1)
	NB        int    `json:"blocks"`     // MADE blocks (≥ 1)
	K         int    `json:"components"` // base mixture components per dimension (≥ 1)
	OrderSeed uint64 `json:"order_seed"` // seed of the blocks' orderings
	// Base is the base density: BaseMixture (also when empty, as in models saved before the
	// field existed) or BaseMADEMoG.
	Base string `json:"base,omitempty"`
}

// The flow's base densities (MAFShape.Base).
const (
	// BaseMixture: independent dimensions, each a K-component Gaussian mixture with learned,
	// unconditional parameters (mixture.go).
	BaseMixture = "mixture"
	// BaseMADEMoG: a MADE-MoG (mademog.go), each dimension's K-component mixture conditioned
	// on the context and the earlier dimensions, with its own ordering (BaseOrder).
	BaseMADEMoG = "made-mog"
)

// MoG reports whether the base is a MADE-MoG.
func (s MAFShape) MoG() bool { return s.Base == BaseMADEMoG }

// baseParams returns the number of the base's parameters.
func (s MAFShape) baseParams() int {
	if s.MoG() {
		return MADEMoGNumParams(s.MADE(), s.K)
	}
	return s.Mixture().NumParams()
}

// MADE returns the shape of each block.
func (s MAFShape) MADE() MADEShape { return MADEShape{D: s.D, C: s.C, H: s.H, L: s.L} }

// Mixture returns the shape of the base.
func (s MAFShape) Mixture() MixtureShape { return MixtureShape{D: s.D, K: s.K} }

// NumParams returns NB·MADE().NumParams() plus the base's: Mixture().NumParams(), or
// MADEMoGNumParams(MADE(), K).
func (s MAFShape) NumParams() int { return s.NB*s.MADE().NumParams() + s.baseParams() }

// BaseOrder returns a MADE-MoG base's ordering: the shuffle of stream NB (the blocks use
// 0 … NB−1).
func (s MAFShape) BaseOrder() []int { return s.order(s.NB) }

// Orders returns the NB blocks' orderings (see the comment above MAFShape).
func (s MAFShape) Orders() [][]int {
	orders := make([][]int, s.NB)
	for b := range orders {
		orders[b] = s.order(b)
	}
	return orders
}

// order returns the Fisher–Yates shuffle of (0, …, D−1) by rng.New(OrderSeed, stream).
func (s MAFShape) order(stream int) []int {
	o := make([]int, s.D)
	for i := range o {
		o[i] = i
	}
	rng.New(s.OrderSeed, uint64(stream)).Shuffle(s.D, func(i, j int) { o[i], o[j] = o[j], o[i] })
	return o
}

// MAF is a flow: its blocks (orderings and masks), and its parameters and their gradients,
// each one allocation addressed by named views, in this order:
//
//	block 0, block 1, …, block NB−1 (each MADEParams' layout), then the base (MixtureParams',
//	or a MADE-MoG's MADEParams layout).
type MAF[T Float] struct {
	Shape  MAFShape
	Made   []*MADE[T]       // (NB) blocks
	MoG    *MADE[T]         // the MADE-MoG base; nil for the mixture base
	Params []T              // (NumParams) all parameters
	Grads  []T              // (NumParams) their gradients, same layout
	P      []MADEParams[T]  // (NB) views of Params
	Base   MixtureParams[T] // view of Params (empty with a MADE-MoG base)
	PBase  MADEParams[T]    // view of Params: the MADE-MoG base (empty with the mixture base)
	G      []MADEParams[T]  // (NB) views of Grads
	DBase  MixtureParams[T] // view of Grads
	GBase  MADEParams[T]    // view of Grads
}

// NewMAF returns the flow of shape s with zero parameters (see Init). It panics on a bad
// shape.
func NewMAF[T Float](s MAFShape) *MAF[T] {
	if s.NB < 1 {
		panic(fmt.Sprintf("nn: NewMAF: bad shape %+v: need NB ≥ 1", s))
	}
	s.MADE().check()
	s.Mixture().check()
	if s.Base != "" && s.Base != BaseMixture && s.Base != BaseMADEMoG {
		panic(fmt.Sprintf("nn: NewMAF: base %q: want %q or %q", s.Base, BaseMixture, BaseMADEMoG))
	}
	f := &MAF[T]{Shape: s, Params: make([]T, s.NumParams()), Grads: make([]T, s.NumParams())}
	for _, o := range s.Orders() {
		f.Made = append(f.Made, NewMADE[T](s.MADE(), o))
	}
	if s.MoG() {
		f.MoG = NewMADEMoG[T](s.MADE(), s.BaseOrder(), s.K)
	}
	f.SetViews(f.Params, f.Grads)
	return f
}

// SetViews makes params and grads (each of length NumParams) the flow's Params and Grads
// and rebuilds the named views of both.
func (f *MAF[T]) SetViews(params, grads []T) {
	f.Params, f.Grads = params, grads
	f.P, f.Base = f.View(params)
	f.PBase = f.BaseNet(params)
	f.G, f.DBase = f.View(grads)
	f.GBase = f.BaseNet(grads)
}

// BaseNet returns the view of a MADE-MoG base's parameters in flat (the layout of Params),
// or empty views with the mixture base.
func (f *MAF[T]) BaseNet(flat []T) MADEParams[T] {
	s := f.Shape
	flowCheckLen("MAF.BaseNet", "flat", len(flat), s.NumParams())
	if !s.MoG() {
		return MADEParams[T]{}
	}
	return NewMADEMoGParams(s.MADE(), s.K, flat[s.NB*s.MADE().NumParams():])
}

// View returns the named views of flat, a buffer with the layout of Params (length
// NumParams): another gradient buffer, or a masked copy of the parameters.
func (f *MAF[T]) View(flat []T) ([]MADEParams[T], MixtureParams[T]) {
	s := f.Shape
	flowCheckLen("MAF.View", "flat", len(flat), s.NumParams())
	n := s.MADE().NumParams()
	blocks := make([]MADEParams[T], s.NB)
	for b := range blocks {
		blocks[b] = NewMADEParams(s.MADE(), flat[b*n:(b+1)*n])
	}
	if s.MoG() {
		return blocks, MixtureParams[T]{}
	}
	return blocks, NewMixtureParams(s.Mixture(), flat[s.NB*n:])
}

// Init draws all parameters: block b's from rng.New(seed, b) (MADEParams.Init), the base's
// from rng.New(seed, NB) (MixtureParams.Init, or MADEParams.InitMoG). It does not touch
// Grads.
func (f *MAF[T]) Init(seed uint64) {
	for b, p := range f.P {
		p.Init(f.Shape.MADE(), rng.New(seed, uint64(b)))
	}
	if f.Shape.MoG() {
		f.PBase.InitMoG(f.Shape.MADE(), f.Shape.K, rng.New(seed, uint64(f.Shape.NB)))
		return
	}
	f.Base.Init(rng.New(seed, uint64(f.Shape.NB)))
}

// maskedCopy copies f's parameters into eff (same layout) and applies the blocks' masks to
// the views w of eff, and the MADE-MoG base's to wb (its view of eff; unused otherwise).
func (f *MAF[T]) maskedCopy(eff []T, w []MADEParams[T], wb MADEParams[T]) {
	copy(eff, f.Params)
	for b, m := range f.Made {
		w[b].ApplyMasks(m)
	}
	if f.MoG != nil {
		wb.ApplyMasks(f.MoG)
	}
}

// MAFWork is the workspace of MAFLogProb and MAFBackward for up to B rows: the masked
// weights, the activations saved for backward and the backward's scratch. Give each
// goroutine its own.
type MAFWork[T Float] struct {
	B       int
	eff     []T              // masked copy of the flow's parameters (layout of Params)
	w       []MADEParams[T]  // views of eff
	base    MixtureParams[T] // view of eff
	X       [][]T            // NB+1 × (B, D): X[0] = θ, X[b+1] = block b's output, X[NB] = u
	LogDet  [][]T            // NB × (B)
	Acts    []MADEActs[T]    // NB
	BaseLP  []T              // (B) log p_base(u)
	Resp    []T              // (B, D, K) base responsibilities
	dX      [2][]T           // (B, D) backward ping-pong
	scratch []T              // MADEBackwardScratchLen (MADEMoGScratchLen with a MADE-MoG base)
	gflat   []T              // the gradient buffer gw and gbase view
	gw      []MADEParams[T]  // cached views of gflat
	gbase   MixtureParams[T] // cached view of gflat
	// With a MADE-MoG base: its effective weights (a view of eff), its activations and the
	// cached view of its gradients in gflat.
	wb, gnet MADEParams[T]
	baseActs MADEActs[T]
}

// NewMAFWork allocates a workspace for f and up to B rows.
func NewMAFWork[T Float](f *MAF[T], B int) *MAFWork[T] {
	s := f.Shape
	ws := &MAFWork[T]{
		B:       B,
		eff:     make([]T, s.NumParams()),
		BaseLP:  make([]T, B),
		Resp:    make([]T, B*s.D*s.K),
		dX:      [2][]T{make([]T, B*s.D), make([]T, B*s.D)},
		scratch: make([]T, MADEBackwardScratchLen(s.MADE(), B)),
	}
	ws.w, ws.base = f.View(ws.eff)
	if s.MoG() {
		ws.wb = f.BaseNet(ws.eff)
		ws.baseActs = NewMADEMoGActs[T](s.MADE(), s.K, B)
		ws.scratch = make([]T, max(len(ws.scratch), MADEMoGScratchLen(s.MADE(), s.K, B)))
	}
	for range s.NB + 1 {
		ws.X = append(ws.X, make([]T, B*s.D))
	}
	for range s.NB {
		ws.LogDet = append(ws.LogDet, make([]T, B))
		ws.Acts = append(ws.Acts, NewMADEActs[T](s.MADE(), B))
	}
	return ws
}

// MAFLogProb evaluates the flow's conditional log-density of B rows (B ≤ ws.B):
//
//	logp (B) = log p(θ | c),  theta (B, D), ctx (B, C) (nil when C = 0).
//
// It refreshes ws's masked copy of f's parameters and saves in ws what MAFBackward needs
// (with ctx, which the caller keeps).
func MAFLogProb[T Float](logp []T, ws *MAFWork[T], theta, ctx []T, f *MAF[T], B int) {
	const op = "MAFLogProb"
	s := f.Shape
	D := s.D
	if B > ws.B {
		panic(fmt.Sprintf("nn: %s: B = %d rows, workspace holds %d", op, B, ws.B))
	}
	flowCheckLen(op, "logp", len(logp), B)
	flowCheckLen(op, "theta", len(theta), B*D)
	flowCheckLen(op, "ctx", len(ctx), B*s.C)
	f.maskedCopy(ws.eff, ws.w, ws.wb)
	copy(ws.X[0], theta)
	for b, m := range f.Made {
		MADEForward(ws.X[b+1][:B*D], ws.LogDet[b][:B], ws.Acts[b], ws.X[b][:B*D], ctx, ws.w[b], m, B)
	}
	if f.MoG != nil {
		MADEMoGLogProb(ws.BaseLP[:B], ws.Resp[:B*D*s.K], ws.baseActs, ws.X[s.NB][:B*D], ctx, ws.wb, f.MoG, B)
	} else {
		MixtureLogProb(ws.BaseLP[:B], ws.Resp[:B*D*s.K], ws.X[s.NB][:B*D], ws.base, B, D, s.K)
	}
	for r := range B {
		lp := ws.BaseLP[r]
		for b := range s.NB {
			lp += ws.LogDet[b][r]
		}
		logp[r] = lp
	}
}

// MAFBackward adds the gradients of MAFLogProb into dparams (a buffer with the layout of
// f.Params, usually f.Grads), dtheta (B, D) and dctx (B, C), given the gradient dlogp (B)
// of the loss with respect to logp (for the mean negative log-likelihood, −1/B each). ws
// must hold the forward pass of these B rows and ctx be its context. dtheta and dctx may be
// nil to skip them; dctx is what a featurizer below the flow is trained with.
func MAFBackward[T Float](dparams, dtheta, dctx, dlogp []T, ws *MAFWork[T], ctx []T, f *MAF[T], B int) {
	const op = "MAFBackward"
	s := f.Shape
	D := s.D
	if B > ws.B {
		panic(fmt.Sprintf("nn: %s: B = %d rows, workspace holds %d", op, B, ws.B))
	}
	flowCheckLen(op, "dlogp", len(dlogp), B)
	if dtheta != nil {
		flowCheckLen(op, "dtheta", len(dtheta), B*D)
	}
	if len(ws.gflat) == 0 || len(dparams) == 0 || &ws.gflat[0] != &dparams[0] {
		ws.gw, ws.gbase = f.View(dparams)
		ws.gnet = f.BaseNet(dparams)
		ws.gflat = dparams
	}
	du, dx := ws.dX[0][:B*D], ws.dX[1][:B*D]
	clear(du)
	if f.MoG != nil {
		MADEMoGBackward(du, dctx, ws.gnet, dlogp, ws.Resp[:B*D*s.K], ws.scratch, ws.baseActs, ws.X[s.NB][:B*D], ctx, ws.wb, f.MoG, B)
	} else {
		MixtureBackward(du, ws.gbase, dlogp, ws.Resp[:B*D*s.K], ws.X[s.NB][:B*D], ws.base, B, D, s.K)
	}
	for b := s.NB - 1; b >= 0; b-- {
		clear(dx)
		// dlogp reaches block b's log-determinant with weight 1.
		MADEBackward(dx, dctx, ws.gw[b], du, dlogp, ws.scratch, ws.Acts[b], ws.X[b+1][:B*D], ws.X[b][:B*D], ctx, ws.w[b], f.Made[b], B)
		du, dx = dx, du
	}
	if dtheta != nil {
		for i, g := range du {
			dtheta[i] += g
		}
	}
}

// MAFSampler is the workspace of MAFSample: the masked weights, the context terms and the
// buffers of one chunk of rows. Give each goroutine its own.
type MAFSampler[T Float] struct {
	// Naive makes MAFSample invert each block with MADEInverseNaive (D full passes) instead
	// of MADEInverse: the reference and benchmark baseline. The samples are the same up to
	// rounding.
	Naive bool

	n     int              // rows per chunk
	eff   []T              // masked copy of the flow's parameters
	w     []MADEParams[T]  // views of eff
	base  MixtureParams[T] // view of eff
	cterm [][]T            // NB × (B, H) context terms of the current call
	ct    []T              // (n, H) context terms of a chunk's rows
	acts  MADEActs[T]      // n rows
	x, y  []T              // (n, D)
	// With a MADE-MoG base: its effective weights, context terms of the call, activations
	// (n rows) and random draws (n, D, 2).
	wb       MADEParams[T]
	bterm    []T
	baseActs MADEActs[T]
	draws    []float64
}

// NewMAFSampler allocates a sampler for f that inverts chunk rows at a time. A chunk of about
// 128 rows keeps the working set in cache while giving the matrix products some height (for
// the paper flow on gonum's BLAS, 128 rows measured ≈ 25% faster than 256).
func NewMAFSampler[T Float](f *MAF[T], chunk int) *MAFSampler[T] {
	if chunk < 1 {
		panic(fmt.Sprintf("nn: NewMAFSampler: chunk = %d, want ≥ 1", chunk))
	}
	s := f.Shape
	sp := &MAFSampler[T]{
		n:     chunk,
		eff:   make([]T, s.NumParams()),
		cterm: make([][]T, s.NB),
		ct:    make([]T, chunk*s.H),
		acts:  NewMADEActs[T](s.MADE(), chunk),
		x:     make([]T, chunk*s.D),
		y:     make([]T, chunk*s.D),
	}
	sp.w, sp.base = f.View(sp.eff)
	if s.MoG() {
		sp.wb = f.BaseNet(sp.eff)
		sp.baseActs = NewMADEMoGActs[T](s.MADE(), s.K, chunk)
		sp.draws = make([]float64, 2*chunk*s.D)
	}
	return sp
}

// MAFSample draws S samples of θ from p(θ | c) for each of B contexts:
//
//	out (B, S, D), u (B, S, D) the base draws (nil to skip), ctx (B, C) (nil when C = 0).
//
// Rows are drawn in order, each u from MixtureSample with src, so the samples do not depend
// on the chunk size. Each block's context term (MADEContext) is computed once per call for
// the B contexts; then every chunk of rows is pushed through the blocks' inverses from the
// last block to the first. The call refreshes sp's masked copy of f's parameters. One
// goroutine; split the rows across goroutines, each with its own sampler and source, for
// more.
func MAFSample[T Float](out, u []T, sp *MAFSampler[T], ctx []T, f *MAF[T], B, S int, src *rng.Source) {
	const op = "MAFSample"
	s := f.Shape
	D, H := s.D, s.H
	flowCheckLen(op, "out", len(out), B*S*D)
	if u != nil {
		flowCheckLen(op, "u", len(u), B*S*D)
	}
	flowCheckLen(op, "ctx", len(ctx), B*s.C)
	f.maskedCopy(sp.eff, sp.w, sp.wb)
	if f.MoG != nil {
		if cap(sp.bterm) < B*H {
			sp.bterm = make([]T, B*H)
		}
		sp.bterm = sp.bterm[:B*H]
		MADEContext(sp.bterm, ctx, sp.wb, f.MoG, B)
	}
	for b, m := range f.Made {
		if cap(sp.cterm[b]) < B*H {
			sp.cterm[b] = make([]T, B*H)
		}
		sp.cterm[b] = sp.cterm[b][:B*H]
		MADEContext(sp.cterm[b], ctx, sp.w[b], m, B)
	}
	N := B * S
	for r0 := 0; r0 < N; r0 += sp.n {
		n := min(sp.n, N-r0)
		y, x, ct := sp.y[:n*D], sp.x[:n*D], sp.ct[:n*H]
		if f.MoG != nil {
			for r := range n {
				c := (r0 + r) / S
				copy(ct[r*H:(r+1)*H], sp.bterm[c*H:(c+1)*H])
			}
			MADEMoGSample(y, sp.baseActs, ct, sp.draws, sp.wb, f.MoG, n, src)
		} else {
			MixtureSample(y, sp.base, n, D, s.K, src)
		}
		if u != nil {
			copy(u[r0*D:], y)
		}
		for b := s.NB - 1; b >= 0; b-- {
			cb := sp.cterm[b]
			for r := range n {
				c := (r0 + r) / S
				copy(ct[r*H:(r+1)*H], cb[c*H:(c+1)*H])
			}
			if sp.Naive {
				MADEInverseNaive(x, sp.acts, y, ct, sp.w[b], f.Made[b], n)
			} else {
				MADEInverse(x, sp.acts, y, ct, sp.w[b], f.Made[b], n)
			}
			x, y = y, x
		}
		copy(out[r0*D:], y)
	}
}

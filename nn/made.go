package nn

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/internal/rng"
)

// MADE: the masked autoregressive network of one flow block (Germain et al. 2015, "MADE:
// Masked Autoencoder for Distribution Estimation"), used as an affine autoregressive
// transform in the density direction (Papamakarios et al. 2017, "Masked Autoregressive Flow
// for Density Estimation"):
//
//	u_i = (x_i − μ_i(x_<i, c)) · exp(−α_i(x_<i, c)),   log|det ∂u/∂x| = −Σ_i α_i
//
// where x_<i are the dimensions before i in the block's ordering and c is the context.
//
// Degrees. Input (and output) dimension i has degree InDeg[i] ∈ 1..D, its 1-based position
// in the block's ordering. Hidden unit h has degree HidDeg[h] = ⌊h·D/H⌋ ∈ 0..D−1, the same in
// every hidden layer: contiguous groups of ⌊H/D⌋ or ⌈H/D⌉ units of equal degree, in
// increasing order. Up to a permutation of the hidden units this is the usual deterministic
// assignment (cycling through the degrees, as nflows does; the MADE paper draws them at
// random), with one change: degrees start at 0, not 1. Units of degree 0 see no input
// dimension, only the context, so the first dimension of every block's ordering is
// conditioned on the context too (with degrees 1..D−1, as in the paper and in nflows, that
// dimension's shift and scale would be constants). The contiguous grouping is what the
// incremental inverse (MADEInverse) exploits: the units a step must compute are one
// contiguous range, and the units they read are a prefix.
//
// Masks (1 where a connection exists, 0 elsewhere; stored as T for a GPU backend):
//
//	M0 (H, D):  M0[h, j]  = 1 if HidDeg[h] ≥ InDeg[j]   input → first hidden layer
//	Mh (H, H):  Mh[h, g]  = 1 if HidDeg[h] ≥ HidDeg[g]  hidden → hidden (every layer)
//	Mo (2D, H): Mo[2i+s, h] = 1 if InDeg[i] > HidDeg[h] last hidden → outputs (s = 0, 1)
//
// The context enters the first hidden layer through an unmasked linear map Wc (H, C). The
// network is
//
//	h_0 = relu(x·(W0⊙M0)ᵀ + c·Wcᵀ + b0),  h_l = relu(h_{l−1}·(Wh_l⊙Mh)ᵀ + bh_l),
//	o = h_{L−1}·(Wo⊙Mo)ᵀ + bo,  μ_i = o_{2i},  α_i = A·tanh(o_{2i+1}/A), A = MADELogScaleBound.
//
// The log-scale bound is a soft clamp: α is the raw output near 0 and saturates smoothly at
// ±A, so one block scales a dimension by at most e^A ≈ 20 and its gradient never vanishes
// abruptly. Backward includes its derivative 1 − (α/A)².
//
// Masked weights: the forward and backward functions take the effective weights W⊙M (see
// MADEParams.ApplyMasks: the MAF keeps a masked copy of its parameters per workspace) and
// MADEBackward masks the weight gradients, so a masked parameter's gradient is exactly 0.

// MADELogScaleBound is A in the log-scale clamp α = A·tanh(raw/A).
const MADELogScaleBound = 3

// MADEShape gives a MADE's sizes: D autoregressive dimensions (D ≥ 2), C context features
// (C ≥ 0), L hidden layers (L ≥ 1) of H units each (H ≥ D, so that every degree has a unit).
type MADEShape struct {
	D, C, H, L int
}

func (s MADEShape) check() {
	if s.D < 2 || s.C < 0 || s.L < 1 || s.H < s.D {
		panic(fmt.Sprintf("nn: MADE: bad shape %+v: need D ≥ 2, C ≥ 0, L ≥ 1, H ≥ D", s))
	}
}

// NumParams returns the number of parameters of one MADE: W0, Wc, b0, L−1 hidden layers,
// Wo and bo.
func (s MADEShape) NumParams() int {
	return s.H*s.D + s.H*s.C + s.H + (s.L-1)*(s.H*s.H+s.H) + 2*s.D*s.H + 2*s.D
}

// MADE holds one block's shape, ordering, degrees and masks (see the comment above
// MADELogScaleBound). It holds no parameters: those are MADEParams views.
type MADE[T Float] struct {
	MADEShape
	// P is the number of outputs per dimension: 2 (μ, α) for an affine block (NewMADE),
	// 3K for a mixture-of-Gaussians base (NewMADEMoG). Mo, Wo, Bo and MADEActs.O have P·D
	// rows, dimension i's at P·i … P·i+P−1.
	P        int
	Order    []int // (D) Order[k] is the dimension at 0-based position k of the ordering
	InDeg    []int // (D) InDeg[Order[k]] = k+1
	HidDeg   []int // (H) HidDeg[h] = ⌊h·D/H⌋, nondecreasing
	GroupEnd []int // (D) GroupEnd[g] = number of hidden units of degree ≤ g
	M0       []T   // (H, D)
	Mh       []T   // (H, H)
	Mo       []T   // (P·D, H)
}

// NewMADE returns the MADE of shape s with the given ordering, a permutation of 0..D−1
// (Order[k] is the dimension generated k-th). It panics on a bad shape or ordering.
func NewMADE[T Float](s MADEShape, order []int) *MADE[T] { return newMADE[T](s, order, 2) }

// newMADE is NewMADE with P outputs per dimension.
func newMADE[T Float](s MADEShape, order []int, P int) *MADE[T] {
	s.check()
	if len(order) != s.D {
		panic(fmt.Sprintf("nn: NewMADE: len(order) = %d, want %d", len(order), s.D))
	}
	D, H := s.D, s.H
	m := &MADE[T]{
		MADEShape: s,
		P:         P,
		Order:     append([]int(nil), order...),
		InDeg:     make([]int, D),
		HidDeg:    make([]int, H),
		GroupEnd:  make([]int, D),
		M0:        make([]T, H*D),
		Mh:        make([]T, H*H),
		Mo:        make([]T, P*D*H),
	}
	for k, i := range order {
		if i < 0 || i >= D || m.InDeg[i] != 0 {
			panic(fmt.Sprintf("nn: NewMADE: order %v is not a permutation of 0..%d", order, D-1))
		}
		m.InDeg[i] = k + 1
	}
	for h := range m.HidDeg {
		m.HidDeg[h] = h * D / H
		m.GroupEnd[m.HidDeg[h]] = h + 1
	}
	for h, dh := range m.HidDeg {
		for j, dj := range m.InDeg {
			if dh >= dj {
				m.M0[h*D+j] = 1
			}
		}
		for g, dg := range m.HidDeg {
			if dh >= dg {
				m.Mh[h*H+g] = 1
			}
		}
	}
	for i, di := range m.InDeg {
		for h, dh := range m.HidDeg {
			if di > dh {
				for p := range P {
					m.Mo[(P*i+p)*H+h] = 1
				}
			}
		}
	}
	return m
}

// groupStart returns the first hidden unit of degree g.
func (m *MADE[T]) groupStart(g int) int {
	if g == 0 {
		return 0
	}
	return m.GroupEnd[g-1]
}

// MADEParams are named views of one MADE's parameters inside a flat buffer, in this order:
//
//	W0 (H, D), Wc (H, C), B0 (H), then for l = 1..L−1: Wh[l−1] (H, H), Bh[l−1] (H),
//	then Wo (2D, H), Bo (2D).
//
// Weights are (out, in), as PyTorch's nn.Linear. Row 2i of Wo and entry 2i of Bo give μ_i;
// row 2i+1 and entry 2i+1 give the raw log-scale of dimension i.
type MADEParams[T Float] struct {
	W0 []T   // (H, D) input → first hidden layer, masked by M0
	Wc []T   // (H, C) context → first hidden layer, unmasked
	B0 []T   // (H)
	Wh [][]T // L−1 × (H, H) hidden → hidden, masked by Mh
	Bh [][]T // L−1 × (H)
	Wo []T   // (2D, H) last hidden → outputs, masked by Mo
	Bo []T   // (2D)
}

// NewMADEParams returns views of flat, which must have length s.NumParams().
func NewMADEParams[T Float](s MADEShape, flat []T) MADEParams[T] { return newMADEParams(s, 2, flat) }

// madeNumParams returns the parameters of a MADE of shape s with P outputs per dimension.
func madeNumParams(s MADEShape, P int) int { return s.NumParams() + (P-2)*s.D*(s.H+1) }

// newMADEParams is NewMADEParams with P outputs per dimension: Wo (P·D, H), Bo (P·D).
func newMADEParams[T Float](s MADEShape, P int, flat []T) MADEParams[T] {
	s.check()
	flowCheckLen("NewMADEParams", "flat", len(flat), madeNumParams(s, P))
	D, C, H := s.D, s.C, s.H
	take := func(n int) []T {
		v := flat[:n:n]
		flat = flat[n:]
		return v
	}
	p := MADEParams[T]{W0: take(H * D), Wc: take(H * C), B0: take(H)}
	for range s.L - 1 {
		p.Wh = append(p.Wh, take(H*H))
		p.Bh = append(p.Bh, take(H))
	}
	p.Wo, p.Bo = take(P*D*H), take(P*D)
	return p
}

// Init draws the parameters from src: hidden-layer weights uniform on ±1/√fan_in as
// PyTorch's nn.Linear (fan_in = D + C for the first layer, whose input is (x, c); H for the
// others), output weights uniform on ±0.01/√H so that a fresh block is close to the identity
// (μ ≈ 0, α ≈ 0), every bias 0.
func (p MADEParams[T]) Init(s MADEShape, src *rng.Source) {
	uniform := func(w []T, a float64) {
		for i := range w {
			w[i] = T(src.Between(-a, a))
		}
	}
	a0 := 1 / math.Sqrt(float64(s.D+s.C))
	uniform(p.W0, a0)
	uniform(p.Wc, a0)
	clear(p.B0)
	for l := range p.Wh {
		uniform(p.Wh[l], 1/math.Sqrt(float64(s.H)))
		clear(p.Bh[l])
	}
	uniform(p.Wo, 0.01/math.Sqrt(float64(s.H)))
	clear(p.Bo)
}

// ApplyMasks multiplies the masked weights W0, Wh and Wo of p by m's masks in place, turning
// a copy of the parameters into the effective weights the forward functions take.
func (p MADEParams[T]) ApplyMasks(m *MADE[T]) {
	mulInPlace(p.W0, m.M0)
	for _, w := range p.Wh {
		mulInPlace(w, m.Mh)
	}
	mulInPlace(p.Wo, m.Mo)
}

func mulInPlace[T Float](x, m []T) {
	for i := range x {
		x[i] *= m[i]
	}
}

// MADEActs are the values a MADE forward pass over B rows saves for backward:
//
//	H [l] (B, H): post-ReLU activations of hidden layer l
//	O     (B, D, 2): O[b, i, 0] = μ_i, O[b, i, 1] = α_i (bounded)
//
// The inverse functions use the same buffers for n rows as workspace.
type MADEActs[T Float] struct {
	H [][]T // L × (B, H)
	O []T   // (B, D, 2)
}

// NewMADEActs allocates activations for up to B rows.
func NewMADEActs[T Float](s MADEShape, B int) MADEActs[T] { return newMADEActs[T](s, 2, B) }

// newMADEActs is NewMADEActs with P outputs per dimension: O (B, D, P).
func newMADEActs[T Float](s MADEShape, P, B int) MADEActs[T] {
	a := MADEActs[T]{O: make([]T, B*P*s.D)}
	for range s.L {
		a.H = append(a.H, make([]T, B*s.H))
	}
	return a
}

// rows returns the views of a for the first B rows of m.
func (a MADEActs[T]) rows(m *MADE[T], B int) MADEActs[T] {
	r := MADEActs[T]{H: make([][]T, 0, len(a.H)), O: a.O[:B*m.P*m.D]}
	for _, h := range a.H {
		r.H = append(r.H, h[:B*m.H])
	}
	return r
}

// MADEContext computes the context's contribution to the first hidden layer, bias included:
//
//	cterm (B, H) = ctx·Wcᵀ + b0,  ctx (B, C).
//
// The samplers compute it once per context and batch.
func MADEContext[T Float](cterm, ctx []T, w MADEParams[T], m *MADE[T], B int) {
	C, H := m.C, m.H
	flowCheckLen("MADEContext", "cterm", len(cterm), B*H)
	flowCheckLen("MADEContext", "ctx", len(ctx), B*C)
	if C > 0 {
		// cterm (B, H) = ctx (B, C) · Wcᵀ (C, H)
		Gemm(false, true, B, H, C, 1, ctx, C, w.Wc, C, 0, cterm, H)
	} else {
		clear(cterm)
	}
	for b := range B {
		row := cterm[b*H : (b+1)*H]
		for h, v := range w.B0 {
			row[h] += v
		}
	}
}

// MADEForward applies one block in the density direction to B rows:
//
//	y (B, D) = (x − μ)·exp(−α),  logdet (B) = −Σ_i α_i,
//	x (B, D), ctx (B, C) (nil when C = 0), w the effective (masked) weights.
//
// It saves the hidden activations, μ and α in acts, which with x, y and ctx is all
// MADEBackward needs. y must not overlap x.
func MADEForward[T Float](y, logdet []T, acts MADEActs[T], x, ctx []T, w MADEParams[T], m *MADE[T], B int) {
	const op = "MADEForward"
	D, H := m.D, m.H
	flowCheckLen(op, "y", len(y), B*D)
	flowCheckLen(op, "logdet", len(logdet), B)
	flowCheckLen(op, "x", len(x), B*D)
	acts = acts.rows(m, B)
	// h_0 pre-activation (B, H) = ctx·Wcᵀ + b0 + x·W0ᵀ
	MADEContext(acts.H[0], ctx, w, m, B)
	Gemm(false, true, B, H, D, 1, x, D, w.W0, D, 1, acts.H[0], H)
	madeHiddenOutputs(acts, w, m, B)
	const A = MADELogScaleBound
	for b := range B {
		o := acts.O[b*2*D : (b+1)*2*D]
		ld := 0.0
		for i := range D {
			mu, alpha := o[2*i], o[2*i+1]
			y[b*D+i] = (x[b*D+i] - mu) * T(math.Exp(-float64(alpha)))
			ld -= float64(alpha)
		}
		logdet[b] = T(ld)
	}
}

// madeHiddenOutputs finishes a full MADE pass over B rows whose first-layer pre-activation
// is in acts.H[0]: ReLU, the other hidden layers, the outputs, and (for an affine block,
// P = 2) the log-scale bound.
func madeHiddenOutputs[T Float](acts MADEActs[T], w MADEParams[T], m *MADE[T], B int) {
	D, H, P := m.D, m.H, m.P
	reluInPlace(acts.H[0])
	for l := 1; l < m.L; l++ {
		h := acts.H[l]
		for b := range B {
			copy(h[b*H:(b+1)*H], w.Bh[l-1])
		}
		// h_l (B, H) += h_{l−1} (B, H) · Whᵀ (H, H)
		Gemm(false, true, B, H, H, 1, acts.H[l-1], H, w.Wh[l-1], H, 1, h, H)
		reluInPlace(h)
	}
	for b := range B {
		copy(acts.O[b*P*D:(b+1)*P*D], w.Bo)
	}
	// o (B, P·D) += h_{L−1} (B, H) · Woᵀ (H, P·D)
	Gemm(false, true, B, P*D, H, 1, acts.H[m.L-1], H, w.Wo, H, 1, acts.O, P*D)
	if P != 2 {
		return
	}
	for j := 1; j < len(acts.O); j += 2 {
		acts.O[j] = boundLogScale(acts.O[j])
	}
}

// boundLogScale returns A·tanh(raw/A).
func boundLogScale[T Float](raw T) T {
	const A = MADELogScaleBound
	return T(A * math.Tanh(float64(raw)/A))
}

// reluInPlace sets x[i] = max(x[i], 0).
func reluInPlace[T Float](x []T) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// MADEBackwardScratchLen returns the length of the scratch slice MADEBackward needs for B
// rows: 2·B·H + B·2D + max(H·H, 2D·H, H·D).
func MADEBackwardScratchLen(s MADEShape, B int) int { return madeBackwardScratchLen(s, 2, B) }

// madeBackwardScratchLen is MADEBackwardScratchLen with P outputs per dimension.
func madeBackwardScratchLen(s MADEShape, P, B int) int {
	return 2*B*s.H + P*B*s.D + max(s.H*s.H, P*s.D*s.H, s.H*s.D)
}

// MADEBackward adds the gradients of MADEForward into dx (B, D), dctx (B, C) and dw (the
// parameter gradients, masked weights' gradients multiplied by their masks), given the
// gradients dy (B, D) and dlogdet (B) of the loss with respect to MADEForward's outputs.
// acts, y, x, ctx and w are those of the forward pass. dctx may be nil to skip the context
// gradient; dlogdet may be nil for zero. scratch has length MADEBackwardScratchLen(m, B) or
// more. dx must not overlap dy.
func MADEBackward[T Float](dx, dctx []T, dw MADEParams[T], dy, dlogdet, scratch []T, acts MADEActs[T], y, x, ctx []T, w MADEParams[T], m *MADE[T], B int) {
	const op = "MADEBackward"
	D, C, H := m.D, m.C, m.H
	flowCheckLen(op, "dx", len(dx), B*D)
	flowCheckLen(op, "dy", len(dy), B*D)
	if dlogdet != nil {
		flowCheckLen(op, "dlogdet", len(dlogdet), B)
	}
	if dctx != nil {
		flowCheckLen(op, "dctx", len(dctx), B*C)
	}
	if len(scratch) < MADEBackwardScratchLen(m.MADEShape, B) {
		panic(fmt.Sprintf("nn: %s: len(scratch) = %d, want ≥ %d", op, len(scratch), MADEBackwardScratchLen(m.MADEShape, B)))
	}
	acts = acts.rows(m, B)
	dO := scratch[2*B*H : 2*B*H+B*2*D]

	// Through y = (x − μ)·e^{−α}, α = A·tanh(raw/A), logdet = −Σα.
	const A = MADELogScaleBound
	for b := range B {
		o := acts.O[b*2*D : (b+1)*2*D]
		g := 0.0
		if dlogdet != nil {
			g = float64(dlogdet[b])
		}
		for i := range D {
			alpha := float64(o[2*i+1])
			dyi := float64(dy[b*D+i])
			e := math.Exp(-alpha)
			dx[b*D+i] += T(dyi * e)
			dO[b*2*D+2*i] = T(-dyi * e)
			dalpha := -dyi*float64(y[b*D+i]) - g
			r := alpha / A
			dO[b*2*D+2*i+1] = T(dalpha * (1 - r*r))
		}
	}
	madeBackNet(dx, dctx, dw, dO, scratch, acts, x, ctx, w, m, B)
}

// madeBackNet adds the gradients of a MADE pass over B rows into dx (B, D), dctx (B, C; nil
// to skip) and dw, given dO (B, P·D), the gradient at its outputs. scratch is the layout of
// madeBackwardScratchLen: dA (B, H), dB (B, H), dO's own slot (B, P·D), then the weight
// gradient's temporary; dO may be that slot.
func madeBackNet[T Float](dx, dctx []T, dw MADEParams[T], dO, scratch []T, acts MADEActs[T], x, ctx []T, w MADEParams[T], m *MADE[T], B int) {
	D, C, H, L, P := m.D, m.C, m.H, m.L, m.P
	dA, dB := scratch[:B*H], scratch[B*H:2*B*H]
	dW := scratch[2*B*H+B*P*D:]
	// Output layer: dWo (P·D, H) += (dOᵀ·h_{L−1}) ⊙ Mo, dbo += Σ_B dO, dh (B, H) = dO·Wo.
	maskedWeightGrad(dw.Wo, dW, dO, acts.H[L-1], m.Mo, B, P*D, H)
	addColSums(dw.Bo, dO, B, P*D)
	Gemm(false, false, B, H, P*D, 1, dO, P*D, w.Wo, H, 0, dA, H)
	for l := L - 1; l >= 1; l-- {
		reluBackInPlace(dA, acts.H[l])
		maskedWeightGrad(dw.Wh[l-1], dW, dA, acts.H[l-1], m.Mh, B, H, H)
		addColSums(dw.Bh[l-1], dA, B, H)
		// dh_{l−1} (B, H) = dz_l (B, H) · Wh (H, H)
		Gemm(false, false, B, H, H, 1, dA, H, w.Wh[l-1], H, 0, dB, H)
		dA, dB = dB, dA
	}
	reluBackInPlace(dA, acts.H[0])
	maskedWeightGrad(dw.W0, dW, dA, x, m.M0, B, H, D)
	addColSums(dw.B0, dA, B, H)
	// dx (B, D) += dz_0 (B, H) · W0 (H, D)
	Gemm(false, false, B, D, H, 1, dA, H, w.W0, D, 1, dx, D)
	if C > 0 {
		// dWc (H, C) += dz_0ᵀ (H, B) · ctx (B, C)
		Gemm(true, false, H, C, B, 1, dA, H, ctx, C, 1, dw.Wc, C)
		if dctx != nil {
			// dctx (B, C) += dz_0 (B, H) · Wc (H, C)
			Gemm(false, false, B, C, H, 1, dA, H, w.Wc, C, 1, dctx, C)
		}
	}
}

// maskedWeightGrad adds (doutᵀ·inp) ⊙ mask into dw (OUT, IN), using tmp (≥ OUT·IN) for the
// product; dout is (B, OUT), inp (B, IN).
func maskedWeightGrad[T Float](dw, tmp, dout, inp, mask []T, B, OUT, IN int) {
	tmp = tmp[:OUT*IN]
	Gemm(true, false, OUT, IN, B, 1, dout, OUT, inp, IN, 0, tmp, IN)
	for i, g := range tmp {
		dw[i] += g * mask[i]
	}
}

// addColSums adds the column sums of x (B, N) into db (N).
func addColSums[T Float](db, x []T, B, N int) {
	for b := range B {
		for j, v := range x[b*N : (b+1)*N] {
			db[j] += v
		}
	}
}

// reluBackInPlace zeroes d where the ReLU output out is not positive.
func reluBackInPlace[T Float](d, out []T) {
	for i, v := range out {
		if v <= 0 {
			d[i] = 0
		}
	}
}

// MADEInverse solves MADEForward's y = (x − μ(x_<))·exp(−α(x_<)) for x over n rows:
//
//	x (n, D) = y·exp(α) + μ, one dimension at a time in the block's ordering,
//	y (n, D), cterm (n, H) the rows' context terms (MADEContext), w the effective weights.
//
// It computes every hidden unit once (Germain et al.'s degrees make this possible): at step
// k, solving the dimension of degree k, only the units of degree k−1 — those whose inputs
// were completed by step k−1 — are computed, as one contiguous range in each layer reading a
// prefix of the layer below; the output of that dimension reads the units of degree < k.
// This costs about half of one full forward pass (the masked weights are block-triangular),
// against D passes for MADEInverseNaive. acts (≥ n rows) is workspace; on return it holds
// the activations of a forward pass at x. x must not overlap y.
func MADEInverse[T Float](x []T, acts MADEActs[T], y, cterm []T, w MADEParams[T], m *MADE[T], n int) {
	madeInverseCheck("MADEInverse", x, y, cterm, m, n)
	acts = acts.rows(m, n)
	copy(acts.H[0], cterm)
	madeInvert(x, acts, y, w, m, n)
}

// madeInvert is MADEInverse with the context terms already in acts.H[0] (n rows).
func madeInvert[T Float](x []T, acts MADEActs[T], y []T, w MADEParams[T], m *MADE[T], n int) {
	madeSolveInOrder(x, acts, w, m, n, func(i int) { madeSolveDim(x, acts.O, y, w.Bo, i, m.D, n) })
}

// madeSolveInOrder fills x (n, D) one dimension at a time in m's ordering, computing each
// hidden unit once: before solving dimension i it leaves in acts.O[:, i, :] (n rows, P
// outputs) the raw outputs of dimension i without their bias, computed from the dimensions
// solved so far, and solve(i) must then set x[:, i]. acts.H[0] holds the rows' context terms
// on entry.
func madeSolveInOrder[T Float](x []T, acts MADEActs[T], w MADEParams[T], m *MADE[T], n int, solve func(i int)) {
	D, H, L, P := m.D, m.H, m.L, m.P
	clear(x)
	for k := 1; k <= D; k++ {
		g := k - 1 // the degree of the units completed by the previous step
		s, e := m.groupStart(g), m.GroupEnd[g]
		// Layer 0, units s..e−1: += x (n, D) · W0[s:e]ᵀ (D, e−s). The unknown dimensions of
		// x are 0 and their masked weights are 0.
		h0 := acts.H[0]
		Gemm(false, true, n, e-s, D, 1, x, D, w.W0[s*D:], D, 1, h0[s:], H)
		reluRows(h0, s, e, H, n)
		for l := 1; l < L; l++ {
			h := acts.H[l]
			for r := range n {
				copy(h[r*H+s:r*H+e], w.Bh[l-1][s:e])
			}
			// units s..e−1 (n, e−s) += h_{l−1}[:, 0:e] (n, e) · Wh[s:e, 0:e]ᵀ (e, e−s)
			Gemm(false, true, n, e-s, e, 1, acts.H[l-1], H, w.Wh[l-1][s*H:], H, 1, h[s:], H)
			reluRows(h, s, e, H, n)
		}
		// Outputs of dimension i (degree k): (n, P) = h_{L−1}[:, 0:e] · Wo[P·i:P·i+P, 0:e]ᵀ.
		i := m.Order[k-1]
		Gemm(false, true, n, P, e, 1, acts.H[L-1], H, w.Wo[P*i*H:], H, 0, acts.O[P*i:], P*D)
		solve(i)
	}
}

// madeSolveDim adds the output bias of dimension i to O (n, D, 2), bounds its log-scale and
// sets x[:, i] = y[:, i]·exp(α_i) + μ_i.
func madeSolveDim[T Float](x, O, y, bo []T, i, D, n int) {
	for r := range n {
		o := O[r*2*D+2*i : r*2*D+2*i+2]
		o[0] += bo[2*i]
		o[1] = boundLogScale(o[1] + bo[2*i+1])
		x[r*D+i] = y[r*D+i]*T(math.Exp(float64(o[1]))) + o[0]
	}
}

// reluRows applies ReLU to columns s..e−1 of the n rows of h (n, H).
func reluRows[T Float](h []T, s, e, H, n int) {
	for r := range n {
		reluInPlace(h[r*H+s : r*H+e])
	}
}

// MADEInverseNaive computes the same x as MADEInverse by D full forward passes, the k-th of
// which fixes the dimension of degree k. It is the reference for MADEInverse and the
// baseline of its benchmark.
func MADEInverseNaive[T Float](x []T, acts MADEActs[T], y, cterm []T, w MADEParams[T], m *MADE[T], n int) {
	madeInverseCheck("MADEInverseNaive", x, y, cterm, m, n)
	acts = acts.rows(m, n)
	D, H := m.D, m.H
	clear(x)
	for k := 1; k <= D; k++ {
		copy(acts.H[0], cterm)
		Gemm(false, true, n, H, D, 1, x, D, w.W0, D, 1, acts.H[0], H)
		madeHiddenOutputs(acts, w, m, n)
		i := m.Order[k-1]
		for r := range n {
			o := acts.O[r*2*D+2*i : r*2*D+2*i+2]
			x[r*D+i] = y[r*D+i]*T(math.Exp(float64(o[1]))) + o[0]
		}
	}
}

func madeInverseCheck[T Float](op string, x, y, cterm []T, m *MADE[T], n int) {
	flowCheckLen(op, "x", len(x), n*m.D)
	flowCheckLen(op, "y", len(y), n*m.D)
	flowCheckLen(op, "cterm", len(cterm), n*m.H)
}

// flowCheckLen panics with an "nn: <op>: ..." message unless got == want. The MADE, MAF and
// mixture files share it.
func flowCheckLen(op, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("nn: %s: len(%s) = %d, want %d", op, name, got, want))
	}
}

package nn

import (
	"math"

	"github.com/mlcu/mlcu/internal/rng"
)

// MADE-MoG: the flow's conditional base (Papamakarios et al. 2017, §3.3; the last block of
// Zhang et al.'s nbi flow). A MADE with the blocks' degrees and masks outputs, for each
// dimension i, the weights, means and log-scales of a K-component Gaussian mixture
// conditioned on the context and on the dimensions before i in its ordering:
//
//	log p(u | c) = Σ_i log Σ_k w_ik N(u_i; m_ik, σ_ik),
//	w_i = softmax(ℓ_i),  σ_ik = exp(s_ik),  s_ik = A·tanh(raw_ik/A),  A = MADELogScaleBound,
//
// where (ℓ_i, m_i, raw_i) = o[i·3K : i·3K+3K] are the network's 3K outputs for dimension i
// (K logits, K means, K raw log-scales, in that order) and depend on u_<i and c only. The
// soft bound keeps every component's σ within e^{±A} (nbi clamps to [−2, 3] hard); the flow
// blocks above it provide the rest of the dynamic range. Unlike the unconditional mixture
// (mixture.go), the base can move its modes with the context: a close/wide degenerate
// posterior can be two components of the base rather than a fold the blocks must make.

// NewMADEMoG returns a MADE-MoG of shape s, the given ordering and K components.
func NewMADEMoG[T Float](s MADEShape, order []int, K int) *MADE[T] {
	if K < 1 {
		panic("nn: NewMADEMoG: need K ≥ 1")
	}
	return newMADE[T](s, order, 3*K)
}

// MADEMoGNumParams returns the number of parameters of a MADE-MoG of shape s with K
// components: a MADE's, with 3K outputs per dimension instead of 2.
func MADEMoGNumParams(s MADEShape, K int) int { return madeNumParams(s, 3*K) }

// NewMADEMoGParams returns views of flat (length MADEMoGNumParams(s, K)) in MADEParams'
// layout, Wo (3K·D, H) and Bo (3K·D).
func NewMADEMoGParams[T Float](s MADEShape, K int, flat []T) MADEParams[T] {
	return newMADEParams(s, 3*K, flat)
}

// NewMADEMoGActs allocates a MADE-MoG's activations for up to B rows: O is (B, D, 3K).
func NewMADEMoGActs[T Float](s MADEShape, K, B int) MADEActs[T] { return newMADEActs[T](s, 3*K, B) }

// MADEMoGScratchLen returns the length of the scratch slice MADEMoGBackward needs for B rows.
func MADEMoGScratchLen(s MADEShape, K, B int) int { return madeBackwardScratchLen(s, 3*K, B) }

// InitMoG draws a MADE-MoG's parameters from src: the hidden layers as MADEParams.Init, the
// output weights uniform on ±0.01/√H (the mixture starts nearly independent of u and c),
// the output biases as the unconditional mixture's parameters (MixtureParams.Init): logits
// 0, means uniform on [−2, 2), log-scales 0.
func (p MADEParams[T]) InitMoG(s MADEShape, K int, src *rng.Source) {
	p.Init(s, src)
	for i := range s.D {
		for k := range K {
			p.Bo[i*3*K+K+k] = T(src.Between(-2, 2))
		}
	}
}

// MADEMoGLogProb evaluates the base log-density of B rows:
//
//	logp (B) = log p(u | c),  u (B, D), ctx (B, C) (nil when C = 0), w the effective weights,
//	resp (B, D, K): the responsibilities r_bik = w_ik N(u_bi; ·) / Σ_k' w_ik' N(u_bi; ·).
//
// It saves the hidden activations and the outputs (log-scales bounded) in acts, which with
// u, ctx and resp is all MADEMoGBackward needs. The mixture arithmetic is float64.
func MADEMoGLogProb[T Float](logp, resp []T, acts MADEActs[T], u, ctx []T, w MADEParams[T], m *MADE[T], B int) {
	const op = "MADEMoGLogProb"
	D, H, P := m.D, m.H, m.P
	K := P / 3
	flowCheckLen(op, "logp", len(logp), B)
	flowCheckLen(op, "resp", len(resp), B*D*K)
	flowCheckLen(op, "u", len(u), B*D)
	acts = acts.rows(m, B)
	MADEContext(acts.H[0], ctx, w, m, B)
	Gemm(false, true, B, H, D, 1, u, D, w.W0, D, 1, acts.H[0], H)
	madeHiddenOutputs(acts, w, m, B)
	a := make([]float64, K)
	for b := range B {
		lp := 0.0
		for i := range D {
			o := acts.O[(b*D+i)*P : (b*D+i+1)*P]
			lp += mogTerm(a, resp[(b*D+i)*K:(b*D+i+1)*K], o, float64(u[b*D+i]), K)
		}
		logp[b] = T(lp)
	}
}

// mogTerm bounds the log-scales of one dimension's outputs o (3K: logits, means, raw
// log-scales) in place and returns log Σ_k w_k N(u; m_k, σ_k), writing the responsibilities
// into r (K); a (K) is scratch.
func mogTerm[T Float](a []float64, r, o []T, u float64, K int) float64 {
	lse := logSumExp(o[:K])
	mx := math.Inf(-1)
	for k := range K {
		o[2*K+k] = boundLogScale(o[2*K+k])
		s := float64(o[2*K+k])
		z := (u - float64(o[K+k])) * math.Exp(-s)
		a[k] = float64(o[k]) - lse - 0.5*z*z - s - 0.5*math.Log(2*math.Pi)
		mx = math.Max(mx, a[k])
	}
	sum := 0.0
	for k := range K {
		a[k] = math.Exp(a[k] - mx)
		sum += a[k]
	}
	for k := range K {
		r[k] = T(a[k] / sum)
	}
	return mx + math.Log(sum)
}

// logSumExp returns log Σ exp(l), shifted by the maximum (float64).
func logSumExp[T Float](l []T) float64 {
	mx := math.Inf(-1)
	for _, v := range l {
		mx = math.Max(mx, float64(v))
	}
	s := 0.0
	for _, v := range l {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s)
}

// MADEMoGBackward adds the gradients of MADEMoGLogProb into du (B, D), dctx (B, C; nil to
// skip) and dw, given dlogp (B). acts, resp, u, ctx and w are those of the forward pass;
// scratch has length MADEMoGScratchLen or more. With z = (u − m)/σ, per row, dimension and
// component (g the row's dlogp, r the responsibility, w = softmax(ℓ)):
//
//	dℓ_k = g (r_k − w_k),  dm_k = g r_k z_k/σ_k,  ds_k = g r_k (z_k² − 1)·(1 − (s_k/A)²),
//	du_i += −g Σ_k r_k z_k/σ_k   (directly; and through the network from the later dimensions).
func MADEMoGBackward[T Float](du, dctx []T, dw MADEParams[T], dlogp, resp, scratch []T, acts MADEActs[T], u, ctx []T, w MADEParams[T], m *MADE[T], B int) {
	const op = "MADEMoGBackward"
	D, H, P := m.D, m.H, m.P
	K := P / 3
	flowCheckLen(op, "du", len(du), B*D)
	flowCheckLen(op, "dlogp", len(dlogp), B)
	if len(scratch) < madeBackwardScratchLen(m.MADEShape, P, B) {
		panic("nn: MADEMoGBackward: scratch too short")
	}
	acts = acts.rows(m, B)
	dO := scratch[2*B*H : 2*B*H+B*P*D]
	const A = MADELogScaleBound
	for b := range B {
		g := float64(dlogp[b])
		for i := range D {
			j := b*D + i
			o, d := acts.O[j*P:(j+1)*P], dO[j*P:(j+1)*P]
			r := resp[j*K : (j+1)*K]
			lse := logSumExp(o[:K])
			ui, dui := float64(u[j]), 0.0
			for k := range K {
				rk := float64(r[k])
				s := float64(o[2*K+k])
				is := math.Exp(-s)
				z := (ui - float64(o[K+k])) * is
				d[k] = T(g * (rk - math.Exp(float64(o[k])-lse)))
				d[K+k] = T(g * rk * z * is)
				q := s / A
				d[2*K+k] = T(g * rk * (z*z - 1) * (1 - q*q))
				dui -= rk * z * is
			}
			du[j] += T(g * dui)
		}
	}
	madeBackNet(du, dctx, dw, dO, scratch, acts, u, ctx, w, m, B)
}

// MADEMoGSample draws n rows u (n, D) from the base, one dimension at a time in m's
// ordering, each hidden unit computed once (as MADEInverse): for dimension i a component k
// with probability w_ik (inverting the cumulative weights at a uniform draw), then
// u_i = m_ik + σ_ik·ε with ε standard normal. cterm (n, H) holds the rows' context terms
// (MADEContext); acts (≥ n rows, NewMADEMoGActs) is workspace; draws (≥ 2·n·D) receives
// the random numbers, taken from src row by row (for each row and ordering position a
// uniform, then a normal), so the samples do not depend on how rows are split into calls of
// equal total order.
func MADEMoGSample[T Float](u []T, acts MADEActs[T], cterm []T, draws []float64, w MADEParams[T], m *MADE[T], n int, src *rng.Source) {
	const op = "MADEMoGSample"
	D, P := m.D, m.P
	K := P / 3
	flowCheckLen(op, "u", len(u), n*D)
	flowCheckLen(op, "cterm", len(cterm), n*m.H)
	draws = draws[:2*n*D]
	for r := range n {
		for k := range D {
			draws[(r*D+k)*2] = src.Uniform()
			draws[(r*D+k)*2+1] = src.Normal()
		}
	}
	acts = acts.rows(m, n)
	copy(acts.H[0], cterm)
	madeSolveInOrder(u, acts, w, m, n, func(i int) {
		bo := w.Bo[i*P : (i+1)*P]
		for r := range n {
			o := acts.O[(r*D+i)*P : (r*D+i+1)*P]
			for p := range P {
				o[p] += bo[p]
			}
			lse := logSumExp(o[:K])
			q := (r*D + m.InDeg[i] - 1) * 2 // this dimension's draws
			t, c := draws[q], 0.0
			k := 0
			for ; k < K-1; k++ {
				c += math.Exp(float64(o[k]) - lse)
				if t < c {
					break
				}
			}
			s := float64(boundLogScale(o[2*K+k]))
			u[r*D+i] = T(float64(o[K+k]) + math.Exp(s)*draws[q+1])
		}
	})
}

package nn

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/internal/rng"
)

// The flow's base density: independent dimensions, each a mixture of K Gaussians with
// learned weights, means and scales:
//
//	log p(u) = Σ_i log Σ_k w_ik N(u_i; m_ik, σ_ik),  w_i = softmax(ℓ_i), σ_ik = exp(s_ik)
//
// evaluated as a log-sum-exp over a_ik = log w_ik + log N(u_i; m_ik, σ_ik), shifted by its
// maximum, so that no term underflows or overflows. The parameters are unconstrained (no
// bound on the log-scales). The scalar arithmetic is done in float64 for either T.

// MixtureShape gives the base's sizes: D dimensions, K components per dimension.
type MixtureShape struct {
	D, K int
}

// NumParams returns 3·D·K: logits, means and log-scales.
func (s MixtureShape) NumParams() int { return 3 * s.D * s.K }

func (s MixtureShape) check() {
	if s.D < 1 || s.K < 1 {
		panic(fmt.Sprintf("nn: mixture: bad shape %+v: need D ≥ 1, K ≥ 1", s))
	}
}

// MixtureParams are named views of the base's parameters in a flat buffer, in this order:
//
//	Logits (D, K), Means (D, K), LogScales (D, K).
type MixtureParams[T Float] struct {
	Logits    []T // (D, K) ℓ: component weights w_i = softmax(ℓ_i)
	Means     []T // (D, K) m
	LogScales []T // (D, K) s: σ = exp(s)
}

// NewMixtureParams returns views of flat, which must have length s.NumParams().
func NewMixtureParams[T Float](s MixtureShape, flat []T) MixtureParams[T] {
	s.check()
	flowCheckLen("NewMixtureParams", "flat", len(flat), s.NumParams())
	n := s.D * s.K
	return MixtureParams[T]{Logits: flat[:n:n], Means: flat[n : 2*n : 2*n], LogScales: flat[2*n:]}
}

// Init sets equal weights (logits 0), means drawn uniform on [−2, 2) from src, and unit
// scales (log-scales 0): a broad start, about 1.5 wide, for standardised variables.
func (p MixtureParams[T]) Init(src *rng.Source) {
	clear(p.Logits)
	for i := range p.Means {
		p.Means[i] = T(src.Between(-2, 2))
	}
	clear(p.LogScales)
}

// mixtureTables returns per (i, k) log w_ik, 1/σ_ik and log σ_ik + ½ log 2π, each (D, K).
func mixtureTables[T Float](p MixtureParams[T], D, K int) (logw, invSigma, logNorm []float64) {
	logw = make([]float64, D*K)
	invSigma = make([]float64, D*K)
	logNorm = make([]float64, D*K)
	for i := range D {
		l := p.Logits[i*K : (i+1)*K]
		lse := logSumExp(l)
		for k, v := range l {
			j := i*K + k
			logw[j] = float64(v) - lse
			ls := float64(p.LogScales[j])
			invSigma[j] = math.Exp(-ls)
			logNorm[j] = ls + 0.5*math.Log(2*math.Pi)
		}
	}
	return logw, invSigma, logNorm
}

// MixtureLogProb evaluates the base log-density of B rows:
//
//	logp (B) = Σ_i log Σ_k w_ik N(u_bi; m_ik, σ_ik),  u (B, D),
//	resp (B, D, K): the saved responsibilities r_bik = w_ik N(u_bi; ·) / Σ_k' w_ik' N(u_bi; ·).
func MixtureLogProb[T Float](logp, resp, u []T, p MixtureParams[T], B, D, K int) {
	const op = "MixtureLogProb"
	MixtureShape{D, K}.check()
	flowCheckLen(op, "logp", len(logp), B)
	flowCheckLen(op, "resp", len(resp), B*D*K)
	flowCheckLen(op, "u", len(u), B*D)
	flowCheckLen(op, "Means", len(p.Means), D*K)
	logw, invSigma, logNorm := mixtureTables(p, D, K)
	a := make([]float64, K)
	for b := range B {
		lp := 0.0
		for i := range D {
			ui := float64(u[b*D+i])
			mx := math.Inf(-1)
			for k := range K {
				j := i*K + k
				z := (ui - float64(p.Means[j])) * invSigma[j]
				a[k] = logw[j] - 0.5*z*z - logNorm[j]
				mx = math.Max(mx, a[k])
			}
			s := 0.0
			for k := range K {
				a[k] = math.Exp(a[k] - mx)
				s += a[k]
			}
			r := resp[(b*D+i)*K : (b*D+i+1)*K]
			for k := range K {
				r[k] = T(a[k] / s)
			}
			lp += mx + math.Log(s)
		}
		logp[b] = T(lp)
	}
}

// MixtureBackward adds the gradients of MixtureLogProb into du (B, D) and dp, given the
// gradient dlogp (B) of the loss with respect to logp; resp and u are those of the forward
// pass. With z = (u − m)/σ and r the responsibilities:
//
//	dℓ_ik += Σ_b g_b (r_bik − w_ik),  dm_ik += Σ_b g_b r_bik z_bik/σ_ik,
//	ds_ik += Σ_b g_b r_bik (z_bik² − 1),  du_bi += −g_b Σ_k r_bik z_bik/σ_ik.
//
// du may be nil to skip the input gradient.
func MixtureBackward[T Float](du []T, dp MixtureParams[T], dlogp, resp, u []T, p MixtureParams[T], B, D, K int) {
	const op = "MixtureBackward"
	MixtureShape{D, K}.check()
	flowCheckLen(op, "dlogp", len(dlogp), B)
	flowCheckLen(op, "resp", len(resp), B*D*K)
	flowCheckLen(op, "u", len(u), B*D)
	if du != nil {
		flowCheckLen(op, "du", len(du), B*D)
	}
	logw, invSigma, _ := mixtureTables(p, D, K)
	for b := range B {
		g := float64(dlogp[b])
		for i := range D {
			ui := float64(u[b*D+i])
			r := resp[(b*D+i)*K : (b*D+i+1)*K]
			dui := 0.0
			for k := range K {
				j := i*K + k
				rk := float64(r[k])
				is := invSigma[j]
				z := (ui - float64(p.Means[j])) * is
				dp.Logits[j] += T(g * (rk - math.Exp(logw[j])))
				dp.Means[j] += T(g * rk * z * is)
				dp.LogScales[j] += T(g * rk * (z*z - 1))
				dui -= rk * z * is
			}
			if du != nil {
				du[b*D+i] += T(g * dui)
			}
		}
	}
}

// MixtureCumWeights returns the cumulative component weights (D, K) of the base,
// Σ_{k' ≤ k} w_ik' (the last of each row is 1 up to rounding): what MixtureSample inverts,
// and what the CUDA sampler uploads.
func MixtureCumWeights[T Float](p MixtureParams[T], D, K int) []float64 {
	logw, _, _ := mixtureTables(p, D, K)
	cum := make([]float64, D*K)
	for i := range D {
		c := 0.0
		for k := range K {
			c += math.Exp(logw[i*K+k])
			cum[i*K+k] = c
		}
	}
	return cum
}

// MixtureSample draws B rows u (B, D) from the base with src: for each row and dimension in
// order, a component k by inverting the cumulative weights at src.Uniform(), then
// u = m_ik + σ_ik·src.Normal() (three raw outputs per value).
func MixtureSample[T Float](u []T, p MixtureParams[T], B, D, K int, src *rng.Source) {
	MixtureShape{D, K}.check()
	flowCheckLen("MixtureSample", "u", len(u), B*D)
	cum := MixtureCumWeights(p, D, K)
	for b := range B {
		for i := range D {
			c := cum[i*K : (i+1)*K]
			t := src.Uniform() * c[K-1]
			k := 0
			for k < K-1 && t >= c[k] {
				k++
			}
			j := i*K + k
			u[b*D+i] = T(float64(p.Means[j]) + math.Exp(float64(p.LogScales[j]))*src.Normal())
		}
	}
}

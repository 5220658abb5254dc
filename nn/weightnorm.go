package nn

import (
	"fmt"
	"math"
)

// Weight normalisation (Salimans & Kingma 2016; the default of Zhang et al.'s nbi
// featurizer) reparameterises a convolution's weight per output channel o as
//
//	W[o] = g[o]·v[o]/‖v[o]‖   (‖·‖ over the input channels and taps),
//
// and adds a bias. Unlike batch normalisation it uses no statistics of the batch, so a
// network sees the same function in training and at inference, one event at a time. mlcu
// convolves with the effective weight W (WeightNormEffective) and the bias: the
// normalisation costs O(weights) per pass, not a pass over the activations (scaling
// conv(x, v) afterwards, as mlcu did first, took 14% of a small-preset training step), and
// the backward pass maps the convolution's weight gradient dW to dv and dg
// (WeightNormEffectiveBackward).

// WeightNormRinv sets rinv[o] = 1/‖v[o]‖ (float64 accumulation) for a weight v (OC, fanIn),
// 0 when v[o] is all zero (the channel's output is then its bias). It panics when a length
// does not match.
func WeightNormRinv[T Float](rinv, v []T, OC, fanIn int) {
	const op = "WeightNormRinv"
	linearCheckLen(op, "rinv", len(rinv), OC)
	linearCheckLen(op, "v", len(v), OC*fanIn)
	for o := range OC {
		s := 0.0
		for _, w := range v[o*fanIn : (o+1)*fanIn] {
			s += float64(w) * float64(w)
		}
		rinv[o] = 0
		if s > 0 {
			rinv[o] = T(1 / math.Sqrt(s))
		}
	}
}

// WeightNormEffective sets the effective weight w[o] = g[o]·v[o]·rinv[o] and rinv[o] =
// 1/‖v[o]‖ (WeightNormRinv) for a weight v (OC, fanIn) and gains g (OC). It panics when a
// length does not match.
func WeightNormEffective[T Float](w, rinv, v, g []T, OC, fanIn int) {
	const op = "WeightNormEffective"
	linearCheckLen(op, "w", len(w), OC*fanIn)
	linearCheckLen(op, "g", len(g), OC)
	WeightNormRinv(rinv, v, OC, fanIn)
	for o := range OC {
		k := g[o] * rinv[o]
		for i, x := range v[o*fanIn : (o+1)*fanIn] {
			w[o*fanIn+i] = x * k
		}
	}
}

// WeightNormEffectiveBackward adds into dv (OC, fanIn) and dg (OC) the gradients of
// WeightNormEffective given dw, the gradient at the effective weight (OC, fanIn):
//
//	σ[o] = Σ_i dw[o,i]·v[o,i],   dg[o] += σ[o]·rinv[o],
//	dv[o,i] += g[o]·rinv[o]·dw[o,i] − σ[o]·g[o]·rinv[o]³·v[o,i]
//
// (σ accumulated in float64). Either of dv and dg may be nil to skip it. It panics when a
// length does not match.
func WeightNormEffectiveBackward[T Float](dv, dg, dw, v, g, rinv []T, OC, fanIn int) {
	const op = "WeightNormEffectiveBackward"
	linearCheckLen(op, "dw", len(dw), OC*fanIn)
	linearCheckLen(op, "v", len(v), OC*fanIn)
	linearCheckLen(op, "g", len(g), OC)
	linearCheckLen(op, "rinv", len(rinv), OC)
	if dv != nil {
		linearCheckLen(op, "dv", len(dv), OC*fanIn)
	}
	if dg != nil {
		linearCheckLen(op, "dg", len(dg), OC)
	}
	for o := range OC {
		vo, dwo := v[o*fanIn:(o+1)*fanIn], dw[o*fanIn:(o+1)*fanIn]
		sigma := 0.0
		for i, x := range vo {
			sigma += float64(dwo[i]) * float64(x)
		}
		r := float64(rinv[o])
		if dg != nil {
			dg[o] += T(sigma * r)
		}
		if dv != nil {
			a, k := g[o]*rinv[o], T(-sigma*float64(g[o])*r*r*r)
			for i, x := range vo {
				dv[o*fanIn+i] += a*dwo[i] + k*x
			}
		}
	}
}

// FoldWeightNorm returns a copy of m, a model with weight-normalised blocks, in batch-norm
// form (Featurizer.Norm = NormBatch) with the same evaluation-mode function: each
// convolution holds its effective weight g·v/‖v‖, and the batch norm after it is the
// identity plus the bias (running mean 0, running variance 1 − BatchNormEps, gamma 1, beta
// the bias). The flow's parameters are copied unchanged. Code that implements only the
// batch-norm evaluation pass (the CUDA sampler) runs weight-normalised models this way; the
// copy is for inference, not for training. It returns an error when m's blocks are not
// weight-normalised.
func FoldWeightNorm[T Float](m *Model[T]) (*Model[T], error) {
	fs := m.Config.Featurizer
	if !fs.WeightNorm() {
		return nil, fmt.Errorf("nn: FoldWeightNorm: the model's featurizer norm is %q, not %q", fs.Norm, NormWeight)
	}
	c := m.Config
	c.Featurizer.Norm = NormBatch
	f, err := NewModel[T](c)
	if err != nil {
		return nil, err
	}
	copy(f.Params, m.Params)
	for i, b := range m.Feat.Blocks {
		s := fs.Block(i)
		fb := f.Feat.Blocks[i]
		for _, cv := range []struct {
			v, dst []T
			n, fn  BatchNormParams[T]
			fanIn  int
		}{{b.W1, fb.W1, b.BN1, fb.BN1, s.C * s.K}, {b.W2, fb.W2, b.BN2, fb.BN2, s.OC * s.K}, {b.WProj, fb.WProj, b.BNProj, fb.BNProj, s.C}} {
			if cv.v == nil {
				continue
			}
			rinv := make([]T, s.OC)
			WeightNormRinv(rinv, cv.v, s.OC, cv.fanIn)
			for o := range s.OC {
				k := cv.n.Gamma[o] * rinv[o]
				for j := o * cv.fanIn; j < (o+1)*cv.fanIn; j++ {
					cv.dst[j] = cv.v[j] * k
				}
			}
			resBlockFill(cv.fn.Gamma, 1)
			copy(cv.fn.Beta, cv.n.Beta)
			resBlockFill(cv.fn.RunMean, 0)
			resBlockFill(cv.fn.RunVar, T(1-BatchNormEps))
		}
	}
	return f, nil
}

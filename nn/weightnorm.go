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
// convolves with v and scales afterwards: out = conv(x, v)·g/‖v‖ + bias, so the convolution
// and its backward pass are the batch-norm blocks' own.

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

// WeightNormForward applies the scale and bias of a weight-normalised convolution to its
// unnormalised output h = conv(x, v):
//
//	out[b,o,l] = h[b,o,l]·g[o]·rinv[o] + bias[o],
//
//	out (B, OC, L), h (B, OC, L), g (OC), rinv (OC, WeightNormRinv), bias (OC).
//
// out and h may be the same slice, though the backward pass needs h. It panics when a
// length does not match.
func WeightNormForward[T Float](out, h, g, rinv, bias []T, B, OC, L int) {
	const op = "WeightNormForward"
	linearCheckLen(op, "out", len(out), B*OC*L)
	linearCheckLen(op, "h", len(h), B*OC*L)
	linearCheckLen(op, "g", len(g), OC)
	linearCheckLen(op, "rinv", len(rinv), OC)
	linearCheckLen(op, "bias", len(bias), OC)
	parallelFor(OC, B*OC*L, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			batchNorm1dAffine(out, h, 0, g[o]*rinv[o], bias[o], B, OC, L, o)
		}
	})
}

// WeightNormBackward adds the gradients of WeightNormForward, given dout (B, OC, L), into
// dh (B, OC, L, the gradient at h = conv(x, v)), dg (OC), dbias (OC) and the direct part of
// dv (OC, fanIn) — the part through ‖v‖; the part through h comes from the convolution's
// backward pass with dh:
//
//	dbias[o] += Σ_{b,l} dout,   σ[o] = Σ_{b,l} dout·h,   dh += dout·g[o]·rinv[o],
//	dg[o] += σ[o]·rinv[o],      dv[o] −= σ[o]·g[o]·rinv[o]³·v[o].
//
// Any of dh, dg, dbias and dv may be nil to skip it. It panics when a length does not
// match.
func WeightNormBackward[T Float](dh, dg, dbias, dv, dout, h, v, g, rinv []T, B, OC, L, fanIn int) {
	const op = "WeightNormBackward"
	linearCheckLen(op, "dout", len(dout), B*OC*L)
	linearCheckLen(op, "h", len(h), B*OC*L)
	linearCheckLen(op, "v", len(v), OC*fanIn)
	linearCheckLen(op, "g", len(g), OC)
	linearCheckLen(op, "rinv", len(rinv), OC)
	parallelFor(OC, 3*B*OC*L, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			scale := g[o] * rinv[o]
			var sdy, sdyh float64
			for b := range B {
				off := (b*OC + o) * L
				hx := h[off : off+L]
				for l, d := range dout[off : off+L] {
					sdy += float64(d)
					sdyh += float64(d) * float64(hx[l])
				}
				if dh != nil {
					dx := dh[off : off+L]
					for l, d := range dout[off : off+L] {
						dx[l] += d * scale
					}
				}
			}
			if dbias != nil {
				dbias[o] += T(sdy)
			}
			r := float64(rinv[o])
			if dg != nil {
				dg[o] += T(sdyh * r)
			}
			if dv != nil {
				k := T(-sdyh * float64(g[o]) * r * r * r)
				vo := v[o*fanIn : (o+1)*fanIn]
				for i, w := range vo {
					dv[o*fanIn+i] += k * w
				}
			}
		}
	})
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

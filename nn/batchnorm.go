package nn

import "math"

// Defaults for batch normalisation, PyTorch's: running statistics move a tenth of the way
// towards each batch's statistics, and eps keeps rstd finite for a constant channel.
const (
	BatchNormMomentum = 0.1
	BatchNormEps      = 1e-5
)

// BatchNorm1dForward normalises each channel with the statistics of the batch (training
// mode, PyTorch's nn.BatchNorm1d on (B, C, L) input), then applies the affine map:
//
//	out[b,c,l] = (inp[b,c,l] − mean[c])·rstd[c]·gamma[c] + beta[c],
//	mean[c] = Σ_{b,l} inp[b,c,l] / N,  var[c] = Σ_{b,l} (inp[b,c,l] − mean[c])² / N,
//	rstd[c] = 1/√(var[c] + eps),  N = B·L,
//
//	out (B, C, L), mean (C), rstd (C), inp (B, C, L), gamma (C), beta (C),
//	runMean (C), runVar (C).
//
// mean and rstd are saved for the backward pass (which also needs inp and gamma). The
// statistics are accumulated in float64. Unless runMean and runVar are nil, they are updated
// in place: run ← (1 − momentum)·run + momentum·batch, where runVar takes the unbiased
// variance var·N/(N − 1) (var itself when N = 1), as PyTorch does. out and inp may be the
// same slice, though the backward pass needs inp. It panics when a slice's length does not
// match its shape.
func BatchNorm1dForward[T Float](out, mean, rstd, inp, gamma, beta, runMean, runVar []T, B, C, L int, momentum, eps float64) {
	const op = "BatchNorm1dForward"
	linearCheckLen(op, "out", len(out), B*C*L)
	linearCheckLen(op, "mean", len(mean), C)
	linearCheckLen(op, "rstd", len(rstd), C)
	linearCheckLen(op, "inp", len(inp), B*C*L)
	linearCheckLen(op, "gamma", len(gamma), C)
	linearCheckLen(op, "beta", len(beta), C)
	if runMean != nil || runVar != nil {
		linearCheckLen(op, "runMean", len(runMean), C)
		linearCheckLen(op, "runVar", len(runVar), C)
	}
	N := float64(B * L)
	// Channels are independent: the workers take contiguous ranges of them.
	parallelFor(C, 3*B*C*L, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			batchNorm1dChannel(out, mean, rstd, inp, gamma, beta, runMean, runVar, B, C, L, c, N, momentum, eps)
		}
	})
}

// batchNorm1dChannel is BatchNorm1dForward for channel c.
func batchNorm1dChannel[T Float](out, mean, rstd, inp, gamma, beta, runMean, runVar []T, B, C, L, c int, N, momentum, eps float64) {
	s := 0.0
	for b := 0; b < B; b++ {
		for _, v := range inp[(b*C+c)*L : (b*C+c+1)*L] {
			s += float64(v)
		}
	}
	m := s / N
	ss := 0.0
	for b := 0; b < B; b++ {
		for _, v := range inp[(b*C+c)*L : (b*C+c+1)*L] {
			d := float64(v) - m
			ss += d * d
		}
	}
	v := ss / N
	r := 1 / math.Sqrt(v+eps)
	mean[c], rstd[c] = T(m), T(r)
	if runMean != nil {
		unbiased := v
		if N > 1 {
			unbiased = ss / (N - 1)
		}
		runMean[c] = T((1-momentum)*float64(runMean[c]) + momentum*m)
		runVar[c] = T((1-momentum)*float64(runVar[c]) + momentum*unbiased)
	}
	batchNorm1dAffine(out, inp, T(m), T(r)*gamma[c], beta[c], B, C, L, c)
}

// BatchNorm1dBackward adds the gradients of the training-mode BatchNorm1dForward into dinp,
// dgamma and dbeta, with the batch statistics' own dependence on inp included:
//
//	x̂ = (inp − mean)·rstd,  dbeta[c] += Σ_{b,l} dout,  dgamma[c] += Σ_{b,l} dout·x̂,
//	dinp += gamma·rstd·(dout − Σ_{b,l} dout / N − x̂·Σ_{b,l} dout·x̂ / N),
//
//	dinp (B, C, L), dgamma (C), dbeta (C), dout (B, C, L), inp (B, C, L),
//	mean (C), rstd (C) as saved by the forward pass, gamma (C).
//
// Any of dinp, dgamma and dbeta may be nil to skip that gradient. The sums are accumulated
// in float64. It panics when a slice's length does not match its shape.
func BatchNorm1dBackward[T Float](dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma []T, B, C, L int) {
	const op = "BatchNorm1dBackward"
	linearCheckLen(op, "dout", len(dout), B*C*L)
	linearCheckLen(op, "inp", len(inp), B*C*L)
	linearCheckLen(op, "mean", len(mean), C)
	linearCheckLen(op, "rstd", len(rstd), C)
	linearCheckLen(op, "gamma", len(gamma), C)
	if dinp != nil {
		linearCheckLen(op, "dinp", len(dinp), B*C*L)
	}
	if dgamma != nil {
		linearCheckLen(op, "dgamma", len(dgamma), C)
	}
	if dbeta != nil {
		linearCheckLen(op, "dbeta", len(dbeta), C)
	}
	N := float64(B * L)
	parallelFor(C, 3*B*C*L, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			batchNorm1dBackwardChannel(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma, B, C, L, c, N)
		}
	})
}

// batchNorm1dBackwardChannel is BatchNorm1dBackward for channel c.
func batchNorm1dBackwardChannel[T Float](dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma []T, B, C, L, c int, N float64) {
	m, r := float64(mean[c]), float64(rstd[c])
	sdy, sdyx := 0.0, 0.0 // Σ dout, Σ dout·x̂
	for b := 0; b < B; b++ {
		o := (b*C + c) * L
		for l, g := range dout[o : o+L] {
			sdy += float64(g)
			sdyx += float64(g) * (float64(inp[o+l]) - m) * r
		}
	}
	if dbeta != nil {
		dbeta[c] += T(sdy)
	}
	if dgamma != nil {
		dgamma[c] += T(sdyx)
	}
	if dinp == nil {
		return
	}
	k := T(float64(gamma[c]) * r)
	mdy, mdyx := T(sdy/N), T(sdyx/N)
	tm, tr := T(m), T(r)
	for b := 0; b < B; b++ {
		o := (b*C + c) * L
		dx := dinp[o : o+L]
		x := inp[o : o+L]
		for l, g := range dout[o : o+L] {
			xhat := (x[l] - tm) * tr
			dx[l] += k * (g - mdy - xhat*mdyx)
		}
	}
}

// BatchNorm1dEvalForward normalises each channel with the running statistics (evaluation
// mode): out[b,c,l] = (inp[b,c,l] − runMean[c])/√(runVar[c] + eps)·gamma[c] + beta[c].
//
//	out (B, C, L), inp (B, C, L), gamma (C), beta (C), runMean (C), runVar (C).
//
// out and inp may be the same slice. It saves nothing: gradients are defined for training
// mode only. It panics when a slice's length does not match its shape.
func BatchNorm1dEvalForward[T Float](out, inp, gamma, beta, runMean, runVar []T, B, C, L int, eps float64) {
	const op = "BatchNorm1dEvalForward"
	linearCheckLen(op, "out", len(out), B*C*L)
	linearCheckLen(op, "inp", len(inp), B*C*L)
	linearCheckLen(op, "gamma", len(gamma), C)
	linearCheckLen(op, "beta", len(beta), C)
	linearCheckLen(op, "runMean", len(runMean), C)
	linearCheckLen(op, "runVar", len(runVar), C)
	parallelFor(C, B*C*L, func(lo, hi int) {
		for c := lo; c < hi; c++ {
			r := 1 / math.Sqrt(float64(runVar[c])+eps)
			batchNorm1dAffine(out, inp, runMean[c], T(r)*gamma[c], beta[c], B, C, L, c)
		}
	})
}

// batchNorm1dAffine sets out[b,c,l] = (inp[b,c,l] − m)·scale + shift for one channel c.
// out (B, C, L), inp (B, C, L).
func batchNorm1dAffine[T Float](out, inp []T, m, scale, shift T, B, C, L, c int) {
	for b := 0; b < B; b++ {
		o := (b*C + c) * L
		y := out[o : o+L]
		for l, v := range inp[o : o+L] {
			y[l] = (v-m)*scale + shift
		}
	}
}

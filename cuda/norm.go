//go:build cuda || cudaemu

package cuda

// BatchNorm1dForward is nn.BatchNorm1dForward on the device (training mode): each channel
// normalised with its batch statistics (double, two passes; deterministic partial sums over
// chunks of the batch, kernels/norm.cu), then out = x̂·gamma + beta;
// mean and rstd saved for the backward pass; runMean and runVar updated in place unless nil
// (run ← (1 − momentum)·run + momentum·batch, unbiased variance).
//
//	out (B, C, L), mean (C), rstd (C), inp (B, C, L), gamma (C), beta (C), runMean (C), runVar (C).
func BatchNorm1dForward(out, mean, rstd, inp, gamma, beta, runMean, runVar *F32, B, C, L int, momentum, eps float64) error {
	return batchNormForward(out, mean, rstd, inp, gamma, beta, runMean, runVar, B, C, L, momentum, eps, false, 0)
}

// BatchNorm1dReLUForward is BatchNorm1dForward followed by ReLUForward on out, fused into
// one pass over the activations (the residual block's BN → ReLU). The backward pass is the
// unfused one: ReLUBackward with out, then BatchNorm1dBackward.
func BatchNorm1dReLUForward(out, mean, rstd, inp, gamma, beta, runMean, runVar *F32, B, C, L int, momentum, eps float64) error {
	return batchNormForward(out, mean, rstd, inp, gamma, beta, runMean, runVar, B, C, L, momentum, eps, true, 0)
}

// batchNormForward runs the training forward with each channel's batch split into chunks
// thread blocks (0: the library's choice; see mlcu_cuda.h).
func batchNormForward(out, mean, rstd, inp, gamma, beta, runMean, runVar *F32, B, C, L int, momentum, eps float64, relu bool, chunks int) error {
	const op = "BatchNorm1dForward"
	denseCheckLen(op, "out", out.n, B*C*L)
	denseCheckLen(op, "mean", mean.n, C)
	denseCheckLen(op, "rstd", rstd.n, C)
	denseCheckLen(op, "inp", inp.n, B*C*L)
	denseCheckLen(op, "gamma", gamma.n, C)
	denseCheckLen(op, "beta", beta.n, C)
	if runMean != nil || runVar != nil {
		denseCheckLen(op, "runMean", bufLen(runMean), C)
		denseCheckLen(op, "runVar", bufLen(runVar), C)
	}
	return mlcuBatchNorm1dForward(out, mean, rstd, inp, gamma, beta, runMean, runVar, B, C, L, momentum, eps, relu, chunks)
}

// BatchNorm1dEvalForward is nn.BatchNorm1dEvalForward on the device: each channel
// normalised with the running statistics.
//
//	out (B, C, L), inp (B, C, L), gamma (C), beta (C), runMean (C), runVar (C).
func BatchNorm1dEvalForward(out, inp, gamma, beta, runMean, runVar *F32, B, C, L int, eps float64) error {
	return batchNormEvalForward(out, inp, gamma, beta, runMean, runVar, B, C, L, eps, false)
}

// BatchNorm1dReLUEvalForward is BatchNorm1dEvalForward followed by ReLUForward, fused.
func BatchNorm1dReLUEvalForward(out, inp, gamma, beta, runMean, runVar *F32, B, C, L int, eps float64) error {
	return batchNormEvalForward(out, inp, gamma, beta, runMean, runVar, B, C, L, eps, true)
}

func batchNormEvalForward(out, inp, gamma, beta, runMean, runVar *F32, B, C, L int, eps float64, relu bool) error {
	const op = "BatchNorm1dEvalForward"
	denseCheckLen(op, "out", out.n, B*C*L)
	denseCheckLen(op, "inp", inp.n, B*C*L)
	denseCheckLen(op, "gamma", gamma.n, C)
	denseCheckLen(op, "beta", beta.n, C)
	denseCheckLen(op, "runMean", runMean.n, C)
	denseCheckLen(op, "runVar", runVar.n, C)
	return mlcuBatchNorm1dEvalForward(out, inp, gamma, beta, runMean, runVar, B, C, L, eps, relu)
}

// BatchNorm1dBackward adds the gradients of the training-mode BatchNorm1dForward into dinp,
// dgamma and dbeta (nn.BatchNorm1dBackward; sums in double), given dout:
//
//	dinp (B, C, L), dgamma (C), dbeta (C), dout (B, C, L), inp (B, C, L),
//	mean (C), rstd (C) as saved by the forward pass, gamma (C).
//
// Any of dinp, dgamma and dbeta may be nil.
func BatchNorm1dBackward(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma *F32, B, C, L int) error {
	return batchNormBackward(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma, B, C, L, 0)
}

// batchNormBackward is BatchNorm1dBackward with each channel's batch split into chunks
// thread blocks (0: the library's choice).
func batchNormBackward(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma *F32, B, C, L, chunks int) error {
	const op = "BatchNorm1dBackward"
	denseCheckLen(op, "dout", dout.n, B*C*L)
	denseCheckLen(op, "inp", inp.n, B*C*L)
	denseCheckLen(op, "mean", mean.n, C)
	denseCheckLen(op, "rstd", rstd.n, C)
	denseCheckLen(op, "gamma", gamma.n, C)
	if dinp != nil {
		denseCheckLen(op, "dinp", dinp.n, B*C*L)
	}
	if dgamma != nil {
		denseCheckLen(op, "dgamma", dgamma.n, C)
	}
	if dbeta != nil {
		denseCheckLen(op, "dbeta", dbeta.n, C)
	}
	return mlcuBatchNorm1dBackward(dinp, dgamma, dbeta, dout, inp, mean, rstd, gamma, B, C, L, chunks)
}

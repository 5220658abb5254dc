package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// batchNormClose reports whether |a − b| ≤ 1e-12·(1 + |b|): the hand-computed values below
// involve a handful of float64 operations, each exact to 1.1e-16 relative.
func batchNormClose(a, b float64) bool { return math.Abs(a-b) <= 1e-12*(1+math.Abs(b)) }

func TestBatchNorm1dTrainValues(t *testing.T) {
	// (B, C, L) = (2, 2, 2). Channel 0 holds 1, 2, 3, 4: mean 2.5, biased variance 1.25,
	// unbiased 5/3. Channel 1 holds 10, 10, 10, 14: mean 11, variance 3, unbiased 4.
	inp := []float64{1, 2, 10, 10, 3, 4, 10, 14}
	gamma, beta := []float64{2, 0.5}, []float64{0.5, -1}
	runMean, runVar := []float64{1, 0}, []float64{2, 1}
	out, mean, rstd := make([]float64, 8), make([]float64, 2), make([]float64, 2)
	BatchNorm1dForward(out, mean, rstd, inp, gamma, beta, runMean, runVar, 2, 2, 2, 0.1, 1e-5)

	wantMean := []float64{2.5, 11}
	wantRstd := []float64{1 / math.Sqrt(1.25+1e-5), 1 / math.Sqrt(3+1e-5)}
	for c := range 2 {
		if !batchNormClose(mean[c], wantMean[c]) || !batchNormClose(rstd[c], wantRstd[c]) {
			t.Fatalf("channel %d: mean %v, rstd %v; want %v, %v", c, mean[c], rstd[c], wantMean[c], wantRstd[c])
		}
	}
	for i, x := range inp {
		c := (i / 2) % 2
		want := (x-wantMean[c])*wantRstd[c]*gamma[c] + beta[c]
		if !batchNormClose(out[i], want) {
			t.Fatalf("out[%d] = %v, want %v", i, out[i], want)
		}
	}
	// run ← 0.9·run + 0.1·batch, with the unbiased variance.
	wantRunMean := []float64{0.9*1 + 0.1*2.5, 0.9*0 + 0.1*11}
	wantRunVar := []float64{0.9*2 + 0.1*5.0/3, 0.9*1 + 0.1*4}
	for c := range 2 {
		if !batchNormClose(runMean[c], wantRunMean[c]) || !batchNormClose(runVar[c], wantRunVar[c]) {
			t.Fatalf("channel %d: running mean %v, var %v; want %v, %v", c, runMean[c], runVar[c], wantRunMean[c], wantRunVar[c])
		}
	}
}

func TestBatchNorm1dEvalValues(t *testing.T) {
	// Evaluation mode uses the running statistics, not the batch's: each sample's output is
	// the same alone as in a batch.
	B, C, L := 2, 2, 3
	inp := []float64{1, 2, 3, -1, 0, 5, 7, 8, 9, 0.5, 0.25, -3}
	gamma, beta := []float64{2, 1}, []float64{0, 1}
	runMean, runVar := []float64{1, -2}, []float64{4, 0.25}
	out := make([]float64, B*C*L)
	BatchNorm1dEvalForward(out, inp, gamma, beta, runMean, runVar, B, C, L, 1e-5)
	for i, x := range inp {
		c := (i / L) % C
		want := (x-runMean[c])/math.Sqrt(runVar[c]+1e-5)*gamma[c] + beta[c]
		if !batchNormClose(out[i], want) {
			t.Fatalf("out[%d] = %v, want %v", i, out[i], want)
		}
	}
	one := make([]float64, C*L)
	BatchNorm1dEvalForward(one, inp[C*L:], gamma, beta, runMean, runVar, 1, C, L, 1e-5)
	for i := range one {
		if one[i] != out[C*L+i] {
			t.Fatalf("sample 1 alone: out[%d] = %v, in the batch %v", i, one[i], out[C*L+i])
		}
	}
	if runMean[0] != 1 || runVar[1] != 0.25 {
		t.Fatalf("evaluation mode changed the running statistics: %v, %v", runMean, runVar)
	}
}

func TestBatchNorm1dGrad(t *testing.T) {
	rng := rand.New(rand.NewSource(40))
	B, C, L := 2, 3, 7
	inp := testutil.RandVec(rng, B*C*L)
	for i := range inp {
		inp[i] = 2*inp[i] + 0.5 // not already normalised
	}
	gamma, beta := testutil.RandVec(rng, C), testutil.RandVec(rng, C)
	wout := testutil.RandVec(rng, B*C*L)
	out, mean, rstd := make([]float64, B*C*L), make([]float64, C), make([]float64, C)
	runMean, runVar := make([]float64, C), make([]float64, C)
	loss := func() float64 {
		BatchNorm1dForward(out, mean, rstd, inp, gamma, beta, runMean, runVar, B, C, L, BatchNormMomentum, BatchNormEps)
		return dot(wout, out)
	}
	loss()
	dinp, dgamma, dbeta := linearGradBuf(len(inp)), linearGradBuf(C), linearGradBuf(C)
	BatchNorm1dBackward(dinp, dgamma, dbeta, wout, inp, mean, rstd, gamma, B, C, L)
	linearUnfill(dinp, dgamma, dbeta)
	checkGrad(t, "inp", loss, inp, dinp, layerGradAtol, layerGradRtol)
	checkGrad(t, "gamma", loss, gamma, dgamma, layerGradAtol, layerGradRtol)
	checkGrad(t, "beta", loss, beta, dbeta, layerGradAtol, layerGradRtol)
}

func TestBatchNorm1dParity(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	B, C, L := 3, 4, 9
	inp, gamma, beta := testutil.RandVec(rng, B*C*L), testutil.RandVec(rng, C), testutil.RandVec(rng, C)
	runMean, runVar := testutil.RandVec(rng, C), testutil.RandVec(rng, C)
	for i := range runVar {
		runVar[i] = 0.5 + runVar[i]*runVar[i]
	}
	linearRound32(inp, gamma, beta, runMean, runVar)
	rm32, rv32 := linearTo32(runMean), linearTo32(runVar)

	out, mean, rstd := make([]float64, B*C*L), make([]float64, C), make([]float64, C)
	out32, mean32, rstd32 := make([]float32, B*C*L), make([]float32, C), make([]float32, C)
	BatchNorm1dForward(out, mean, rstd, inp, gamma, beta, runMean, runVar, B, C, L, BatchNormMomentum, BatchNormEps)
	BatchNorm1dForward(out32, mean32, rstd32, linearTo32(inp), linearTo32(gamma), linearTo32(beta), rm32, rv32, B, C, L, BatchNormMomentum, BatchNormEps)
	linearCheckParity(t, "BatchNorm1dForward out", out32, out)
	linearCheckParity(t, "BatchNorm1dForward running mean", rm32, runMean)
	linearCheckParity(t, "BatchNorm1dForward running var", rv32, runVar)

	linearRound32(runMean, runVar)
	BatchNorm1dEvalForward(out, inp, gamma, beta, runMean, runVar, B, C, L, BatchNormEps)
	BatchNorm1dEvalForward(out32, linearTo32(inp), linearTo32(gamma), linearTo32(beta), linearTo32(runMean), linearTo32(runVar), B, C, L, BatchNormEps)
	linearCheckParity(t, "BatchNorm1dEvalForward", out32, out)
}

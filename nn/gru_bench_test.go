package nn

import (
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
)

// BenchmarkGRU times one forward and one backward pass of a two-layer float32 GRU at about
// the featurizer's `small` shape: batch 32, 56 steps of 64 channels from the ResNet, hidden 128.
// It reports ms/op and the matrix-product rate GFLOP/s (the forward pass costs
// Σ_l 2·B·T·3H·(C_l + H) flops in Gemm, the backward pass twice that), beside the rate of
// one plain Gemm of the input-projection shape (B·T, 3H, H) measured in the same run: their
// ratio is the share of the time the GRU spends in Gemm at the BLAS's own speed.
func BenchmarkGRU(b *testing.B) {
	s := GRUShape{B: 32, T: 56, C: 64, H: 128, Layers: 2}
	p := NewGRUParams(s, make([]float32, s.NumParams()))
	p.Init(rng.New(1, 0))
	grads := NewGRUParams(s, make([]float32, s.NumParams()))
	src := rng.New(2, 0)
	inp := make([]float32, s.B*s.T*s.C)
	for i := range inp {
		inp[i] = float32(src.Normal())
	}
	dinp := make([]float32, len(inp))
	out, dout := make([]float32, s.B*s.H), make([]float32, s.B*s.H)
	for i := range dout {
		dout[i] = float32(src.Normal())
	}
	acts := NewGRUActs[float32](s)
	fwdFlops := 0.0
	for l := range s.Layers {
		fwdFlops += 2 * float64(s.B*s.T*3*s.H*(s.inputSize(l)+s.H))
	}
	report := func(b *testing.B, flops float64) {
		sec := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(sec*1e3, "ms/op")
		b.ReportMetric(flops/sec/1e9, "GFLOP/s")
	}
	b.Run("gemm-baseline", func(b *testing.B) {
		m, n, k := s.B*s.T, 3*s.H, s.H
		x, w, y := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
		for b.Loop() {
			Gemm(false, true, m, n, k, 1, x, k, w, k, 0, y, n)
		}
		report(b, 2*float64(m*n*k))
	})
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			GRUForward(out, acts, p, inp)
		}
		report(b, fwdFlops)
	})
	b.Run("forward+backward", func(b *testing.B) {
		for b.Loop() {
			GRUForward(out, acts, p, inp)
			GRUBackward(dinp, grads, dout, acts, p, inp)
		}
		report(b, 3*fwdFlops)
	})
}

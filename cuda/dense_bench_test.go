//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"testing"

	"github.com/mlcu/mlcu/nn"
)

// The dense-op benchmarks are for a real GPU (make gpu-bundle); under emulation they only
// measure host threads and are skipped.

// BenchmarkSgemm times Gemm (no transposition, beta 0) and reports GFLOP/s (2·m·n·k per
// product).
func BenchmarkSgemm(b *testing.B) {
	if Emulated() {
		b.Skip("emulated device: the benchmark is for a GPU")
	}
	for _, s := range []struct{ m, n, k int }{{512, 512, 512}, {4096, 256, 256}, {2048, 2048, 2048}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			b.Run(fmt.Sprintf("%dx%dx%d tA %v tB %v", s.m, s.n, s.k, tr[0], tr[1]), func(b *testing.B) {
				a := MustFromHost(randF32(1, s.m*s.k))
				bb := MustFromHost(randF32(2, s.k*s.n))
				c := MustAlloc[float32](s.m * s.n)
				defer a.Free()
				defer bb.Free()
				defer c.Free()
				lda, ldb := s.k, s.n
				if tr[0] {
					lda = s.m
				}
				if tr[1] {
					ldb = s.k
				}
				must(Gemm(tr[0], tr[1], s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n)) // warm up
				must(Synchronize())
				b.ResetTimer()
				for range b.N {
					must(Gemm(tr[0], tr[1], s.m, s.n, s.k, 1, a, lda, bb, ldb, 0, c, s.n))
				}
				must(Synchronize())
				b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkConv1dForward times Conv1dForward (im2col + batched SGEMM) on the two
// convolutions of the paper preset's first residual block at the paper's batch size (512,
// mlcu train's default for that preset): 1 → 32 and 32 → 32 channels, K = 3, L = 7200.
// It reports GFLOP/s of the convolution proper (2·B·OC·C·K·L).
func BenchmarkConv1dForward(b *testing.B) {
	if Emulated() {
		b.Skip("emulated device: the benchmark is for a GPU")
	}
	cfg, err := nn.Preset("paper")
	must(err)
	fs := cfg.Featurizer
	fs.B = 512
	blk := fs.Block(0)
	for _, s := range []struct{ C, OC int }{{blk.C, blk.OC}, {blk.OC, blk.OC}} {
		B, C, L, OC, K := blk.B, s.C, blk.L, s.OC, blk.K
		b.Run(fmt.Sprintf("B%d C%d OC%d L%d K%d", B, C, OC, L, K), func(b *testing.B) {
			inp := MustFromHost(randF32(3, B*C*L))
			w := MustFromHost(randF32(4, OC*C*K))
			col := MustAlloc[float32](B * C * K * L)
			out := MustAlloc[float32](B * OC * L)
			defer inp.Free()
			defer w.Free()
			defer col.Free()
			defer out.Free()
			must(Conv1dForward(out, col, inp, w, nil, B, C, L, OC, K))
			must(Synchronize())
			b.ResetTimer()
			for range b.N {
				must(Conv1dForward(out, col, inp, w, nil, B, C, L, OC, K))
			}
			must(Synchronize())
			b.ReportMetric(2*float64(B)*float64(OC)*float64(C*K)*float64(L)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

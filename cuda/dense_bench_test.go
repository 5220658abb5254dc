//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/nn"
)

// The dense-op benchmarks are for a real GPU (make gpu-bundle); under emulation they only
// measure host threads and are skipped.

// paperOnGPU skips b under emulation and returns the paper preset's configuration, whose
// shapes the layer benchmarks use.
func paperOnGPU(b *testing.B) nn.ModelConfig {
	if Emulated() {
		b.Skip("emulated device: the benchmark is for a GPU")
	}
	cfg, err := event.Preset("paper")
	must(err)
	return Variant(cfg)
}

// timeOnDevice runs op once (warm-up), then b.N times timed, between device
// synchronisations (kernels run asynchronously).
func timeOnDevice(b *testing.B, op func()) {
	op()
	must(Synchronize())
	b.ResetTimer()
	for range b.N {
		op()
	}
	must(Synchronize())
}

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

// BenchmarkSgemmTiles times each tile shape (auto, then forced 64×64, 128×128, 32×128, and
// 128×128 with the registers left to ptxas) on the batched products of the paper preset's
// convolutions at batch 512 (cuda/conv.go): forward W·col (OC × L, k = C·K, W shared),
// weight gradient dout·colᵀ (OC × C·K per sample, k = L) and input gradient Wᵀ·dout (C·K ×
// L, k = OC), for the second convolution of residual blocks 0, 1 and 3 (32 and 64 channels:
// the thin and small tiles' products) and 5 and 7 (128 and 256 channels, which fill the large
// tile). GFLOP/s counts the useful 2·m·n·k per product: the figures choose_tile's rates come
// from (gemm.cu), re-measured by every GPU check.
func BenchmarkSgemmTiles(b *testing.B) {
	cfg := paperOnGPU(b)
	const B = 512
	for _, bi := range []int{0, 1, 3, 5, 7} {
		blk := cfg.Featurizer.Block(bi)
		OC, L, CK := blk.OC, blk.L, blk.OC*blk.K // the block's second convolution: OC → OC
		for _, p := range []struct {
			name    string
			tA, tB  bool
			m, n, k int
			lda, sA int
			ldb, sB int
			ldc, sC int
		}{
			{"forward", false, false, OC, L, CK, CK, 0, L, CK * L, L, OC * L},
			{"weight-grad", false, true, OC, CK, L, L, OC * L, L, CK * L, CK, OC * CK},
			{"input-grad", true, false, CK, L, OC, CK, 0, L, OC * L, L, CK * L},
		} {
			aLen, bLen, cLen := p.sA*(B-1)+p.m*p.k, p.sB*(B-1)+p.k*p.n, p.sC*(B-1)+p.m*p.n
			da, db, dc := MustAlloc[float32](aLen), MustAlloc[float32](bLen), MustAlloc[float32](cLen)
			must(Fill(da, 0.5))
			must(Fill(db, 0.25))
			for _, tile := range []int{0, 1, 2, 3, 4} {
				label := fmt.Sprintf("block%d %s %dx%dx%d tile %d", bi, p.name, p.m, p.n, p.k, tile)
				if tile == 0 {
					label += fmt.Sprintf(" (auto: %d)", gemmTileFor(p.tA, p.tB, p.m, p.n, B))
				}
				b.Run(label, func(b *testing.B) {
					run := func() {
						must(gemmBatched(p.tA, p.tB, p.m, p.n, p.k, 1, da, p.lda, p.sA, db, p.ldb, p.sB, 0, dc, p.ldc, p.sC, B, tile))
					}
					timeOnDevice(b, run)
					b.ReportMetric(2*float64(p.m)*float64(p.n)*float64(p.k)*B*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
			da.Free()
			db.Free()
			dc.Free()
		}
	}
}

// BenchmarkConv1dForward times Conv1dForward (im2col + batched SGEMM) on the two
// convolutions of the paper preset's first residual block at the paper's batch size (512,
// mlcu train's default for that preset): 1 → 32 and 32 → 32 channels, K = 3, L = 7200.
// It reports GFLOP/s of the convolution proper (2·B·OC·C·K·L).
func BenchmarkConv1dForward(b *testing.B) {
	cfg := paperOnGPU(b)
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

// BenchmarkBatchNorm times the training-mode batch norm, forward (fused with ReLU, as the
// residual block runs it) and backward, on the paper preset's first two residual stages at
// batch 512 (32 channels × 7200, 64 × 3600: 118 M values each), with each channel's batch in
// one block (chunks 1, the first version) and split as the library chooses (chunks 0). It
// reports GB/s of the memory the kernels touch: forward 3 reads of the input and 1 write,
// backward 2 reads of dout and the input, then both again and dinp read and written.
func BenchmarkBatchNorm(b *testing.B) {
	cfg := paperOnGPU(b)
	const B = 512
	for _, bi := range []int{0, 1} {
		blk := cfg.Featurizer.Block(bi)
		C, L := blk.OC, blk.L
		n := B * C * L
		x, y, g := MustAlloc[float32](n), MustAlloc[float32](n), MustAlloc[float32](n)
		gamma, beta, mean, rstd := MustAlloc[float32](C), MustAlloc[float32](C), MustAlloc[float32](C), MustAlloc[float32](C)
		dgamma, dbeta := MustAlloc[float32](C), MustAlloc[float32](C)
		for _, buf := range []*F32{x, g, gamma, beta, dgamma, dbeta} {
			must(Fill(buf, 0.5))
		}
		must(Fill(y, 0))
		for _, chunks := range []int{1, 0} {
			for _, pass := range []string{"forward", "backward"} {
				b.Run(fmt.Sprintf("C%d L%d %s chunks %d", C, L, pass, chunks), func(b *testing.B) {
					run := func() {
						if pass == "forward" {
							must(batchNormForward(y, mean, rstd, x, gamma, beta, nil, nil, B, C, L, nn.BatchNormMomentum, nn.BatchNormEps, true, chunks))
						} else {
							must(batchNormBackward(y, dgamma, dbeta, g, x, mean, rstd, gamma, B, C, L, chunks))
						}
					}
					must(batchNormForward(y, mean, rstd, x, gamma, beta, nil, nil, B, C, L, nn.BatchNormMomentum, nn.BatchNormEps, true, chunks))
					timeOnDevice(b, run)
					bytes := 16.0 * float64(n) // forward: 4 passes of 4 bytes
					if pass == "backward" {
						bytes = 24.0 * float64(n)
					}
					b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
				})
			}
		}
		for _, buf := range []*F32{x, y, g, gamma, beta, mean, rstd, dgamma, dbeta} {
			buf.Free()
		}
	}
}

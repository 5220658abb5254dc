package nn

import (
	"fmt"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
)

// paperMAFShape is the `paper` preset's flow: D = 7, 20 blocks of 2 hidden layers of 256,
// context 256, 8 base components.
var paperMAFShape = MAFShape{D: 7, C: 256, H: 256, L: 2, NB: 20, K: 8, OrderSeed: 1}

// BenchmarkMAFSamplePaper measures the sampling throughput of the paper flow in float32 for
// one event (one context), on the calling goroutine: the incremental inverse (every hidden
// unit computed once) against the naive one (D full passes per block), each at chunks of 128
// and 256 rows (gonum's Gemm runs serially below 256 rows and in 64-blocks from 256 on,
// which favours different chunks for the two). Run with -cpu 1 to keep the BLAS on one
// core too. Each op draws 2048 samples.
func BenchmarkMAFSamplePaper(b *testing.B) {
	f := NewMAF[float32](paperMAFShape)
	f.Init(1)
	src := rng.New(2, 0)
	ctx := make([]float32, paperMAFShape.C)
	for i := range ctx {
		ctx[i] = float32(src.Normal())
	}
	const S = 2048
	out := make([]float32, S*paperMAFShape.D)
	for _, naive := range []bool{false, true} {
		for _, chunk := range []int{128, 256} {
			name := "incremental"
			if naive {
				name = "naive"
			}
			b.Run(fmt.Sprintf("%s/chunk=%d", name, chunk), func(b *testing.B) {
				sp := NewMAFSampler(f, chunk)
				sp.Naive = naive
				for b.Loop() {
					MAFSample(out, nil, sp, ctx, f, 1, S, src)
				}
				b.ReportMetric(float64(b.N*S)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

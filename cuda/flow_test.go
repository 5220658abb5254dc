//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"sort"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

// testFlow returns a flow of shape s in float32 and float64 with the same parameters: nn's
// initialisation with the output weights scaled by 40 and random logits and log-scales, so
// that every block shifts and scales by O(1) and the base is a real mixture (a fresh flow is
// close to the identity and would test little).
func testFlow(s nn.MAFShape, seed uint64) (*nn.MAF[float32], *nn.MAF[float64]) {
	f64 := nn.NewMAF[float64](s)
	f64.Init(seed)
	src := rng.New(seed, 99)
	for _, p := range f64.P {
		for i := range p.Wo {
			p.Wo[i] *= 40
		}
		for i := range p.Bo {
			p.Bo[i] = src.Between(-0.5, 0.5)
		}
	}
	for i := range f64.Base.Logits {
		f64.Base.Logits[i] = src.Between(-1, 1)
		f64.Base.LogScales[i] = src.Between(-1, 0.3)
	}
	f32 := nn.NewMAF[float32](s)
	for i, v := range f64.Params {
		f32.Params[i] = float32(v)
	}
	return f32, f64
}

// cpuInverse pushes base draws u (E·S, D) through the inverses of f's blocks from the last to
// the first (nn.MADEContext + nn.MADEInverse on the masked weights): nn.MAFSample without its
// own base draws.
func cpuInverse[T nn.Float](f *nn.MAF[T], u, ctx []T, E, S int) []T {
	s := f.Shape
	eff := append([]T(nil), f.Params...)
	w, _ := f.View(eff)
	for b, m := range f.Made {
		w[b].ApplyMasks(m)
	}
	N := E * S
	acts := nn.NewMADEActs[T](s.MADE(), N)
	y := append([]T(nil), u...)
	x := make([]T, N*s.D)
	ce := make([]T, E*s.H)
	ct := make([]T, N*s.H)
	for b := s.NB - 1; b >= 0; b-- {
		nn.MADEContext(ce, ctx, w[b], f.Made[b], E)
		for r := range N {
			copy(ct[r*s.H:(r+1)*s.H], ce[(r/S)*s.H:(r/S+1)*s.H])
		}
		nn.MADEInverse(x, acts, y, ct, w[b], f.Made[b], N)
		x, y = y, x
	}
	return y
}

func randomSlice(n int, src *rng.Source) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = src.Normal()
	}
	return v
}

// TestFlowSamplerParity feeds the same base draws to the fused sampling kernel and to the
// CPU's block inverses (float32 and float64) and compares the samples.
//
// Tolerance: |gpu − cpu64| ≤ 2e-4 + 2e-4·|cpu64|. Both float32 paths round each of the
// ~2·(H+D) products of a hidden unit and NB·D output updates whose scale factors reach e³;
// the float32 CPU path's own distance to float64 is printed beside the kernel's, and the
// kernel must not be worse than 4× it plus 1e-6 plus what CUDA's math library adds: the
// CPU's exp and tanh are correctly rounded float64 functions, a GPU's expf and tanhf may be
// 2 ulps off (kernels/emu.cuh makes the emulation's as bad), so each block's
// x = y·exp(α) + μ, α = 3·tanh(raw/3), gains up to 2·2⁻²³ relative from expf and
// 3·2·2⁻²⁴ from tanhf through α: ~6e-7·|x| per block, NB·6e-7·max|x| in all (first order).
// Measured under the emulation's worst-case math (deep case): 3.2e-6 against 4·3.2e-7 +
// 1e-6 + 1.2e-5; with the host's math 4× alone held.
func TestFlowSamplerParity(t *testing.T) {
	cases := []struct {
		name          string
		s             nn.MAFShape
		E, S, TS, thr int
	}{
		{"odd", nn.MAFShape{D: 3, C: 4, H: 8, L: 2, NB: 3, K: 2, OrderSeed: 5}, 3, 37, 32, 256},
		{"one-layer", nn.MAFShape{D: 7, C: 5, H: 10, L: 1, NB: 2, K: 3, OrderSeed: 6}, 2, 21, 8, 64},
		{"deep", nn.MAFShape{D: 4, C: 0, H: 13, L: 3, NB: 4, K: 1, OrderSeed: 7}, 1, 19, 5, 32},
		{"batch1", nn.MAFShape{D: 7, C: 6, H: 24, L: 2, NB: 3, K: 8, OrderSeed: 8}, 1, 1, 32, 256},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.s
			f32, f64 := testFlow(s, 11)
			src := rng.New(3, 4)
			N := c.E * c.S
			ctx := randomSlice(c.E*s.C, src)
			u := to32(randomSlice(N*s.D, src))
			want := cpuInverse(f64, to64(u), ctx, c.E, c.S)
			cpu32 := cpuInverse(f32, u, to32(ctx), c.E, c.S)

			fs, err := NewFlowSampler(f32)
			must(err)
			defer fs.Free()
			fs.TileRows, fs.Threads = c.TS, c.thr
			uin := MustFromHost(u)
			defer uin.Free()
			out := newGuardBuf(t, make([]float32, N*s.D))
			defer out.all.Free()
			must(fs.SampleDevice(out.View(), uin, nil, to32(ctx), c.E, c.S, 1, 0))
			got := out.Host(t, "out")

			maxGPU, maxCPU := 0.0, 0.0
			for i, w := range want {
				dg := math.Abs(float64(got[i]) - w)
				dc := math.Abs(float64(cpu32[i]) - w)
				maxGPU, maxCPU = math.Max(maxGPU, dg), math.Max(maxCPU, dc)
				if !(dg <= 2e-4+2e-4*math.Abs(w)) {
					t.Fatalf("sample %d dim %d: kernel %v, float64 CPU %v (|diff| %.3g)", i/s.D, i%s.D, got[i], w, dg)
				}
			}
			t.Logf("max |kernel − cpu64| = %.3g, max |cpu32 − cpu64| = %.3g", maxGPU, maxCPU)
			maxW := 0.0
			for _, w := range want {
				maxW = math.Max(maxW, math.Abs(w))
			}
			libm := float64(s.NB) * 6e-7 * maxW
			if maxGPU > 4*maxCPU+1e-6+libm {
				t.Errorf("kernel error %.3g more than 4× the float32 CPU path's %.3g + 1e-6 + the math library's %.3g", maxGPU, maxCPU, libm)
			}
		})
	}
}

// ks2 returns the two-sample Kolmogorov–Smirnov statistic of a and b.
func ks2(a, b []float64) float64 {
	a, b = append([]float64(nil), a...), append([]float64(nil), b...)
	sort.Float64s(a)
	sort.Float64s(b)
	i, j, d := 0, 0, 0.0
	for i < len(a) && j < len(b) {
		x := math.Min(a[i], b[j])
		for i < len(a) && a[i] == x {
			i++
		}
		for j < len(b) && b[j] == x {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// TestFlowSamplerDistribution compares the kernel's own base draws (Philox) and samples with
// the CPU sampler's (nn.MAFSample, PCG) per dimension by the two-sample KS test at
// significance 1e-3 each (critical D = 1.95·√(2/n) for equal sizes n); the draws differ, the
// distributions must not. It also checks that row0 makes a split call equal to one call.
func TestFlowSamplerDistribution(t *testing.T) {
	s := nn.MAFShape{D: 3, C: 2, H: 6, L: 2, NB: 2, K: 4, OrderSeed: 9}
	f32, _ := testFlow(s, 21)
	ctx := []float32{0.3, -0.7}
	const n = 3000
	cpu := make([]float32, n*s.D)
	cpuU := make([]float32, n*s.D)
	nn.MAFSample(cpu, cpuU, nn.NewMAFSampler(f32, 128), ctx, f32, 1, n, rng.New(5, 6))

	fs, err := NewFlowSampler(f32)
	must(err)
	defer fs.Free()
	fs.TileRows, fs.Threads = 100, 64 // fewer, fuller barriers: the emulation's cost
	out, uOut := MustAlloc[float32](n*s.D), MustAlloc[float32](n*s.D)
	defer out.Free()
	defer uOut.Free()
	must(fs.SampleDevice(out, nil, uOut, ctx, 1, n, 77, 0))
	gpu, _ := out.Host()
	gpuU, _ := uOut.Host()
	crit := 1.95 * math.Sqrt(2.0/n)
	for i := range s.D {
		col := func(v []float32) []float64 {
			c := make([]float64, n)
			for r := range n {
				c[r] = float64(v[r*s.D+i])
			}
			return c
		}
		if d := ks2(col(cpuU), col(gpuU)); d > crit {
			t.Errorf("base dim %d: KS D = %.4f > %.4f", i, d, crit)
		}
		if d := ks2(col(cpu), col(gpu)); d > crit {
			t.Errorf("sample dim %d: KS D = %.4f > %.4f", i, d, crit)
		}
	}
	// The same rows drawn in two calls (row0 = 0 and 1000) equal the single call's.
	part := MustAlloc[float32](2000 * s.D)
	defer part.Free()
	must(fs.SampleDevice(part.Slice(0, 1000*s.D), nil, nil, ctx, 1, 1000, 77, 0))
	must(fs.SampleDevice(part.Slice(1000*s.D, 2000*s.D), nil, nil, ctx, 1, 1000, 77, 1000))
	p, _ := part.Host()
	for i, v := range p {
		if v != gpu[i] {
			t.Fatalf("split call differs at %d: %v vs %v", i, v, gpu[i])
		}
	}
}

// BenchmarkFlowSamplerPaper times the fused sampler on the paper flow (nn preset "paper",
// random weights): 2^20 samples of one event per iteration, device buffers only (no copy to
// the host), reported as samples/s. It is for a real GPU; under emulation it is skipped.
func BenchmarkFlowSamplerPaper(b *testing.B) {
	if Emulated() {
		b.Skip("emulation: the kernel's speed on host threads means nothing")
	}
	mc, err := event.Preset("paper")
	if err != nil {
		b.Fatal(err)
	}
	mc = Variant(mc)
	f := nn.NewMAF[float32](mc.Flow)
	f.Init(1)
	fs, err := NewFlowSampler(f)
	must(err)
	defer fs.Free()
	const n = 1 << 20
	out := MustAlloc[float32](n * mc.Flow.D)
	defer out.Free()
	ctx := make([]float32, mc.Flow.C)
	for _, tr := range []struct{ rows, threads int }{{32, 256}, {16, 128}, {64, 256}} {
		b.Run(fmt.Sprintf("tile%d-threads%d", tr.rows, tr.threads), func(b *testing.B) {
			fs.TileRows, fs.Threads = tr.rows, tr.threads
			must(fs.SampleDevice(out, nil, nil, ctx, 1, n, 1, 0)) // warm-up
			must(Synchronize())
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				must(fs.SampleDevice(out, nil, nil, ctx, 1, n, uint64(i), 0))
			}
			must(Synchronize())
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

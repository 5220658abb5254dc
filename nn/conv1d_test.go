package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// conv1dDirect is the textbook reference for Conv1dForward: the direct sum over channels
// and kernel taps with zero padding, no im2col and no Gemm.
func conv1dDirect(out, inp, w, bias []float64, B, C, L, OC, K int) {
	P := K / 2
	for b := 0; b < B; b++ {
		for o := 0; o < OC; o++ {
			for l := 0; l < L; l++ {
				s := 0.0
				if bias != nil {
					s = bias[o]
				}
				for c := 0; c < C; c++ {
					for k := 0; k < K; k++ {
						if j := l + k - P; j >= 0 && j < L {
							s += w[(o*C+c)*K+k] * inp[(b*C+c)*L+j]
						}
					}
				}
				out[(b*OC+o)*L+l] = s
			}
		}
	}
}

// conv1dCases are the shapes the tests run: odd sizes, a 1×1 kernel, and a kernel wider
// than the sequence (every tap partly in the padding).
var conv1dCases = []struct{ B, C, L, OC, K int }{
	{2, 3, 7, 5, 3},
	{2, 3, 7, 5, 1},
	{1, 2, 9, 3, 5},
	{2, 2, 2, 3, 5},
	{1, 2, 1, 2, 3},
	{2, 1, 2, 3, 3},
	{1, 2, 3, 2, 3},
}

// TestConv1dCol2imK3: the one-pass K = 3 scatter gives the bits of the tap-by-tap loop
// (same additions in the same order), for lengths from the edge cases up.
func TestConv1dCol2imK3(t *testing.T) {
	src := rand.New(rand.NewSource(45))
	for _, L := range []int{3, 4, 7, 112, 900} {
		const C = 3
		dcol := make([]float32, C*3*L)
		base := make([]float32, C*L)
		for i := range dcol {
			dcol[i] = float32(src.NormFloat64())
		}
		for i := range base {
			base[i] = float32(src.NormFloat64())
		}
		got, want := append([]float32(nil), base...), append([]float32(nil), base...)
		conv1dCol2im(got, dcol, C, L, 3)
		conv1dCol2imTaps(want, dcol, C, L, 3)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("L %d: dinp[%d] = %v, tap by tap %v", L, i, got[i], want[i])
			}
		}
	}
}

func TestConv1dForwardValues(t *testing.T) {
	for i, tc := range conv1dCases {
		rng := rand.New(rand.NewSource(int64(10 + i)))
		B, C, L, OC, K := tc.B, tc.C, tc.L, tc.OC, tc.K
		inp, w, bias := testutil.RandVec(rng, B*C*L), testutil.RandVec(rng, OC*C*K), testutil.RandVec(rng, OC)
		out, want := make([]float64, B*OC*L), make([]float64, B*OC*L)
		Conv1dForward(out, make([]float64, B*C*K*L), inp, w, bias, B, C, L, OC, K)
		conv1dDirect(want, inp, w, bias, B, C, L, OC, K)
		for j := range want {
			if math.Abs(out[j]-want[j]) > 1e-12 {
				t.Fatalf("%+v: out[%d] = %v, direct sum %v", tc, j, out[j], want[j])
			}
		}
	}
}

func TestConv1dGrad(t *testing.T) {
	for i, tc := range conv1dCases {
		t.Run(fmt.Sprintf("B%dC%dL%dOC%dK%d", tc.B, tc.C, tc.L, tc.OC, tc.K), func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(20 + i)))
			B, C, L, OC, K := tc.B, tc.C, tc.L, tc.OC, tc.K
			inp, w, bias := testutil.RandVec(rng, B*C*L), testutil.RandVec(rng, OC*C*K), testutil.RandVec(rng, OC)
			wout := testutil.RandVec(rng, B*OC*L)
			out, col := make([]float64, B*OC*L), make([]float64, B*C*K*L)
			loss := func() float64 {
				Conv1dForward(out, col, inp, w, bias, B, C, L, OC, K)
				return dot(wout, out)
			}
			loss()
			dinp, dw, db := linearGradBuf(len(inp)), linearGradBuf(len(w)), linearGradBuf(OC)
			Conv1dBackward(dinp, dw, db, make([]float64, C*K*L), wout, col, w, B, C, L, OC, K)
			linearUnfill(dinp, dw, db)
			checkGrad(t, "inp", loss, inp, dinp, layerGradAtol, layerGradRtol)
			checkGrad(t, "w", loss, w, dw, layerGradAtol, layerGradRtol)
			checkGrad(t, "bias", loss, bias, db, layerGradAtol, layerGradRtol)
		})
	}
}

// TestConv1dK1NoCol checks the 1×1 path without im2col: col nil in the forward pass, inp
// as col and dcol nil in the backward pass.
func TestConv1dK1NoCol(t *testing.T) {
	rng := rand.New(rand.NewSource(30))
	B, C, L, OC := 2, 3, 7, 5
	inp, w := testutil.RandVec(rng, B*C*L), testutil.RandVec(rng, OC*C)
	wout := testutil.RandVec(rng, B*OC*L)
	out := make([]float64, B*OC*L)
	loss := func() float64 {
		Conv1dForward(out, nil, inp, w, nil, B, C, L, OC, 1)
		return dot(wout, out)
	}
	loss()
	want := make([]float64, len(out))
	conv1dDirect(want, inp, w, nil, B, C, L, OC, 1)
	for j := range want {
		if math.Abs(out[j]-want[j]) > 1e-12 {
			t.Fatalf("out[%d] = %v, direct sum %v", j, out[j], want[j])
		}
	}
	dinp, dw := linearGradBuf(len(inp)), linearGradBuf(len(w))
	Conv1dBackward(dinp, dw, nil, nil, wout, inp, w, B, C, L, OC, 1)
	linearUnfill(dinp, dw)
	checkGrad(t, "inp", loss, inp, dinp, layerGradAtol, layerGradRtol)
	checkGrad(t, "w", loss, w, dw, layerGradAtol, layerGradRtol)
}

func TestConv1dParity(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	B, C, L, OC, K := 2, 5, 11, 4, 3
	inp, w, bias := testutil.RandVec(rng, B*C*L), testutil.RandVec(rng, OC*C*K), testutil.RandVec(rng, OC)
	linearRound32(inp, w, bias)
	out, out32 := make([]float64, B*OC*L), make([]float32, B*OC*L)
	Conv1dForward(out, make([]float64, B*C*K*L), inp, w, bias, B, C, L, OC, K)
	Conv1dForward(out32, make([]float32, B*C*K*L), linearTo32(inp), linearTo32(w), linearTo32(bias), B, C, L, OC, K)
	linearCheckParity(t, "Conv1dForward", out32, out)
}

func TestConv1dPanicsOnEvenKernel(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Conv1dForward with K = 2 did not panic")
		}
	}()
	Conv1dForward(make([]float64, 4), make([]float64, 8), make([]float64, 4), make([]float64, 2), nil, 1, 1, 4, 1, 2)
}

// conv1dBenchShape is a featurizer-like convolution: 32 → 32 channels, kernel 3, 900 points.
const (
	conv1dBenchB, conv1dBenchC, conv1dBenchOC, conv1dBenchL, conv1dBenchK = 32, 32, 32, 900, 3
)

func BenchmarkConv1dForward(b *testing.B) {
	B, C, OC, L, K := conv1dBenchB, conv1dBenchC, conv1dBenchOC, conv1dBenchL, conv1dBenchK
	rng := rand.New(rand.NewSource(1))
	inp, w := linearTo32(testutil.RandVec(rng, B*C*L)), linearTo32(testutil.RandVec(rng, OC*C*K))
	bias := linearTo32(testutil.RandVec(rng, OC))
	out, col := make([]float32, B*OC*L), make([]float32, B*C*K*L)
	b.ResetTimer()
	for b.Loop() {
		Conv1dForward(out, col, inp, w, bias, B, C, L, OC, K)
	}
	flops := 2 * float64(B*OC*C*K*L) // multiply-adds of the product
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkConv1dBackward(b *testing.B) {
	B, C, OC, L, K := conv1dBenchB, conv1dBenchC, conv1dBenchOC, conv1dBenchL, conv1dBenchK
	rng := rand.New(rand.NewSource(1))
	inp, w := linearTo32(testutil.RandVec(rng, B*C*L)), linearTo32(testutil.RandVec(rng, OC*C*K))
	out, col := make([]float32, B*OC*L), make([]float32, B*C*K*L)
	Conv1dForward(out, col, inp, w, nil, B, C, L, OC, K)
	dout := linearTo32(testutil.RandVec(rng, B*OC*L))
	dinp, dw, db, dcol := make([]float32, B*C*L), make([]float32, OC*C*K), make([]float32, OC), make([]float32, C*K*L)
	b.ResetTimer()
	for b.Loop() {
		Conv1dBackward(dinp, dw, db, dcol, dout, col, w, B, C, L, OC, K)
	}
	flops := 4 * float64(B*OC*C*K*L) // two products: dw and dcol
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestConv1dReLUForward: the fused bias and ReLU give the bits of Conv1dForward followed by
// ReLUForward, with and without a bias, on every case shape and on a batch of one (the
// strip-cut path).
func TestConv1dReLUForward(t *testing.T) {
	src := rand.New(rand.NewSource(46))
	randf := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(src.NormFloat64())
		}
		return x
	}
	cases := append(conv1dCases[:len(conv1dCases):len(conv1dCases)], struct{ B, C, L, OC, K int }{1, 2, 300, 64, 3})
	for _, tc := range cases {
		B, C, L, OC, K := tc.B, tc.C, tc.L, tc.OC, tc.K
		inp, w := randf(B*C*L), randf(OC*C*K)
		for _, bias := range [][]float32{nil, randf(OC)} {
			want, got := make([]float32, B*OC*L), make([]float32, B*OC*L)
			Conv1dForward(want, make([]float32, B*C*K*L), inp, w, bias, B, C, L, OC, K)
			ReLUForward(want, want)
			Conv1dReLUForward(got, make([]float32, B*C*K*L), inp, w, bias, B, C, L, OC, K)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v, bias %v: out[%d] = %v, want %v", tc, bias != nil, i, got[i], want[i])
				}
			}
		}
	}
}

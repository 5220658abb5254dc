package nn

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/internal/testutil"
)

// resBlockShapes are the tested shapes: with a projection (C ≠ OC) and with the identity
// skip, odd sizes.
var resBlockShapes = []ResBlockShape{
	{B: 2, C: 3, OC: 5, L: 7, K: 3},
	{B: 2, C: 4, OC: 4, L: 7, K: 3},
}

// resBlockSetup returns the flat parameters and buffers of a block of shape s, initialised
// by Init and then given random batch-norm affine maps and running statistics (so that no
// gamma is exactly 1 and no beta 0), and a random input (B, C, L).
func resBlockSetup(s ResBlockShape, seed int64) (params, buffers, inp []float64) {
	params, buffers = make([]float64, s.NumParams()), make([]float64, s.NumBuffers())
	p := NewResBlockParams(s, params, buffers)
	p.Init(s, rng.New(uint64(seed), 0))
	r := rand.New(rand.NewSource(seed))
	for _, bn := range []BatchNormParams[float64]{p.BN1, p.BN2, p.BNProj} {
		for c := range bn.Gamma {
			bn.Gamma[c] = 1 + 0.3*r.NormFloat64()
			bn.Beta[c] = 0.3 * r.NormFloat64()
			bn.RunMean[c] = 0.2 * r.NormFloat64()
			bn.RunVar[c] = 1 + 0.5*r.Float64()
		}
	}
	return params, buffers, testutil.RandVec(r, s.B*s.C*s.L)
}

// resBlockNamed lists the parameter views of p by name (the projection's only when present).
func resBlockNamed[T Float](s ResBlockShape, p ResBlockParams[T]) []struct {
	name string
	v    []T
} {
	views := []struct {
		name string
		v    []T
	}{{"W1", p.W1}, {"BN1.Gamma", p.BN1.Gamma}, {"BN1.Beta", p.BN1.Beta},
		{"W2", p.W2}, {"BN2.Gamma", p.BN2.Gamma}, {"BN2.Beta", p.BN2.Beta}}
	if s.Proj() {
		views = append(views, []struct {
			name string
			v    []T
		}{{"WProj", p.WProj}, {"BNProj.Gamma", p.BNProj.Gamma}, {"BNProj.Beta", p.BNProj.Beta}}...)
	}
	return views
}

// resBlockReference computes the block's output the plain way: direct convolutions
// (conv1dDirect), the batch-norm ops and a scalar ReLU, each step in its own fresh buffer.
// In training mode it updates p's running statistics as the block should.
func resBlockReference(s ResBlockShape, p ResBlockParams[float64], inp []float64, train bool) []float64 {
	B, C, OC, L, K := s.B, s.C, s.OC, s.L, s.K
	n := B * OC * L
	bn := func(x []float64, q BatchNormParams[float64]) []float64 {
		y := make([]float64, n)
		if train {
			BatchNorm1dForward(y, make([]float64, OC), make([]float64, OC), x, q.Gamma, q.Beta, q.RunMean, q.RunVar, B, OC, L, 0.1, 1e-5)
		} else {
			BatchNorm1dEvalForward(y, x, q.Gamma, q.Beta, q.RunMean, q.RunVar, B, OC, L, 1e-5)
		}
		return y
	}
	relu := func(x []float64) {
		for i := range x {
			x[i] = math.Max(x[i], 0)
		}
	}
	h1 := make([]float64, n)
	conv1dDirect(h1, inp, p.W1, nil, B, C, L, OC, K)
	a1 := bn(h1, p.BN1)
	relu(a1)
	h2 := make([]float64, n)
	conv1dDirect(h2, a1, p.W2, nil, B, OC, L, OC, K)
	out := bn(h2, p.BN2)
	skip := inp
	if s.Proj() {
		hp := make([]float64, n)
		conv1dDirect(hp, inp, p.WProj, nil, B, C, L, OC, 1)
		skip = bn(hp, p.BNProj)
	}
	for i := range out {
		out[i] += skip[i]
	}
	relu(out)
	return out
}

func TestResBlockNumParams(t *testing.T) {
	// W1 5·3·3 + BN1 2·5 + W2 5·5·3 + BN2 2·5 + WProj 5·3 + BNProj 2·5.
	s := ResBlockShape{B: 2, C: 3, OC: 5, L: 7, K: 3}
	if got, want := s.NumParams(), 45+10+75+10+15+10; got != want {
		t.Errorf("NumParams with projection = %d, want %d", got, want)
	}
	if got, want := s.NumBuffers(), 30; got != want {
		t.Errorf("NumBuffers with projection = %d, want %d", got, want)
	}
	s = ResBlockShape{B: 2, C: 4, OC: 4, L: 7, K: 3}
	if got, want := s.NumParams(), 48+8+48+8; got != want {
		t.Errorf("NumParams without projection = %d, want %d", got, want)
	}
	if got, want := s.NumBuffers(), 16; got != want {
		t.Errorf("NumBuffers without projection = %d, want %d", got, want)
	}
	p := NewResBlockParams(s, make([]float64, s.NumParams()), nil)
	if p.WProj != nil || p.BN1.RunMean != nil {
		t.Errorf("without projection and buffers: WProj %v, BN1.RunMean %v, want nil", p.WProj, p.BN1.RunMean)
	}
}

func TestResBlockInit(t *testing.T) {
	// He normal: std √(2/fan_in). 64·64·3 = 12288 weights estimate the std to ±0.64% (one
	// standard error, std/√(2n)); 4% is over six standard errors.
	s := ResBlockShape{B: 1, C: 32, OC: 64, L: 1, K: 3}
	flat := make([]float32, s.NumParams())
	p := NewResBlockParams(s, flat, make([]float32, s.NumBuffers()))
	p.Init(s, rng.New(7, 1))
	for _, tc := range []struct {
		name  string
		w     []float32
		fanIn int
	}{{"W1", p.W1, 32 * 3}, {"W2", p.W2, 64 * 3}, {"WProj", p.WProj, 32}} {
		ss := 0.0
		for _, v := range tc.w {
			ss += float64(v) * float64(v)
		}
		std, want := math.Sqrt(ss/float64(len(tc.w))), math.Sqrt(2/float64(tc.fanIn))
		t.Logf("%s: std %.4f, He %.4f", tc.name, std, want)
		if math.Abs(std/want-1) > 0.04 {
			t.Errorf("%s: std %.4f, want %.4f", tc.name, std, want)
		}
	}
	if p.BN2.Gamma[3] != 1 || p.BN2.Beta[3] != 0 || p.BNProj.RunMean[0] != 0 || p.BNProj.RunVar[0] != 1 {
		t.Errorf("batch norm init: gamma %v beta %v running mean %v var %v", p.BN2.Gamma[3], p.BN2.Beta[3], p.BNProj.RunMean[0], p.BNProj.RunVar[0])
	}
	again := make([]float32, s.NumParams())
	NewResBlockParams(s, again, make([]float32, s.NumBuffers())).Init(s, rng.New(7, 1))
	if !slices.Equal(flat, again) {
		t.Error("Init with the same seed gave different weights")
	}
}

func TestResBlockForwardValues(t *testing.T) {
	for i, s := range resBlockShapes {
		for _, train := range []bool{true, false} {
			t.Run(fmt.Sprintf("proj=%v/train=%v", s.Proj(), train), func(t *testing.T) {
				params, buffers, inp := resBlockSetup(s, int64(50+i))
				refBuffers := slices.Clone(buffers)
				p := NewResBlockParams(s, params, buffers)
				acts := NewResBlockActs[float64](s)
				ResBlockForward(acts, p, inp, train)
				want := resBlockReference(s, NewResBlockParams(s, params, refBuffers), inp, train)
				worst := 0.0
				for j := range want {
					d := math.Abs(acts.Out[j] - want[j])
					worst = math.Max(worst, d)
					// The same float64 arithmetic up to the order of the ≤ 15-term sums in the
					// convolutions: agreement to a few ulps.
					if d > 1e-12*(1+math.Abs(want[j])) {
						t.Fatalf("Out[%d] = %v, reference %v", j, acts.Out[j], want[j])
					}
				}
				for j := range refBuffers {
					if math.Abs(buffers[j]-refBuffers[j]) > 1e-12*(1+math.Abs(refBuffers[j])) {
						t.Fatalf("running statistics[%d] = %v, reference %v", j, buffers[j], refBuffers[j])
					}
				}
				t.Logf("max |Out − reference| = %.3g", worst)
			})
		}
	}
}

func TestResBlockGrad(t *testing.T) {
	for i, s := range resBlockShapes {
		t.Run(fmt.Sprintf("proj=%v", s.Proj()), func(t *testing.T) {
			params, buffers, inp := resBlockSetup(s, int64(60+i))
			resBlockGradCheck(t, s, NewResBlockParams(s, params, buffers), inp, int64(70+i))
		})
	}
}

// resBlockGradCheck checks every gradient of the training-mode block p against central
// differences of the loss Σ wout·Out, wout random from seed.
func resBlockGradCheck(t *testing.T, s ResBlockShape, p ResBlockParams[float64], inp []float64, seed int64) {
	acts := NewResBlockActs[float64](s)
	wout := testutil.RandVec(rand.New(rand.NewSource(seed)), s.B*s.OC*s.L)
	loss := func() float64 {
		ResBlockForward(acts, p, inp, true)
		return dot(wout, acts.Out)
	}
	loss()
	gflat, dinp := linearGradBuf(s.NumParams()), linearGradBuf(len(inp))
	grads := NewResBlockParams(s, gflat, nil)
	ResBlockBackward(dinp, grads, wout, acts, p)
	linearUnfill(gflat, dinp)
	checkGrad(t, "inp", loss, inp, dinp, layerGradAtol, layerGradRtol)
	gv := resBlockNamed(s, grads)
	for j, pv := range resBlockNamed(s, p) {
		checkGrad(t, pv.name, loss, pv.v, gv[j].v, layerGradAtol, layerGradRtol)
	}
}

func TestResBlockParity(t *testing.T) {
	for i, s := range resBlockShapes {
		for _, train := range []bool{true, false} {
			t.Run(fmt.Sprintf("proj=%v/train=%v", s.Proj(), train), func(t *testing.T) {
				params, buffers, inp := resBlockSetup(s, int64(80+i))
				linearRound32(params, buffers, inp)
				p32 := NewResBlockParams(s, linearTo32(params), linearTo32(buffers))
				acts32 := NewResBlockActs[float32](s)
				ResBlockForward(acts32, p32, linearTo32(inp), train)
				acts := NewResBlockActs[float64](s)
				ResBlockForward(acts, NewResBlockParams(s, params, buffers), inp, train)
				linearCheckParity(t, "ResBlockForward", acts32.Out, acts.Out)
			})
		}
	}
}

func TestResBlockBackwardAfterEvalPanics(t *testing.T) {
	s := resBlockShapes[1]
	params, buffers, inp := resBlockSetup(s, 90)
	p := NewResBlockParams(s, params, buffers)
	acts := NewResBlockActs[float64](s)
	ResBlockForward(acts, p, inp, false)
	defer func() {
		if recover() == nil {
			t.Fatal("ResBlockBackward after an evaluation-mode forward pass did not panic")
		}
	}()
	ResBlockBackward(nil, NewResBlockParams(s, make([]float64, s.NumParams()), nil), acts.Out, acts, p)
}

package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/internal/testutil"
)

// wnShapes are resBlockShapes with weight normalisation.
func wnShapes() []ResBlockShape {
	var ss []ResBlockShape
	for _, s := range resBlockShapes {
		s.WeightNorm = true
		ss = append(ss, s)
	}
	return ss
}

// wnSetup returns the flat parameters of a weight-normalised block of shape s, initialised
// by Init and then given random g and biases (so that no g is its init value and no bias 0),
// and a random input (B, C, L).
func wnSetup(s ResBlockShape, seed int64) (params, inp []float64) {
	params = make([]float64, s.NumParams())
	p := NewResBlockParams(s, params, nil)
	p.Init(s, rng.New(uint64(seed), 0))
	r := rand.New(rand.NewSource(seed))
	for _, n := range []BatchNormParams[float64]{p.BN1, p.BN2, p.BNProj} {
		for c := range n.Gamma {
			n.Gamma[c] = 0.8 + 0.4*r.Float64()
			n.Beta[c] = 0.3 * r.NormFloat64()
		}
	}
	return params, testutil.RandVec(r, s.B*s.C*s.L)
}

// wnReference computes a weight-normalised block the plain way: the effective weights
// W = g·v/‖v‖ built explicitly, direct convolutions with bias (conv1dDirect), scalar ReLUs.
func wnReference(s ResBlockShape, p ResBlockParams[float64], inp []float64) []float64 {
	B, C, OC, L, K := s.B, s.C, s.OC, s.L, s.K
	n := B * OC * L
	eff := func(v, g []float64) []float64 {
		w := make([]float64, len(v))
		fan := len(v) / OC
		for o := range OC {
			ss := 0.0
			for _, x := range v[o*fan : (o+1)*fan] {
				ss += x * x
			}
			for j := o * fan; j < (o+1)*fan; j++ {
				w[j] = g[o] * v[j] / math.Sqrt(ss)
			}
		}
		return w
	}
	relu := func(x []float64) {
		for i := range x {
			x[i] = math.Max(x[i], 0)
		}
	}
	a1 := make([]float64, n)
	conv1dDirect(a1, inp, eff(p.W1, p.BN1.Gamma), p.BN1.Beta, B, C, L, OC, K)
	relu(a1)
	out := make([]float64, n)
	conv1dDirect(out, a1, eff(p.W2, p.BN2.Gamma), p.BN2.Beta, B, OC, L, OC, K)
	skip := inp
	if s.Proj() {
		skip = make([]float64, n)
		conv1dDirect(skip, inp, eff(p.WProj, p.BNProj.Gamma), p.BNProj.Beta, B, C, L, OC, 1)
	}
	for i := range out {
		out[i] += skip[i]
	}
	relu(out)
	return out
}

func TestWeightNormBlockNoBuffers(t *testing.T) {
	s := wnShapes()[0]
	b := s
	b.WeightNorm = false
	if s.NumBuffers() != 0 || s.NumParams() != b.NumParams() {
		t.Errorf("weight norm: %d buffers, %d params; want 0 and the batch-norm block's %d", s.NumBuffers(), s.NumParams(), b.NumParams())
	}
}

func TestWeightNormBlockForwardValues(t *testing.T) {
	for i, s := range wnShapes() {
		for _, train := range []bool{true, false} {
			t.Run(fmt.Sprintf("proj=%v/train=%v", s.Proj(), train), func(t *testing.T) {
				params, inp := wnSetup(s, int64(150+i))
				p := NewResBlockParams(s, params, nil)
				acts := NewResBlockActs[float64](s)
				ResBlockForward(acts, p, inp, train)
				want := wnReference(s, p, inp)
				for j := range want {
					// The same float64 values up to the order of the sums and where the scale
					// is applied: a few ulps.
					if d := math.Abs(acts.Out[j] - want[j]); d > 1e-12*(1+math.Abs(want[j])) {
						t.Fatalf("Out[%d] = %v, reference %v", j, acts.Out[j], want[j])
					}
				}
			})
		}
	}
}

// TestWeightNormBlockPerExample checks the property weight norm is for: an example's output
// does not depend on the other examples of its batch (batch norm's training pass fails it).
func TestWeightNormBlockPerExample(t *testing.T) {
	s := wnShapes()[0]
	params, inp := wnSetup(s, 160)
	p := NewResBlockParams(s, params, nil)
	acts := NewResBlockActs[float64](s)
	ResBlockForward(acts, p, inp, true)
	one := s
	one.B = 1
	a1 := NewResBlockActs[float64](one)
	n := s.C * s.L
	ResBlockForward(a1, p, inp[:n], true)
	for j, v := range a1.Out {
		if v != acts.Out[j] {
			t.Fatalf("example 0 alone: Out[%d] = %v, in its batch %v", j, v, acts.Out[j])
		}
	}
}

func TestWeightNormBlockGrad(t *testing.T) {
	for i, s := range wnShapes() {
		t.Run(fmt.Sprintf("proj=%v", s.Proj()), func(t *testing.T) {
			params, inp := wnSetup(s, int64(170+i))
			resBlockGradCheck(t, s, NewResBlockParams(s, params, nil), inp, int64(180+i))
		})
	}
}

func TestWeightNormBlockInit(t *testing.T) {
	// g = ‖v‖/√6 exactly, so that the effective weight g·v/‖v‖ (norm g) has variance
	// 1/(3·fan_in): mean g² = 1/3 (‖v‖² over ≥ 32 He-normal values averaged over 64
	// channels: ≤ 2.5% standard error; 10% allowed).
	s := ResBlockShape{B: 1, C: 32, OC: 64, L: 1, K: 3, WeightNorm: true}
	flat := make([]float64, s.NumParams())
	p := NewResBlockParams(s, flat, nil)
	p.Init(s, rng.New(7, 1))
	for _, tc := range []struct {
		name  string
		v, g  []float64
		b     []float64
		fanIn int
	}{{"conv1", p.W1, p.BN1.Gamma, p.BN1.Beta, 32 * 3}, {"conv2", p.W2, p.BN2.Gamma, p.BN2.Beta, 64 * 3}, {"proj", p.WProj, p.BNProj.Gamma, p.BNProj.Beta, 32}} {
		rinv := make([]float64, s.OC)
		WeightNormRinv(rinv, tc.v, s.OC, tc.fanIn)
		g2 := 0.0
		for o := range s.OC {
			if got := tc.g[o] * rinv[o]; math.Abs(got-1/math.Sqrt(6)) > 1e-12 {
				t.Fatalf("%s: channel %d: g/‖v‖ = %v, want 1/√6", tc.name, o, got)
			}
			g2 += tc.g[o] * tc.g[o] / float64(s.OC)
			if tc.b[o] != 0 {
				t.Fatalf("%s: bias %v, want 0", tc.name, tc.b[o])
			}
		}
		t.Logf("%s: mean g² %.4f (1/3 wanted)", tc.name, g2)
		if math.Abs(3*g2-1) > 0.1 {
			t.Errorf("%s: mean g² = %.4f, want 1/3 ± 10%%", tc.name, g2)
		}
	}
}

// wnTinyConfig is tinyConfig with weight-normalised blocks.
func wnTinyConfig() ModelConfig {
	c := tinyConfig()
	c.Featurizer.Norm = NormWeight
	return c
}

// TestWeightNormModel: a weight-normalised model has no running statistics, names its
// tensors as PyTorch's weight_norm does, and computes the same loss in training and
// evaluation mode (its gradients are in TestModelGradient).
func TestWeightNormModel(t *testing.T) {
	c := wnTinyConfig()
	m := newTestModel[float64](t, c, 4, 0.1)
	if len(m.Buffers) != 0 || len(m.BufferTensors()) != 0 {
		t.Fatalf("weight-normalised model: %d buffers, want none", len(m.Buffers))
	}
	names := map[string]bool{}
	for _, tn := range m.ParamTensors() {
		names[tn.Name] = true
	}
	for _, n := range []string{"featurizer.block0.conv1.weight_v", "featurizer.block0.conv1.weight_g", "featurizer.block0.proj.bias"} {
		if !names[n] {
			t.Errorf("no tensor %s", n)
		}
	}
	x, theta := randBatch[float64](c, 3, 5)
	if tr, ev := m.LossForward(x, theta, true), m.LossForward(x, theta, false); tr != ev {
		t.Errorf("loss in training mode %v, in evaluation mode %v", tr, ev)
	}
}

func TestFoldWeightNorm(t *testing.T) {
	c := wnTinyConfig()
	const B = 3
	m := newTestModel[float32](t, c, 7, 0.1)
	x, theta := randBatch[float32](c, B, 8)
	f, err := FoldWeightNorm(m)
	if err != nil {
		t.Fatal(err)
	}
	if f.Config.Featurizer.WeightNorm() || len(f.Buffers) == 0 {
		t.Fatalf("folded model: norm %q, %d buffers; want batch norm with running statistics", f.Config.Featurizer.Norm, len(f.Buffers))
	}
	want := append([]float32(nil), m.Context(x)...)
	got := f.Context(x)
	for i := range want {
		// float32: the folded weight rounds once more than v·(g/‖v‖) applied after the
		// convolution; 1e-5 relative to the context's scale.
		if math.Abs(float64(got[i]-want[i])) > 1e-5*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("context[%d]: folded %v, weight norm %v", i, got[i], want[i])
		}
	}
	lw, lf := m.LossForward(x, theta, false), f.LossForward(x, theta, false)
	if math.Abs(float64(lw-lf)) > 1e-4*(1+math.Abs(float64(lw))) {
		t.Errorf("eval loss: folded %v, weight norm %v", lf, lw)
	}
	if _, err := FoldWeightNorm(f); err == nil {
		t.Error("FoldWeightNorm of a batch-norm model: no error")
	}
}

func TestFeaturizerNormValidate(t *testing.T) {
	c := tinyConfig()
	c.Featurizer.Norm = "layer"
	if err := c.Validate(); err == nil {
		t.Error("norm \"layer\" accepted")
	}
}

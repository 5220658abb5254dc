package nn

import (
	"encoding/json"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
)

// tinyConfig is a model small enough for finite differences that still has every kind of
// part: a projected first block, an identity block, a pool, a second projected block with
// no pool after it (3 blocks, PoolEvery 2), a 2-layer GRU, and a 2-block flow in D = 7.
func tinyConfig() ModelConfig {
	return ModelConfig{
		InputLen: 32, Bin: 2,
		Featurizer: FeaturizerShape{L: 16, C0: 2, Cmax: 4, K: 3, Blocks: 3, PoolEvery: 2,
			GRUHidden: 5, GRULayers: 2, Context: 4},
		Flow: MAFShape{D: 7, C: 4, H: 8, L: 2, NB: 2, K: 3, OrderSeed: 3},
	}
}

// newTestModel builds a model of config c, initialised from seed and then perturbed by
// N(0, noise²) so that no parameter sits at a special value (zero biases, unit gammas, an
// identity flow).
func newTestModel[T Float](t testing.TB, c ModelConfig, seed uint64, noise float64) *Model[T] {
	t.Helper()
	m, err := NewModel[T](c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(seed)
	src := rng.New(seed, 99)
	for i := range m.Params {
		m.Params[i] += T(noise * src.Normal())
	}
	return m
}

// randBatch returns x (B, 1, L) and θ (B, D) of standard normal values.
func randBatch[T Float](c ModelConfig, B int, seed uint64) (x, theta []T) {
	src := rng.New(seed, 7)
	x, theta = make([]T, B*c.Featurizer.L), make([]T, B*c.D())
	for i := range x {
		x[i] = T(src.Normal())
	}
	for i := range theta {
		theta[i] = T(src.Normal())
	}
	return x, theta
}

func allFinite[T Float](x []T) bool {
	for _, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// TestModelGradient checks the end-to-end gradient of the mean NLL (featurizer in training
// mode, batch norms on batch statistics, then the flow) against central differences, for a
// random subset of every parameter tensor and for every input value. Tolerance: float64
// central differences with h = 1e-6 are good to ~1e-9 relative on smooth losses (see
// checkGrad); atol 1e-7 and rtol 1e-5 leave room for the deeper graph while still catching
// any wrong term, which shows up at O(1) relative error.
func TestModelGradient(t *testing.T) {
	for _, tc := range []struct{ norm, base string }{
		{NormBatch, BaseMixture}, {NormWeight, BaseMixture}, {NormBatch, BaseMADEMoG}, {NormWeight, BaseMADEMoG},
	} {
		t.Run(tc.norm+"/"+tc.base, func(t *testing.T) {
			c := tinyConfig()
			c.Featurizer.Norm, c.Flow.Base = tc.norm, tc.base
			modelGradCheck(t, c, Balance{})
		})
	}
}

// testLogPrior is a prior log-density that varies with θ (a standard normal), so that the
// balancing penalty's classifier outputs differ between rows.
func testLogPrior(y []float64) float64 {
	lp := 0.0
	for _, v := range y {
		lp -= 0.5*v*v + 0.5*math.Log(2*math.Pi)
	}
	return lp
}

// The balancing penalty: its value equals an independent computation from two plain
// passes (the joint batch and the batch with θ rolled by one row), and the gradient of
// NLL + penalty matches finite differences for every tensor, for both normalisations.
func TestModelBalance(t *testing.T) {
	for _, norm := range []string{NormBatch, NormWeight} {
		t.Run(norm, func(t *testing.T) {
			c := tinyConfig()
			c.Featurizer.Norm = norm
			const B, lambda = 4, 100.0
			m := newTestModel[float64](t, c, 1, 0.1)
			x, theta := randBatch[float64](c, B, 2)
			D := c.D()
			nll := m.LossForward(x, theta, true)
			joint := append([]float64(nil), m.LogProb()...)
			rolled := make([]float64, len(theta))
			for b := range B {
				copy(rolled[b*D:(b+1)*D], theta[((b+B-1)%B)*D:])
			}
			m.LossForward(x, rolled, true)
			marg := append([]float64(nil), m.LogProb()...)
			mean := 0.0
			for b := range B {
				lpj := testLogPrior(theta[b*D : (b+1)*D])
				lpm := testLogPrior(rolled[b*D : (b+1)*D])
				mean += 1/(1+math.Exp(-(joint[b]-lpj))) + 1/(1+math.Exp(-(marg[b]-lpm)))
			}
			mean /= B
			want := nll + lambda*(mean-1)*(mean-1)
			m.Balance = Balance{Lambda: lambda, LogPrior: testLogPrior}
			got := m.LossForward(x, theta, true)
			if math.Abs(got-want) > 1e-12*math.Abs(want) || m.BalancePenalty() == 0 {
				t.Fatalf("loss with penalty %.15g (penalty %g), want %.15g", got, m.BalancePenalty(), want)
			}
			if ev := m.LossForward(x, theta, false); m.BalancePenalty() != 0 {
				t.Errorf("evaluation-mode loss %g has a penalty %g", ev, m.BalancePenalty())
			}
			t.Logf("NLL %.6f, penalty %.6f (classifier mean %.4f)", nll, got-nll, mean)
			modelGradCheck(t, c, Balance{Lambda: lambda, LogPrior: testLogPrior})
		})
	}
}

func modelGradCheck(t *testing.T, c ModelConfig, bal Balance) {
	const B = 3
	m := newTestModel[float64](t, c, 1, 0.1)
	m.Balance = bal
	x, theta := randBatch[float64](c, B, 2)
	loss := func() float64 { return m.LossForward(x, theta, true) }

	m.ZeroGrads()
	loss()
	dx := make([]float64, len(x))
	m.LossBackward(dx)
	grads := append([]float64(nil), m.Grads...)

	const atol, rtol, h = 1e-7, 1e-5, 1e-6
	pick := rand.New(rand.NewSource(5))
	worstAll, checked := 0.0, 0
	for _, tn := range m.ParamTensors() {
		n := len(tn.Data)
		idx := pick.Perm(n)[:min(n, 6)]
		worst := 0.0
		for _, i := range idx {
			j := tn.Offset + i
			orig := m.Params[j]
			m.Params[j] = orig + h
			lp := loss()
			m.Params[j] = orig - h
			lm := loss()
			m.Params[j] = orig
			num := (lp - lm) / (2 * h)
			r := math.Abs(grads[j]-num) / (atol + rtol*math.Abs(num))
			worst = math.Max(worst, r)
			if r > 1 {
				t.Errorf("%s[%d]: analytic %.10g, finite difference %.10g", tn.Name, i, grads[j], num)
			}
			checked++
		}
		t.Logf("%-34s %5d values, %d checked, worst ratio %.3g", tn.Name, n, len(idx), worst)
		worstAll = math.Max(worstAll, worst)
	}
	if checked < 200 {
		t.Errorf("only %d parameter values checked, want ≥ 200", checked)
	}
	t.Logf("parameters: %d of %d checked over %d tensors, worst |diff|/(atol+rtol|num|) = %.3g",
		checked, m.NumParams(), len(m.ParamTensors()), worstAll)
	checkGrad(t, "x", loss, x, dx, atol, rtol)
}

// TestModelParity compares the float32 model with the float64 one on the same weights: the
// loss and every gradient, in training mode, and the loss in evaluation mode. The
// tolerances allow float32 rounding (eps 6e-8) amplified through ~20 layers and batch
// normalisation: 1e-4 relative on the loss, 2e-3 of the largest gradient.
func TestModelParity(t *testing.T) {
	c := tinyConfig()
	const B = 4
	m64 := newTestModel[float64](t, c, 3, 0.05)
	m32, err := NewModel[float32](c)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m64.Params {
		m32.Params[i] = float32(v)
	}
	for i, v := range m64.Buffers {
		m32.Buffers[i] = float32(v)
	}
	x64, th64 := randBatch[float64](c, B, 4)
	x32, th32 := randBatch[float32](c, B, 4)
	for i := range x32 { // the same values, rounded once
		x64[i] = float64(x32[i])
	}
	for i := range th32 {
		th64[i] = float64(th32[i])
	}
	for _, train := range []bool{true, false} {
		l64, l32 := m64.LossForward(x64, th64, train), m32.LossForward(x32, th32, train)
		if d := math.Abs(l32 - l64); d > 1e-4*math.Abs(l64) {
			t.Errorf("train=%v: loss float32 %.8g, float64 %.8g", train, l32, l64)
		} else {
			t.Logf("train=%v: loss %.8g, |float32 − float64| = %.3g", train, l64, d)
		}
	}
	m64.ZeroGrads()
	m32.ZeroGrads()
	m64.LossForward(x64, th64, true)
	m32.LossForward(x32, th32, true)
	m64.LossBackward(nil)
	m32.LossBackward(nil)
	gmax, dmax := 0.0, 0.0
	for i, g := range m64.Grads {
		gmax = math.Max(gmax, math.Abs(g))
		dmax = math.Max(dmax, math.Abs(float64(m32.Grads[i])-g))
	}
	if dmax > 2e-3*gmax {
		t.Errorf("gradients: max |float32 − float64| = %.3g, max |g| = %.3g", dmax, gmax)
	}
	t.Logf("gradients: max |float32 − float64| = %.3g of max |g| = %.3g", dmax, gmax)
}

// TestModelLayout checks that the named tensors tile Params and Buffers exactly, that the
// flow's slices are the tails of the model's, and that the config survives JSON.
func TestModelLayout(t *testing.T) {
	for _, c := range []ModelConfig{tinyConfig(), smallConfig()} {
		m, err := NewModel[float32](c)
		if err != nil {
			t.Fatal(err)
		}
		for _, set := range []struct {
			name string
			ts   []NamedTensor[float32]
			n    int
		}{{"params", m.ParamTensors(), len(m.Params)}, {"buffers", m.BufferTensors(), len(m.Buffers)}} {
			off := 0
			for _, tn := range set.ts {
				size := 1
				for _, d := range tn.Shape {
					size *= d
				}
				if tn.Offset != off || size != len(tn.Data) {
					t.Fatalf("%s %s: offset %d size %d (len %d), want offset %d", set.name, tn.Name, tn.Offset, size, len(tn.Data), off)
				}
				off += size
			}
			if off != set.n {
				t.Errorf("%s: tensors cover %d of %d values", set.name, off, set.n)
			}
		}
		nf := c.Featurizer.NumParams()
		if &m.Flow.Params[0] != &m.Params[nf] || &m.Flow.Grads[0] != &m.Grads[nf] || len(m.Flow.Params) != c.Flow.NumParams() {
			t.Error("the flow's parameters are not the tail of the model's")
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back ModelConfig
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("JSON round trip: got %+v, want %+v", back, c)
		}
	}
}

// smallConfig is a model of realistic size for the tests of generic behaviour: the shape of
// the small preset of package event (900 inputs, 4 residual blocks 16→64 channels, a GRU of
// 64, 5 MADE blocks of 2×64, 8 components).
func smallConfig() ModelConfig {
	return ModelConfig{
		InputLen: 7200, Bin: 8,
		Featurizer: FeaturizerShape{L: 900, C0: 16, Cmax: 64, K: 3, Blocks: 4, PoolEvery: 1,
			GRUHidden: 64, GRULayers: 1, Context: 64},
		Flow: MAFShape{D: 7, C: 64, H: 64, L: 2, NB: 5, K: 8, OrderSeed: 20240601},
	}
}

// TestSmallTrainStepAndSample runs the small preset forward and backward on a random batch
// (all finite, the loss near the base's scale), then evaluation and sampling.
func TestSmallTrainStepAndSample(t *testing.T) {
	c := smallConfig()
	const B = 4
	m, err := NewModel[float32](c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(1)
	x, theta := randBatch[float32](c, B, 1)
	loss := m.LossForward(x, theta, true)
	m.ZeroGrads()
	m.LossBackward(nil)
	if math.IsNaN(loss) || math.IsInf(loss, 0) || !allFinite(m.Grads) || !allFinite(m.Buffers) {
		t.Fatalf("loss %v or a gradient or running statistic is not finite", loss)
	}
	nz := 0
	for _, tn := range m.ParamTensors() {
		for _, g := range m.Grads[tn.Offset : tn.Offset+len(tn.Data)] {
			if g != 0 {
				nz++
				break
			}
		}
	}
	t.Logf("small: loss %.4g, %d of %d tensors with a non-zero gradient", loss, nz, len(m.ParamTensors()))
	if nz < len(m.ParamTensors())/2 {
		t.Errorf("only %d tensors received a gradient", nz)
	}
	if l := m.LossForward(x, theta, false); math.IsNaN(l) {
		t.Errorf("evaluation loss %v", l)
	}

	const E, S = 2, 300
	out := make([]float32, E*S*c.D())
	m.Sample(out, x[:E*c.Featurizer.L], S, rng.New(2, 0))
	if !allFinite(out) {
		t.Fatal("Sample returned a non-finite value")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("LossBackward after Sample did not panic")
			}
		}()
		m.LossBackward(nil)
	}()
}

func TestModelSampleMatchesFlow(t *testing.T) {
	// Model.Sample must be MAFSample on the featurizer's evaluation-mode context.
	c := tinyConfig()
	m := newTestModel[float64](t, c, 4, 0.05)
	const E, S = 3, 5
	x, _ := randBatch[float64](c, E, 8)
	out := make([]float64, E*S*c.D())
	m.Sample(out, x, S, rng.New(9, 0))
	fs := c.Featurizer
	fs.B = E
	acts := NewFeaturizerActs[float64](fs)
	ctx := FeaturizerForward(acts, m.Feat, x, false)
	// One part per event (S < samplePart): part 0 of event e draws from rng.New(base, e<<32),
	// base being the first draw of the caller's stream.
	want := make([]float64, len(out))
	base := rng.New(9, 0).Uint64()
	C := m.Flow.Shape.C
	for e := 0; e < E; e++ {
		MAFSample(want[e*S*c.D():(e+1)*S*c.D()], nil, NewMAFSampler(m.Flow, 4), ctx[e*C:(e+1)*C], m.Flow, 1, S,
			rng.New(base, uint64(e)<<32))
	}
	for i := range out {
		if math.Abs(out[i]-want[i]) > 1e-12*(1+math.Abs(want[i])) {
			t.Fatalf("out[%d] = %v, want %v", i, out[i], want[i])
		}
	}
}

// TestNewModelRejectsContextMismatch checks that NewModel refuses a flow context that
// differs from the featurizer's.
func TestNewModelRejectsContextMismatch(t *testing.T) {
	bad := tinyConfig()
	bad.Flow.C = 3
	if _, err := NewModel[float32](bad); err == nil {
		t.Error("NewModel accepted a flow context that differs from the featurizer's")
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestBinInput(t *testing.T) {
	src := []float32{1, 2, 3, 4, 5, 6, 7, 9}
	dst := make([]float32, 2)
	BinInput(dst, src, 4)
	if dst[0] != 2.5 || dst[1] != 6.75 {
		t.Errorf("BinInput = %v, want [2.5 6.75]", dst)
	}
	defer func() {
		if recover() == nil {
			t.Error("BinInput with mismatched lengths did not panic")
		}
	}()
	BinInput(dst, src[:7], 4)
}

// TestModelSampleWorkers checks that Model.Sample's output does not depend on the number of
// sampling goroutines, with S spanning several parts.
func TestModelSampleWorkers(t *testing.T) {
	c := tinyConfig()
	m := newTestModel[float64](t, c, 4, 0.05)
	const E, S = 2, 2*samplePart + 7
	x, _ := randBatch[float64](c, E, 8)
	run := func(workers int) []float64 {
		defer SetWorkers(SetWorkers(workers))
		out := make([]float64, E*S*c.D())
		m.Sample(out, x, S, rng.New(5, 0))
		return out
	}
	a, b := run(1), run(3)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("sample %d: %v with 1 worker, %v with 3", i, a[i], b[i])
		}
	}
}

// TestModelEventLogProb: Model.EventLogProb equals the flow's MAFLogProb on the featurizer's context
// row by row, across its chunks (600 rows: 256 + 256 + 88).
func TestModelEventLogProb(t *testing.T) {
	c := tinyConfig()
	m := newTestModel[float64](t, c, 21, 0.1)
	x, _ := randBatch[float64](c, 1, 22)
	const n = 600
	_, theta := randBatch[float64](c, n, 23)
	logp := make([]float64, n)
	m.EventLogProb(logp, x, theta)
	ctx := append([]float64(nil), m.Context(x)...)
	ws := NewMAFWork(m.Flow, 1)
	one := make([]float64, 1)
	for _, i := range []int{0, 255, 256, 511, 599} {
		MAFLogProb(one, ws, theta[i*c.D():(i+1)*c.D()], ctx, m.Flow, 1)
		if math.Abs(one[0]-logp[i]) > 1e-12*(1+math.Abs(one[0])) {
			t.Errorf("row %d: EventLogProb %v, MAFLogProb %v", i, logp[i], one[0])
		}
	}
}

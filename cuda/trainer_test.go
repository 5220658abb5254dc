//go:build cuda || cudaemu

package cuda

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
	"github.com/mlcu/mlcu/train"
)

// TestTrainerLossCurve runs the same 6 training steps (forward, backward, clip at 5, Adam
// at lr 3e-3) on the CPU backend and on the device and compares the loss curves: rtol 1e-4
// per step (the passes agree to ~1e-7 relative, TestModelParity; Adam divides by √v̂ and
// can turn a rounding-level gradient difference into a parameter difference of order lr
// for a parameter whose gradient is ~0, so later losses drift apart slowly — measured
// differences are logged).
func TestTrainerLossCurve(t *testing.T) {
	c := conformance.TrainModel()
	mk := func() (*nn.Model[float32], *nn.Adam[float32]) {
		m, err := nn.NewModel[float32](c)
		must(err)
		m.Init(3)
		return m, nn.NewAdam[float32](m.NumParams())
	}
	mc, ac := mk()
	md, ad := mk()
	cpu, _ := train.NewCPUBackend(mc, ac)
	dev, err := NewTrainer(md, ad)
	must(err)
	defer dev.Close()
	worst := 0.0
	for step := range 6 {
		x, theta := conformance.Batch(c, 4, uint64(100+step))
		lc, nc, err := cpu.Step(x, theta, 5, 3e-3)
		must(err)
		ld, nd, err := dev.Step(x, theta, 5, 3e-3)
		must(err)
		d := math.Abs(ld-lc) / math.Abs(lc)
		worst = math.Max(worst, d)
		if d > 1e-4 {
			t.Errorf("step %d: loss %v on the device, %v on the CPU", step, ld, lc)
		}
		if math.Abs(nd-nc) > 1e-4*nc {
			t.Errorf("step %d: gradient norm %v on the device, %v on the CPU", step, nd, nc)
		}
	}
	must(dev.Sync())
	maxP := 0.0
	for i, p := range mc.Params {
		maxP = math.Max(maxP, math.Abs(float64(md.Params[i]-p)))
	}
	if ad.Step != ac.Step {
		t.Errorf("Adam steps %d on the device, %d on the CPU", ad.Step, ac.Step)
	}
	t.Logf("6 steps: max relative loss difference %.2g, max parameter difference %.2g", worst, maxP)
}

// bumpSource is a cheap dataset.Source: events from the default prior, curves a
// point-lens-like bump (not physics, but a function of θ; as train's own tests use).
type bumpSource struct{ n int }

func (f bumpSource) Len() int           { return f.n }
func (f bumpSource) Prior() event.Prior { return event.DefaultPrior() }
func (f bumpSource) Window(i, k int, dst []float32) (event.Params, error) {
	p := event.DefaultPrior().Sample(rng.New(99, uint64(i)))
	for j := range dst {
		tt := float64(k+j-event.CentreIndex) * event.Cadence
		u2 := p.U0*p.U0 + (tt/p.TE)*(tt/p.TE)
		dst[j] = float32(1 + 1/math.Sqrt(u2+0.01))
	}
	return p, nil
}

func deviceTrainConfig(out string) train.TrainConfig {
	return train.TrainConfig{Out: out, MaxSteps: 6, BatchSize: 4, LR: 3e-3, Seed: 7, Workers: 2, Warmup: 2,
		Model: &nn.ModelConfig{InputLen: event.WindowPoints, Bin: 450,
			Featurizer: nn.FeaturizerShape{L: 16, C0: 2, Cmax: 4, K: 3, Blocks: 2, PoolEvery: 1, GRUHidden: 6, GRULayers: 1, Context: 6},
			Flow:       nn.MAFShape{D: 7, C: 6, H: 14, L: 1, NB: 2, K: 3, OrderSeed: 3}},
		Backend: func(m *nn.Model[float32], a *nn.Adam[float32]) (train.Backend, error) {
			tr, err := NewTrainer(m, a)
			if err != nil {
				return nil, err
			}
			return tr, nil
		}}
}

// TestTrainOnDevice runs train.Train with the device backend: a straight 6-step run against
// one interrupted at step 3 and resumed — same backend, same numbers, bit for bit (the
// device passes have no float atomics) — and against the CPU backend's run within rtol 1e-3
// on the final validation NLL.
func TestTrainOnDevice(t *testing.T) {
	tr, va := bumpSource{12}, bumpSource{4}
	dirA, dirB, dirC := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b"), filepath.Join(t.TempDir(), "c")
	resA, err := train.Train(context.Background(), tr, va, deviceTrainConfig(dirA))
	must(err)
	ctx, cancel := context.WithCancel(context.Background())
	cb := deviceTrainConfig(dirB)
	cb.OnStep = func(s train.StepInfo) {
		if s.Step == 3 {
			cancel()
		}
	}
	if res, err := train.Train(ctx, tr, va, cb); !errors.Is(err, context.Canceled) || res.Steps != 3 || !res.Interrupted {
		t.Fatalf("interrupted run: steps %d, interrupted %v, %v", res.Steps, res.Interrupted, err)
	}
	cb.OnStep, cb.Resume = nil, true
	if res, err := train.Train(context.Background(), tr, va, cb); err != nil || res.Steps != 6 {
		t.Fatalf("resumed run: steps %d, %v", res.Steps, err)
	}
	a, err := nn.LoadCheckpoint[float32](filepath.Join(dirA, train.LastDir))
	must(err)
	b, err := nn.LoadCheckpoint[float32](filepath.Join(dirB, train.LastDir))
	must(err)
	for i := range a.Tensors {
		if !slices.Equal(a.Tensors[i].Data, b.Tensors[i].Data) {
			t.Fatalf("tensor %s differs after resume on the device", a.Tensors[i].Name)
		}
	}
	if !slices.Equal(a.Adam.M, b.Adam.M) || !slices.Equal(a.Adam.V, b.Adam.V) || a.Adam.Step != 6 || b.Adam.Step != 6 {
		t.Fatal("Adam state differs after resume on the device")
	}
	cc := deviceTrainConfig(dirC)
	cc.Backend = nil
	resC, err := train.Train(context.Background(), tr, va, cc)
	must(err)
	if d := math.Abs(resA.LastVal - resC.LastVal); d > 1e-3*math.Abs(resC.LastVal) {
		t.Errorf("final validation NLL %v on the device, %v on the CPU", resA.LastVal, resC.LastVal)
	}
	t.Logf("validation NLL after 6 steps: device %.6g, CPU %.6g", resA.LastVal, resC.LastVal)
}

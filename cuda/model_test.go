//go:build cuda || cudaemu

package cuda

import (
	"math"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

// TestModelParity compares one training-mode forward and backward pass, the running
// statistics it updates, and an evaluation-mode pass of the device model with nn.Model's
// (float32 both). Tolerances: loss and log p atol 2e-4 + rtol 2e-4; gradients atol 5e-4 +
// rtol 1e-3 — every gradient is a chain of float32 sums over the batch, time steps and
// channels computed in different orders (batch norm's backward subtracts means of nearly
// equal terms, which amplifies rounding); running statistics rtol 1e-5.
func TestModelParity(t *testing.T) {
	c := conformance.TrainModel()
	for _, B := range []int{1, 5} {
		host, err := nn.NewModel[float32](c)
		must(err)
		host.Init(7)
		dev, err := NewModel(host)
		must(err)
		x, theta := conformance.Batch(c, B, uint64(B))

		// The device pass first (it reads the host's parameters via Upload), then the CPU's.
		lossD, err := dev.LossForward(x, theta, true)
		must(err)
		logpD := append([]float32(nil), dev.LogProb()...)
		must(dev.ZeroGrads())
		must(dev.LossBackward())
		gradsD, err := dev.Grads.Host()
		must(err)
		bufD, err := dev.Buffers.Host()
		must(err)

		host.ZeroGrads()
		lossC := host.LossForward(x, theta, true)
		host.LossBackward(nil)
		if d := math.Abs(lossD - lossC); d > 2e-4+2e-4*math.Abs(lossC) {
			t.Errorf("B=%d: loss %v on the device, %v on the CPU", B, lossD, lossC)
		}
		cmpVec(t, "logp", logpD, host.LogProb(), 2e-4, 2e-4)
		mg := cmpVec(t, "grads", gradsD, host.Grads, 5e-4, 1e-3)
		mb := cmpVec(t, "running stats", bufD, host.Buffers, 1e-6, 1e-5)

		// Evaluation mode with the updated running statistics (both sides hold the same).
		evalD, err := dev.LossForward(x, theta, false)
		must(err)
		evalC := host.LossForward(x, theta, false)
		if d := math.Abs(evalD - evalC); d > 2e-4+2e-4*math.Abs(evalC) {
			t.Errorf("B=%d: eval loss %v on the device, %v on the CPU", B, evalD, evalC)
		}
		t.Logf("B=%d: loss %.6g vs %.6g, eval %.6g vs %.6g, max |Δgrad| %.2g, max |Δstats| %.2g", B, lossD, lossC, evalD, evalC, mg, mb)
		dev.Free()
	}
}

// TestModelSamplerDistribution draws posterior samples for two events with the CPU
// (nn.Model.Sample) and with the device (ModelSampler: device featurizer, fused flow
// sampler) and compares every dimension's marginal by the two-sample KS test at significance
// 1e-3 (critical D = 1.95·√(2/n)); the device featurizer's contexts must match the CPU's to
// atol 1e-5 + rtol 1e-4.
func TestModelSamplerDistribution(t *testing.T) {
	c := conformance.TrainModel()
	host, err := nn.NewModel[float32](c)
	must(err)
	host.Init(11)
	// Make the flow's conditioning matter: scale every block's context and output weights
	// and the featurizer's output layer.
	for _, p := range host.Flow.P {
		for i := range p.Wo {
			p.Wo[i] *= 30
		}
		for i := range p.Wc {
			p.Wc[i] *= 40
		}
	}
	for i := range host.Feat.W {
		host.Feat.W[i] *= 40
	}
	const E, S = 2, 1500
	x, _ := conformance.Batch(c, E, 5)
	ctxC := append([]float32(nil), host.Context(x)...)
	cpu := make([]float32, E*S*c.D())
	host.Sample(cpu, x, S, rng.New(1, 2))

	ms, err := NewModelSampler(host)
	must(err)
	defer ms.Free()
	ms.fs.TileRows, ms.fs.Threads = 100, 64 // fewer, fuller barriers: the emulation's cost
	ctxD, err := ms.dm.Context(x)
	must(err)
	got, err := ctxD.Host()
	must(err)
	cmpVec(t, "context", got, ctxC, 1e-5, 1e-4)
	dev := make([]float32, E*S*c.D())
	must(ms.Sample(dev, x, S, 99))
	crit := 1.95 * math.Sqrt(2.0/S)
	D := c.D()
	// The test must be able to see a lost or swapped context: the two events' posteriors
	// differ clearly in some dimension.
	sep := 0.0
	for i := range D {
		a, b := make([]float64, S), make([]float64, S)
		for r := range S {
			a[r], b[r] = float64(cpu[r*D+i]), float64(cpu[(S+r)*D+i])
		}
		sep = math.Max(sep, ks2(a, b))
	}
	if sep < 3*crit {
		t.Fatalf("the two events' posteriors are too alike (KS %.3f) for this test to detect a context error", sep)
	}
	for e := range E {
		for i := range D {
			col := func(v []float32) []float64 {
				o := make([]float64, S)
				for r := range S {
					o[r] = float64(v[(e*S+r)*D+i])
				}
				return o
			}
			if d := ks2(col(cpu), col(dev)); d > crit {
				t.Errorf("event %d dim %d: KS D = %.4f > %.4f", e, i, d, crit)
			}
		}
	}
}

// TestPaperTrainingMemory: the device memory a training step of the paper preset holds at
// batch 512 — parameters, gradients, running statistics, Adam's moments, and the step's
// workspace (every activation, saved column matrix and scratch buffer, allocated once per
// batch size by Model.actsFor) — must fit an 80 GB H100 with room to spare (the CUDA
// context, the kernels' own scratch, fragmentation). The workspace is affine in the batch
// size, so it is measured at batches 1 and 2, checked at 3 and extrapolated to 512: only
// allocations, nothing computed (a batch of 512 would not fit this machine's memory).
func TestPaperTrainingMemory(t *testing.T) {
	c, err := event.Preset("paper")
	must(err)
	c = Variant(c)
	host, err := nn.NewModel[float32](c)
	must(err)
	before := trackedBytes()
	tr, err := NewTrainer(host, nn.NewAdam[float32](host.NumParams()))
	must(err)
	defer tr.Close()
	model := trackedBytes() - before
	workspace := func(B int) int {
		start := trackedBytes()
		a, err := tr.m.actsFor(B)
		must(err)
		_, err = tr.m.input(a, make([]float32, B*c.Featurizer.L))
		must(err)
		return trackedBytes() - start
	}
	w1, w2, w3 := workspace(1), workspace(2), workspace(3)
	per := w2 - w1
	if w3-w2 != per {
		t.Fatalf("workspace not affine in the batch size: %d, %d, %d bytes at batches 1, 2, 3", w1, w2, w3)
	}
	const B, gib = 512, 1 << 30
	total := model + (w1 - per) + B*per
	t.Logf("paper preset on the device: model + Adam %.3f GiB; workspace %.1f MiB per example; batch %d: %.1f GiB in all",
		float64(model)/gib, float64(per)/(1<<20), B, float64(total)/gib)
	if min16 := 16 * host.NumParams(); model < min16 { // parameters, gradients, Adam's m and v
		t.Errorf("model + Adam %d bytes, less than 4 float32 per parameter (%d)", model, min16)
	}
	if total > 64*gib {
		t.Errorf("a paper training step at batch %d holds %.1f GiB of device memory: over 64 GiB, too close to an 80 GB H100", B, float64(total)/gib)
	}
}

// TestWeightNormModelOnDevice: a model with weight-normalised blocks runs on the device as
// its batch-norm equivalent (nn.FoldWeightNorm) — the device featurizer's contexts match
// the CPU's weight-norm pass to atol 1e-5 + rtol 1e-4 — and training it on the device is a
// clear error.
func TestWeightNormModelOnDevice(t *testing.T) {
	c := conformance.TrainModel()
	c.Featurizer.Norm = nn.NormWeight
	host, err := nn.NewModel[float32](c)
	must(err)
	host.Init(12)
	x, _ := conformance.Batch(c, 3, 6)
	ctxC := append([]float32(nil), host.Context(x)...)
	ms, err := NewModelSampler(host)
	must(err)
	defer ms.Free()
	ctxD, err := ms.dm.Context(x)
	must(err)
	got, err := ctxD.Host()
	must(err)
	cmpVec(t, "context", got, ctxC, 1e-5, 1e-4)
	if tr, err := NewTrainer(host, nn.NewAdam[float32](host.NumParams())); err == nil {
		tr.Close()
		t.Error("NewTrainer accepted a weight-normalised model")
	}
}

// TestMADEMoGBaseRefused: no kernel implements the MADE-MoG base, so the device sampler,
// trainer and flow refuse such a model with one clear error instead of running the
// mixture's kernels on the wrong layout.
func TestMADEMoGBaseRefused(t *testing.T) {
	c := conformance.TrainModel()
	c.Flow.Base = nn.BaseMADEMoG
	host, err := nn.NewModel[float32](c)
	must(err)
	host.Init(13)
	if s, err := NewModelSampler(host); err == nil || !strings.Contains(err.Error(), "--device cpu") {
		if s != nil {
			s.Free()
		}
		t.Errorf("NewModelSampler: error %v, want one that says --device cpu", err)
	}
	if tr, err := NewTrainer(host, nn.NewAdam[float32](host.NumParams())); err == nil {
		tr.Close()
		t.Error("NewTrainer accepted a MADE-MoG model")
	}
}

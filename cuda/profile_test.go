//go:build cuda || cudaemu

package cuda

import (
	"testing"
	"time"

	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/nn"
)

// TestProfileOps: while profiling, every ABI call is counted under its operation's name,
// the totals are positive and sorted, and nothing is recorded after StopProfile.
func TestProfileOps(t *testing.T) {
	a, b, c := onDevice(t, randF32(1, 6*5)), onDevice(t, randF32(2, 5*7)), onDevice(t, make([]float32, 6*7))
	must(StartProfile())
	must(Gemm(false, false, 6, 7, 5, 1, a, 5, b, 7, 0, c, 7))
	must(Fill(c, 1))
	must(Fill(c, 2))
	ops := StopProfile()
	must(Fill(c, 3))
	want := map[string]int{"sgemm": 1, "fill": 2}
	if len(ops) != len(want) {
		t.Fatalf("profile %+v, want the operations %v", ops, want)
	}
	for i, o := range ops {
		if o.Calls != want[o.Op] || o.Total <= 0 {
			t.Errorf("%s: %d calls, %v; want %d calls, > 0", o.Op, o.Calls, o.Total, want[o.Op])
		}
		if i > 0 && o.Total > ops[i-1].Total {
			t.Errorf("not sorted: %s %v after %s %v", o.Op, o.Total, ops[i-1].Op, ops[i-1].Total)
		}
	}
	if ops := StopProfile(); len(ops) != 0 {
		t.Errorf("after StopProfile: %+v recorded", ops)
	}
}

// TestProfileTrainingStep profiles one training step on the device: the operations of every
// part of the model appear (featurizer convolutions and batch norm, GRU, flow, optimiser),
// the matrix products under the layer that made them, and their times add up to no more
// than the step's wall time.
func TestProfileTrainingStep(t *testing.T) {
	c := conformance.TrainModel()
	m, err := nn.NewModel[float32](c)
	must(err)
	m.Init(3)
	tr, err := NewTrainer(m, nn.NewAdam[float32](m.NumParams()))
	must(err)
	defer tr.Close()
	x, theta := conformance.Batch(c, 4, 7)
	_, _, err = tr.Step(x, theta, 5, 1e-3) // allocations happen in the first step
	must(err)
	must(StartProfile())
	start := time.Now()
	_, _, err = tr.Step(x, theta, 5, 1e-3)
	must(err)
	wall := time.Since(start)
	ops := StopProfile()
	var total time.Duration
	got := map[string]bool{}
	for _, o := range ops {
		total += o.Total
		got[o.Op] = true
	}
	for _, op := range []string{"conv1d forward: sgemm", "conv1d backward: sgemm", "maf forward: sgemm", "maf backward: sgemm",
		"linear forward: sgemm", "batchnorm forward", "batchnorm backward", "gru forward", "gru backward", "adam"} {
		if !got[op] {
			t.Errorf("no %q in the profile %+v", op, ops)
		}
	}
	if total > wall {
		t.Errorf("profiled total %v > the step's wall time %v", total, wall)
	}
	t.Logf("one step of the tiny model: %d operations, %v of %v", len(ops), total, wall)
}

package cli

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/internal/safetensors"
	"github.com/mlcu/mlcu/nn"
)

// TestDevLogProb runs the hidden dev-logprob command on a tiny trained model and checks
// its files: shapes, the float32 and float64 log-probabilities agreeing, the orderings
// being the flow's, and the step file holding a gradient, a statistic and an Adam step per
// tensor. bench/torch_check.py reads these files (make torch-check).
func TestDevLogProb(t *testing.T) {
	dir := t.TempDir()
	data, model, out := filepath.Join(dir, "data"), filepath.Join(dir, "model"), filepath.Join(dir, "ref")
	if _, _, err := runCtx(t, context.Background(), "simulate", "--n", "4", "--seed", "3", "--quiet", "--out", data); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "train", "--data", data, "--val-events", "2", "--batch", "2", "--epochs", "1", "--device", "cpu", "--quiet", "--out", model); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "dev-logprob", "--model", model, "--data", data, "--out", out, "--n", "3"); err != nil {
		t.Fatal(err)
	}
	mc, _ := event.Preset("small")
	read := func(name string, shape ...int) []float64 {
		t.Helper()
		v, s, err := npy.ReadFile[float64](filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s, shape) {
			t.Fatalf("%s: shape %v, want %v", name, s, shape)
		}
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("%s: non-finite value", name)
			}
		}
		return v
	}
	read("x.npy", 3, mc.Featurizer.L)
	read("theta.npy", 3, mc.D())
	lp32, lp64 := read("logp_eval_f32.npy", 3), read("logp_eval_f64.npy", 3)
	read("logp_train_f64.npy", 3)
	for i := range lp32 {
		if d := math.Abs(lp32[i] - lp64[i]); d > 1e-4*max(1, math.Abs(lp64[i])) {
			t.Errorf("example %d: log p %v (float32) and %v (float64)", i, lp32[i], lp64[i])
		}
	}
	orders, s, err := npy.ReadFile[int64](filepath.Join(out, "orders.npy"))
	if err != nil || !slices.Equal(s, []int{mc.Flow.NB, mc.D()}) {
		t.Fatalf("orders.npy: shape %v, error %v", s, err)
	}
	for b, o := range mc.Flow.Orders() {
		for k, v := range o {
			if orders[b*mc.D()+k] != int64(v) {
				t.Fatalf("orders.npy block %d: %v, want %v", b, orders[b*mc.D():(b+1)*mc.D()], o)
			}
		}
	}
	ts, _, err := safetensors.ReadFile(filepath.Join(out, "step_f64.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := nn.NewModel[float64](mc)
	if err != nil {
		t.Fatal(err)
	}
	want := len(m.BufferTensors())
	for _, p := range m.ParamTensors() {
		want += 2
		for _, n := range []string{"grad." + p.Name, "adam." + p.Name} {
			if tt, ok := ts[n]; !ok || !slices.Equal(tt.Shape, p.Shape) || tt.DType != "F64" {
				t.Fatalf("step_f64.safetensors: tensor %q missing or not F64 %v", n, p.Shape)
			}
		}
	}
	if len(ts) != want {
		t.Errorf("step_f64.safetensors: %d tensors, want %d", len(ts), want)
	}
	// Hidden: not in the command list.
	help, err := run(t, "help")
	if err != nil || strings.Contains(help, "dev-logprob") {
		t.Errorf("help lists dev-logprob (err %v)", err)
	}
}

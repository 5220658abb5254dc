//go:build cuda || cudaemu

package cli

import (
	"testing"

	"github.com/mlcu/mlcu/device"
	"github.com/mlcu/mlcu/nn"
)

// TestBenchDeviceTrainingProfile: the device training benchmark of 'mlcu bench samples'
// (run there on a GPU only) times its steps and, with --profile, returns the per-operation
// table of one more step; here on a tiny model through the emulation.
func TestBenchDeviceTrainingProfile(t *testing.T) {
	mc := nn.ModelConfig{InputLen: 32, Bin: 1,
		Featurizer: nn.FeaturizerShape{L: 32, C0: 4, Cmax: 8, K: 3, Blocks: 2, PoolEvery: 1, GRUHidden: 6, GRULayers: 1, Context: 5},
		Flow:       nn.MAFShape{D: 7, C: 5, H: 7, L: 2, NB: 2, K: 3, OrderSeed: 3}}
	eps, ops, err := benchDeviceTraining(device.Backend{CUDA: true}, mc, 2, 1, true)
	if err != nil {
		t.Fatal(err)
	}
	if !(eps > 0) || len(ops) == 0 {
		t.Fatalf("%v examples/s, profile %+v", eps, ops)
	}
	calls := 0
	for _, o := range ops {
		calls += o.Calls
	}
	t.Logf("%.3g examples/s; the profiled step made %d device calls of %d kinds", eps, calls, len(ops))
}

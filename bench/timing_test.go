package bench

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/nn"
	"github.com/mlcu/mlcu/train"
)

// tinyModel is a model small enough to time in milliseconds.
func tinyModel() nn.ModelConfig {
	return nn.ModelConfig{InputLen: 32, Bin: 1,
		Featurizer: nn.FeaturizerShape{L: 32, C0: 4, Cmax: 8, K: 3, Blocks: 2, PoolEvery: 1, GRUHidden: 6, GRULayers: 1, Context: 5},
		Flow:       nn.MAFShape{D: 7, C: 5, H: 7, L: 2, NB: 2, K: 3, OrderSeed: 3}}
}

func TestTrainingAndSampling(t *testing.T) {
	calls := 0
	eps, err := Training(train.NewCPUBackend, tinyModel(), 4, 2, func(be train.Backend, x, th []float32) error {
		calls++
		assert.Len(t, x, 4*32)
		assert.Len(t, th, 4*7)
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, eps, 0.0)
	assert.Equal(t, 1, calls)

	m, err := nn.NewModel[float32](tinyModel())
	require.NoError(t, err)
	m.Init(1)
	rate, featMS, err := Sampling(infer.CPUSampler{Net: m}, Input(32, 1), 2000, 7)
	require.NoError(t, err)
	assert.Greater(t, rate, 0.0)
	assert.Greater(t, featMS, 0.0)
}

func TestSimulation(t *testing.T) {
	sim := dataset.Simulator{Prior: event.DefaultPrior(), Seed: 5, Tol: 1e-3}
	el, err := Simulation(sim, 3, 2, 2)
	require.NoError(t, err)
	assert.Greater(t, el.Seconds(), 0.0)
}

// BenchmarkTrainingSmall times training steps of the small preset at batch 32 on the CPU
// backend (what 'mlcu bench samples' reports as examples/s), for profiling:
// go test ./bench -run '^$' -bench TrainingSmall -cpuprofile cpu.prof [-tags openblas].
func BenchmarkTrainingSmall(b *testing.B) {
	sc, err := event.Preset("small")
	require.NoError(b, err)
	eps, err := Training(train.NewCPUBackend, sc, 32, b.N, nil)
	require.NoError(b, err)
	b.ReportMetric(eps, "examples/s")
}

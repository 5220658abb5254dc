package bench

import (
	"testing"
	"time"

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
// backend (what 'mlcu bench samples' reports as examples/s, weight norm), with either
// normalisation, for profiling and for the PyTorch twin's figures
// (bench/torch_train_bench.py --preset small --device cpu --norm batch|weight):
// go test ./bench -run '^$' -bench TrainingSmall -cpuprofile cpu.prof [-tags openblas].
func BenchmarkTrainingSmall(b *testing.B) {
	for _, norm := range []string{nn.NormWeight, nn.NormBatch} {
		b.Run("norm="+norm, func(b *testing.B) {
			sc, err := event.Preset("small")
			require.NoError(b, err)
			sc.Featurizer.Norm = norm
			eps, err := Training(train.NewCPUBackend, sc, 32, b.N, nil)
			require.NoError(b, err)
			b.ReportMetric(eps, "examples/s")
		})
	}
}

// slowFeaturizer is a Sampler whose one-sample draws (the featurizer's timing) take longer
// than its n-sample draw, as on a loaded machine.
type slowFeaturizer struct{}

func (slowFeaturizer) Draw(out, xb []float32, n int, seed, round uint64) error {
	if n == 1 {
		time.Sleep(20 * time.Millisecond)
	} else {
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
func (slowFeaturizer) Close() error { return nil }

// TestSamplingNoiseFloor: when the draw takes no longer than the featurizer alone, the rate
// counts the whole draw instead of a negative difference (a loaded CI machine printed
// "-3835 samples/s").
func TestSamplingNoiseFloor(t *testing.T) {
	rate, featMS, err := Sampling(slowFeaturizer{}, Input(32, 1), 100, 7)
	require.NoError(t, err)
	assert.Greater(t, featMS, 15.0)
	assert.InDelta(t, 100/0.005, rate, 100/0.005*0.6, "rate %v: the whole 5 ms draw", rate)
}

package evaluate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/nn"
)

// tinyModel is an untrained model of the default prior, small enough to sample in
// milliseconds.
func tinyModel(t *testing.T) *infer.Model {
	t.Helper()
	c := nn.ModelConfig{InputLen: event.WindowPoints, Bin: 450,
		Featurizer: nn.FeaturizerShape{L: 16, C0: 2, Cmax: 4, K: 3, Blocks: 2, PoolEvery: 1, GRUHidden: 6, GRULayers: 1, Context: 6},
		Flow:       nn.MAFShape{D: 7, C: 6, H: 14, L: 1, NB: 2, K: 3, OrderSeed: 3}}
	net, err := nn.NewModel[float32](c)
	require.NoError(t, err)
	net.Init(3)
	return &infer.Model{Net: net, Standardizer: event.NewStandardizer(event.DefaultPrior()), Dir: "tiny"}
}

func tinyData(t *testing.T, p event.Prior, n int) *dataset.Dataset {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "test")
	man, err := dataset.NewManifest(p, 2, "test", n, 1, 1e-3, "test")
	require.NoError(t, err)
	_, err = dataset.WriteDataset(context.Background(), dir, man, dataset.WriteOptions{Workers: 2})
	require.NoError(t, err)
	ds, err := dataset.OpenDataset(dir)
	require.NoError(t, err)
	t.Cleanup(func() { ds.Close() })
	return ds
}

// TestRunWritesTheReportAndResumes: an evaluation of an untrained model writes every output
// with the promised headers; re-running resumes without drawing again and gives the same
// events; other settings in the same directory are refused, --force starts over; a dataset
// of another prior is refused.
func TestRunWritesTheReportAndResumes(t *testing.T) {
	m := tinyModel(t)
	ds := tinyData(t, event.DefaultPrior(), 20)
	out := filepath.Join(t.TempDir(), "eval")
	cfg := Config{Model: m, Sampler: infer.CPUSampler{Net: m.Net}, Data: ds, DataDir: "test", N: 20, Samples: 100, Seed: 1, Batch: 8, Out: out}
	var calls []int
	cfg.Progress = func(done, total int) { calls = append(calls, done) }
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, []int{8, 16, 20}, calls, "progress after each batch")
	require.Len(t, res.Events, 20)
	require.NoError(t, res.WriteReport(out, Header{Model: "tiny", Data: "test", Seed: 1}))

	sum, err := os.ReadFile(filepath.Join(out, SummaryFile))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(sum)), "\n")
	require.Equal(t, "parameter,constrained,correct,coverage68,coverage95,width68", lines[0])
	var params []string
	for _, l := range lines[1:] {
		params = append(params, strings.Split(l, ",")[0])
	}
	assert.Equal(t, []string{"s", "q", "alpha", "u0", "t0", "tE", "rho"}, params)
	cov, err := os.ReadFile(filepath.Join(out, CoverageFile))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(cov), "parameter,nominal,empirical\ns,0.1000,"), "coverage.csv: %.60s", cov)
	assert.Len(t, strings.Split(strings.TrimSpace(string(cov)), "\n"), 1+7*len(Levels))
	for _, f := range append([]string{ReportFile, EventsFile, SettingsFile}, Figures...) {
		st, err := os.Stat(filepath.Join(out, f))
		require.NoError(t, err, f)
		assert.Positive(t, st.Size(), f)
	}
	// Every event's intervals are ordered and its ranks lie in 0…K.
	for _, e := range res.Events {
		for j, p := range e.Params {
			assert.LessOrEqual(t, p.Lo68, p.Hi68, "event %d parameter %d", e.Index, j)
			assert.True(t, p.Rank >= 0 && p.Rank <= 100)
		}
	}

	// Resume: nothing left to draw (a sampler that fails would be noticed).
	cfg.Sampler, calls = failingSampler{}, nil
	again, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, res.Events, again.Events)

	// Other settings: refused, naming the file; --force starts over.
	cfg.Sampler = infer.CPUSampler{Net: m.Net}
	cfg.Samples = 50
	_, err = Run(context.Background(), cfg)
	require.ErrorContains(t, err, filepath.Join(out, SettingsFile)+" holds an evaluation with other settings")
	cfg.Force = true
	_, err = Run(context.Background(), cfg)
	require.NoError(t, err)
	cfg.Sampler = failingSampler{} // --force with the same settings starts over too
	_, err = Run(context.Background(), cfg)
	require.ErrorIs(t, err, os.ErrInvalid)
	cfg.Sampler = infer.CPUSampler{Net: m.Net}

	// A dataset of another prior.
	other := event.DefaultPrior()
	other.Q = event.LogUniform(1e-4, 1)
	cfg.Data, cfg.DataDir, cfg.Out, cfg.N = tinyData(t, other, 2), "wide", t.TempDir(), 2
	_, err = Run(context.Background(), cfg)
	require.ErrorContains(t, err, "wide: the dataset's prior is not the prior the model tiny was trained on")
}

type failingSampler struct{}

func (failingSampler) Draw([]float32, []float32, int, uint64, uint64) error {
	return os.ErrInvalid
}
func (failingSampler) Close() error { return nil }

// TestAsLightCurveIsTheSameInput: a window read as a light curve (another flux unit and
// time origin) gives the network the input of the window itself, to float32 rounding: one
// normalisation for simulated and real data.
func TestAsLightCurveIsTheSameInput(t *testing.T) {
	ds := tinyData(t, event.DefaultPrior(), 3)
	for i := range 3 {
		x, _, err := infer.DatasetInput(ds, i, 5)
		require.NoError(t, err)
		y, err := asLightCurve(x)
		require.NoError(t, err)
		a, b := make([]float32, event.WindowPoints/8), make([]float32, event.WindowPoints/8)
		event.NetworkInput(a, x, 8)
		event.NetworkInput(b, y, 8)
		for j := range a {
			require.InDelta(t, a[j], b[j], 2e-5, "event %d, input %d", i, j)
		}
	}
}

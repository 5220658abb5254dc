package infer

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/nn"
)

// window is the span of the model's input window [d].
var window = float64(event.WindowPoints-1) * event.Cadence

// ramp returns a light curve from t = 100 d every dt days over span days, with flux
// base·(1 + slope·(t − 100)) on its first half and base on the rest: a linear function
// where interpolation is exact.
func ramp(dt, span, base, slope float64) LightCurve {
	var lc LightCurve
	for t := 100.0; t <= 100+span+1e-9; t += dt {
		f := base
		if t-100 < span/2 {
			f = base * (1 + slope*(t-100))
		}
		lc.T, lc.Flux, lc.Err = append(lc.T, t), append(lc.Flux, f), append(lc.Err, 1)
	}
	return lc
}

func TestLightCurveInputNormalisesAndInterpolates(t *testing.T) {
	// Observations every 0.05 d: the grid's points between observations are linear
	// interpolations, those on observations the values; the flat second half is the faintest
	// 20%, so the baseline is 250 and x = 1 there.
	lc := ramp(0.05, 80, 250, 0.01)
	x, err := LightCurveInput(lc)
	require.NoError(t, err)
	require.Len(t, x, event.WindowPoints)
	for j, v := range x {
		tt := float64(j) * event.Cadence
		want := 1.0
		if tt < 40 {
			want = 1 + 0.01*tt
		}
		if tt > 39.9 && tt < 40.1 { // the step between the halves: between the two values
			continue
		}
		require.InDelta(t, want, float64(v), 2e-6, "x[%d] (t = %.2f d)", j, tt)
	}
}

func TestLightCurveInputRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		lc   LightCurve
		want string
	}{
		{"too short", ramp(0.05, 60, 100, 0), "spans"},
		{"too sparse", ramp(window/50, 80, 100, 0), fmt.Sprintf("need at least %d", MinLightCurvePoints)},
		{"ragged", LightCurve{T: []float64{0, 1}, Flux: []float64{1}, Err: []float64{1, 1}}, "equal"},
		{"empty", LightCurve{}, "equal, non-zero"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LightCurveInput(tc.lc)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestReadLightCurve(t *testing.T) {
	lc, err := ReadLightCurve(strings.NewReader("# a comment\ntime,flux,err\n1.5, 10, 0.5\n2\t11\t0.25 # tail\n\n3;12;1\n"), "lc.csv")
	require.NoError(t, err)
	assert.Equal(t, LightCurve{T: []float64{1.5, 2, 3}, Flux: []float64{10, 11, 12}, Err: []float64{0.5, 0.25, 1}}, lc)

	for _, tc := range []struct{ in, want string }{
		{"", "lc.csv: no data rows"},
		{"1 2\n", "lc.csv:1: want 3 columns"},
		{"1 2 3\nx 2 3\n", "lc.csv:2: column 1"},
		{"1 2 0\n", "lc.csv:1: flux error 0 must be positive"},
		{"1 NaN 1\n", "lc.csv:1: non-finite"},
		{"1 2 1\n1 2 1\n", "lc.csv:2: time 1 does not increase"},
	} {
		_, err := ReadLightCurve(strings.NewReader(tc.in), "lc.csv")
		require.Error(t, err, "input %q", tc.in)
		assert.Contains(t, err.Error(), tc.want, "input %q", tc.in)
		assert.NotContains(t, err.Error(), "\n")
	}
}

func TestQuantileMatchesNumpyLinear(t *testing.T) {
	// numpy.quantile([1, 2, 4, 8, 16], p) with the default "linear" method.
	xs := []float64{1, 2, 4, 8, 16}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.16, 1.64}, {0.5, 4}, {0.84, 10.88}, {0.975, 15.2}, {1, 16}} {
		assert.InDelta(t, c.want, Quantile(xs, c.p), 1e-12, "p = %v", c.p)
	}
	assert.Panics(t, func() { Quantile(nil, 0.5) })
}

// fixedSampler returns the draws of rows, cycled, whatever the seed; it counts its calls.
type fixedSampler struct {
	rows  [][]float32
	calls int
}

func (s *fixedSampler) Draw(out, xb []float32, n int, seed, round uint64) error {
	s.calls++
	D := len(s.rows[0])
	for i := range n {
		copy(out[i*D:(i+1)*D], s.rows[i%len(s.rows)])
	}
	return nil
}

func (s *fixedSampler) Close() error { return nil }

// smallModel returns a Model of the small preset (random weights) with the default prior's
// standardiser.
func smallModel(t *testing.T) *Model {
	t.Helper()
	mc, err := event.Preset("small")
	require.NoError(t, err)
	net, err := nn.NewModel[float32](mc)
	require.NoError(t, err)
	net.Init(1)
	return &Model{Net: net, Standardizer: event.NewStandardizer(event.DefaultPrior())}
}

func TestPosteriorWrapsAlphaAndRejectsOutsideSupport(t *testing.T) {
	m := smallModel(t)
	// Standardised draws: the centre of the prior; the same with α at +1.5 (beyond 2π:
	// wrapped to −0.5, i.e. α = π/2); and one with u0 at 1.5 (outside the prior: rejected).
	centre := []float32{0, 0, 0, 0, 0, 0, 0}
	wrapped := []float32{0, 0, 1.5, 0, 0, 0, 0}
	outside := []float32{0, 0, 0, 1.5, 0, 0, 0}
	s := &fixedSampler{rows: [][]float32{centre, wrapped, outside}}
	post, err := m.Posterior(s, make([]float32, event.WindowPoints), 4, 1)
	require.NoError(t, err)
	require.Equal(t, 4, post.Len())
	assert.Equal(t, m.Names(), post.Names)
	// First round: 4 draws (centre, wrapped, outside, centre), 3 kept; second: 1024 more.
	assert.Equal(t, 2, s.calls)
	assert.InDelta(t, 2.0/3, post.Accepted, 2e-3)
	alpha := post.Column(2)
	assert.InDelta(t, math.Pi, alpha[0], 1e-6, "centre of [0, 2π)")
	assert.InDelta(t, math.Pi/2, alpha[1], 1e-6, "α wrapped modulo 2π")
	for _, u0 := range post.Column(3) {
		assert.LessOrEqual(t, u0, 2.0, "a draw outside the prior was kept")
	}
	// t0 in the window's time, then shifted to a file's time.
	assert.InDelta(t, 36, post.Column(4)[0], 1e-6)
	post.ShiftTime(1000)
	assert.InDelta(t, 1036, post.Column(4)[0], 1e-6)
}

func TestPosteriorFailsWhenNothingIsInSupport(t *testing.T) {
	m := smallModel(t)
	s := &fixedSampler{rows: [][]float32{{0, 0, 0, 3, 0, 0, 0}}}
	_, err := m.Posterior(s, make([]float32, event.WindowPoints), 10, 1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outside what the model was trained on")
	_, err = m.Posterior(s, make([]float32, 10), 10, 1)
	require.ErrorContains(t, err, "7200-point window")
}

func TestSummary(t *testing.T) {
	s := &Samples{Names: []string{"a", "b"}}
	for i := range 101 {
		s.Values = append(s.Values, float64(i), float64(100-i)*2)
	}
	sum := s.Summary()
	require.Len(t, sum, 2)
	assert.Equal(t, Summary{Name: "a", Median: 50, Lo68: 16, Hi68: 84, Lo95: 2.5, Hi95: 97.5}, sum[0])
	assert.InDelta(t, 100, sum[1].Median, 1e-12)
	assert.InDelta(t, 32, sum[1].Lo68, 1e-12)
}

// saveModel writes m as the checkpoint directory dir, as mlcu train does.
func saveModel(t *testing.T, dir string, m *Model) {
	t.Helper()
	cfg, err := json.Marshal(event.ModelConfig{ModelConfig: m.Net.Config, Standardizer: &m.Standardizer, Input: event.InputVersion})
	require.NoError(t, err)
	require.NoError(t, nn.SaveCheckpoint(dir, nn.Checkpoint[float32]{
		Tensors: append(m.Net.ParamTensors(), m.Net.BufferTensors()...), Config: cfg}))
}

func TestLoadModelRoundTrip(t *testing.T) {
	m := smallModel(t)
	dir := t.TempDir()
	saveModel(t, filepath.Join(dir, BestDir), m)
	got, err := LoadModel(dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, BestDir), got.Dir)
	assert.Equal(t, m.Standardizer, got.Standardizer)
	want, have := m.Net.ParamTensors(), got.Net.ParamTensors()
	require.Equal(t, len(want), len(have))
	for i := range want {
		require.Equal(t, want[i].Data, have[i].Data, "tensor %s", want[i].Name)
	}
}

// TestLoadModelRejectsNonFiniteWeights: weights of the right size that are not finite (a
// corrupted file, a diverged run) are refused on load, naming the file and the tensor,
// instead of loading and failing later on every light curve.
func TestLoadModelRejectsNonFiniteWeights(t *testing.T) {
	m := smallModel(t)
	ps := m.Net.ParamTensors()
	ps[len(ps)/2].Data[3] = float32(math.NaN())
	dir := filepath.Join(t.TempDir(), "model")
	saveModel(t, dir, m)
	_, err := LoadModel(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, nn.ModelFile))
	assert.Contains(t, err.Error(), ps[len(ps)/2].Name)
	assert.Contains(t, err.Error(), "non-finite")
}

func TestLoadModelErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadModel(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), dir)

	// A config without a standardiser is not a model mlcu can sample.
	m := smallModel(t)
	dir = filepath.Join(dir, "model")
	saveModel(t, dir, m)
	cfg, err := json.Marshal(m.Net.Config)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, nn.ConfigFile), cfg, 0o644))
	_, err = LoadModel(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, nn.ConfigFile))
}

// TestDatasetInputWindow: the input of a dataset event is the stored curve cropped so that
// the event's closest approach (stored sample CentreIndex) falls at window sample
// round(t0/0.01), the returned t0 is that quantised t0, and the noise is at the level of the
// default SNR distribution (σ ≤ √A/23).
func TestDatasetInputWindow(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	man, err := dataset.NewManifest(event.DefaultPrior(), 4, "val", 2, 1, 1e-3, "test")
	require.NoError(t, err)
	_, err = dataset.WriteDataset(context.Background(), dir, man, dataset.WriteOptions{Workers: 1})
	require.NoError(t, err)
	ds, err := dataset.OpenDataset(dir)
	require.NoError(t, err)
	defer ds.Close()
	for i := range ds.Len() {
		drawn := ds.Params(i).T0
		x, p, err := DatasetInput(ds, i, 1)
		require.NoError(t, err)
		j := int(math.Round(drawn / event.Cadence))
		assert.InDelta(t, float64(j)*event.Cadence, p.T0, 1e-12, "event %d: the truth's t0 is the quantised drawn t0", i)
		assert.LessOrEqual(t, math.Abs(p.T0-drawn), event.Cadence/2+1e-12)
		// The noise-free window that puts the closest approach at sample j.
		mag := make([]float32, event.WindowPoints)
		_, err = ds.Window(i, event.CentreIndex-j, mag)
		require.NoError(t, err)
		worst := 0.0
		for k := range x {
			worst = math.Max(worst, math.Abs(float64(x[k]-mag[k]))/math.Sqrt(float64(mag[k])/(23*23)))
		}
		assert.Less(t, worst, 6.0, "event %d: the input is not the crop around t0 plus noise (max %.3g σ)", i, worst)
		assert.Greater(t, worst, 0.5, "event %d: no noise", i)
	}
}

// TestShippedModelLoads: the model in the repository (the default of sample and eval) loads
// with this version's network input and draws samples inside the prior's support.
func TestShippedModelLoads(t *testing.T) {
	m, err := LoadModel("../models/small-wn-100k")
	require.NoError(t, err)
	assert.Equal(t, "small", m.Net.Config.Preset)
	assert.True(t, m.Net.Config.Featurizer.WeightNorm(), "the shipped model is weight-normalised")
	x := make([]float32, event.WindowPoints)
	for i := range x {
		u := (float64(i) - 3600) / 1000
		x[i] = float32(1 + 1/math.Sqrt(u*u+0.09))
	}
	post, err := m.Posterior(CPUSampler{Net: m.Net}, x, 200, 1)
	require.NoError(t, err)
	assert.Equal(t, 200, post.Len())
}

// TestReadLightCurveUnits: magnitudes convert to flux with the zero point 22 and their
// errors propagate (a 0.01-mag error is 0.921% of the flux); a flux file that looks like
// magnitudes is refused unless ",flux" insists; difference-imaging fluxes (negative) are
// flux; the unit after the comma is checked.
func TestReadLightCurveUnits(t *testing.T) {
	const mags = "t,mag,err\n1,17.0,0.01\n2,16.5,0.01\n3,17.0,0.02\n"
	lc, err := ReadLightCurveUnit(strings.NewReader(mags), "ogle.dat", UnitMag, true)
	require.NoError(t, err)
	assert.InDelta(t, math.Pow(10, -0.4*(17-22)), lc.Flux[0], 1e-9)
	assert.InDelta(t, 100, lc.Flux[0], 1e-9) // 5 mag brighter than 22: ×100
	assert.InDelta(t, 0.4*math.Ln10*0.01*100, lc.Err[0], 1e-12)
	assert.InDelta(t, lc.Flux[0]*math.Pow(10, 0.2), lc.Flux[1], 1e-9, "0.5 mag brighter")

	_, err = ReadLightCurveUnit(strings.NewReader(mags), "ogle.dat", UnitFlux, true)
	assert.ErrorContains(t, err, "look like magnitudes")
	assert.ErrorContains(t, err, "ogle.dat,mag")
	_, err = ReadLightCurveUnit(strings.NewReader(mags), "ogle.dat", UnitFlux, false)
	assert.NoError(t, err, "FILE,flux insists")
	_, err = ReadLightCurveUnit(strings.NewReader("1,-120.5,30\n2,50.2,30\n3,4000,40\n"), "dia.csv", UnitFlux, true)
	assert.NoError(t, err, "difference-imaging fluxes")

	for _, tc := range []struct{ arg, file, unit string }{{"a.csv", "a.csv", UnitFlux}, {"a.csv,mag", "a.csv", UnitMag}, {"dir,x/a.csv,flux", "dir,x/a.csv", UnitFlux}} {
		f, u, _, err := ParseLightCurveArg(tc.arg)
		require.NoError(t, err, tc.arg)
		assert.Equal(t, tc.file, f)
		assert.Equal(t, tc.unit, u)
	}
	_, _, _, err = ParseLightCurveArg("a.csv,jy")
	assert.ErrorContains(t, err, `unit "jy"`)
}

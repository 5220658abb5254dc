package event

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

func mustPreset(t testing.TB, name string) nn.ModelConfig {
	t.Helper()
	c, err := Preset(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPresets(t *testing.T) {
	for _, tc := range []struct {
		name         string
		seqLen, outC int
	}{{"paper", 28, 256}, {"small", 56, 64}} {
		c := mustPreset(t, tc.name)
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.D() != 7 || c.InputLen != WindowPoints {
			t.Errorf("%s: D %d, input %d; want 7 and the %d-point window", tc.name, c.D(), c.InputLen, WindowPoints)
		}
		fs := c.Featurizer
		if fs.SeqLen() != tc.seqLen || fs.OutChannels() != tc.outC {
			t.Errorf("%s: GRU reads (%d, %d), want (%d, %d)", tc.name, fs.SeqLen(), fs.OutChannels(), tc.seqLen, tc.outC)
		}
		var plan []string
		for i := range fs.Blocks {
			b := fs.Block(i)
			plan = append(plan, strconv.Itoa(b.C)+" → "+strconv.Itoa(b.OC)+" @ "+strconv.Itoa(b.L))
		}
		t.Logf("%s: featurizer %d params (blocks %s; GRU T=%d C=%d), flow %d params, total %d, buffers %d",
			tc.name, fs.NumParams(), strings.Join(plan, ", "), fs.SeqLen(), fs.OutChannels(), c.Flow.NumParams(), c.NumParams(), c.NumBuffers())
	}
	if _, err := Preset("huge"); err == nil || !strings.Contains(err.Error(), "paper, small") {
		t.Errorf("Preset(huge) error = %v, want one listing the presets", err)
	}
}

// TestModelConfigJSON checks that a model config with its standardizer survives JSON, with
// the shape's keys and "standardizer" at one level (the config.json layout), and that
// ParseModelConfig refuses a config without a standardizer, of another dimension, or
// trained on another network input.
func TestModelConfigJSON(t *testing.T) {
	st := NewStandardizer(DefaultPrior())
	mc := ModelConfig{ModelConfig: mustPreset(t, "small"), Standardizer: &st, Input: InputVersion}
	b, err := json.Marshal(mc)
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]json.RawMessage
	if err := json.Unmarshal(b, &flat); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"preset", "input_len", "bin", "featurizer", "flow", "standardizer"} {
		if _, ok := flat[k]; !ok {
			t.Errorf("config.json lacks the top-level key %q: %s", k, b)
		}
	}
	back, err := ParseModelConfig(b, "config.json")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, mc) {
		t.Errorf("JSON round trip: got %+v, want %+v", back, mc)
	}
	shape, _ := json.Marshal(mc.ModelConfig)
	if _, err := ParseModelConfig(shape, "x/config.json"); err == nil || !strings.Contains(err.Error(), "x/config.json: no standardizer") {
		t.Errorf("config without a standardizer: error %v", err)
	}
	other := mc
	other.Flow.D = 8
	b, _ = json.Marshal(other)
	if _, err := ParseModelConfig(b, "config.json"); err == nil || !strings.Contains(err.Error(), "7 coordinates, flow models 8") {
		t.Errorf("config of another dimension: error %v", err)
	}
	for _, in := range []string{"", "ln-flux"} {
		old := mc
		old.Input = in
		b, _ = json.Marshal(old)
		if _, err := ParseModelConfig(b, "m/config.json"); err == nil || !strings.Contains(err.Error(), "m/config.json: the model was trained on") ||
			!strings.Contains(err.Error(), "train the model again") {
			t.Errorf("config with input %q: error %v", in, err)
		}
	}
}

// benchModel times one forward and backward pass of the preset's float32 model in training
// mode on a random batch of B examples and reports examples/s.
func benchModel(b *testing.B, name string, B int) {
	c := mustPreset(b, name)
	m, err := nn.NewModel[float32](c)
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	src := rng.New(1, 7)
	x, theta := make([]float32, B*c.Featurizer.L), make([]float32, B*c.D())
	for i := range x {
		x[i] = float32(src.Normal())
	}
	for i := range theta {
		theta[i] = float32(src.Normal())
	}
	m.LossForward(x, theta, true) // allocate the activations
	b.ResetTimer()
	for range b.N {
		m.LossForward(x, theta, true)
		m.LossBackward(nil)
	}
	b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "examples/s")
}

func BenchmarkModelSmall(b *testing.B) { benchModel(b, "small", 32) }
func BenchmarkModelPaper(b *testing.B) { benchModel(b, "paper", 8) }

// BenchmarkModelSmallWorkers is BenchmarkModelSmall with 1 and 2 workers.
func BenchmarkModelSmallWorkers(b *testing.B) {
	for _, k := range []int{1, 2} {
		b.Run(strconv.Itoa(k), func(b *testing.B) {
			prev := nn.SetWorkers(k)
			defer nn.SetWorkers(prev)
			benchModel(b, "small", 32)
		})
	}
}

package train

import (
	"context"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/infer"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

// fakeSource is a cheap Source for trainer tests: events drawn from DefaultPrior, curves a
// point-lens-like bump 1 + 1/√(u² + 0.01) with u² = u0² + ((t − t0)/tE)² (not physics, but
// a function of θ that a model can learn from), computed in microseconds.
type fakeSource struct{ n int }

func (f fakeSource) Len() int           { return f.n }
func (f fakeSource) Prior() event.Prior { return event.DefaultPrior() }
func (f fakeSource) Window(i, k int, dst []float32) (event.Params, error) {
	p := event.DefaultPrior().Sample(rng.New(99, uint64(i)))
	for j := range dst {
		t := float64(k+j-event.CentreIndex) * event.Cadence
		u2 := p.U0*p.U0 + (t/p.TE)*(t/p.TE)
		dst[j] = float32(1 + 1/math.Sqrt(u2+0.01))
	}
	return p, nil
}

// tinyTrainModel is a model small enough to train in milliseconds.
func tinyTrainModel() *nn.ModelConfig {
	return &nn.ModelConfig{
		InputLen: event.WindowPoints, Bin: 450,
		Featurizer: nn.FeaturizerShape{L: 16, C0: 2, Cmax: 4, K: 3, Blocks: 2, PoolEvery: 1,
			GRUHidden: 6, GRULayers: 1, Context: 6},
		Flow: nn.MAFShape{D: 7, C: 6, H: 14, L: 1, NB: 2, K: 3, OrderSeed: 3},
	}
}

func tinyTrainConfig(out string) TrainConfig {
	return TrainConfig{Out: out, Model: tinyTrainModel(), MaxSteps: 10, BatchSize: 4, LR: 3e-3, Seed: 7, Workers: 2, Warmup: 3}
}

func readParams(t *testing.T, dir string) []nn.NamedTensor[float32] {
	t.Helper()
	ck, err := nn.LoadCheckpoint[float32](dir)
	if err != nil {
		t.Fatal(err)
	}
	return ck.Tensors
}

// TestTrainResumeBitForBit: 10 steps straight against 6 steps, an interruption (ctx
// cancelled mid-epoch), and a resumed run to step 10: the parameters, buffers and Adam
// moments must be identical, bit for bit.
func TestTrainResumeBitForBit(t *testing.T) {
	plain := trainResumeCheck(t, 0)
	// With the balancing penalty: resumes bit for bit too, trains other weights than the
	// plain run (the penalty acts), and a resume with another λ is refused.
	balanced := trainResumeCheck(t, 100)
	same := true
	for i := range plain {
		same = same && slices.Equal(plain[i].Data, balanced[i].Data)
	}
	if same {
		t.Error("the balanced run's weights equal the plain run's")
	}
}

// trainResumeCheck trains a tiny run straight and interrupted + resumed with balance λ,
// checks that both end bit for bit equal, and returns the weights.
func trainResumeCheck(t *testing.T, balance float64) []nn.NamedTensor[float32] {
	tr, va := fakeSource{16}, fakeSource{8}
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	cfgA := tinyTrainConfig(dirA)
	cfgA.Balance = balance
	resA, err := Train(context.Background(), tr, va, cfgA)
	if err != nil {
		t.Fatal(err)
	}
	if resA.Steps != 10 || math.IsNaN(resA.LastVal) {
		t.Fatalf("straight run: %+v", resA)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cb := tinyTrainConfig(dirB)
	cb.Balance = balance
	cb.OnStep = func(s StepInfo) {
		if s.Step == 6 {
			cancel()
		}
	}
	res, err := Train(ctx, tr, va, cb)
	if !errors.Is(err, context.Canceled) || !res.Interrupted || res.Steps != 6 {
		t.Fatalf("interrupted run: %+v, %v", res, err)
	}
	cb.OnStep, cb.Resume = nil, true
	other := cb
	other.Balance = balance + 1
	if _, err := Train(context.Background(), tr, va, other); err == nil || !strings.Contains(err.Error(), "balance") {
		t.Fatalf("resume with balance %g after %g: %v, want a refusal naming the balance", other.Balance, balance, err)
	}
	if res, err = Train(context.Background(), tr, va, cb); err != nil || res.Steps != 10 {
		t.Fatalf("resumed run: %+v, %v", res, err)
	}
	a, b := readParams(t, filepath.Join(dirA, LastDir)), readParams(t, filepath.Join(dirB, LastDir))
	if len(a) != len(b) {
		t.Fatalf("%d vs %d tensors", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("tensor %s differs after resume", a[i].Name)
		}
	}
	ca, _ := nn.LoadCheckpoint[float32](filepath.Join(dirA, LastDir))
	cbk, _ := nn.LoadCheckpoint[float32](filepath.Join(dirB, LastDir))
	if !slices.Equal(ca.Adam.M, cbk.Adam.M) || !slices.Equal(ca.Adam.V, cbk.Adam.V) || ca.Adam.Step != 10 || cbk.Adam.Step != 10 {
		t.Fatal("Adam state differs after resume")
	}
	for _, f := range []string{LogFile, LossPNGFile, BestDir} {
		if _, err := os.Stat(filepath.Join(dirA, f)); err != nil {
			t.Error(err)
		}
	}
	// The saved model loads for inference with its standardizer.
	m, err := infer.LoadModel(dirA)
	if err != nil || m.Standardizer.Dim() != 7 || m.Net.Config.Flow.D != 7 {
		t.Fatalf("infer.LoadModel: %v", err)
	}
	return a
}

// TestTrainLossDecreasesOnFixedBatch: Adam steps on one fixed batch (the trainer's
// prepare: binning and standardisation) must lower its loss.
func TestTrainLossDecreasesOnFixedBatch(t *testing.T) {
	r, err := dataset.NewReader(fakeSource{8}, dataset.ReaderConfig{BatchSize: 8, Seed: 1, Workers: 1, Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	mc := *tinyTrainModel()
	st := event.NewStandardizer(event.DefaultPrior())
	m, err := nn.NewModel[float32](mc)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(3)
	x, th := make([]float32, 8*mc.Featurizer.L), make([]float32, 8*7)
	prepare(b, mc, st, x, th, false, event.DefaultPrior())
	adam := nn.NewAdam[float32](m.NumParams())
	first, last := 0.0, 0.0
	for i := range 40 {
		m.ZeroGrads()
		l := m.LossForward(x, th, true)
		m.LossBackward(nil)
		nn.ClipGradNorm(m.Grads, 5)
		adam.Update(m.Params, m.Grads, 1e-2)
		if i == 0 {
			first = l
		}
		last = l
	}
	if !(last < first-1) {
		t.Fatalf("loss %.3f → %.3f: want a drop of more than 1 nat", first, last)
	}
}

// TestPriorLogDensity: uniform and log-uniform coordinates have density 1/2 on [−1, 1];
// the truncated log-normal tE integrates to 1 over its standardised range (midpoint rule).
func TestPriorLogDensity(t *testing.T) {
	p := event.DefaultPrior()
	st := event.NewStandardizer(p)
	y := make([]float64, 7)
	// Product of six factors 1/2 and tE's density at y = 0.
	tE := event.PriorLogDensity(p, st, y) + 6*math.Ln2
	// tE's factor alone: integrate over y_tE (index 5).
	n, s := 4000, 0.0
	for i := range n {
		y[5] = -1 + (float64(i)+0.5)*2/float64(n)
		s += math.Exp(event.PriorLogDensity(p, st, y)+6*math.Ln2) * 2 / float64(n)
	}
	if math.Abs(s-1) > 1e-6 {
		t.Fatalf("tE density integrates to %v, want 1", s)
	}
	if math.IsInf(tE, 0) {
		t.Fatal("density at the centre is not finite")
	}
	y[0] = 1.5
	if !math.IsInf(event.PriorLogDensity(p, st, y), -1) {
		t.Fatal("outside the support: want −Inf")
	}
	// LogJacobian: Σ log((hi−lo)/2) for the default prior's s coordinate etc.
	want := 0.0
	for _, c := range st.Coords {
		want += math.Log((c.Hi - c.Lo) / 2)
	}
	if st.LogJacobian() != want {
		t.Fatal("LogJacobian")
	}
}

// TestTrainInterruptAtEpochEnd: a cancellation that lands on an epoch's last step is seen
// by the epoch's validation; the run must still save last/ and report Interrupted, and the
// resumed run must end with the straight run's parameters.
func TestTrainInterruptAtEpochEnd(t *testing.T) {
	tr, va := fakeSource{16}, fakeSource{8}
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if _, err := Train(context.Background(), tr, va, tinyTrainConfig(dirA)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cb := tinyTrainConfig(dirB)
	cb.OnStep = func(s StepInfo) {
		if s.Step == 4 { // 16 events, batch 4: the end of epoch 0
			cancel()
		}
	}
	res, err := Train(ctx, tr, va, cb)
	if !errors.Is(err, context.Canceled) || !res.Interrupted || res.Steps != 4 {
		t.Fatalf("interrupted run: steps %d, interrupted %v, %v", res.Steps, res.Interrupted, err)
	}
	cb.OnStep, cb.Resume = nil, true
	if res, err = Train(context.Background(), tr, va, cb); err != nil || res.Steps != 10 {
		t.Fatalf("resumed run: steps %d, %v", res.Steps, err)
	}
	a, b := readParams(t, filepath.Join(dirA, LastDir)), readParams(t, filepath.Join(dirB, LastDir))
	for i := range a {
		if !slices.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("tensor %s differs after resume", a[i].Name)
		}
	}
}

// TestTrainRefusesAModelDirectory: a second run into a directory that holds a run fails
// with ErrModelExists and leaves its files as they were; Overwrite deletes them and starts
// over from step 0.
func TestTrainRefusesAModelDirectory(t *testing.T) {
	tr, va := fakeSource{16}, fakeSource{8}
	dir := filepath.Join(t.TempDir(), "model")
	cfg := tinyTrainConfig(dir)
	if _, err := Train(context.Background(), tr, va, cfg); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(LastDir, nn.ModelFile), filepath.Join(BestDir, nn.ModelFile), LogFile}
	read := func() map[string]string {
		m := map[string]string{}
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			m[f] = string(b)
		}
		return m
	}
	before := read()
	again := cfg
	again.Seed = 8 // another run: other weights
	if _, err := Train(context.Background(), tr, va, again); !errors.Is(err, ErrModelExists) {
		t.Fatalf("second run into %s: error %v, want ErrModelExists", dir, err)
	}
	if after := read(); !maps.Equal(before, after) {
		t.Fatal("the refused run changed the model directory")
	}
	// Overwrite, interrupted before its first validation: nothing of the old run is left
	// beside the new last/ (no best/ of other weights, no old log).
	again.Overwrite = true
	ctx, cancel := context.WithCancel(context.Background())
	again.OnStep = func(s StepInfo) { cancel() }
	res, err := Train(ctx, tr, va, again)
	if !errors.Is(err, context.Canceled) || res.Steps != 1 {
		t.Fatalf("Overwrite, interrupted: %+v, %v", res, err)
	}
	for _, f := range []string{BestDir, LogFile, LossPNGFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Overwrite left the old run's %s (%v)", f, err)
		}
	}
	ck, err := nn.LoadCheckpoint[float32](filepath.Join(dir, LastDir))
	if err != nil || ck.State["step"] != "1" {
		t.Errorf("Overwrite: last/ at step %q (%v), want 1", ck.State["step"], err)
	}
}

// otherPriorSource is fakeSource with a narrower tE range: another prior.
type otherPriorSource struct{ fakeSource }

func (o otherPriorSource) Prior() event.Prior {
	p := event.DefaultPrior()
	p.TE.Max = 50
	return p
}

// TestTrainInit: a run started from a trained model (Init) starts from its weights — with a
// learning rate too small to move a float32 weight, it ends with them bit for bit (a
// weight-norm model: no running statistics move either) — and an Init model of another
// prior or norm is refused.
func TestTrainInit(t *testing.T) {
	tr, va := fakeSource{16}, fakeSource{8}
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	ca := tinyTrainConfig(dirA)
	ca.Model.Featurizer.Norm = nn.NormWeight
	if _, err := Train(context.Background(), tr, va, ca); err != nil {
		t.Fatal(err)
	}
	cb := tinyTrainConfig(dirB)
	cb.Init, cb.Model, cb.MaxSteps, cb.LR, cb.MinLR, cb.Warmup = dirA, nil, 2, 1e-30, 1e-31, -1
	if _, err := Train(context.Background(), tr, va, cb); err != nil {
		t.Fatal(err)
	}
	a, b := readParams(t, filepath.Join(dirA, BestDir)), readParams(t, filepath.Join(dirB, LastDir))
	fresh := readParams(t, filepath.Join(dirA, LastDir))
	moved := false
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("tensor %s: the fine-tuned run did not start from the init model's weights", a[i].Name)
		}
		moved = moved || !slices.Equal(a[i].Data, fresh[i].Data)
	}
	t.Logf("best/ and last/ of the init run differ: %v", moved)
	cb.Out = filepath.Join(t.TempDir(), "c")
	if _, err := Train(context.Background(), otherPriorSource{tr}, va, cb); err == nil || !strings.Contains(err.Error(), "prior") {
		t.Fatalf("init from a model of another prior: %v, want a refusal naming the prior", err)
	}
	cb.Norm = nn.NormBatch
	if _, err := Train(context.Background(), tr, va, cb); err == nil || !strings.Contains(err.Error(), "norm") {
		t.Fatalf("init with another norm: %v, want a refusal", err)
	}
}

package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"

	"github.com/mlcu/mlcu/nn"
)

// Names inside a model directory written by Train.
const (
	BestDir     = "best"          // checkpoint with the lowest validation NLL (weights, config, state)
	LastDir     = "last"          // checkpoint of the last step (weights, config, Adam, state): what --resume reads
	LogFile     = "train_log.csv" // one row per validation: epoch, step, train loss, val loss, lr, examples/s
	LossPNGFile = "loss.png"      // loss curves
)

// modelFiles are what a run writes into its model directory.
var modelFiles = []string{LastDir, BestDir, LogFile, LossPNGFile}

// ErrModelExists is returned (wrapped, naming the directory) by CheckOut and Train when the
// model directory already holds a run's checkpoints or log and neither Resume nor Overwrite
// was asked for: a new run would replace them.
var ErrModelExists = errors.New("holds a trained model")

// CheckOut reports whether a run may write into the model directory out: always when
// resume (the run continues what is there; Train then requires out/last) or overwrite (the
// run deletes it first), otherwise only when out holds none of last/, best/, the log and
// the loss plot. The error wraps ErrModelExists and names what was found.
func CheckOut(out string, resume, overwrite bool) error {
	if resume || overwrite {
		return nil
	}
	var found []string
	for _, f := range modelFiles {
		if _, err := os.Lstat(filepath.Join(out, f)); err == nil {
			found = append(found, f)
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("%s %w (%s)", out, ErrModelExists, strings.Join(found, ", "))
	}
	return nil
}

// TrainConfig configures Train.
type TrainConfig struct {
	Out        string            // model directory (created)
	Preset     string            // nn preset name; ignored when Model is set
	Model      *nn.ModelConfig   // explicit model shape (tests); Flow.D is set from the prior
	Norm       string            // the featurizer's normalisation (nn.NormBatch, nn.NormWeight); the preset's when empty
	Base       string            // the flow's base (nn.BaseMixture, nn.BaseMADEMoG); the preset's when empty
	Epochs     int               // passes over the training set; with Duration 0 must be ≥ 1
	Duration   time.Duration     // wall-clock budget instead of Epochs (see Train)
	MaxSteps   int               // when > 0, the planned number of steps (overrides Epochs and Duration)
	BatchSize  int               // examples per step
	LR         float64           // peak learning rate
	MinLR      float64           // learning rate at the end of the cosine decay; 1e-6 when 0
	Warmup     int               // linear warmup steps; 20 when 0, none when < 0
	ClipNorm   float64           // gradient-norm clip; 5 when 0, none when < 0
	Balance    float64           // λ of the balancing penalty (nn.Balance, BNPE); 0: none; the CPU backend only
	Seed       uint64            // initialisation, shuffles, crops and noise
	Resume     bool              // continue from Out/last
	Init       string            // start from the weights of the model in this directory (fine-tuning; read as infer.LoadModel does): its shape is the run's (Preset is ignored; Norm and Base must agree or be empty), its standardizer must be the data's; Adam starts afresh
	Overwrite  bool              // start over in an Out that holds a model, deleting it (see CheckOut)
	Workers    int               // Reader goroutines; NumCPU when ≤ 0
	Noise      event.NoiseConfig // SNR distribution; DefaultNoise() when empty
	Log        func(string)      // notices; may be nil
	OnStep     func(s StepInfo)
	SaveEvery  int // save last/ every this many steps as well as at epoch ends; 0: only at epoch ends
	ValBatches int // validation batches per evaluation; 0: the whole validation source
	// Backend creates the backend that runs the passes (NewCPUBackend when nil).
	Backend NewBackendFunc
}

// StepInfo reports one training step to TrainConfig.OnStep.
type StepInfo struct {
	Step, Total int     // global step done (from 1) and planned
	Epoch       int     // epoch of the step (from 0)
	Loss        float64 // training loss of the batch (standardised NLL, plus the balancing penalty when Balance > 0)
	LR          float64
	ExamplesPS  float64 // examples/s since the start of this run
}

// TrainResult summarises a run.
type TrainResult struct {
	Steps        int     // global steps done
	Epochs       int     // epochs completed
	BestVal      float64 // lowest validation NLL (standardised θ)
	LastVal      float64 // last validation NLL
	PriorVal     float64 // the prior's NLL on the validation set (standardised θ)
	LogJacobian  float64 // add to a standardised NLL for the NLL in coordinate units
	ExamplesPS   float64 // training examples per second (this run, steps only)
	Interrupted  bool    // stopped by ctx; last/ holds the state to resume from
	Config       nn.ModelConfig
	Standardizer event.Standardizer
}

// Train trains a model on train, validating on val, and writes Out/best, Out/last, the CSV
// log and the loss-curve PNG.
//
// Schedule: the number of planned steps P is MaxSteps, else Epochs·⌊N/B⌋, else (Duration)
// it is fixed after the warmup steps from their measured speed so that the run fits the
// budget; P is saved in the state so that a resumed run keeps it. The learning rate follows
// nn.CosineLR(step, P, LR, MinLR, Warmup). Each epoch is read by its own Reader, seeded
// DeriveSeed(Seed, "epoch/<e>"), so that a resumed run starts an epoch without replaying
// the earlier ones (inside the epoch the batches before the saved position are read and
// discarded). Validation runs after every epoch and at the end, in evaluation mode on the
// validation source's events in index order with noise seeded DeriveSeed(Seed, "val"), the
// same examples every time.
//
// Determinism: same data, config and machine → the same parameters, bit for bit, whether
// the run is uninterrupted or interrupted and resumed (Resume), with Epochs or MaxSteps.
// With Duration the number of steps depends on the speed, but a resumed run keeps P.
//
// On ctx cancellation Train saves Out/last and returns the result with Interrupted set and
// ctx's error.
func Train(ctx context.Context, trainSrc, valSrc dataset.Source, cfg TrainConfig) (TrainResult, error) {
	r, err := newRun(trainSrc, valSrc, cfg)
	if err != nil {
		return r.res, err
	}
	if err := r.open(); err != nil {
		return r.res, err
	}
	defer r.be.Close()
	return r.train(ctx)
}

// run is one call of Train: the configuration with its defaults, the model, its optimizer
// and backend, and the training state that last/ saves.
type run struct {
	cfg           TrainConfig
	trainSrc, val dataset.Source
	prior         event.Prior
	st            event.Standardizer
	mc            nn.ModelConfig
	model         *nn.Model[float32]
	adam          *nn.Adam[float32]
	be            Backend
	tensors       []nn.NamedTensor[float32] // parameters and buffers: what a checkpoint holds
	cfgJSON       []byte                    // config.json (event.ModelConfig)
	perEpoch      int                       // steps per epoch, ⌊N/B⌋
	res           TrainResult
	logf          func(format string, args ...any)
	step, total   int     // global steps done and planned (0: not yet planned, Duration)
	bestVal       float64 // lowest validation NLL so far
	hist          []logRow
	x, th         []float32 // the training batch's network input and standardised θ
	start         time.Time
	stepTime      time.Duration // time in steps of this run (not validation)
	runSteps      int           // steps of this run
	lossSum       float64       // training loss summed since the last log row
	lossN         int
	valSeed       uint64
	vb            int                // validation batch size
	init          *nn.Model[float32] // the model of TrainConfig.Init, nil without
}

// newRun checks cfg, fills in its defaults and builds the model for trainSrc's prior.
func newRun(trainSrc, valSrc dataset.Source, cfg TrainConfig) (*run, error) {
	r := &run{trainSrc: trainSrc, val: valSrc, bestVal: math.Inf(1)}
	r.logf = func(format string, args ...any) {
		if cfg.Log != nil {
			cfg.Log(fmt.Sprintf(format, args...))
		}
	}
	if cfg.MinLR == 0 {
		cfg.MinLR = 1e-6
	}
	if cfg.Warmup == 0 {
		cfg.Warmup = 20
	}
	if cfg.ClipNorm == 0 {
		cfg.ClipNorm = 5
	}
	if cfg.Noise.SNR.Family == "" {
		cfg.Noise = event.DefaultNoise()
	}
	r.cfg = cfg
	if cfg.BatchSize < 1 {
		return r, fmt.Errorf("batch size %d must be at least 1", cfg.BatchSize)
	}
	if !(cfg.LR > 0) || math.IsInf(cfg.LR, 0) {
		return r, fmt.Errorf("learning rate %g must be positive and finite", cfg.LR)
	}
	if cfg.MaxSteps <= 0 && cfg.Epochs <= 0 && cfg.Duration <= 0 {
		return r, errors.New("give a number of epochs, a duration or a number of steps")
	}
	if trainSrc.Len() < cfg.BatchSize {
		return r, fmt.Errorf("%d training events are fewer than one batch of %d", trainSrc.Len(), cfg.BatchSize)
	}
	r.prior = trainSrc.Prior()
	if err := r.prior.Validate(); err != nil {
		return r, fmt.Errorf("prior: %v", err)
	}
	r.st = event.NewStandardizer(r.prior)
	var err error
	switch {
	case cfg.Init != "":
		im, err := infer.LoadModel(cfg.Init)
		if err != nil {
			return r, fmt.Errorf("init: %v", err)
		}
		if a, b := fmt.Sprint(im.Standardizer), fmt.Sprint(r.st); a != b {
			return r, fmt.Errorf("init: %s was trained on another prior than the data's", im.Dir)
		}
		r.init, r.mc = im.Net, im.Net.Config
		if (cfg.Norm != "" && cfg.Norm != r.mc.Featurizer.Norm) || (cfg.Base != "" && cfg.Base != r.mc.Flow.Base) {
			return r, fmt.Errorf("init: %s has norm %q and base %q, not the %q and %q asked for", im.Dir, r.mc.Featurizer.Norm, r.mc.Flow.Base, cfg.Norm, cfg.Base)
		}
	case cfg.Model != nil:
		r.mc = *cfg.Model
	default:
		if r.mc, err = event.Preset(cfg.Preset); err != nil {
			return r, err
		}
	}
	if cfg.Init == "" && (cfg.Norm != "" || cfg.Base != "") {
		if cfg.Norm != "" {
			r.mc.Featurizer.Norm = cfg.Norm
		}
		if cfg.Base != "" {
			r.mc.Flow.Base = cfg.Base
		}
		if err := r.mc.Validate(); err != nil {
			return r, err
		}
	}
	r.mc.Flow.D = r.st.Dim()
	if r.mc.InputLen != event.WindowPoints {
		return r, fmt.Errorf("model input length %d, want the %d-point window", r.mc.InputLen, event.WindowPoints)
	}
	if r.model, err = nn.NewModel[float32](r.mc); err != nil {
		return r, err
	}
	if !(cfg.Balance >= 0) || math.IsInf(cfg.Balance, 0) {
		return r, fmt.Errorf("balance λ %g must be non-negative and finite", cfg.Balance)
	}
	if cfg.Balance > 0 {
		prior, st := r.prior, r.st
		r.model.Balance = nn.Balance{Lambda: cfg.Balance, LogPrior: func(y []float64) float64 { return event.PriorLogDensity(prior, st, y) }}
	}
	if r.cfgJSON, err = json.MarshalIndent(event.ModelConfig{ModelConfig: r.mc, Standardizer: &r.st, Input: event.InputVersion}, "", "  "); err != nil {
		return r, err
	}
	r.res.Config, r.res.Standardizer, r.res.LogJacobian = r.mc, r.st, r.st.LogJacobian()
	r.adam = nn.NewAdam[float32](r.model.NumParams())
	r.adam.LR = cfg.LR
	r.perEpoch = trainSrc.Len() / cfg.BatchSize
	r.tensors = append(r.model.ParamTensors(), r.model.BufferTensors()...)
	switch {
	case cfg.MaxSteps > 0:
		r.total = cfg.MaxSteps
	case cfg.Epochs > 0:
		r.total = cfg.Epochs * r.perEpoch
	}
	r.valSeed = dataset.DeriveSeed(cfg.Seed, "val")
	r.vb = min(cfg.BatchSize, valSrc.Len())
	r.x = make([]float32, cfg.BatchSize*r.mc.Featurizer.L)
	r.th = make([]float32, cfg.BatchSize*r.mc.Flow.D)
	return r, nil
}

// open prepares the output directory, initialises the model or restores it from last/
// (Resume), and creates the backend.
func (r *run) open() error {
	cfg := r.cfg
	if err := CheckOut(cfg.Out, cfg.Resume, cfg.Overwrite); err != nil {
		return err
	}
	if cfg.Overwrite && !cfg.Resume {
		for _, f := range modelFiles {
			if err := os.RemoveAll(filepath.Join(cfg.Out, f)); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	if cfg.Resume {
		if err := r.restore(); err != nil {
			return fmt.Errorf("resume: %v", err)
		}
	} else if r.init != nil {
		copy(r.model.Params, r.init.Params)
		copy(r.model.Buffers, r.init.Buffers)
		r.logf("starting from the weights of %s", cfg.Init)
	} else {
		r.model.Init(cfg.Seed)
	}
	newBackend := cfg.Backend
	if newBackend == nil {
		newBackend = NewCPUBackend
	}
	be, err := newBackend(r.model, r.adam)
	if err != nil {
		return fmt.Errorf("backend: %v", err)
	}
	r.be = be
	if cfg.Balance > 0 && be.Name() != "cpu" {
		return fmt.Errorf("the balancing penalty (λ %g) is implemented on the cpu backend only, not %s", cfg.Balance, be.Name())
	}
	r.logf("training on %s", be.Name())
	return nil
}

// restore loads the model, the optimizer and the training state from Out/last, checking
// that they belong to this run's model and prior.
func (r *run) restore() error {
	dir := filepath.Join(r.cfg.Out, LastDir)
	ck, err := nn.LoadCheckpoint[float32](dir)
	if err != nil {
		return err
	}
	if err := nn.CopyTensors(r.tensors, ck.Tensors, filepath.Join(dir, nn.ModelFile)); err != nil {
		return err
	}
	saved, err := event.ParseModelConfig(ck.Config, filepath.Join(dir, nn.ConfigFile))
	if err != nil {
		return err
	}
	savedJSON, err1 := json.Marshal(saved.Standardizer)
	stJSON, err2 := json.Marshal(r.st)
	if err1 != nil || err2 != nil || string(savedJSON) != string(stJSON) {
		return fmt.Errorf("%s: the saved standardizer differs from the data's prior", filepath.Join(dir, nn.ConfigFile))
	}
	opt := filepath.Join(dir, nn.OptimizerFile)
	if ck.Adam == nil || len(ck.Adam.M) != r.model.NumParams() {
		return fmt.Errorf("%s: no optimizer state for this model", opt)
	}
	r.adam = ck.Adam
	if r.step, r.total, r.bestVal, err = parseState(ck.State, r.cfg); err != nil {
		return fmt.Errorf("%s: %v", opt, err)
	}
	if r.adam.Step != r.step {
		return fmt.Errorf("%s: optimizer step %d, training step %d", opt, r.adam.Step, r.step)
	}
	r.hist, _ = readLog(filepath.Join(r.cfg.Out, LogFile))
	r.logf("resuming at step %d of %d (epoch %d)", r.step, r.total, r.step/r.perEpoch)
	return nil
}

// train runs the epochs until the planned steps are done or ctx is cancelled.
func (r *run) train(ctx context.Context) (TrainResult, error) {
	if !r.cfg.Resume || len(r.hist) == 0 {
		_, pn, _, err := r.validate(ctx, true)
		if err != nil {
			return r.res, err
		}
		r.res.PriorVal = pn
	} else {
		r.res.PriorVal = r.hist[0].prior
	}
	r.start = time.Now()
	interrupted := false
	for (r.total == 0 || r.step < r.total) && !interrupted {
		var err error
		if interrupted, err = r.epoch(ctx); err != nil {
			return r.res, err
		}
		if interrupted {
			break
		}
		if err := r.endEpoch(ctx); err != nil {
			if ctx.Err() == nil {
				return r.res, err
			}
			// Interrupted during the epoch's validation: keep the steps done (last/ below);
			// the resumed run starts the next epoch without this epoch's log row.
			interrupted = true
		}
	}
	r.res.Steps, r.res.Epochs, r.res.BestVal = r.step, r.step/r.perEpoch, r.bestVal
	if r.stepTime > 0 {
		r.res.ExamplesPS = float64(r.runSteps*r.cfg.BatchSize) / r.stepTime.Seconds()
	}
	if interrupted {
		r.res.Interrupted = true
		if err := r.saveLast(); err != nil {
			return r.res, err
		}
		return r.res, ctx.Err()
	}
	return r.res, nil
}

// epoch runs the steps of the current epoch from the saved position: its own Reader, seeded
// DeriveSeed(Seed, "epoch/<e>"), with the batches before the position read and discarded.
// It reports whether ctx stopped it.
func (r *run) epoch(ctx context.Context) (interrupted bool, err error) {
	cfg := r.cfg
	epoch := r.step / r.perEpoch
	rd, err := dataset.NewReader(r.trainSrc, dataset.ReaderConfig{BatchSize: cfg.BatchSize, Seed: dataset.DeriveSeed(cfg.Seed, "epoch/"+strconv.Itoa(epoch)),
		Noise: cfg.Noise, Workers: cfg.Workers, Epochs: 1})
	if err != nil {
		return false, err
	}
	defer rd.Close()
	for skip := r.step % r.perEpoch; skip > 0; skip-- {
		b, err := rd.Next()
		if err != nil {
			return false, err
		}
		rd.Release(b)
	}
	for r.step%r.perEpoch != 0 || r.step/r.perEpoch == epoch {
		if r.total > 0 && r.step >= r.total {
			break
		}
		if ctx.Err() != nil {
			return true, nil
		}
		b, err := rd.Next()
		if err != nil {
			return false, err
		}
		if err := r.trainStep(b, rd, epoch); err != nil {
			return false, err
		}
	}
	return false, nil
}

// trainStep trains on the batch b (released to rd once prepared), then plans the steps of
// a Duration run after its warmup, reports the step and saves last/ every SaveEvery steps.
func (r *run) trainStep(b *dataset.Batch, rd *dataset.Reader, epoch int) error {
	cfg := r.cfg
	t0 := time.Now()
	prepare(b, r.mc, r.st, r.x, r.th, false, r.prior)
	rd.Release(b)
	lr := nn.CosineLR(r.step, max(r.total, cfg.Warmup+1), cfg.LR, cfg.MinLR, cfg.Warmup)
	loss, norm, err := r.be.Step(r.x, r.th, cfg.ClipNorm, lr)
	if err != nil {
		return fmt.Errorf("step %d: %v", r.step, err)
	}
	if math.IsNaN(norm) || math.IsInf(norm, 0) || math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("step %d: non-finite loss %g or gradient norm %g", r.step, loss, norm)
	}
	r.step++
	r.runSteps++
	r.stepTime += time.Since(t0)
	r.lossSum += loss
	r.lossN++
	if r.total == 0 && r.step == max(cfg.Warmup, 1) {
		r.planDuration()
	}
	if cfg.OnStep != nil {
		cfg.OnStep(StepInfo{Step: r.step, Total: r.total, Epoch: epoch, Loss: loss, LR: lr, ExamplesPS: float64(r.runSteps*cfg.BatchSize) / r.stepTime.Seconds()})
	}
	if cfg.SaveEvery > 0 && r.step%cfg.SaveEvery == 0 && r.step%r.perEpoch != 0 {
		if err := r.saveLast(); err != nil {
			return err
		}
	}
	if cfg.Duration > 0 && time.Since(r.start) > cfg.Duration && r.total > r.step {
		r.total = r.step // out of time: end here (the cosine is cut short)
	}
	return nil
}

// planDuration fixes the planned steps of a Duration run from the speed of its steps so
// far, leaving a tenth of the budget for validation and checkpoints.
func (r *run) planDuration() {
	per := time.Since(r.start) / time.Duration(r.runSteps)
	left := r.cfg.Duration - time.Since(r.start)
	r.total = r.step + max(1, int(float64(left)/float64(per)*0.9))
	r.logf("planned %d steps for %v (%.3g s/step)", r.total, r.cfg.Duration, per.Seconds())
}

// endEpoch validates, logs the epoch's row, saves best/ when the validation NLL is the
// lowest so far, writes the log and the loss curve, and saves last/.
func (r *run) endEpoch(ctx context.Context) error {
	cfg := r.cfg
	v, _, vs, err := r.validate(ctx, false)
	if err != nil {
		return err
	}
	r.res.LastVal = v
	lr := nn.CosineLR(r.step-1, r.total, cfg.LR, cfg.MinLR, cfg.Warmup)
	eps := 0.0
	if r.stepTime > 0 {
		eps = float64(r.runSteps*cfg.BatchSize) / r.stepTime.Seconds()
	}
	row := logRow{epoch: (r.step - 1) / r.perEpoch, step: r.step, train: r.lossSum / float64(max(r.lossN, 1)), val: v, lr: lr, eps: eps, prior: r.res.PriorVal, diag: vs}
	r.hist = append(r.hist, row)
	r.lossSum, r.lossN = 0, 0
	r.logf("epoch %d step %d/%d: train NLL %.4f, val NLL %.4f (prior %.4f; in coordinate units %.4f; median %.4f, max %.4g, with batch statistics %.4f), lr %.3g, %.4g examples/s",
		row.epoch, r.step, r.total, row.train, v, r.res.PriorVal, v+r.res.LogJacobian, vs.Median, vs.Max, vs.BatchStats, lr, eps)
	if v < r.bestVal {
		r.bestVal = v
		if err := r.saveBest(v); err != nil {
			return err
		}
	}
	if err := writeLog(filepath.Join(cfg.Out, LogFile), r.hist); err != nil {
		return err
	}
	if err := writeLossPNG(filepath.Join(cfg.Out, LossPNGFile), r.hist); err != nil {
		r.logf("loss curve: %v", err)
	}
	return r.saveLast()
}

// valStats are the diagnostics of a validation pass beyond the mean NLL: the median, 99th
// percentile and maximum of the examples' NLL (a mean far above the median is a few events
// with extreme losses), and the mean NLL with batch norm normalising each batch by its own
// statistics (a mean far below the evaluation-mode one is running statistics that fit no
// batch).
type valStats struct {
	Median, P99, Max, BatchStats float64
}

// validate returns the mean validation NLL, in evaluation mode on the validation source's
// events in index order with noise seeded DeriveSeed(Seed, "val") (the same examples every
// time), over ValBatches batches (all when 0), and its diagnostics (valStats); with
// withPrior also the prior's mean NLL on them.
func (r *run) validate(ctx context.Context, withPrior bool) (nll, priorNLL float64, vs valStats, err error) {
	cfg := r.cfg
	rd, err := dataset.NewReader(r.val, dataset.ReaderConfig{BatchSize: r.vb, Seed: r.valSeed, Noise: cfg.Noise, Workers: cfg.Workers, Epochs: 1, Ordered: true})
	if err != nil {
		return 0, 0, vs, fmt.Errorf("validation: %v", err)
	}
	defer rd.Close()
	L, D := r.mc.Featurizer.L, r.mc.Flow.D
	x := make([]float32, r.vb*L)
	th := make([]float32, r.vb*D)
	var all []float64
	batchStats := 0.0
	for i := 0; cfg.ValBatches <= 0 || i < cfg.ValBatches; i++ {
		if ctx.Err() != nil {
			return 0, 0, vs, ctx.Err()
		}
		b, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, vs, fmt.Errorf("validation: %v", err)
		}
		pl := prepare(b, r.mc, r.st, x, th, withPrior, r.prior)
		ls, err := r.be.Losses(x[:b.Size*L], th[:b.Size*D], false)
		if err != nil {
			return 0, 0, vs, err
		}
		all = append(all, ls...)
		if b.Size > 1 { // one example has no batch statistics to speak of
			bs, err := r.be.Losses(x[:b.Size*L], th[:b.Size*D], true)
			if err != nil {
				return 0, 0, vs, err
			}
			for _, l := range bs {
				batchStats += l
			}
		} else {
			batchStats += ls[0]
		}
		priorNLL += pl
		rd.Release(b)
	}
	n := float64(len(all))
	for _, l := range all {
		nll += l
	}
	sorted := append([]float64(nil), all...)
	sort.Float64s(sorted)
	vs = valStats{Median: infer.Quantile(sorted, 0.5), P99: infer.Quantile(sorted, 0.99), Max: sorted[len(sorted)-1], BatchStats: batchStats / n}
	return nll / n, priorNLL / n, vs, nil
}

// saveLast writes last/: the weights, config, Adam state and the training state that
// Resume reads (parseState).
func (r *run) saveLast() error {
	if err := r.be.Sync(); err != nil {
		return err
	}
	cfg := r.cfg
	state := map[string]string{
		"step": strconv.Itoa(r.step), "total_steps": strconv.Itoa(r.total),
		"epoch": strconv.Itoa(r.step / r.perEpoch), "epoch_step": strconv.Itoa(r.step % r.perEpoch),
		"batch": strconv.Itoa(cfg.BatchSize), "seed": strconv.FormatUint(cfg.Seed, 10),
		"lr": strconv.FormatFloat(cfg.LR, 'g', -1, 64), "min_lr": strconv.FormatFloat(cfg.MinLR, 'g', -1, 64),
		"warmup": strconv.Itoa(cfg.Warmup), "clip": strconv.FormatFloat(cfg.ClipNorm, 'g', -1, 64),
		"best_val": strconv.FormatFloat(r.bestVal, 'g', -1, 64),
		"balance":  strconv.FormatFloat(cfg.Balance, 'g', -1, 64),
	}
	return nn.SaveCheckpoint(filepath.Join(cfg.Out, LastDir), nn.Checkpoint[float32]{Tensors: r.tensors, Config: r.cfgJSON, Adam: r.adam, State: state})
}

// saveBest writes best/ (weights and config) for the validation NLL v.
func (r *run) saveBest(v float64) error {
	if err := r.be.Sync(); err != nil {
		return err
	}
	state := map[string]string{"step": strconv.Itoa(r.step), "val_nll": strconv.FormatFloat(v, 'g', -1, 64)}
	return nn.SaveCheckpoint(filepath.Join(r.cfg.Out, BestDir), nn.Checkpoint[float32]{Tensors: r.tensors, Config: r.cfgJSON, State: state})
}

// prepare bins the batch's curves into x and standardises its θ into th; with withPrior it
// returns the sum over the batch of −PriorLogDensity.
func prepare(b *dataset.Batch, mc nn.ModelConfig, st event.Standardizer, x, th []float32, withPrior bool, prior event.Prior) float64 {
	L, D := mc.Featurizer.L, mc.Flow.D
	for i := range b.Size {
		event.NetworkInput(x[i*L:(i+1)*L], b.X[i*event.WindowPoints:(i+1)*event.WindowPoints], mc.Bin)
	}
	nll := 0.0
	for i := range b.Size {
		var v [event.NumParams]float64
		v[event.NumParams-1] = 1
		copy(v[:], b.Theta[i*b.Dim:(i+1)*b.Dim])
		y := st.Forward(event.ParamsFromValues(v))
		for j := range D {
			th[i*D+j] = float32(y[j])
		}
		if withPrior {
			nll -= event.PriorLogDensity(prior, st, y)
		}
	}
	return nll
}

// parseState reads the training state of last/ and checks it against cfg.
func parseState(s map[string]string, cfg TrainConfig) (step, total int, best float64, err error) {
	geti := func(k string) int {
		if err != nil {
			return 0
		}
		v, e := strconv.Atoi(s[k])
		if e != nil {
			err = fmt.Errorf("bad or missing training state %q = %q", k, s[k])
		}
		return v
	}
	step, total = geti("step"), geti("total_steps")
	if b := geti("batch"); err == nil && b != cfg.BatchSize {
		err = fmt.Errorf("saved with batch size %d, resumed with %d", b, cfg.BatchSize)
	}
	if err != nil {
		return
	}
	if seed, e := strconv.ParseUint(s["seed"], 10, 64); e != nil || seed != cfg.Seed {
		return 0, 0, 0, fmt.Errorf("saved with seed %q, resumed with %d", s["seed"], cfg.Seed)
	}
	// A checkpoint from before the balancing penalty has no "balance": it had none.
	if bal, e := strconv.ParseFloat(orZero(s["balance"]), 64); e != nil || bal != cfg.Balance {
		return 0, 0, 0, fmt.Errorf("saved with balance λ %q, resumed with %g", s["balance"], cfg.Balance)
	}
	if best, err = strconv.ParseFloat(s["best_val"], 64); err != nil {
		return 0, 0, 0, fmt.Errorf("bad training state best_val %q", s["best_val"])
	}
	if cfg.MaxSteps > 0 && cfg.MaxSteps != total {
		total = cfg.MaxSteps
	}
	return step, total, best, nil
}

// orZero returns v, or "0" when v is empty.
func orZero(v string) string {
	if v == "" {
		return "0"
	}
	return v
}

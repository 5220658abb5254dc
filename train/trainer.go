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
	"strconv"
	"strings"
	"time"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"

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
	Epochs     int               // passes over the training set; with Duration 0 must be ≥ 1
	Duration   time.Duration     // wall-clock budget instead of Epochs (see Train)
	MaxSteps   int               // when > 0, the planned number of steps (overrides Epochs and Duration)
	BatchSize  int               // examples per step
	LR         float64           // peak learning rate
	MinLR      float64           // learning rate at the end of the cosine decay; 1e-6 when 0
	Warmup     int               // linear warmup steps; 20 when 0, none when < 0
	ClipNorm   float64           // gradient-norm clip; 5 when 0, none when < 0
	Seed       uint64            // initialisation, shuffles, crops and noise
	Resume     bool              // continue from Out/last
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
	Loss        float64 // training loss of the batch (standardised NLL)
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
	var res TrainResult
	logf := func(format string, args ...any) {
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
	if cfg.BatchSize < 1 {
		return res, fmt.Errorf("batch size %d must be at least 1", cfg.BatchSize)
	}
	if !(cfg.LR > 0) || math.IsInf(cfg.LR, 0) {
		return res, fmt.Errorf("learning rate %g must be positive and finite", cfg.LR)
	}
	if cfg.MaxSteps <= 0 && cfg.Epochs <= 0 && cfg.Duration <= 0 {
		return res, errors.New("give a number of epochs, a duration or a number of steps")
	}
	if trainSrc.Len() < cfg.BatchSize {
		return res, fmt.Errorf("%d training events are fewer than one batch of %d", trainSrc.Len(), cfg.BatchSize)
	}
	prior := trainSrc.Prior()
	if err := prior.Validate(); err != nil {
		return res, fmt.Errorf("prior: %v", err)
	}
	st := event.NewStandardizer(prior)
	stJSON, err := json.Marshal(st)
	if err != nil {
		return res, err
	}
	var mc nn.ModelConfig
	if cfg.Model != nil {
		mc = *cfg.Model
	} else if mc, err = event.Preset(cfg.Preset); err != nil {
		return res, err
	}
	mc.Flow.D = st.Dim()
	if mc.InputLen != event.WindowPoints {
		return res, fmt.Errorf("model input length %d, want the %d-point window", mc.InputLen, event.WindowPoints)
	}
	model, err := nn.NewModel[float32](mc)
	if err != nil {
		return res, err
	}
	cfgJSON, err := json.MarshalIndent(event.ModelConfig{ModelConfig: mc, Standardizer: &st}, "", "  ")
	if err != nil {
		return res, err
	}
	res.Config, res.Standardizer, res.LogJacobian = mc, st, st.LogJacobian()
	adam := nn.NewAdam[float32](model.NumParams())
	adam.LR = cfg.LR
	perEpoch := trainSrc.Len() / cfg.BatchSize
	if err := CheckOut(cfg.Out, cfg.Resume, cfg.Overwrite); err != nil {
		return res, err
	}
	if cfg.Overwrite && !cfg.Resume {
		for _, f := range modelFiles {
			if err := os.RemoveAll(filepath.Join(cfg.Out, f)); err != nil {
				return res, err
			}
		}
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return res, err
	}

	// Training state, saved in last/.
	step, total := 0, 0
	bestVal := math.Inf(1)
	var hist []logRow
	switch {
	case cfg.MaxSteps > 0:
		total = cfg.MaxSteps
	case cfg.Epochs > 0:
		total = cfg.Epochs * perEpoch
	}
	tensors := append(model.ParamTensors(), model.BufferTensors()...)
	if cfg.Resume {
		ck, err := nn.LoadCheckpoint[float32](filepath.Join(cfg.Out, LastDir))
		if err != nil {
			return res, fmt.Errorf("resume: %v", err)
		}
		if err := nn.CopyTensors(tensors, ck.Tensors, filepath.Join(cfg.Out, LastDir, nn.ModelFile)); err != nil {
			return res, fmt.Errorf("resume: %v", err)
		}
		saved, err := event.ParseModelConfig(ck.Config, filepath.Join(cfg.Out, LastDir, nn.ConfigFile))
		if err != nil {
			return res, fmt.Errorf("resume: %v", err)
		}
		if savedJSON, err := json.Marshal(saved.Standardizer); err != nil || string(savedJSON) != string(stJSON) {
			return res, fmt.Errorf("resume: %s: the saved standardizer differs from the data's prior", filepath.Join(cfg.Out, LastDir, nn.ConfigFile))
		}
		if ck.Adam == nil || len(ck.Adam.M) != model.NumParams() {
			return res, fmt.Errorf("resume: %s: no optimizer state for this model", filepath.Join(cfg.Out, LastDir, nn.OptimizerFile))
		}
		adam = ck.Adam
		if step, total, bestVal, err = parseState(ck.State, cfg); err != nil {
			return res, fmt.Errorf("resume: %s: %v", filepath.Join(cfg.Out, LastDir, nn.OptimizerFile), err)
		}
		if adam.Step != step {
			return res, fmt.Errorf("resume: %s: optimizer step %d, training step %d", filepath.Join(cfg.Out, LastDir, nn.OptimizerFile), adam.Step, step)
		}
		hist, _ = readLog(filepath.Join(cfg.Out, LogFile))
		logf("resuming at step %d of %d (epoch %d)", step, total, step/perEpoch)
	} else {
		model.Init(cfg.Seed)
	}

	newBackend := cfg.Backend
	if newBackend == nil {
		newBackend = NewCPUBackend
	}
	be, err := newBackend(model, adam)
	if err != nil {
		return res, fmt.Errorf("backend: %v", err)
	}
	defer be.Close()
	logf("training on %s", be.Name())

	saveLast := func() error {
		if err := be.Sync(); err != nil {
			return err
		}
		state := map[string]string{
			"step": strconv.Itoa(step), "total_steps": strconv.Itoa(total),
			"epoch": strconv.Itoa(step / perEpoch), "epoch_step": strconv.Itoa(step % perEpoch),
			"batch": strconv.Itoa(cfg.BatchSize), "seed": strconv.FormatUint(cfg.Seed, 10),
			"lr": strconv.FormatFloat(cfg.LR, 'g', -1, 64), "min_lr": strconv.FormatFloat(cfg.MinLR, 'g', -1, 64),
			"warmup": strconv.Itoa(cfg.Warmup), "clip": strconv.FormatFloat(cfg.ClipNorm, 'g', -1, 64),
			"best_val": strconv.FormatFloat(bestVal, 'g', -1, 64),
		}
		return nn.SaveCheckpoint(filepath.Join(cfg.Out, LastDir), nn.Checkpoint[float32]{Tensors: tensors, Config: cfgJSON, Adam: adam, State: state})
	}

	// Validation: fixed examples.
	valSeed := dataset.DeriveSeed(cfg.Seed, "val")
	vb := min(cfg.BatchSize, valSrc.Len())
	validate := func(withPrior bool) (nll, priorNLL float64, err error) {
		r, err := dataset.NewReader(valSrc, dataset.ReaderConfig{BatchSize: vb, Seed: valSeed, Noise: cfg.Noise, Workers: cfg.Workers, Epochs: 1, Ordered: true})
		if err != nil {
			return 0, 0, fmt.Errorf("validation: %v", err)
		}
		defer r.Close()
		x := make([]float32, vb*mc.Featurizer.L)
		th := make([]float32, vb*mc.Flow.D)
		n := 0
		for i := 0; cfg.ValBatches <= 0 || i < cfg.ValBatches; i++ {
			if ctx.Err() != nil {
				return 0, 0, ctx.Err()
			}
			b, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return 0, 0, fmt.Errorf("validation: %v", err)
			}
			pl := prepare(b, mc, st, x, th, withPrior, prior)
			l, err := be.Loss(x[:b.Size*mc.Featurizer.L], th[:b.Size*mc.Flow.D])
			if err != nil {
				return 0, 0, err
			}
			nll += l * float64(b.Size)
			priorNLL += pl
			n += b.Size
			r.Release(b)
		}
		return nll / float64(n), priorNLL / float64(n), nil
	}
	if !cfg.Resume || len(hist) == 0 {
		_, pn, err := validate(true)
		if err != nil {
			return res, err
		}
		res.PriorVal = pn
	} else {
		res.PriorVal = hist[0].prior
	}

	x := make([]float32, cfg.BatchSize*mc.Featurizer.L)
	th := make([]float32, cfg.BatchSize*mc.Flow.D)
	start := time.Now()
	stepTime := time.Duration(0)
	runSteps := 0
	lossSum, lossN := 0.0, 0
	finishEpoch := func(epochEnd bool) error {
		v, _, err := validate(false)
		if err != nil {
			return err
		}
		res.LastVal = v
		lr := nn.CosineLR(step-1, total, cfg.LR, cfg.MinLR, cfg.Warmup)
		eps := 0.0
		if stepTime > 0 {
			eps = float64(runSteps*cfg.BatchSize) / stepTime.Seconds()
		}
		row := logRow{epoch: (step - 1) / perEpoch, step: step, train: lossSum / float64(max(lossN, 1)), val: v, lr: lr, eps: eps, prior: res.PriorVal}
		hist = append(hist, row)
		lossSum, lossN = 0, 0
		logf("epoch %d step %d/%d: train NLL %.4f, val NLL %.4f (prior %.4f; in coordinate units %.4f), lr %.3g, %.4g examples/s",
			row.epoch, step, total, row.train, v, res.PriorVal, v+res.LogJacobian, lr, eps)
		if v < bestVal {
			bestVal = v
			if err := be.Sync(); err != nil {
				return err
			}
			state := map[string]string{"step": strconv.Itoa(step), "val_nll": strconv.FormatFloat(v, 'g', -1, 64)}
			if err := nn.SaveCheckpoint(filepath.Join(cfg.Out, BestDir), nn.Checkpoint[float32]{Tensors: tensors, Config: cfgJSON, State: state}); err != nil {
				return err
			}
		}
		if err := writeLog(filepath.Join(cfg.Out, LogFile), hist); err != nil {
			return err
		}
		if err := writeLossPNG(filepath.Join(cfg.Out, LossPNGFile), hist); err != nil {
			logf("loss curve: %v", err)
		}
		return saveLast()
	}

	interrupted := false
	for (total == 0 || step < total) && !interrupted {
		epoch := step / perEpoch
		r, err := dataset.NewReader(trainSrc, dataset.ReaderConfig{BatchSize: cfg.BatchSize, Seed: dataset.DeriveSeed(cfg.Seed, "epoch/"+strconv.Itoa(epoch)),
			Noise: cfg.Noise, Workers: cfg.Workers, Epochs: 1})
		if err != nil {
			return res, err
		}
		for skip := step % perEpoch; skip > 0; skip-- {
			b, err := r.Next()
			if err != nil {
				r.Close()
				return res, err
			}
			r.Release(b)
		}
		for step%perEpoch != 0 || step/perEpoch == epoch {
			if total > 0 && step >= total {
				break
			}
			if ctx.Err() != nil {
				interrupted = true
				break
			}
			b, err := r.Next()
			if err != nil {
				r.Close()
				return res, err
			}
			t0 := time.Now()
			prepare(b, mc, st, x, th, false, prior)
			r.Release(b)
			lr := nn.CosineLR(step, max(total, cfg.Warmup+1), cfg.LR, cfg.MinLR, cfg.Warmup)
			loss, norm, err := be.Step(x, th, cfg.ClipNorm, lr)
			if err != nil {
				r.Close()
				return res, fmt.Errorf("step %d: %v", step, err)
			}
			if math.IsNaN(norm) || math.IsInf(norm, 0) || math.IsNaN(loss) {
				r.Close()
				return res, fmt.Errorf("step %d: non-finite loss %g or gradient norm %g", step, loss, norm)
			}
			step++
			runSteps++
			stepTime += time.Since(t0)
			lossSum += loss
			lossN++
			if total == 0 && step == max(cfg.Warmup, 1) { // Duration mode: plan the steps from the speed so far
				per := time.Since(start) / time.Duration(runSteps)
				left := cfg.Duration - time.Since(start)
				total = step + max(1, int(float64(left)/float64(per)*0.9))
				logf("planned %d steps for %v (%.3g s/step)", total, cfg.Duration, per.Seconds())
			}
			if cfg.OnStep != nil {
				cfg.OnStep(StepInfo{Step: step, Total: total, Epoch: epoch, Loss: loss, LR: lr, ExamplesPS: float64(runSteps*cfg.BatchSize) / stepTime.Seconds()})
			}
			if cfg.SaveEvery > 0 && step%cfg.SaveEvery == 0 && step%perEpoch != 0 {
				if err := saveLast(); err != nil {
					r.Close()
					return res, err
				}
			}
			if cfg.Duration > 0 && time.Since(start) > cfg.Duration && total > step {
				total = step // out of time: end here (the cosine is cut short)
			}
		}
		r.Close()
		if interrupted {
			break
		}
		if err := finishEpoch(true); err != nil {
			if ctx.Err() == nil {
				return res, err
			}
			// Interrupted during the epoch's validation: keep the steps done (last/ below);
			// the resumed run starts the next epoch without this epoch's log row.
			interrupted = true
		}
	}
	res.Steps, res.Epochs, res.BestVal = step, step/perEpoch, bestVal
	if stepTime > 0 {
		res.ExamplesPS = float64(runSteps*cfg.BatchSize) / stepTime.Seconds()
	}
	if interrupted {
		res.Interrupted = true
		if err := saveLast(); err != nil {
			return res, err
		}
		return res, ctx.Err()
	}
	return res, nil
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
	if best, err = strconv.ParseFloat(s["best_val"], 64); err != nil {
		return 0, 0, 0, fmt.Errorf("bad training state best_val %q", s["best_val"])
	}
	if cfg.MaxSteps > 0 && cfg.MaxSteps != total {
		total = cfg.MaxSteps
	}
	return step, total, best, nil
}

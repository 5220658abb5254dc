package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/device"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/nn"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/train"
)

// The embedded default job of 'mlcu train' with no arguments.
const (
	defaultWorkDir   = "mlcu-work"
	defaultTrainN    = 2000
	defaultValN      = 400
	defaultJobMinute = 5
)

var trainCommand = &ucli.Command{
	Name:      "train",
	Usage:     "train the neural posterior estimator on simulated datasets",
	ArgsUsage: " ",
	Description: `Trains the featurizer + flow model of --preset on the dataset in --data (written by
'mlcu simulate'), validating after every epoch on --val (a dataset; without it, --val-events
events simulated on the fly from the training prior with the val split seed). θ is
standardised with the prior's ranges (saved with the model in config.json). Adam with one
cosine decay of the learning rate to 1e-6 over the planned steps (20 warmup steps) and
gradient-norm clipping at 5.

--out MODEL receives best/ (lowest validation NLL) and last/ (the resumable state: weights,
Adam moments, step), train_log.csv and loss.png. Ctrl-C saves last/; --resume continues from
it, bit for bit the same as an uninterrupted run on the same backend. A MODEL directory that
already holds a run is refused unless --resume continues it or --force deletes it and starts
over.

The NLLs printed are of the standardised θ (nats); the NLL in coordinate units (log10 s,
log10 q, alpha, u0, t0 [d], log10 tE, log10 rho) is that plus a constant log-Jacobian,
printed too. The prior's NLL on the same validation examples is the baseline to beat.

With no arguments: the default job. Simulates 2000 training and 400 validation events of
the default prior into ./mlcu-work/data (once; reused afterwards), trains the small preset
for 5 minutes into ./mlcu-work/model, and says where the model went.

Examples:
   mlcu train
   mlcu train --data train/ --val val/ --preset small --out model --minutes 30
   mlcu train --data train/ --val val/ --out model --resume
   mlcu train --data train/ --val val/ --init models/small-wn-100k --balance 100 --steps 20000 --lr 3e-4 --out tuned

--balance LAMBDA adds the balancing penalty of balanced NPE (Delaunoy et al. 2023) to the
loss: with the posterior as a classifier d = sigmoid(log q(theta|x) - log p(theta)) between
joint and shuffled pairs, LAMBDA*(mean d(joint) + mean d(shuffled) - 1)^2, zero for the true
posterior; it counters the overconfidence of plain NPE (docs/evaluation.md measures it).
The training loss logged includes it; the validation NLL does not.`,
	Flags: []ucli.Flag{
		&ucli.StringFlag{Name: "data", Usage: "training dataset `DIR`", TakesFile: true, EnvVars: []string{"MLCU_TRAIN_DATA"}},
		&ucli.StringFlag{Name: "val", Usage: "validation dataset `DIR`", TakesFile: true, EnvVars: []string{"MLCU_TRAIN_VAL"}},
		&ucli.IntFlag{Name: "val-events", Usage: "without --val: `N` validation events simulated on the fly", Value: 256, EnvVars: []string{"MLCU_TRAIN_VAL_EVENTS"}},
		&ucli.StringFlag{Name: "preset", Usage: "model `PRESET`: small or paper", Value: "small", EnvVars: []string{"MLCU_PRESET"}},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "model `DIR`", Value: filepath.Join(defaultWorkDir, "model"), TakesFile: true, EnvVars: []string{"MLCU_TRAIN_OUT"}},
		&ucli.StringFlag{Name: "norm", Usage: "the featurizer's normalisation `NORM`: batch or weight (weight normalisation, no batch statistics; cpu only)", DefaultText: "the preset's", EnvVars: []string{"MLCU_TRAIN_NORM"}},
		&ucli.StringFlag{Name: "base", Usage: "the flow's base density `BASE`: mixture (unconditional Gaussian mixture) or made-mog (a MADE-MoG conditioned on the light curve, as nbi; cpu only)", DefaultText: "the preset's", EnvVars: []string{"MLCU_TRAIN_BASE"}},
		&ucli.Float64Flag{Name: "balance", Usage: "weight `LAMBDA` of the balancing penalty of balanced NPE (Delaunoy et al. 2023; 100 in the paper), which makes the posteriors conservative instead of overconfident; 0: none; cpu only", EnvVars: []string{"MLCU_TRAIN_BALANCE"}},
		&ucli.IntFlag{Name: "epochs", Usage: "`E` passes over the training set", DefaultText: "10 (unless --minutes or --steps)", EnvVars: []string{"MLCU_TRAIN_EPOCHS"}},
		&ucli.IntFlag{Name: "steps", Usage: "train for `N` optimizer steps instead of a number of epochs (the cosine schedule spans them)", EnvVars: []string{"MLCU_TRAIN_STEPS"}},
		&ucli.Float64Flag{Name: "minutes", Usage: "train for `M` minutes instead of a number of epochs", EnvVars: []string{"MLCU_TRAIN_MINUTES"}},
		&ucli.IntFlag{Name: "batch", Usage: "batch size `B` (default: 512 for the paper preset, as in Zhang et al. 2021; 32 for small)", EnvVars: []string{"MLCU_TRAIN_BATCH"}},
		&ucli.Float64Flag{Name: "lr", Usage: "peak learning rate `LR`", Value: 1e-3, EnvVars: []string{"MLCU_TRAIN_LR"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of initialisation, shuffles and noise", Value: 1, EnvVars: []string{"MLCU_TRAIN_SEED"}},
		&ucli.BoolFlag{Name: "resume", Usage: "continue from MODEL/last", EnvVars: []string{"MLCU_TRAIN_RESUME"}},
		&ucli.StringFlag{Name: "init", Usage: "fine-tune: start from the weights of the trained model in `DIR` (its shape; --preset is ignored), with a fresh optimizer and schedule; the data's prior must be the model's", TakesFile: true, EnvVars: []string{"MLCU_TRAIN_INIT"}},
		&ucli.BoolFlag{Name: "force", Usage: "delete the run in MODEL (last/, best/, log) and start over", EnvVars: []string{"MLCU_TRAIN_FORCE"}},
		deviceFlag(),
		workersFlag(),
		&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar or log lines", EnvVars: []string{"MLCU_QUIET"}},
	},
	Action: runTrain,
}

func runTrain(c *ucli.Context) error {
	const cmd = "train"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	if c.Bool("resume") && c.Bool("force") {
		return fail(cmd, "give --resume or --force, not both")
	}
	if err := train.CheckOut(c.String("out"), c.Bool("resume"), c.Bool("force")); err != nil {
		return fail(cmd, "--out: %v: give --resume to continue it or --force to delete it and start over", err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newProgress(c.App.ErrWriter, cmd, "steps", c.Bool("quiet"))
	dataDir, valDir, minutes := c.String("data"), c.String("val"), c.Float64("minutes")
	defaultJob := c.NumFlags() == 0 && os.Getenv("MLCU_TRAIN_DATA") == ""
	if defaultJob {
		dataDir, valDir = filepath.Join(defaultWorkDir, "data", "train"), filepath.Join(defaultWorkDir, "data", "val")
		minutes = defaultJobMinute
		prog.Printf("no arguments: the default job (simulate %d+%d events into %s if not there, train the small preset for %d minutes)",
			defaultTrainN, defaultValN, filepath.Join(defaultWorkDir, "data"), defaultJobMinute)
		for _, d := range []struct {
			dir, split string
			n          int
		}{{dataDir, "train", defaultTrainN}, {valDir, "val", defaultValN}} {
			if err := ensureDataset(ctx, newProgress(c.App.ErrWriter, cmd, "events", c.Bool("quiet")), d.dir, d.split, d.n, c.Int("workers")); err != nil {
				return err
			}
		}
	}
	ch, err := chooseDevice(c, cmd)
	if err != nil {
		return err
	}
	if dataDir == "" {
		return fail(cmd, "--data DIR is required (or run 'mlcu train' with no arguments for the default job)")
	}
	if _, err := event.Preset(c.String("preset")); err != nil {
		return fail(cmd, "--preset: %v", err)
	}
	if n := btoi(c.IsSet("epochs")) + btoi(c.IsSet("minutes")) + btoi(c.IsSet("steps")); n > 1 {
		return fail(cmd, "give one of --epochs, --minutes and --steps")
	}
	if c.IsSet("steps") && c.Int("steps") < 1 {
		return fail(cmd, "--steps = %d must be at least 1", c.Int("steps"))
	}
	norm := c.String("norm")
	if norm != "" && norm != nn.NormBatch && norm != nn.NormWeight {
		return fail(cmd, "--norm = %q: want %s or %s", norm, nn.NormBatch, nn.NormWeight)
	}
	base := c.String("base")
	if base != "" && base != nn.BaseMixture && base != nn.BaseMADEMoG {
		return fail(cmd, "--base = %q: want %s or %s", base, nn.BaseMixture, nn.BaseMADEMoG)
	}
	balance := c.Float64("balance")
	if !(balance >= 0) || math.IsInf(balance, 0) {
		return fail(cmd, "--balance = %v must be non-negative and finite", balance)
	}
	epochs := 10
	if c.IsSet("epochs") {
		epochs = c.Int("epochs")
		if epochs < 1 {
			return fail(cmd, "--epochs = %d must be at least 1", epochs)
		}
	}
	if minutes != 0 && (!(minutes > 0) || math.IsInf(minutes, 0)) {
		return fail(cmd, "--minutes = %v must be positive", minutes)
	}
	batch := c.Int("batch")
	if !c.IsSet("batch") {
		batch = 32
		if c.String("preset") == "paper" {
			batch = 512
		}
	}
	if batch < 1 {
		return fail(cmd, "--batch = %d must be at least 1", batch)
	}
	if lr := c.Float64("lr"); !(lr > 0) || math.IsInf(lr, 0) {
		return fail(cmd, "--lr = %v must be positive and finite", lr)
	}
	if err := checkWorkers(cmd, c.Int("workers")); err != nil {
		return err
	}
	ds, err := dataset.OpenDataset(dataDir)
	if err != nil {
		return fail(cmd, "--data: %v", err)
	}
	defer ds.Close()
	var val dataset.Source
	if valDir != "" {
		vd, err := dataset.OpenDataset(valDir)
		if err != nil {
			return fail(cmd, "--val: %v", err)
		}
		defer vd.Close()
		if vd.Manifest.Prior.Validate() != nil || fmt.Sprint(vd.Manifest.Prior) != fmt.Sprint(ds.Manifest.Prior) {
			prog.Printf("warning: the validation set's prior differs from the training set's")
		}
		val = vd
	} else {
		n := c.Int("val-events")
		if n < 1 {
			return fail(cmd, "--val-events = %d must be at least 1", n)
		}
		ss, _ := dataset.SplitSeed(ds.Manifest.Seed, "val")
		val = dataset.OnTheFly{Sim: dataset.Simulator{Prior: ds.Manifest.Prior, Seed: ss, Tol: ds.Manifest.Tol}, N: n}
	}
	cfg := train.TrainConfig{
		Out: c.String("out"), Preset: c.String("preset"), BatchSize: batch, LR: c.Float64("lr"),
		Seed: c.Uint64("seed"), Resume: c.Bool("resume"), Overwrite: c.Bool("force"), Workers: c.Int("workers"),
		Log: func(s string) { prog.Printf("%s", s) },
		OnStep: func(s train.StepInfo) {
			prog.Update(s.Step, max(s.Total, s.Step))
		},
		SaveEvery: 200,
	}
	// The device kernels implement batch norm and the mixture base only (cuda.Variant): a
	// model with weight norm or a MADE-MoG base trains on the CPU when the device was chosen
	// automatically, and is refused when it was asked for.
	if mc, _ := event.Preset(cfg.Preset); ch.CUDA {
		if norm != "" {
			mc.Featurizer.Norm = norm
		}
		if base != "" {
			mc.Flow.Base = base
		}
		if v := cuda.Variant(mc); v.Featurizer.Norm != mc.Featurizer.Norm || v.Flow.Base != mc.Flow.Base {
			if c.String("device") == "cuda" {
				return fail(cmd, "--device cuda: the device kernels implement batch norm and the mixture base only; add --norm %s --base %s to train the %s preset on the device, or use --device cpu", nn.NormBatch, nn.BaseMixture, cfg.Preset)
			}
			prog.Printf("training on the cpu: the device kernels do not implement this model's %s norm / %s base (--norm %s --base %s would train on the device)",
				orDefault(mc.Featurizer.Norm, nn.NormBatch), orDefault(mc.Flow.Base, nn.BaseMixture), nn.NormBatch, nn.BaseMixture)
			ch = device.CPU
		}
	}
	if balance > 0 && ch.CUDA {
		if c.String("device") == "cuda" {
			return fail(cmd, "--device cuda: the balancing penalty (--balance) is implemented on the cpu only; use --device cpu")
		}
		prog.Printf("training on the cpu: the device kernels do not implement the balancing penalty (--balance)")
		ch = device.CPU
	}
	cfg.Backend = ch.Trainer()
	cfg.Norm, cfg.Base, cfg.Balance, cfg.Init = norm, base, balance, c.String("init")
	if cfg.Init != "" && cfg.Resume {
		return fail(cmd, "--init starts a run and --resume continues one: give one")
	}
	if minutes > 0 {
		cfg.Duration = time.Duration(minutes * float64(time.Minute))
	} else if c.IsSet("steps") {
		cfg.MaxSteps = c.Int("steps")
	} else {
		cfg.Epochs = epochs
	}
	prog.Printf("preset %s, %d training events (%s), batch %d, lr %g, seed %d, into %s",
		cfg.Preset, ds.Len(), dataDir, cfg.BatchSize, cfg.LR, cfg.Seed, cfg.Out)
	res, err := train.Train(ctx, ds, val, cfg)
	prog.Done()
	if res.Interrupted {
		return ucli.Exit(fmt.Sprintf("%s: interrupted at step %d; state saved in %s: resume with the same flags and --resume", cmd, res.Steps, filepath.Join(cfg.Out, train.LastDir)), exitInterrupted)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return ucli.Exit(cmd+": interrupted", exitInterrupted)
		}
		return fail(cmd, "%v", err)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "train: %d steps (%d epochs), %.4g examples/s\n", res.Steps, res.Epochs, res.ExamplesPS)
	fmt.Fprintf(w, "train: validation NLL %.4f (best %.4f), prior NLL %.4f (standardised θ, nats)\n", res.LastVal, res.BestVal, res.PriorVal)
	fmt.Fprintf(w, "train: in coordinate units (+%.4f): model %.4f, prior %.4f\n", res.LogJacobian, res.BestVal+res.LogJacobian, res.PriorVal+res.LogJacobian)
	fmt.Fprintf(w, "train: model in %s (best: %s, last: %s, log: %s, curve: %s)\n", cfg.Out,
		filepath.Join(cfg.Out, train.BestDir), filepath.Join(cfg.Out, train.LastDir),
		filepath.Join(cfg.Out, train.LogFile), filepath.Join(cfg.Out, train.LossPNGFile))
	return nil
}

// ensureDataset simulates the default-prior dataset of n events into dir unless it is
// complete there already (dataset.WriteDataset skips complete shards).
func ensureDataset(ctx context.Context, prog *progress, dir, split string, n, workers int) error {
	const cmd = "train"
	if d, err := dataset.OpenDataset(dir); err == nil {
		d.Close()
		return nil
	}
	m, err := dataset.NewManifest(event.DefaultPrior(), 1, split, n, dataset.DefaultShards(n), 0, Version)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(cmd, "%v", err)
	}
	prog.Printf("simulating %d %s events into %s", n, split, dir)
	_, err = dataset.WriteDataset(ctx, dir, m, dataset.WriteOptions{Workers: workers,
		Progress: func(done, total int) { prog.Update(done, total) }, Notice: func(s string) { prog.Printf("%s", s) }})
	prog.Done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return ucli.Exit(cmd+": interrupted while simulating the default dataset; run again to resume", exitInterrupted)
		}
		return fail(cmd, "simulating %s: %v", dir, err)
	}
	return nil
}

// btoi is 1 for true, 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

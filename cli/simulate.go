package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/internal/figure"
	"github.com/mlcu/mlcu/internal/rng"
)

// exitInterrupted is the exit status of a command stopped by SIGINT or SIGTERM (128 + SIGINT).
const exitInterrupted = 130

// maxShow bounds --show.
const maxShow = 1000

var simulateCommand = &ucli.Command{
	Name:      "simulate",
	Usage:     "simulate a training dataset of binary-lens events (noise-free curves and parameters as .npy)",
	ArgsUsage: " ",
	Description: `Draws --n events from the prior (--prior FILE, or the default prior: see the README)
and writes, into the directory --out, their noise-free magnification curves and parameters as
NumPy .npy files in shards, with a manifest.json that describes the dataset:

   manifest.json                     format, mlcu version, prior, seed, split, counts, cadence
   shard-00000-of-00016.curves.npy   (N_i, 14400) float32: A at t0 + (j - 7200)*0.01 d
   shard-00000-of-00016.params.npy   (N_i, 8) float64: s, q, alpha, u0, t0, tE, rho, fs

Each curve covers 144 days at 0.01-day cadence centred on its event, so that training can
cut a 72-day window placing the event at any t0 in [0, 72] d; noise is added at training
time. Shard i of K holds events [i*N/K, (i+1)*N/K); event i is drawn from its own random
stream (seed, split, i), so a shard written alone (--shard i/K, shards numbered from 0) holds
exactly the bytes a single run writes for it, and the output does not depend on --workers.
--split train|val|test derives the streams from the seed so that the splits never share
events.

Re-running the same command skips complete shards and writes the missing ones; a file that
is present but truncated or damaged is an error (delete it to have its shard rewritten). A
directory holding another dataset (other seed, split, prior, --n or shards) is refused.
Ctrl-C stops cleanly: the shard in progress leaves no file, and the exit status is 130.

--device cuda computes the curves on the GPU in batches of up to 64 events (point source,
quadrupole, the choice of method and the contour integrals near caustics on the device; the
--workers goroutines integrate on the CPU the few contours the device cannot certify). The
values agree with the CPU's within the tolerance (a stored float32 value differs by one
step in a few per 10,000; see the README), so shards computed on the CPU and on a GPU may be
mixed in one dataset. --device auto takes the GPU when this mlcu was built with CUDA and one
is present.

With --show K, writes K PNG figures to --out instead: simulated events (or the first K of
the dataset --data DIR) cropped to a random 72-day window with noise at a random SNR, as the
network sees them, beside the caustics and the source path.

Examples:
   mlcu simulate --n 100000 --seed 1 --out data/train
   mlcu simulate --n 1000000 --seed 1 --out data/train --shard $SLURM_ARRAY_TASK_ID/100
   mlcu simulate --n 10000 --seed 1 --split val --out data/val
   mlcu simulate --show 8 --out figs --data data/train`,
	Flags: []ucli.Flag{
		&ucli.IntFlag{Name: "n", Usage: "number `N` of events in the dataset", DefaultText: "required unless --show", EnvVars: []string{"MLCU_SIMULATE_N"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "random `SEED` of the dataset", Value: 1, EnvVars: []string{"MLCU_SIMULATE_SEED"}},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `DIR` (created if needed) (required)", Required: true, TakesFile: true, EnvVars: []string{"MLCU_SIMULATE_OUT"}},
		&ucli.StringFlag{Name: "split", Usage: "dataset split `NAME`: train, val or test", Value: "train", EnvVars: []string{"MLCU_SIMULATE_SPLIT"}},
		&ucli.StringFlag{Name: "shard", Usage: "write only shard `i/K` (0 <= i < K) of K shards", EnvVars: []string{"MLCU_SIMULATE_SHARD"}},
		&ucli.IntFlag{Name: "shards", Usage: "number `K` of shards", DefaultText: "ceil(N/10000)", EnvVars: []string{"MLCU_SIMULATE_SHARDS"}},
		&ucli.StringFlag{Name: "prior", Usage: "prior `FILE` (JSON; see the README)", DefaultText: "the default prior", TakesFile: true, EnvVars: []string{"MLCU_PRIOR"}},
		tolFlag(),
		workersFlag(),
		deviceFlag(),
		&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar or log lines", EnvVars: []string{"MLCU_QUIET"}},
		&ucli.IntFlag{Name: "show", Usage: "instead of a dataset, write `K` figures of noisy training examples", DefaultText: "off", EnvVars: []string{"MLCU_SIMULATE_SHOW"}},
		&ucli.StringFlag{Name: "data", Usage: "with --show: take the events from the dataset in `DIR`", TakesFile: true, EnvVars: []string{"MLCU_SIMULATE_DATA"}},
	},
	Action: runSimulate,
}

func runSimulate(c *ucli.Context) error {
	const cmd = "simulate"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	if c.IsSet("show") {
		return runShow(c, cmd)
	}
	if c.IsSet("data") {
		return fail(cmd, "--data is only used with --show")
	}
	if !c.IsSet("n") {
		return fail(cmd, "--n is required (the number of events), or --show K")
	}
	n, tol, workers := c.Int("n"), c.Float64("tol"), c.Int("workers")
	if n < 1 {
		return fail(cmd, "--n = %d must be at least 1", n)
	}
	if err := checkTol(cmd, tol); err != nil {
		return err
	}
	if err := checkWorkers(cmd, workers); err != nil {
		return err
	}
	prior, err := loadPrior(cmd, c.String("prior"))
	if err != nil {
		return err
	}
	k := c.Int("shards")
	if c.IsSet("shards") && k < 1 {
		return fail(cmd, "--shards = %d must be at least 1", k)
	}
	var only []int
	if spec := c.String("shard"); spec != "" {
		i, sk, err := dataset.ParseShard(spec)
		if err != nil {
			return fail(cmd, "--shard: %v", err)
		}
		if c.IsSet("shards") && k != sk {
			return fail(cmd, "--shard %s says %d shards, --shards %d", spec, sk, k)
		}
		k, only = sk, []int{i}
	}
	if _, err := dataset.SplitSeed(0, c.String("split")); err != nil {
		return fail(cmd, "--split: %v", err)
	}
	m, err := dataset.NewManifest(prior, c.Uint64("seed"), c.String("split"), n, k, tol, Version)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	ch, err := resolveDevice(c, cmd)
	if err != nil {
		return err
	}
	curves, free, err := ch.Curves(deviceBatch((n+m.Shards-1)/m.Shards, workers))
	if err != nil {
		return fail(cmd, "%v", err)
	}
	defer free()
	dir := c.String("out")
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newProgress(c.App.ErrWriter, cmd, "events", c.Bool("quiet"))
	prog.Printf("device %s", ch.Reason)
	which := fmt.Sprintf("all %d shards", m.Shards)
	if only != nil {
		lo, hi := m.ShardRange(only[0])
		which = fmt.Sprintf("shard %d/%d (events %d to %d)", only[0], m.Shards, lo, hi-1)
	}
	started := false
	update := func(done, total int) {
		if !started { // the directory passed its checks: say what is being done
			started = true
			prog.Printf("%d events (seed %d, split %s), %s, %d workers, into %s", n, m.Seed, m.Split, which, workers, dir)
		}
		prog.Update(done, total)
	}
	start := time.Now()
	rep, err := dataset.WriteDataset(ctx, dir, m, dataset.WriteOptions{
		Workers: workers, Shards: only, Progress: update, Notice: func(s string) { prog.Printf("%s", s) },
		Curves: curves,
	})
	prog.Done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return ucli.Exit(fmt.Sprintf("%s: interrupted: %d shard(s) written, the shard in progress left no file; re-run the same command to resume", cmd, len(rep.Written)), exitInterrupted)
		}
		return fail(cmd, "%v", err)
	}
	el := time.Since(start)
	fmt.Fprintf(c.App.Writer, "simulate: %s: %d shard(s) written (%d events, %.1f s", dir, len(rep.Written), rep.Events, el.Seconds())
	if rep.Events > 0 {
		fmt.Fprintf(c.App.Writer, ", %.3g events/s", float64(rep.Events)/el.Seconds())
	}
	fmt.Fprintf(c.App.Writer, "), %d already complete\n", len(rep.Skipped))
	if lc, ok := curves.(*cuda.LightCurver); ok {
		if tot, host := lc.Points(); tot > 0 {
			prog.Printf("%d of %d magnifications (%.2g%%) integrated on the host near caustics", host, tot, 100*float64(host)/float64(tot))
		}
	}
	return nil
}

// simulateBatch is the largest number of events per device call of `mlcu simulate --device
// cuda`: 64 events × 14,400 points is 921,600 device threads per launch (7,200 blocks of
// 128, dozens of waves on an H100's 132 SMs), while one batch holds 3.7 MB of float32 curves
// on the host and 11 MB of float64 values and flags on the device.
const simulateBatch = 64

// deviceBatch returns the number of events per device call for shards of perShard events and
// workers goroutines: simulateBatch, or fewer when a shard holds too few events to give
// every worker a batch (the workers also integrate the host points of their batches). The
// batching does not change the curves (dataset.CurveBackend).
func deviceBatch(perShard, workers int) int {
	return max(1, min(simulateBatch, (perShard+workers-1)/workers))
}

// loadPrior reads --prior, or returns the default prior when path is empty.
func loadPrior(cmd, path string) (event.Prior, error) {
	if path == "" {
		return event.DefaultPrior(), nil
	}
	p, err := event.LoadPrior(path)
	if err != nil {
		return p, fail(cmd, "--prior: %v", err)
	}
	return p, nil
}

// runShow writes --show K figures of noisy examples.
func runShow(c *ucli.Context, cmd string) error {
	k := c.Int("show")
	if k < 1 || k > maxShow {
		return fail(cmd, "--show = %d must be between 1 and %d", k, maxShow)
	}
	for _, f := range []string{"n", "shard", "shards"} {
		if c.IsSet(f) {
			return fail(cmd, "--%s does not go with --show", f)
		}
	}
	if err := checkTol(cmd, c.Float64("tol")); err != nil {
		return err
	}
	var src dataset.Source
	seed := c.Uint64("seed")
	if data := c.String("data"); data != "" {
		if c.IsSet("prior") {
			return fail(cmd, "--prior does not go with --data (the dataset's prior is used)")
		}
		d, err := dataset.OpenDataset(data)
		if err != nil {
			return fail(cmd, "--data: %v", err)
		}
		defer d.Close()
		if k > d.Len() {
			return fail(cmd, "--show = %d: the dataset %s has only %d events", k, data, d.Len())
		}
		src = d
	} else {
		prior, err := loadPrior(cmd, c.String("prior"))
		if err != nil {
			return err
		}
		ss, err := dataset.SplitSeed(seed, c.String("split"))
		if err != nil {
			return fail(cmd, "--split: %v", err)
		}
		ch, err := chooseDevice(c, cmd)
		if err != nil {
			return err
		}
		curves, free, err := ch.Curves(1)
		if err != nil {
			return fail(cmd, "%v", err)
		}
		defer free()
		src = dataset.OnTheFly{Sim: dataset.Simulator{Prior: prior, Seed: ss, Tol: c.Float64("tol"), Curves: curves}, N: k}
	}
	dir := c.String("out")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(cmd, "cannot create --out directory: %v", err)
	}
	noise := event.DefaultNoise()
	ts := event.WindowTimes()
	mag, x := make([]float32, event.WindowPoints), make([]float32, event.WindowPoints)
	flux, model, as := make([]float64, len(ts)), make([]float64, len(ts)), make([]float64, len(ts))
	showSeed := dataset.DeriveSeed(seed, "show")
	for i := range k {
		p, obs, err := dataset.Example(src, noise, i, rng.New(showSeed, uint64(i)), mag, x)
		if err != nil {
			return fail(cmd, "%v", err)
		}
		for j := range ts {
			as[j] = float64(mag[j])
			flux[j] = float64(x[j])
			model[j] = obs.Mean(as[j])
		}
		fig := figure.Observed{
			Event: p.Event(), T: ts, Flux: flux, Model: model, A: as,
			Title: fmt.Sprintf("event %d: s=%.3g q=%.3g α=%.3g u0=%.3g t0=%.2f tE=%.3g ρ=%.2g fs=%.2g, SNR %.0f",
				i, p.S, p.Q, p.Alpha, p.U0, p.T0, p.TE, p.Rho, p.Fs, obs.SNR),
		}
		path := filepath.Join(dir, fmt.Sprintf("event-%05d.png", i))
		if err := writeFile(cmd, path, fig.WritePNG); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.App.Writer, "simulate: wrote %d figures to %s (event-00000.png …)\n", k, dir)
	return nil
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/evaluate"
	"github.com/mlcu/mlcu/infer"
)

var evalCommand = &ucli.Command{
	Name:      "eval",
	Usage:     "measure a trained model's posteriors on a test dataset: coverage, Zhang et al. 2021's table, SBC, TARP",
	ArgsUsage: " ",
	Description: `Loads the model in --model (as 'mlcu sample'; without it the shipped model,
` + ShippedModel + `) and draws --samples posterior samples for each of the first --n events of the dataset --data
(simulated by 'mlcu simulate' from the model's prior, with --split test and a seed never used
in training), each event cropped and with noise as 'mlcu sample --data' does (noise --seed),
and measures the posteriors against the truths, in the model's coordinates (log10 s,
log10 q, alpha [rad], u0, t0 [d], log10 tE [d], log10 rho):

  - the 1-D marginal of each parameter by Gaussian kernel density estimation (Silverman's
    bandwidth, 256 grid points over the prior's range, reflected at bounded ends, wrapped
    for alpha) and its modes: local maxima at least 25% of the highest peak, the highest
    the global mode;
  - Zhang et al. (2021, AJ 161, 262)'s criteria: "constrained" = the peak posterior density
    at least twice the prior's density there; "correct" = among constrained events, the
    true value nearest the global mode;
  - coverage of the central credible intervals at 10%…90%, 68% and 95%;
  - simulation-based calibration ranks (Talts et al. 2018) and their χ² test, and the
    TARP test of the joint posterior (Lemos et al. 2023).

Writes into --out: summary.csv (parameter,constrained,correct,coverage68,coverage95,width68;
width68 = the median width of the 68% interval), coverage.csv (parameter,nominal,empirical),
events.csv (per event and parameter: truth, modes, intervals, rank), report.md, and the
figures recovery.png (predicted vs true, as Zhang et al.'s figure), coverage.png, ranks.png
and tarp.png. Results are written after every batch of 16 events: re-running the same
command resumes; an --out holding an evaluation with other settings is refused (--force
starts over). The dataset's prior must be the model's.

With --as-lc each event goes through the path of 'mlcu sample --lc' instead: its noisy
window written as a light curve in an arbitrary flux unit and time origin and read back by
the light-curve input (interpolation, baseline estimate), so that the measured calibration
is that of a user's light curve.

Example:
   mlcu simulate --n 1000 --split test --seed 2 --out test
   mlcu eval --model mlcu-work/model --data test --out eval`,
	Flags: []ucli.Flag{
		modelFlag(),
		&ucli.StringFlag{Name: "data", Usage: "test dataset `DIR`", TakesFile: true, Required: true, EnvVars: []string{"MLCU_EVAL_DATA"}},
		&ucli.IntFlag{Name: "n", Usage: "evaluate the first `N` events (default: all)", EnvVars: []string{"MLCU_EVAL_N"}},
		&ucli.IntFlag{Name: "samples", Usage: "`K` posterior samples per event", Value: 2000, EnvVars: []string{"MLCU_EVAL_SAMPLES"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the noise and of the posterior draws", Value: 1, EnvVars: []string{"MLCU_EVAL_SEED"}},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `DIR`", Required: true, TakesFile: true, EnvVars: []string{"MLCU_EVAL_OUT"}},
		&ucli.BoolFlag{Name: "as-lc", Usage: "feed each event through the --lc path of 'mlcu sample' (a light curve in another flux unit and time origin) instead of --data's", EnvVars: []string{"MLCU_EVAL_AS_LC"}},
		&ucli.BoolFlag{Name: "force", Usage: "delete another evaluation's files in --out and start over", EnvVars: []string{"MLCU_EVAL_FORCE"}},
		&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress", EnvVars: []string{"MLCU_QUIET"}},
		deviceFlag(),
	},
	Action: runEval,
}

func runEval(c *ucli.Context) error {
	const cmd = "eval"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	model, err := loadModel(c, cmd)
	if err != nil {
		return err
	}
	data := c.String("data")
	ds, err := dataset.OpenDataset(data)
	if err != nil {
		return fail(cmd, "--data: %v", err)
	}
	defer ds.Close()
	if ds.Manifest.Split == "train" {
		fmt.Fprintf(c.App.ErrWriter, "%s: warning: %s is a training split; evaluate on a test split never used in training\n", cmd, data)
	}
	n := c.Int("n")
	if n == 0 {
		n = ds.Len()
	}
	ch, err := chooseDevice(c, cmd)
	if err != nil {
		return err
	}
	smp, err := ch.Sampler(model.Net)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	defer smp.Close()
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newProgress(c.App.ErrWriter, cmd, "events", c.Bool("quiet"))
	out := c.String("out")
	res, err := evaluate.Run(ctx, evaluate.Config{
		Model: model, Sampler: smp, Data: ds, DataDir: data, N: n, Samples: c.Int("samples"),
		Seed: c.Uint64("seed"), Out: out, Force: c.Bool("force"), AsLightCurve: c.Bool("as-lc"), Progress: prog.Update,
	})
	prog.Done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return ucli.Exit(fmt.Sprintf("%s: interrupted: the finished batches are in %s; re-run the same command to resume", cmd, filepath.Join(out, evaluate.EventsFile)), exitInterrupted)
		}
		return fail(cmd, "%v", err)
	}
	h := evaluate.Header{Model: model.Dir, Data: data, Seed: c.Uint64("seed"), Command: "mlcu " + strings.Join(os.Args[1:], " ")}
	if err := res.WriteReport(out, h); err != nil {
		return fail(cmd, "writing the report: %v", err)
	}
	w := c.App.Writer
	if el := res.Elapsed.Seconds(); el > 0 {
		fmt.Fprintf(w, "eval: %d events × %d samples in %.1f s → %s\n", len(res.Events), res.Samples, el, out)
	} else {
		fmt.Fprintf(w, "eval: %d events × %d samples (all resumed) → %s\n", len(res.Events), res.Samples, out)
	}
	fmt.Fprintf(w, "%-6s %11s %8s %11s %11s %8s\n", "param", "constrained", "correct", "coverage68", "coverage95", "width68")
	for _, s := range res.Summaries() {
		fmt.Fprintf(w, "%-6s %11.3f %8.3f %11.3f %11.3f %8.3f\n", s.Parameter, s.Constrained, s.Correct, s.Coverage68, s.Coverage95, s.Width68)
	}
	_, dist, p := res.TARP()
	fmt.Fprintf(w, "TARP: KS distance %.3f (p = %.2g); report → %s\n", dist, p, filepath.Join(out, evaluate.ReportFile))
	return nil
}

// ShippedModel is the model in the repository that sample and eval use without --model
// (trained as models/README.md says), relative to the working directory.
const ShippedModel = "models/small-wn-100k"

// modelFlag is the --model flag of sample and eval.
func modelFlag() ucli.Flag {
	return &ucli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model `DIR` (default: the shipped model, " + ShippedModel + ")", TakesFile: true, EnvVars: []string{"MLCU_MODEL"}}
}

// loadModel loads --model, or the shipped model (saying so) when it is not given.
func loadModel(c *ucli.Context, cmd string) (*infer.Model, error) {
	dir := c.String("model")
	if dir == "" {
		dir = ShippedModel
		if _, err := os.Stat(dir); err != nil {
			return nil, fail(cmd, "no --model given, and the shipped model %s is not here (run from the repository's root, or give --model DIR)", dir)
		}
		if !c.Bool("quiet") {
			fmt.Fprintf(c.App.ErrWriter, "%s: model %s (the shipped model; --model DIR for another)\n", cmd, dir)
		}
	}
	m, err := infer.LoadModel(dir)
	if err != nil {
		return nil, fail(cmd, "--model: %v", err)
	}
	return m, nil
}

package cli

import (
	"fmt"

	"github.com/mlcu/mlcu/bench"
	"github.com/mlcu/mlcu/device"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/train"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/nn"
)

// benchSamplesFlags are the flags of 'mlcu bench samples', also accepted by 'mlcu bench'
// itself (where --samples routes to it).
func benchSamplesFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.IntFlag{Name: "samples", Usage: "`N` posterior samples for one event", Value: 100000, EnvVars: []string{"MLCU_BENCH_SAMPLES"}},
		&ucli.StringFlag{Name: "model", Usage: "model `DIR` (default: the paper preset with random weights)", TakesFile: true, EnvVars: []string{"MLCU_MODEL"}},
		deviceFlag(),
		&ucli.IntFlag{Name: "train-steps", Usage: "`K` timed training steps of the small preset (batch 32)", Value: 3, EnvVars: []string{"MLCU_BENCH_TRAIN_STEPS"}},
		&ucli.BoolFlag{Name: "profile", Usage: "on a GPU, also profile one device training step of each preset per operation"},
	}
}

var benchSamplesCommand = &ucli.Command{
	Name:      "samples",
	Usage:     "time posterior sampling, the featurizer and training steps",
	ArgsUsage: " ",
	Description: `Prints three figures, each as '<number> <unit>':
  samples/s        --samples draws of θ for one event (flow sampler only, after the
                   featurizer), with the paper preset and random weights (batch norm
                   and the mixture base: the variant the device implements), or --model;
                   on --device cuda the fused sampling kernel, copies to the host included
  ms/event         the featurizer's forward pass for one event (evaluation mode; on
                   --device cuda, a one-sample draw: the device featurizer and a launch)
  examples/s       training (forward + backward + Adam) of the small preset, batch 32,
                   on inputs of ones and θ = 0, --train-steps steps after one warm-up step
and then the matrix-product backend behind them, 'blas: gonum' (pure Go, the default
build) or 'blas: openblas' (built with -tags openblas, as 'make build' does where
OpenBLAS is installed). With --device cuda (a real GPU) it also times training steps on
the device: the small and paper presets' device variants (batch norm, mixture base) at
batch 32 and 512 (random weights,
--train-steps steps after a warm-up step; the loss is read back every step, as mlcu train
does). --profile then times one more step of each preset per device operation (every
operation waits for the device, so their sum is somewhat above an unprofiled step) and
prints the table: operation, calls, milliseconds, share.
'mlcu bench --samples N' runs this command.

Example:
   mlcu bench samples --samples 100000`,
	Flags:  benchSamplesFlags(),
	Action: runBenchSamples,
}

func runBenchSamples(c *ucli.Context) error {
	const cmd = "bench samples"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	n := c.Int("samples")
	if n < 1 || n > maxSamples {
		return fail(cmd, "--samples = %d must be between 1 and %d", n, maxSamples)
	}
	ch, err := chooseDevice(c, cmd)
	if err != nil {
		return err
	}
	if c.Bool("profile") && (!ch.CUDA || cuda.Emulated()) {
		fmt.Fprintf(c.App.ErrWriter, "%s: --profile: nothing to profile here (it times device training steps on a GPU, --device cuda)\n", cmd)
	}
	w := c.App.Writer
	var m *nn.Model[float32]
	what := "paper preset (device variant: batch norm, mixture base), random weights"
	if dir := c.String("model"); dir != "" {
		var err error
		lm, err := infer.LoadModel(dir)
		if err != nil {
			return fail(cmd, "--model: %v", err)
		}
		m = lm.Net
		what = dir
	} else {
		mc, _ := event.Preset("paper")
		mc = cuda.Variant(mc) // the mixture base: the flow the device sampler implements, on both backends
		var err error
		if m, err = nn.NewModel[float32](mc); err != nil {
			return fail(cmd, "%v", err)
		}
		m.Init(1)
	}
	mc := m.Config
	device := "cpu"
	if ch.CUDA {
		device = "cuda (" + cuda.BuildName() + ")"
	}
	smp, err := ch.Sampler(m)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	defer smp.Close()
	rate, featMS, err := bench.Sampling(smp, bench.Input(mc.Featurizer.L, 1), n, mc.Flow.D)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	fmt.Fprintf(w, "bench samples: %d samples for one event (%s; device %s)\n", n, what, device)
	fmt.Fprintf(w, "%.4g samples/s\n", rate)
	fmt.Fprintf(w, "%.4g ms/event\n", featMS)

	// Training examples/s, small preset.
	sc, _ := event.Preset("small")
	k := max(1, c.Int("train-steps"))
	eps, err := bench.Training(train.NewCPUBackend, sc, 32, k, nil)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	fmt.Fprintf(w, "%.4g examples/s\n", eps)
	fmt.Fprintf(w, "blas: %s\n", nn.BLASName())
	if ch.CUDA {
		if cuda.Emulated() {
			fmt.Fprintf(w, "training on cuda: skipped (emulation build)\n")
			return nil
		}
		for _, tc := range []struct {
			preset string
			batch  int
		}{{"small", 32}, {"paper", 512}} {
			mc, err := event.Preset(tc.preset)
			if err != nil {
				return fail(cmd, "%v", err)
			}
			eps, ops, err := benchDeviceTraining(ch, cuda.Variant(mc), tc.batch, k, c.Bool("profile"))
			if err != nil {
				return fail(cmd, "training on cuda: %v", err)
			}
			fmt.Fprintf(w, "%.4g examples/s training %s on cuda (batch %d)\n", eps, tc.preset, tc.batch)
			if ops != nil {
				fmt.Fprintf(w, "profile of one training step, %s, batch %d (each operation synchronised):\n", tc.preset, tc.batch)
				cuda.WriteProfile(w, ops, "  ")
			}
		}
	}
	return nil
}

// benchDeviceTraining times k training steps of a model configuration with random weights
// on the device (bench.Training), in examples/s; with profile, one more step is profiled
// per device operation (cuda.StartProfile) and its table returned.
func benchDeviceTraining(ch device.Backend, mc nn.ModelConfig, B, k int, profile bool) (float64, []cuda.OpTime, error) {
	var ops []cuda.OpTime
	var around func(train.Backend, []float32, []float32) error
	if profile {
		around = func(be train.Backend, x, th []float32) error {
			if err := cuda.StartProfile(); err != nil {
				return err
			}
			_, _, err := be.Step(x, th, 5, 1e-4)
			ops = cuda.StopProfile()
			return err
		}
	}
	eps, err := bench.Training(ch.Trainer(), mc, B, k, around)
	return eps, ops, err
}

package cli

import (
	"fmt"
	"runtime"
	"time"

	"github.com/mlcu/mlcu/bench"
	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/device"
	"github.com/mlcu/mlcu/event"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/cuda"
)

var benchSimulateCommand = &ucli.Command{
	Name:      "simulate",
	Usage:     "time the simulation of training events on one core, or on the GPU",
	ArgsUsage: " ",
	Description: `Simulates --events events of the default training prior (event.DefaultPrior,
with log10 q ~ U(-3, 0)), each a 14,400-point (144-day) finite-source curve as
'mlcu simulate' stores it, one after the other on one goroutine with relative accuracy goal
--tol, and prints events per second per core and the time 'mlcu simulate' would need for
100,000 events on all of this machine's cores at that rate (events are independent, so the
work divides evenly among the workers). The events are those of 'mlcu simulate --seed SEED'.

With --device cuda, the events go to the GPU in batches of 64, as 'mlcu simulate --device
cuda' sends them (contours near caustics integrated on the device), with all of this
machine's cores integrating the contours the device cannot certify, and it prints events per second for the whole machine (GPU and cores), the share of
magnifications the host integrated, and the time for 100,000 events. --device auto and cpu
time the CPU as above.

Examples:
   mlcu bench simulate --events 20
   mlcu bench simulate --events 2000 --device cuda`,
	Flags: []ucli.Flag{
		&ucli.IntFlag{Name: "events", Aliases: []string{"n"}, Usage: "number `N` of events", Value: 20, EnvVars: []string{"MLCU_BENCH_EVENTS"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the events (train split)", Value: 1, EnvVars: []string{"MLCU_BENCH_SEED"}},
		tolFlag(),
		deviceFlag(),
	},
	Action: runBenchSimulate,
}

func runBenchSimulate(c *ucli.Context) error {
	const cmd = "bench simulate"
	n, tol, err := benchEventArgs(c, cmd)
	if err != nil {
		return err
	}
	ss, err := dataset.SplitSeed(c.Uint64("seed"), "train")
	if err != nil {
		return fail(cmd, "%v", err)
	}
	sim := dataset.Simulator{Prior: event.DefaultPrior(), Seed: ss, Tol: tol}
	ch, err := chooseDevice(c, cmd)
	if err != nil {
		return err
	}
	if ch.CUDA {
		return benchSimulateDevice(c, ch, sim, n)
	}
	curve := make([]float32, event.StoredPoints)
	start := time.Now()
	for i := range n {
		if _, err := sim.Event(i, curve); err != nil {
			return fail(cmd, "%v", err)
		}
	}
	el := time.Since(start)
	rate := float64(n) / el.Seconds()
	ncpu := runtime.NumCPU()
	w := c.App.Writer
	fmt.Fprintf(w, "bench simulate: %d events (seed %d) × %d points (144 d), tol %g, one goroutine: %.3f s\n",
		n, c.Uint64("seed"), event.StoredPoints, tol, el.Seconds())
	fmt.Fprintf(w, "%.4g events/s/core\n", rate)
	fmt.Fprintf(w, "%.3g minutes for 100000 events on %d cores\n", 100000/(rate*float64(ncpu))/60, ncpu)
	return nil
}

// benchSimulateDevice times n events of sim on the device: batches of simulateBatch events
// on runtime.NumCPU() goroutines, as 'mlcu simulate --device cuda' runs them.
func benchSimulateDevice(c *ucli.Context, ch device.Backend, sim dataset.Simulator, n int) error {
	const cmd = "bench simulate"
	workers := runtime.NumCPU()
	bs := deviceBatch(n, workers)
	curves, free, err := ch.Curves(bs)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	defer free()
	lc := curves.(*cuda.LightCurver)
	sim.Curves = lc
	el, err := bench.Simulation(sim, n, bs, workers)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	rate := float64(n) / el.Seconds()
	tot, host := lc.Points()
	w := c.App.Writer
	fmt.Fprintf(w, "bench simulate: %d events (seed %d) × %d points (144 d), tol %g, device cuda, batches of %d, %d host goroutines: %.3f s\n",
		n, c.Uint64("seed"), event.StoredPoints, sim.Tol, bs, workers, el.Seconds())
	fmt.Fprintf(w, "%.4g events/s (GPU and %d cores)\n", rate, workers)
	fmt.Fprintf(w, "%.3g%% of the magnifications integrated on the host (near caustics)\n", 100*float64(host)/float64(max(tot, 1)))
	fmt.Fprintf(w, "%.3g minutes for 100000 events\n", 100000/rate/60)
	return nil
}

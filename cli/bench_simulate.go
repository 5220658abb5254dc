package cli

import (
	"fmt"
	"runtime"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/train"
)

var benchSimulateCommand = &ucli.Command{
	Name:      "simulate",
	Usage:     "time the simulation of training events on one core",
	ArgsUsage: " ",
	Description: `Simulates --events events of the default training prior (train.DefaultPrior: the
issue's prior with log10 q ~ U(-3, 0)), each a 14,400-point (144-day) finite-source curve as
'mlcu simulate' stores it, one after the other on one goroutine with relative accuracy goal
--tol, and prints events per second per core and the time 'mlcu simulate' would need for
100,000 events on all of this machine's cores at that rate (events are independent, so the
work divides evenly among the workers). The events are those of 'mlcu simulate --seed SEED'.

Example:
   mlcu bench simulate --events 20`,
	Flags: []ucli.Flag{
		&ucli.IntFlag{Name: "events", Aliases: []string{"n"}, Usage: "number `N` of events", Value: 20, EnvVars: []string{"MLCU_BENCH_EVENTS"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the events (train split)", Value: 1, EnvVars: []string{"MLCU_BENCH_SEED"}},
		tolFlag(),
	},
	Action: runBenchSimulate,
}

func runBenchSimulate(c *ucli.Context) error {
	const cmd = "bench simulate"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	n, tol := c.Int("events"), c.Float64("tol")
	if n < 1 || n > maxBenchEvents {
		return fail(cmd, "--events = %d must be between 1 and %d", n, maxBenchEvents)
	}
	if err := checkTol(cmd, tol); err != nil {
		return err
	}
	ss, err := train.SplitSeed(c.Uint64("seed"), "train")
	if err != nil {
		return fail(cmd, "%v", err)
	}
	sim := train.Simulator{Prior: train.DefaultPrior(), Seed: ss, Tol: tol}
	curve := make([]float32, train.StoredPoints)
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
		n, c.Uint64("seed"), train.StoredPoints, tol, el.Seconds())
	fmt.Fprintf(w, "%.4g events/s/core\n", rate)
	fmt.Fprintf(w, "%.3g minutes for 100000 events on %d cores\n", 100000/(rate*float64(ncpu))/60, ncpu)
	return nil
}

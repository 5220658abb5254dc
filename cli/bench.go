package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/bench"
	"github.com/mlcu/mlcu/nn"
)

var benchCommand = &ucli.Command{
	Name:      "bench",
	Usage:     "benchmarks",
	ArgsUsage: "COMMAND",
	Description: `Benchmarks of mlcu's computations. Figures are throughputs on one core; compare codes
with the peer scripts in bench/ (make peer), which time a peer on the same events.`,
	Subcommands: []*ucli.Command{benchLensCommand, benchSimulateCommand, benchSamplesCommand},
	// 'mlcu bench --samples N [--model DIR] [--device cpu]' runs 'bench samples'.
	Flags: benchSamplesFlags(),
	Action: func(c *ucli.Context) error {
		if !c.IsSet("samples") && c.NArg() == 0 {
			return ucli.ShowSubcommandHelp(c)
		}
		return runBenchSamples(c)
	},
}

var benchLensCommand = &ucli.Command{
	Name:      "lens",
	Usage:     "time finite-source light curves of prior events on one core",
	ArgsUsage: " ",
	Description: `Draws --events events from the benchmark prior with a fixed --seed (see package bench:
log10 s ~ U(log10 0.2, log10 5), log10 q ~ U(-6,0), alpha ~ U(0,2pi), u0 ~ U(0,2),
t0 ~ U(0,72), log10 tE ~ N(1.15,0.45) clipped to [0,2], log10 rho ~ U(-4,-2)) and computes
their 7,200-point light curves (t = 0, 0.01, ..., 71.99 days) one after the other on one
goroutine, with relative accuracy goal --tol. Prints light curves per second per core, the
mean time per point and the build's matrix-product backend ('blas: gonum' or 'blas:
openblas', see 'mlcu version'; the lens code itself uses no BLAS).

--save-events writes the events as CSV (s,q,alpha,u0,t0,tE,rho, 17 significant digits) and
--dump writes every magnification as CSV (id,t,A), so that bench/peer.sh can time a peer
code on the same events and compare the magnifications.

Example:
   mlcu bench lens --events 20 --tol 1e-4`,
	Flags: []ucli.Flag{
		&ucli.IntFlag{Name: "events", Aliases: []string{"n"}, Usage: "number `N` of events", Value: 20, EnvVars: []string{"MLCU_BENCH_EVENTS"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the event set", Value: bench.DefaultSeed, EnvVars: []string{"MLCU_BENCH_SEED"}},
		tolFlag(),
		&ucli.StringFlag{Name: "save-events", Usage: "write the events to CSV `FILE`", TakesFile: true, EnvVars: []string{"MLCU_BENCH_SAVE_EVENTS"}},
		&ucli.StringFlag{Name: "dump", Usage: "write all magnifications to CSV `FILE` (id,t,A)", TakesFile: true, EnvVars: []string{"MLCU_BENCH_DUMP"}},
	},
	Action: runBenchLens,
}

// maxBenchEvents bounds --events.
const maxBenchEvents = 1_000_000

// benchEventArgs checks the arguments the lens and simulate benchmarks share: no
// positional arguments, --events in [1, maxBenchEvents] and --tol.
func benchEventArgs(c *ucli.Context, cmd string) (n int, tol float64, err error) {
	if err := noArgs(c, cmd); err != nil {
		return 0, 0, err
	}
	n, tol = c.Int("events"), c.Float64("tol")
	if n < 1 || n > maxBenchEvents {
		return 0, 0, fail(cmd, "--events = %d must be between 1 and %d", n, maxBenchEvents)
	}
	if err := checkTol(cmd, tol); err != nil {
		return 0, 0, err
	}
	return n, tol, nil
}

func runBenchLens(c *ucli.Context) error {
	const cmd = "bench lens"
	n, tol, err := benchEventArgs(c, cmd)
	if err != nil {
		return err
	}
	evs := bench.Events(n, c.Uint64("seed"))
	if p := c.String("save-events"); p != "" {
		if err := writeFile(cmd, p, func(w io.Writer) error { return bench.WriteEvents(w, evs) }); err != nil {
			return err
		}
	}
	ts := bench.Times()
	var mags []float64
	dump := c.String("dump")
	if dump != "" {
		mags = make([]float64, len(evs)*len(ts))
	}
	r := bench.LightCurves(evs, ts, tol, mags)
	w := c.App.Writer
	fmt.Fprintf(w, "bench lens: %d events (seed %d) × %d points, tol %g, one goroutine: %.3f s\n",
		n, c.Uint64("seed"), len(ts), tol, r.Elapsed.Seconds())
	fmt.Fprintf(w, "%.4g lightcurves/s/core\n", r.CurvesPerSecond())
	fmt.Fprintf(w, "%.4g µs/point\n", float64(r.PerPoint().Nanoseconds())/1e3)
	fmt.Fprintf(w, "blas: %s\n", nn.BLASName())
	if dump != "" {
		return writeFile(cmd, dump, func(w io.Writer) error {
			cw := csv.NewWriter(w)
			cw.Write([]string{"id", "t", "A"})
			for i := range evs {
				for k, t := range ts {
					cw.Write([]string{strconv.Itoa(i), formatFloat(t), formatFloat(mags[i*len(ts)+k])})
				}
			}
			cw.Flush()
			return cw.Error()
		})
	}
	return nil
}

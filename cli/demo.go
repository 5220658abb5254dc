package cli

import (
	"fmt"
	"os"
	"path/filepath"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/internal/figure"
	"github.com/mlcu/mlcu/lens"
)

// DemoEvent is the event of `mlcu demo`: a planetary-mass-ratio binary near the resonant
// separation (one six-cusp caustic), crossed by the source, which enters and leaves the
// caustic within the 72-day window (TestDemoEventCrossesCaustic checks it).
var DemoEvent = lens.Event{S: 1.1, Q: 0.1, Alpha: 2.7, U0: 0.1, T0: 36, TE: 20, Rho: 1e-3}

var demoCommand = &ucli.Command{
	Name:      "demo",
	Usage:     "compute and plot a caustic-crossing light curve",
	ArgsUsage: " ",
	Description: fmt.Sprintf(`Computes the light curve of a fixed caustic-crossing event at Roman's 15-minute cadence
(t = 0, 0.01, ..., 71.99 days) and writes lc.csv (columns t,A) and lc.png (A(t) beside the
caustics and the source path) into --out. The event:
   s = %g, q = %g, alpha = %g rad, u0 = %g, t0 = %g d, tE = %g d, rho = %g
(conventions as in 'mlcu lightcurve --help').

Example:
   mlcu demo --out mlcu-demo`, DemoEvent.S, DemoEvent.Q, DemoEvent.Alpha, DemoEvent.U0, DemoEvent.T0, DemoEvent.TE, DemoEvent.Rho),
	Flags: []ucli.Flag{
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `DIR` (created if needed)", Value: "mlcu-demo", TakesFile: true, EnvVars: []string{"MLCU_DEMO_OUT"}},
		tolFlag(),
		workersFlag(),
	},
	Action: runDemo,
}

func runDemo(c *ucli.Context) error {
	const cmd = "demo"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	dir, tol, workers := c.String("out"), c.Float64("tol"), c.Int("workers")
	if err := checkTol(cmd, tol); err != nil {
		return err
	}
	if err := checkWorkers(cmd, workers); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(cmd, "cannot create --out directory: %v", err)
	}
	e := DemoEvent
	ts := lens.RomanTimes(0, 72, lens.RomanCadence)
	as, err := lens.ParallelLightCurve(e, ts, tol, workers)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	csvPath, pngPath := filepath.Join(dir, "lc.csv"), filepath.Join(dir, "lc.png")
	if err := writeLightCurve(cmd, csvPath, ts, as); err != nil {
		return err
	}
	fig := figure.LightCurve{Event: e, T: ts, A: as,
		Title: fmt.Sprintf("mlcu demo: s=%g q=%g α=%g u0=%g t0=%g tE=%g ρ=%g", e.S, e.Q, e.Alpha, e.U0, e.T0, e.TE, e.Rho)}
	if err := writeFile(cmd, pngPath, fig.WritePNG); err != nil {
		return err
	}
	pk := peakIndex(as)
	fmt.Fprintf(c.App.Writer, "event: s=%g q=%g alpha=%g u0=%g t0=%g tE=%g rho=%g\n", e.S, e.Q, e.Alpha, e.U0, e.T0, e.TE, e.Rho)
	fmt.Fprintf(c.App.Writer, "%d points, %d caustic crossings (point-source image count changes), peak A = %.6g at t = %g\n",
		len(ts), lens.CausticCrossings(e, ts), as[pk], ts[pk])
	fmt.Fprintf(c.App.Writer, "wrote %s\nwrote %s\n", csvPath, pngPath)
	return nil
}

package cli

import (
	"encoding/csv"
	"io"
	"math"
	"strconv"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/internal/figure"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

var lightcurveCommand = &ucli.Command{
	Name:      "lightcurve",
	Usage:     "compute the light curve A(t) of a binary-lens event and optionally plot it",
	ArgsUsage: " ",
	Description: `Computes the magnification of a uniform finite source (radius --rho; 0 for a point
source) on a straight trajectory at times --tmin, --tmin+--dt, ... below --tmax, and writes
a CSV file with columns t,A. With --plot it also draws A(t) beside a panel of the caustics
with the source trajectory and the source disk to scale.

With --snr X it writes simulated photometry instead, in the noise model of the training
data (event.Observation, no blending): baseline flux F0 = X² counts, flux F = F0·A(t) plus
Gaussian noise of σ = √(F0·A) counts drawn with --seed; columns t,flux,flux_err, a file
'mlcu sample --lc' reads.

Trajectory (VBBinaryLensing's convention; alpha in radians, t0 and tE in days):
   tau = (t - t0)/tE,  y1 = u0 sin(alpha) - tau cos(alpha),  y2 = -u0 cos(alpha) - tau sin(alpha)
in Einstein radii of the total mass, origin at the centre of mass, the heavier lens (q <= 1)
at y1 = -s q/(1+q). MulensModel 3 uses the same geometry with alpha in degrees.

Example:
   mlcu lightcurve --s 1.1 --q 0.1 --alpha 2.7 --u0 0.1 --t0 36 --tE 20 --rho 1e-3 \
       --out lc.csv --plot lc.png
   mlcu lightcurve --s 1.1 --q 0.1 --alpha 2.7 --u0 0.1 --t0 36 --tE 20 --rho 1e-3 \
       --snr 100 --seed 1 --out photometry.csv`,
	Flags: append(eventFlags(),
		&ucli.Float64Flag{Name: "tmin", Usage: "first time `T` (days)", Value: 0, EnvVars: []string{"MLCU_TMIN"}},
		&ucli.Float64Flag{Name: "tmax", Usage: "end `T` of the time range (days, exclusive)", Value: 72, EnvVars: []string{"MLCU_TMAX"}},
		&ucli.Float64Flag{Name: "dt", Usage: "time step `DT` (days)", Value: lens.RomanCadence, EnvVars: []string{"MLCU_DT"}},
		tolFlag(),
		workersFlag(),
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output CSV `FILE` (columns t,A) (required)", Required: true, TakesFile: true, EnvVars: []string{"MLCU_LIGHTCURVE_OUT"}},
		&ucli.StringFlag{Name: "plot", Usage: "also draw the light curve and caustics to PNG `FILE`", TakesFile: true, EnvVars: []string{"MLCU_LIGHTCURVE_PLOT"}},
		&ucli.Float64Flag{Name: "snr", Usage: "write simulated photometry t,flux,flux_err with baseline signal-to-noise `X` (baseline flux X² counts)", EnvVars: []string{"MLCU_LIGHTCURVE_SNR"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the noise with --snr", Value: 1, EnvVars: []string{"MLCU_LIGHTCURVE_SEED"}},
	),
	Action: runLightcurve,
}

// eventFlags returns the flags of the seven event parameters, all required.
func eventFlags() []ucli.Flag {
	return []ucli.Flag{
		&ucli.Float64Flag{Name: "s", Usage: "lens separation `S` (Einstein radii of the total mass)", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_S"}},
		&ucli.Float64Flag{Name: "q", Usage: "mass ratio `Q` = m2/m1", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_Q"}},
		&ucli.Float64Flag{Name: "alpha", Usage: "trajectory angle `RAD` (radians)", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_ALPHA"}},
		&ucli.Float64Flag{Name: "u0", Usage: "impact parameter `U0` from the centre of mass (signed)", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_U0"}},
		&ucli.Float64Flag{Name: "t0", Usage: "time `T0` of closest approach to the centre of mass (days)", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_T0"}},
		&ucli.Float64Flag{Name: "tE", Aliases: []string{"te"}, Usage: "Einstein time `TE` (days)", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_TE"}},
		&ucli.Float64Flag{Name: "rho", Usage: "source radius `RHO` (Einstein radii; 0 for a point source)", Required: true, DefaultText: "required", EnvVars: []string{"MLCU_RHO"}},
	}
}

func runLightcurve(c *ucli.Context) error {
	const cmd = "lightcurve"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	e := lens.Event{
		S: c.Float64("s"), Q: c.Float64("q"), Alpha: c.Float64("alpha"), U0: c.Float64("u0"),
		T0: c.Float64("t0"), TE: c.Float64("tE"), Rho: c.Float64("rho"),
	}
	if err := e.Validate(); err != nil {
		return fail(cmd, "bad event flag: %v", err)
	}
	tol, workers := c.Float64("tol"), c.Int("workers")
	if err := checkTol(cmd, tol); err != nil {
		return err
	}
	if err := checkWorkers(cmd, workers); err != nil {
		return err
	}
	ts, err := timeGrid(cmd, c.Float64("tmin"), c.Float64("tmax"), c.Float64("dt"))
	if err != nil {
		return err
	}
	snr := c.Float64("snr")
	if c.IsSet("snr") && (!(snr > 0) || math.IsInf(snr, 0)) {
		return fail(cmd, "--snr = %v must be positive and finite", snr)
	}
	as, err := lens.ParallelLightCurve(e, ts, tol, workers)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	if snr > 0 {
		if err := writePhotometry(cmd, c.String("out"), ts, as, snr, c.Uint64("seed")); err != nil {
			return err
		}
	} else if err := writeLightCurve(cmd, c.String("out"), ts, as); err != nil {
		return err
	}
	if p := c.String("plot"); p != "" {
		fig := figure.LightCurve{Event: e, T: ts, A: as}
		if err := writeFile(cmd, p, fig.WritePNG); err != nil {
			return err
		}
	}
	return nil
}

// maxTimes bounds the number of light-curve points a command computes.
const maxTimes = 100_000_000

// timeGrid validates --tmin, --tmax and --dt and returns the times.
func timeGrid(cmd string, tmin, tmax, dt float64) ([]float64, error) {
	for _, f := range []struct {
		name string
		v    float64
	}{{"tmin", tmin}, {"tmax", tmax}, {"dt", dt}} {
		if err := checkFinite(cmd, f.name, f.v); err != nil {
			return nil, err
		}
	}
	if !(dt > 0) {
		return nil, fail(cmd, "--dt = %v must be positive", dt)
	}
	if !(tmax > tmin) {
		return nil, fail(cmd, "--tmax = %v must be greater than --tmin = %v", tmax, tmin)
	}
	if n := (tmax - tmin) / dt; n > maxTimes {
		return nil, fail(cmd, "--tmin, --tmax and --dt give %.3g times, more than %d", n, maxTimes)
	}
	ts := lens.RomanTimes(tmin, tmax, dt)
	if len(ts) < 2 {
		return nil, fail(cmd, "--tmin = %v, --tmax = %v, --dt = %v give %d time(s); need at least 2", tmin, tmax, dt, len(ts))
	}
	return ts, nil
}

// writeLightCurve writes the CSV file t,A.
func writeLightCurve(cmd, path string, ts, as []float64) error {
	return writeFile(cmd, path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"t", "A"})
		for i, t := range ts {
			cw.Write([]string{formatFloat(t), formatFloat(as[i])})
		}
		cw.Flush()
		return cw.Error()
	})
}

// writePhotometry writes the CSV file t,flux,flux_err of simulated photometry of the
// magnifications as at baseline signal-to-noise snr (event.Observation with fs = 1; fluxes
// in counts, F0 = snr²), the noise drawn from rng.New(seed, 0) by event.AddNoise.
func writePhotometry(cmd, path string, ts, as []float64, snr float64, seed uint64) error {
	o := event.Observation{SNR: snr, Fs: 1}
	mags := make([]float32, len(as))
	for i, a := range as {
		mags[i] = float32(a)
	}
	x := make([]float32, len(as))
	event.AddNoise(x, mags, o, rng.New(seed, 0))
	f0 := snr * snr
	return writeFile(cmd, path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"t", "flux", "flux_err"})
		for i, t := range ts {
			// The noisy flux is float32 (AddNoise): 7 significant digits hold all of it.
			cw.Write([]string{formatFloat(t), strconv.FormatFloat(f0*float64(x[i]), 'g', 7, 64), strconv.FormatFloat(f0*o.SD(as[i]), 'g', 7, 64)})
		}
		cw.Flush()
		return cw.Error()
	})
}

// peakIndex returns the index of the largest finite value of a.
func peakIndex(a []float64) int {
	best := 0
	for i, v := range a {
		if !math.IsNaN(v) && v > a[best] {
			best = i
		}
	}
	return best
}

package cli

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/internal/figure"
	"github.com/mlcu/mlcu/internal/npy"
)

var sampleCommand = &ucli.Command{
	Name:      "sample",
	Usage:     "draw posterior samples of θ for one light curve from a trained model",
	ArgsUsage: " ",
	Description: `Loads the model in --model (a directory written by 'mlcu train': best/ is used, else
last/; or a checkpoint directory; without --model the shipped model, ` + ShippedModel + `,
relative to the working directory: the repository's root) and draws --n samples of θ = (s, q, alpha, u0, t0, tE,
rho) from p(θ | light curve), written in physical units as an (N, 7) float64 .npy (and CSV
with --csv; columns s,q,alpha,u0,t0,tE,rho, plus fs when the prior has blending). It
prints the median and the 68% interval (16th–84th percentiles) of each parameter.

The light curve (--lc FILE): CSV or whitespace-separated text, three columns time [d],
flux (any linear unit), flux error; '#' starts a comment; a first line that is not numeric
is a header. Times must be increasing, values finite, errors positive. FILE,mag reads the
values as magnitudes (flux = 10^(-0.4 (m - 22)), MulensModel's zero point; errors
propagated); a flux file whose values all look like magnitudes (within [5, 30], errors
below 0.5 and 5%) is refused unless given as FILE,flux.
How it is made into the model's input, exactly:
  1. The window is [t_first, t_first + 71.99] d, the 7200-point grid t_j = t_first + 0.01 j.
     The data must cover it (t_last >= t_first + 71.99) and hold at least 100 points in it;
     points after it are ignored.
  2. The flux is linearly interpolated onto the grid (observations are used as given; a
     sparser cadence than 0.01 d smooths the noise the model was trained with).
  3. The flux is divided by its baseline, estimated as the median of the faintest 20% of
     the points in the window (event.Normalise); the network sees the binned logarithm of
     the grid's flux over the same estimate of its own baseline (event.NetworkInput), as in
     training and for --data: the one normalisation of every input.
  4. The samples' t0 is returned in the file's time: t_first + t0(window).
With --plot FILE it also draws a corner plot of the samples (PNG; SVG when FILE ends in
.svg): a histogram of each free parameter on the diagonal with its median and 68% interval,
2-D histograms of the pairs below it, and the truth in red when known. The axes are the
physical parameters, with s, q, tE and rho as log10 (the coordinates the model's
distribution is built on): log10 s, log10 q, alpha [rad], u0 [θE], t0 [d], log10 tE [d],
log10 rho [θE] (and fs with blending). It plots the first 1,000,000 samples at most.
With --truth S,Q,ALPHA,U0,T0,TE,RHO (t0 in the file's time) the truth of a simulated --lc
curve is printed beside the intervals and drawn on the corner plot.
With --lcplot FILE (--lc only) it draws the posterior-predictive figure (PNG): the data with
the model light curves of the first --draws samples at the data's times (finite source,
--tol), the source and blend flux of each solved by weighted least squares against the
data, the best of them (lowest χ²) opaque, and its source plane; the best draw's χ² and
fluxes are printed.

Or --data DIR --index I: event I of a dataset, cropped to the 72-day window whose start
lies the event's drawn t0 before its closest approach (event.CropOffset; t0 quantised to
0.01 d), with noise from the default SNR distribution at --seed; the truth, with that t0 in
the window's time, is printed beside the intervals.

Example:
   mlcu sample --model mlcu-work/model --data mlcu-work/data/val --index 3 --n 10000 --out s.npy`,
	Flags: []ucli.Flag{
		modelFlag(),
		&ucli.StringFlag{Name: "lc", Usage: "light-curve `FILE[,mag]` (time, flux, error; ,mag: magnitudes, zero point 22)", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_LC"}},
		windowFlag("MLCU_SAMPLE"),
		&ucli.StringFlag{Name: "data", Usage: "dataset `DIR` (with --index)", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_DATA"}},
		&ucli.IntFlag{Name: "index", Usage: "event `I` of --data", Value: -1, EnvVars: []string{"MLCU_SAMPLE_INDEX"}},
		&ucli.IntFlag{Name: "n", Usage: "number `N` of samples", Value: 10000, EnvVars: []string{"MLCU_SAMPLE_N"}},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "samples `FILE` (.npy)", Value: "samples.npy", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_OUT"}},
		&ucli.BoolFlag{Name: "csv", Usage: "also write the samples as CSV beside --out (.csv)", EnvVars: []string{"MLCU_SAMPLE_CSV"}},
		&ucli.StringFlag{Name: "plot", Usage: "corner-plot `FILE` (.png, or .svg)", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_PLOT"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the samples (and of the noise with --data)", Value: 1, EnvVars: []string{"MLCU_SAMPLE_SEED"}},
		&ucli.StringFlag{Name: "truth", Usage: "with --lc: the curve's true `S,Q,ALPHA,U0,T0,TE,RHO` (t0 in the file's time), printed and plotted", EnvVars: []string{"MLCU_SAMPLE_TRUTH"}},
		&ucli.StringFlag{Name: "lcplot", Usage: "with --lc: posterior-predictive figure `FILE` (.png): the data with the light curves of --draws samples", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_LCPLOT"}},
		&ucli.IntFlag{Name: "draws", Usage: "`K` posterior draws in --lcplot", Value: 30, EnvVars: []string{"MLCU_SAMPLE_DRAWS"}},
		tolFlag(),
		workersFlag(),
		deviceFlag(),
	},
	Action: runSample,
}

// maxSamples bounds --n.
const maxSamples = 10_000_000

func runSample(c *ucli.Context) error {
	const cmd = "sample"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	n := c.Int("n")
	if n < 1 || n > maxSamples {
		return fail(cmd, "--n = %d must be between 1 and %d", n, maxSamples)
	}
	lc, data := c.String("lc"), c.String("data")
	if (lc == "") == (data == "") {
		return fail(cmd, "give either --lc FILE or --data DIR --index I")
	}
	if lc == "" && (c.IsSet("truth") || c.IsSet("lcplot")) {
		return fail(cmd, "--truth and --lcplot go with --lc (--data events carry their truth)")
	}
	if k := c.Int("draws"); k < 1 || k > 1000 {
		return fail(cmd, "--draws = %d must be between 1 and 1000", k)
	}
	if err := checkTol(cmd, c.Float64("tol")); err != nil {
		return err
	}
	if err := checkWorkers(cmd, c.Int("workers")); err != nil {
		return err
	}
	truth, err := truthFlag(c, cmd)
	if err != nil {
		return err
	}
	start, err := windowStart(c, cmd)
	if err != nil {
		return err
	}
	if start != nil && lc == "" {
		return fail(cmd, "--window needs --lc (a dataset event has its window)")
	}
	model, err := loadModel(c, cmd)
	if err != nil {
		return err
	}
	var x []float32
	var curve infer.LightCurve
	tShift := 0.0
	if lc != "" {
		if curve, lc, err = readLightCurveArg(cmd, lc); err != nil {
			return err
		}
		var win infer.Window
		if x, win, err = infer.ProposalInput(curve, start); err != nil {
			return fail(cmd, "--lc: %s: %v", lc, err)
		}
		tShift = win.Start
		fmt.Fprintf(c.App.ErrWriter, "sample: %s\n", win)
	} else {
		ds, i, err := openDatasetEvent(c, cmd, data)
		if err != nil {
			return err
		}
		defer ds.Close()
		var p event.Params
		x, p, err = infer.DatasetInput(ds, i, c.Uint64("seed"))
		if err != nil {
			return fail(cmd, "%v", err)
		}
		truth = &p
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
	post, err := model.Posterior(smp, x, n, c.Uint64("seed"))
	if err != nil {
		return fail(cmd, "%v", err)
	}
	post.ShiftTime(tShift) // t0 in the file's time
	samples, names, inside, el := post.Values, post.Names, post.Accepted, post.Elapsed
	D := len(names)
	out := c.String("out")
	if err := writeFile(cmd, out, func(w io.Writer) error { return npy.Write(w, samples, n, D) }); err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "sample: %d samples in %.3g s (%.4g samples/s) → %s; %.4g%% of the flow's draws fell inside the prior's support (the rest were rejected)\n",
		n, el.Seconds(), float64(n)/el.Seconds(), out, 100*inside)
	if c.Bool("csv") {
		cp := strings.TrimSuffix(out, ".npy") + ".csv"
		if err := writeFile(cmd, cp, func(w io.Writer) error {
			bw := bufio.NewWriter(w)
			fmt.Fprintln(bw, strings.Join(names, ","))
			for s := range n {
				for j := range D {
					if j > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(strconv.FormatFloat(samples[s*D+j], 'g', 8, 64))
				}
				bw.WriteByte('\n')
			}
			return bw.Flush()
		}); err != nil {
			return err
		}
		fmt.Fprintf(w, "sample: CSV → %s\n", cp)
	}
	if pp := c.String("plot"); pp != "" {
		title := "posterior of " + lc
		if lc == "" {
			title = fmt.Sprintf("posterior of event %d of %s", c.Int("index"), data)
		}
		if err := cornerPlot(samples, names, model.Standardizer, truth, title).WriteFile(pp); err != nil {
			return fail(cmd, "--plot: writing %s: %v", pp, err)
		}
		fmt.Fprintf(w, "sample: corner plot → %s\n", pp)
	}
	if lp := c.String("lcplot"); lp != "" {
		draws, err := infer.Predictive(post, curve, c.Int("draws"), c.Float64("tol"), c.Int("workers"))
		if err != nil {
			return fail(cmd, "--lcplot: %v", err)
		}
		models := make([][]float64, len(draws))
		for k, d := range draws {
			models[k] = d.Model
		}
		b := draws[0]
		fig := figure.Predictive{T: curve.T, Flux: curve.Flux, Err: curve.Err, Models: models, Best: b.Event,
			Label: fmt.Sprintf("best of the draws: χ² = %.1f for %d points", b.Fluxes.Chi2, len(curve.T)),
			Title: "posterior draws over " + lc}
		if err := writeFile(cmd, lp, fig.WritePNG); err != nil {
			return err
		}
		fmt.Fprintf(w, "sample: posterior-predictive figure → %s; best of %d draws: χ² = %.1f for %d points, source flux %.5g, blend flux %.5g\n",
			lp, len(draws), b.Fluxes.Chi2, len(curve.T), b.Fluxes.Source, b.Fluxes.Blend)
	}
	var tv [event.NumParams]float64
	if truth != nil {
		tv = truth.Values()
		fmt.Fprintf(w, "%-6s %12s %12s %12s %12s\n", "param", "median", "16%", "84%", "truth")
	} else {
		fmt.Fprintf(w, "%-6s %12s %12s %12s\n", "param", "median", "16%", "84%")
	}
	for j, m := range post.Summary() {
		if truth != nil {
			fmt.Fprintf(w, "%-6s %12.5g %12.5g %12.5g %12.5g\n", m.Name, m.Median, m.Lo68, m.Hi68, tv[j])
		} else {
			fmt.Fprintf(w, "%-6s %12.5g %12.5g %12.5g\n", m.Name, m.Median, m.Lo68, m.Hi68)
		}
	}
	return nil
}

// maxPlotSamples bounds the samples drawn in the corner plot (the first ones: the draws are
// independent).
const maxPlotSamples = 1_000_000

// cornerLabels are the corner plot's axis labels, by parameter name.
var cornerLabels = map[string]string{
	"s": "log10 s (s in θE)", "q": "log10 q", "alpha": "α (rad)", "u0": "u0 (θE)", "t0": "t0 (d)",
	"tE": "log10 tE (tE in d)", "rho": "log10 ρ (ρ in θE)", "fs": "fs",
}

// cornerLog marks the parameters the corner plot shows as log10: those whose model
// coordinate is log10 (event.Coord), except fs, whose linear value in (0, 1] reads better.
var cornerLog = map[string]bool{"s": true, "q": true, "tE": true, "rho": true}

// cornerPlot returns the corner plot of samples ((n, len(names)) row-major, physical
// units): the parameters the model samples (those st does not fix), log10 where cornerLog
// says, with truth marked when it is not nil.
func cornerPlot(samples []float64, names []string, st event.Standardizer, truth *event.Params, title string) figure.Corner {
	D := len(names)
	n := min(len(samples)/D, maxPlotSamples)
	var cols []int
	var labels []string
	for j, name := range names {
		if _, fixed := st.Fixed[name]; !fixed {
			cols = append(cols, j)
			labels = append(labels, cornerLabels[name])
		}
	}
	tr := func(j int, v float64) float64 {
		if cornerLog[names[j]] {
			return math.Log10(v) // −Inf for ρ = 0 (a point source): left out of the plot
		}
		return v
	}
	flat := make([]float64, n*len(cols))
	rows := make([][]float64, n)
	for s := range rows {
		r := flat[s*len(cols) : (s+1)*len(cols) : (s+1)*len(cols)]
		for k, j := range cols {
			r[k] = tr(j, samples[s*D+j])
		}
		rows[s] = r
	}
	f := figure.Corner{Names: labels, Samples: rows, Title: title}
	if truth != nil {
		tv := truth.Values()
		for _, j := range cols {
			f.Truth = append(f.Truth, tr(j, tv[j]))
		}
	}
	return f
}

// parseTruth parses --truth: seven comma-separated numbers s,q,alpha,u0,t0,tE,rho that make
// a valid event.
func parseTruth(v string) (event.Params, error) {
	f := strings.Split(v, ",")
	if len(f) != 7 {
		return event.Params{}, fmt.Errorf("%q: want 7 comma-separated values s,q,alpha,u0,t0,tE,rho", v)
	}
	var x [7]float64
	for i, s := range f {
		var err error
		if x[i], err = strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
			return event.Params{}, fmt.Errorf("value %d %q is not a number", i+1, s)
		}
	}
	p := event.Params{S: x[0], Q: x[1], Alpha: x[2], U0: x[3], T0: x[4], TE: x[5], Rho: x[6], Fs: 1}
	if err := p.Event().Validate(); err != nil {
		return event.Params{}, err
	}
	return p, nil
}

// readLightCurveArg reads --lc FILE[,flux|,mag] (infer.ParseLightCurveArg,
// infer.ReadLightCurveUnit) and returns the curve and the file's name.
func readLightCurveArg(cmd, arg string) (infer.LightCurve, string, error) {
	file, unit, explicit, err := infer.ParseLightCurveArg(arg)
	if err != nil {
		return infer.LightCurve{}, arg, fail(cmd, "--lc %v", err)
	}
	f, err := os.Open(file)
	if err != nil {
		return infer.LightCurve{}, file, fail(cmd, "--lc: %v", err)
	}
	defer f.Close()
	lc, err := infer.ReadLightCurveUnit(f, file, unit, !explicit)
	if err != nil {
		return lc, file, fail(cmd, "--lc: %v", err)
	}
	return lc, file, nil
}

// truthFlag returns the parsed --truth, or nil when it is not given.
func truthFlag(c *ucli.Context, cmd string) (*event.Params, error) {
	tv := c.String("truth")
	if tv == "" {
		return nil, nil
	}
	p, err := parseTruth(tv)
	if err != nil {
		return nil, fail(cmd, "--truth: %v", err)
	}
	return &p, nil
}

// openDatasetEvent opens --data DIR and checks --index against its events (sample, fit).
func openDatasetEvent(c *ucli.Context, cmd, dir string) (*dataset.Dataset, int, error) {
	ds, err := dataset.OpenDataset(dir)
	if err != nil {
		return nil, 0, fail(cmd, "--data: %v", err)
	}
	i := c.Int("index")
	if i < 0 || i >= ds.Len() {
		ds.Close()
		return nil, 0, fail(cmd, "--index = %d: want 0 ≤ I < %d (events in %s)", i, ds.Len(), dir)
	}
	return ds, i, nil
}

// windowFlag is --window of sample and fit.
func windowFlag(envPrefix string) *ucli.StringFlag {
	return &ucli.StringFlag{Name: "window", Usage: "with --lc: the network's 72-day window `T1,T2` in the file's time (T2 = T1 + 72; t0's prior range in a fit)", DefaultText: "centred on the peak, inside the data when they span 72 d", EnvVars: []string{envPrefix + "_WINDOW"}}
}

// windowStart parses --window T1,T2 into the window's start (nil when not given).
func windowStart(c *ucli.Context, cmd string) (*float64, error) {
	v := c.String("window")
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) != 2 {
		return nil, fail(cmd, "--window = %q: want T1,T2", v)
	}
	var t [2]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fail(cmd, "--window = %q: %q is not a finite number", v, p)
		}
		t[i] = f
	}
	if math.Abs(t[1]-t[0]-event.WindowDays) > 0.011 {
		return nil, fail(cmd, "--window = %q spans %.4g d: the model's window is %d d (T2 = T1 + %d)", v, t[1]-t[0], event.WindowDays, event.WindowDays)
	}
	return &t[0], nil
}

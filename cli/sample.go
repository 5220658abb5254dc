package cli

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/internal/figure"
	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
	"github.com/mlcu/mlcu/train"
)

// minLCPoints is the fewest observed points inside the 72-day window that sample accepts.
const minLCPoints = 100

var sampleCommand = &ucli.Command{
	Name:      "sample",
	Usage:     "draw posterior samples of θ for one light curve from a trained model",
	ArgsUsage: " ",
	Description: `Loads the model in --model (a directory written by 'mlcu train': best/ is used, else
last/; or a checkpoint directory) and draws --n samples of θ = (s, q, alpha, u0, t0, tE,
rho) from p(θ | light curve), written in physical units as an (N, 7) float64 .npy (and CSV
with --csv; columns s,q,alpha,u0,t0,tE,rho, plus fs when the prior has blending). It
prints the median and the 68% interval (16th–84th percentiles) of each parameter.

The light curve (--lc FILE): CSV or whitespace-separated text, three columns time [d],
flux (any linear unit), flux error; '#' starts a comment; a first line that is not numeric
is a header. Times must be increasing, values finite, errors positive.
How it is made into the model's input, exactly:
  1. The window is [t_first, t_first + 71.99] d, the 7200-point grid t_j = t_first + 0.01 j.
     The data must cover it (t_last >= t_first + 71.99) and hold at least 100 points in it;
     points after it are ignored.
  2. The flux is linearly interpolated onto the grid (observations are used as given; a
     sparser cadence than 0.01 d smooths the noise the model was trained with).
  3. The baseline F0 is the median of the faintest 20% of the points in the window, the
     normalised flux is flux/F0 (train.Normalise), and the network sees its binned
     logarithm ln(F/F0) (train.NetworkInput), as in training.
  4. The samples' t0 is returned in the file's time: t_first + t0(window).
With --plot FILE it also draws a corner plot of the samples (PNG; SVG when FILE ends in
.svg): a histogram of each free parameter on the diagonal with its median and 68% interval,
2-D histograms of the pairs below it, and the truth in red when known. The axes are the
physical parameters, with s, q, tE and rho as log10 (the coordinates the model's
distribution is built on): log10 s, log10 q, alpha [rad], u0 [θE], t0 [d], log10 tE [d],
log10 rho [θE] (and fs with blending). It plots the first 1,000,000 samples at most.

Or --data DIR --index I: event I of a dataset, cropped so that the window is centred on its
t0 (train.CropOffset), with noise from the default SNR distribution at --seed; the truth is
printed beside the intervals.

Example:
   mlcu sample --model mlcu-work/model --data mlcu-work/data/val --index 3 --n 10000 --out s.npy`,
	Flags: []ucli.Flag{
		&ucli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "model `DIR`", Value: "mlcu-work/model", TakesFile: true, EnvVars: []string{"MLCU_MODEL"}},
		&ucli.StringFlag{Name: "lc", Usage: "light-curve `FILE` (time, flux, error)", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_LC"}},
		&ucli.StringFlag{Name: "data", Usage: "dataset `DIR` (with --index)", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_DATA"}},
		&ucli.IntFlag{Name: "index", Usage: "event `I` of --data", Value: -1, EnvVars: []string{"MLCU_SAMPLE_INDEX"}},
		&ucli.IntFlag{Name: "n", Usage: "number `N` of samples", Value: 10000, EnvVars: []string{"MLCU_SAMPLE_N"}},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "samples `FILE` (.npy)", Value: "samples.npy", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_OUT"}},
		&ucli.BoolFlag{Name: "csv", Usage: "also write the samples as CSV beside --out (.csv)", EnvVars: []string{"MLCU_SAMPLE_CSV"}},
		&ucli.StringFlag{Name: "plot", Usage: "corner-plot `FILE` (.png, or .svg)", TakesFile: true, EnvVars: []string{"MLCU_SAMPLE_PLOT"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the samples (and of the noise with --data)", Value: 1, EnvVars: []string{"MLCU_SAMPLE_SEED"}},
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
	model, st, err := train.LoadModel(c.String("model"))
	if err != nil {
		return fail(cmd, "--model: %v", err)
	}
	var x []float32
	var truth *train.Params
	tShift := 0.0
	if lc != "" {
		f, err := os.Open(lc)
		if err != nil {
			return fail(cmd, "--lc: %v", err)
		}
		ts, fl, fe, err := ReadLightCurve(f, lc)
		f.Close()
		if err != nil {
			return fail(cmd, "--lc: %v", err)
		}
		if x, err = LightCurveInput(ts, fl, fe); err != nil {
			return fail(cmd, "--lc: %s: %v", lc, err)
		}
		tShift = ts[0]
	} else {
		ds, err := train.OpenDataset(data)
		if err != nil {
			return fail(cmd, "--data: %v", err)
		}
		defer ds.Close()
		i := c.Int("index")
		if i < 0 || i >= ds.Len() {
			return fail(cmd, "--index = %d: want 0 ≤ I < %d (events in %s)", i, ds.Len(), data)
		}
		var p train.Params
		x, p, err = DatasetInput(ds, i, c.Uint64("seed"))
		if err != nil {
			return fail(cmd, "%v", err)
		}
		truth = &p
	}
	ch, err := chooseDevice(c, cmd)
	if err != nil {
		return err
	}
	draw, free, err := NewDrawer(model, ch, c.Uint64("seed"))
	if err != nil {
		return fail(cmd, "%v", err)
	}
	defer free()
	samples, names, inside, el, err := SamplePhysical(model, st, x, n, draw)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	D := len(names)
	for s := range n {
		samples[s*D+4] += tShift // t0 in the file's time
	}
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
		if err := cornerPlot(samples, names, st, truth, title).WriteFile(pp); err != nil {
			return fail(cmd, "--plot: writing %s: %v", pp, err)
		}
		fmt.Fprintf(w, "sample: corner plot → %s\n", pp)
	}
	var tv [train.NumParams]float64
	if truth != nil {
		tv = truth.Values()
		fmt.Fprintf(w, "%-6s %12s %12s %12s %12s\n", "param", "median", "16%", "84%", "truth")
	} else {
		fmt.Fprintf(w, "%-6s %12s %12s %12s\n", "param", "median", "16%", "84%")
	}
	col := make([]float64, n)
	for j, name := range names {
		for s := range n {
			col[s] = samples[s*D+j]
		}
		sort.Float64s(col)
		q := func(p float64) float64 { return col[min(n-1, int(p*float64(n-1)+0.5))] }
		if truth != nil {
			fmt.Fprintf(w, "%-6s %12.5g %12.5g %12.5g %12.5g\n", name, q(0.5), q(0.16), q(0.84), tv[j])
		} else {
			fmt.Fprintf(w, "%-6s %12.5g %12.5g %12.5g\n", name, q(0.5), q(0.16), q(0.84))
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
// coordinate is log10 (train.Coord), except fs, whose linear value in (0, 1] reads better.
var cornerLog = map[string]bool{"s": true, "q": true, "tE": true, "rho": true}

// cornerPlot returns the corner plot of samples ((n, len(names)) row-major, physical
// units): the parameters the model samples (those st does not fix), log10 where cornerLog
// says, with truth marked when it is not nil.
func cornerPlot(samples []float64, names []string, st train.Standardizer, truth *train.Params, title string) figure.Corner {
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

// Drawer draws batch samples of the standardised θ for the network input xb (one event)
// into out (batch, D); round numbers the calls of one rejection loop, each from its own
// random stream.
type Drawer func(out, xb []float32, batch int, round uint64) error

// NewDrawer returns the Drawer of model m on the chosen backend, and the function that frees
// what it holds: the CPU path draws round r from rng.New(seed, r) (nn.Model.Sample); the
// CUDA path runs the featurizer on the CPU and the fused flow sampler on the device with
// Philox key rng.New(seed, r).Uint64() (cuda.ModelSampler). The two give samples of the
// same distribution, not the same samples.
func NewDrawer(m *nn.Model[float32], ch cuda.Choice, seed uint64) (Drawer, func(), error) {
	if !ch.CUDA {
		return func(out, xb []float32, batch int, round uint64) error {
			m.Sample(out, xb, batch, rng.New(seed, round))
			return nil
		}, func() {}, nil
	}
	s, err := cuda.NewModelSampler(m)
	if err != nil {
		return nil, nil, err
	}
	return func(out, xb []float32, batch int, round uint64) error {
		return s.Sample(out, xb, batch, rng.New(seed, round).Uint64())
	}, s.Free, nil
}

// SamplePhysical draws n samples for the model input x (one event, WindowPoints values)
// and returns them in physical units, (n, D) row-major with D = 7 (8 with blending), the
// column names, the fraction of the flow's draws that fell inside the prior's support, and
// the time spent sampling (featurizer and flow). α is first wrapped modulo 2π when the prior
// spans one period (Standardizer.WrapPeriodic). Draws outside the support (a flow leaks some
// mass there; the posterior is zero) are rejected and replaced by further rounds of draws
// (draw's round argument); it fails when fewer than 1 in 1000 draws are kept.
func SamplePhysical(m *nn.Model[float32], st train.Standardizer, x []float32, n int, draw Drawer) ([]float64, []string, float64, time.Duration, error) {
	mc := m.Config
	xb := make([]float32, mc.Featurizer.L)
	train.NetworkInput(xb, x, mc.Bin)
	D := mc.Flow.D
	names := train.ParamNames[:7]
	if _, ok := st.Fixed["fs"]; !ok {
		names = train.ParamNames[:]
	}
	res := make([]float64, 0, n*len(names))
	y := make([]float64, D)
	start := time.Now()
	drawn, inside, kept := 0, 0, 0
	for round := uint64(0); kept < n; round++ {
		if drawn >= 1000 && inside*1000 < drawn {
			return nil, names, float64(inside) / float64(drawn), time.Since(start),
				fmt.Errorf("only %d of %d posterior draws fall inside the prior's support: this light curve is outside what the model was trained on", inside, drawn)
		}
		batch := n - kept
		if round > 0 {
			batch = max(batch, 1024)
		}
		out := make([]float32, batch*D)
		if err := draw(out, xb, batch, round); err != nil {
			return nil, names, 0, time.Since(start), err
		}
		drawn += batch
		for s := range batch {
			for j := range D {
				y[j] = float64(out[s*D+j])
			}
			st.WrapPeriodic(y) // α modulo 2π: the same trajectory
			if !st.InSupport(y) {
				continue
			}
			inside++
			if kept == n {
				continue
			}
			v := st.Inverse(y).Values()
			res = append(res, v[:len(names)]...)
			kept++
		}
	}
	return res, names, float64(inside) / float64(drawn), time.Since(start), nil
}

// DatasetInput returns the model input of event i of ds: the 72-day window centred on its
// t0 (train.CropOffset) with noise drawn from the default SNR distribution by
// rng.New(seed, i), and the event's parameters with t0 that of the window.
func DatasetInput(ds *train.Dataset, i int, seed uint64) ([]float32, train.Params, error) {
	p := ds.Params(i)
	k, t0q := train.CropOffset(p.T0)
	mag := make([]float32, train.WindowPoints)
	if _, err := ds.Window(i, k, mag); err != nil {
		return nil, p, err
	}
	p.T0 = t0q
	rs := rng.New(train.DeriveSeed(seed, "sample/noise"), uint64(i))
	obs := train.DefaultNoise().Draw(p, rs)
	x := make([]float32, train.WindowPoints)
	train.AddNoise(x, mag, obs, rs)
	return x, p, nil
}

// ReadLightCurve reads time, flux and flux error columns (CSV or whitespace text, '#'
// comments, an optional non-numeric header line), checking that every value is finite,
// every error positive and the times strictly increasing. Errors name the file and line.
func ReadLightCurve(r io.Reader, name string) (ts, flux, ferr []float64, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line, rows := 0, 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == ';' })
		if len(fields) == 0 {
			continue
		}
		rows++
		if len(fields) < 3 {
			return nil, nil, nil, fmt.Errorf("%s:%d: want 3 columns (time, flux, error), got %d", name, line, len(fields))
		}
		var v [3]float64
		for j := range v {
			v[j], err = strconv.ParseFloat(fields[j], 64)
			if err != nil {
				if rows == 1 && j == 0 {
					break // header
				}
				return nil, nil, nil, fmt.Errorf("%s:%d: column %d: %q is not a number", name, line, j+1, fields[j])
			}
		}
		if err != nil {
			err = nil
			continue
		}
		if math.IsNaN(v[0]+v[1]+v[2]) || math.IsInf(v[0]+v[1]+v[2], 0) {
			return nil, nil, nil, fmt.Errorf("%s:%d: non-finite value", name, line)
		}
		if !(v[2] > 0) {
			return nil, nil, nil, fmt.Errorf("%s:%d: flux error %g must be positive", name, line, v[2])
		}
		if len(ts) > 0 && !(v[0] > ts[len(ts)-1]) {
			return nil, nil, nil, fmt.Errorf("%s:%d: time %g does not increase (previous %g): sort the file and remove duplicates", name, line, v[0], ts[len(ts)-1])
		}
		ts, flux, ferr = append(ts, v[0]), append(flux, v[1]), append(ferr, v[2])
	}
	if err := sc.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(ts) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: no data rows", name)
	}
	return ts, flux, ferr, nil
}

// LightCurveInput maps a light curve to the model's input window as the sample command's
// help describes: the grid t_first + 0.01 j (j < 7200), linear interpolation of the flux,
// division by the median of the faintest 20% of the points in the window.
func LightCurveInput(ts, flux, ferr []float64) ([]float32, error) {
	span := float64(train.WindowPoints-1) * train.Cadence
	t0 := ts[0]
	if last := ts[len(ts)-1]; last < t0+span-1e-9 {
		return nil, fmt.Errorf("the light curve spans %.4g d (from %g to %g); the model needs %.2f d (72 d at %.2g d cadence)", last-t0, t0, last, span, train.Cadence)
	}
	end := sort.SearchFloat64s(ts, t0+span+1e-9)
	if end < minLCPoints {
		return nil, fmt.Errorf("%d points in the 72-day window from t = %g: need at least %d", end, t0, minLCPoints)
	}
	in := append([]float64(nil), flux[:end]...)
	sorted := append([]float64(nil), in...)
	sort.Float64s(sorted)
	faint := sorted[:max(1, len(sorted)/5)]
	base := faint[len(faint)/2]
	if len(faint)%2 == 0 {
		base = 0.5 * (faint[len(faint)/2-1] + faint[len(faint)/2])
	}
	// Interpolate with the first point after the window too, so that the grid's last
	// times lie between two observations.
	end = min(end+1, len(ts))
	xn, _, err := train.Normalise(flux[:end], ferr[:end], base)
	if err != nil {
		return nil, fmt.Errorf("baseline (median of the faintest 20%%): %v", err)
	}
	x := make([]float32, train.WindowPoints)
	k := 0
	for j := range x {
		t := t0 + float64(j)*train.Cadence
		for k+1 < end-1 && ts[k+1] <= t {
			k++
		}
		if k+1 >= end {
			x[j] = float32(xn[end-1])
			continue
		}
		f := (t - ts[k]) / (ts[k+1] - ts[k])
		f = math.Min(math.Max(f, 0), 1)
		x[j] = float32(xn[k] + f*(xn[k+1]-xn[k]))
	}
	return x, nil
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/figure"
	"github.com/mlcu/mlcu/internal/npy"
)

var fitCommand = &ucli.Command{
	Name:      "fit",
	Usage:     "the exact posterior of one light curve: NDE-seeded ensemble MCMC",
	ArgsUsage: " ",
	Description: `The hybrid of Zhang et al. (2021, §5). Draws --candidates samples from the neural posterior
of the light curve (--model, or the shipped model), evaluates the exact log-posterior of
each — the likelihood of every data point as observed (Gaussian errors as given, the
finite-source binary-lens light curve at --tol, the source and blend flux solved by
weighted least squares for every θ) times the model's training prior — climbs from the
best --polish candidates of each mode by Nelder–Mead (the network's proposal can lie far
from the solution on data unlike its training set: sparse ground photometry, blending) and
starts an ensemble of --chains walkers in a small ball around the highest optimum (with
--polish 0: at the best distinct candidates, as Zhang et al.), which the affine-invariant
stretch move (Goodman & Weare 2010, as emcee) runs for --steps steps in the model's
coordinates (log10 s, log10 q, α, u0, t0, log10 tE, log10 ρ; α periodic). The summaries
use the steps after --burn (default: half) of every walker.

The light curve: --lc FILE[,mag] (time [d], flux, flux error, or magnitudes with ,mag: the
format of 'mlcu sample --lc'), repeated for every telescope or band — each dataset gets its
own source and blend flux; all share the time system; the first is the one the network
sees, on a 72-day window centred on its peak (or --window T1,T2; t0's prior range), any
cadence: sparse data are interpolated for the network (an approximate proposal), while
the likelihood uses every point of every dataset as observed —
or --data DIR --index I (a simulated event with its truth, as 'mlcu sample --data' draws
it; its error bars are those the noise was drawn with).

--rescale-errors: before the MCMC, each dataset's error bars are multiplied by the k that
brings its χ² per degree of freedom (N − 2: its points less its two fluxes) to 1 at the
best fit (Nelder–Mead from the best candidates, errors as given), as microlensing fits do
when a telescope's errors are under- or overestimated; the factors are printed, and every
χ² after them is with the rescaled errors.

Writes into --out: summary.csv (parameter,median,lo68,hi68,lo95,hi95; t0 in the data's
time), diagnostics.csv (parameter,rhat,ess: the rank-normalised split-R̂ of Vehtari et al.
2021 over the walkers and the effective sample size from the integrated autocorrelation
time, in the model's coordinates), modes.csv (the close, s < 1, and wide, s ≥ 1,
solutions: every mode with ≥ 5% of the candidates gets its own ensemble of --chains
walkers, started from its best candidates and kept inside it — one ensemble seeded in
separated modes does not mix; per mode its share of the candidates, walkers, acceptance,
best χ² and Δχ² to the best mode, the best position, the medians of s and q and the
polished χ² its walkers started at; the other
files are the best mode's), importance.csv (the second route, nbi's SNPE-IS: the candidates
weighted by likelihood × prior / the network's density; its effective sample size and
Pareto k̂ are printed, k̂ > 0.7 or ESS < 10 meaning: use the MCMC), chains.npy (walkers, steps, 7) float64 in physical units,
candidates.npy (candidates, 8): the NDE draws and their χ², trace.png (every walker's
path per parameter, the burn-in marked), marginals.png (the NDE candidates' marginals
against the MCMC's), corner.png (the MCMC samples,
truth marked when known) and fit.png (the data with the light curves of 30 MCMC draws, the
best fit of the chains opaque, its source plane). Ctrl-C stops the chains and writes the
results of the steps done.

Example:
   mlcu fit --lc testdata/examples/caustic.csv --out fit-caustic`,
	Flags: []ucli.Flag{
		modelFlag(),
		&ucli.StringSliceFlag{Name: "lc", Usage: "light-curve `FILE[,mag]` (time, flux, error; ,mag: magnitudes, zero point 22); repeat for more telescopes or bands (the first is the network's)", TakesFile: true, EnvVars: []string{"MLCU_FIT_LC"}},
		windowFlag("MLCU_FIT"),
		&ucli.StringFlag{Name: "data", Usage: "dataset `DIR` (with --index)", TakesFile: true, EnvVars: []string{"MLCU_FIT_DATA"}},
		&ucli.IntFlag{Name: "index", Usage: "event `I` of --data", Value: -1, EnvVars: []string{"MLCU_FIT_INDEX"}},
		&ucli.StringFlag{Name: "truth", Usage: "with --lc: the curve's true `S,Q,ALPHA,U0,T0,TE,RHO` (t0 in the file's time), printed and plotted", EnvVars: []string{"MLCU_FIT_TRUTH"}},
		&ucli.IntFlag{Name: "candidates", Usage: "`N` NDE samples whose posterior is evaluated", Value: 800, EnvVars: []string{"MLCU_FIT_CANDIDATES"}},
		&ucli.IntFlag{Name: "chains", Usage: "`W` walkers (even, ≥ 14)", Value: 16, EnvVars: []string{"MLCU_FIT_CHAINS"}},
		&ucli.IntFlag{Name: "steps", Usage: "`S` MCMC steps per walker", Value: 2000, EnvVars: []string{"MLCU_FIT_STEPS"}},
		&ucli.IntFlag{Name: "polish", Usage: "climb from the best `K` candidates of each mode by Nelder–Mead and start the walkers around the highest optimum; 0: start them at the best candidates (Zhang et al. 2021)", Value: 4, EnvVars: []string{"MLCU_FIT_POLISH"}},
		&ucli.BoolFlag{Name: "rescale-errors", Usage: "multiply each dataset's error bars by the factor that makes its χ²/dof 1 at the best fit, before the MCMC", EnvVars: []string{"MLCU_FIT_RESCALE_ERRORS"}},
		&ucli.IntFlag{Name: "burn", Usage: "`B` steps discarded before the summaries", DefaultText: "steps/2", EnvVars: []string{"MLCU_FIT_BURN"}},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the NDE draws and the chains (and of the noise with --data)", Value: 1, EnvVars: []string{"MLCU_FIT_SEED"}},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `DIR`", Value: "mlcu-fit", TakesFile: true, EnvVars: []string{"MLCU_FIT_OUT"}},
		&ucli.BoolFlag{Name: "force", Usage: "replace the fit already in --out", EnvVars: []string{"MLCU_FIT_FORCE"}},
		tolFlag(),
		workersFlag(),
		&ucli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress", EnvVars: []string{"MLCU_QUIET"}},
	},
	Action: runFit,
}

func runFit(c *ucli.Context) error {
	const cmd = "fit"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	lcPaths, data := c.StringSlice("lc"), c.String("data")
	if (len(lcPaths) == 0) == (data == "") {
		return fail(cmd, "give either --lc FILE or --data DIR --index I")
	}
	if data != "" && c.IsSet("truth") {
		return fail(cmd, "--truth goes with --lc (--data events carry their truth)")
	}
	if err := checkTol(cmd, c.Float64("tol")); err != nil {
		return err
	}
	if err := checkWorkers(cmd, c.Int("workers")); err != nil {
		return err
	}
	steps, burn := c.Int("steps"), c.Int("steps")/2
	if c.IsSet("burn") {
		burn = c.Int("burn")
	}
	if steps < 4 || burn < 0 || burn >= steps {
		return fail(cmd, "--steps %d, --burn %d: want steps ≥ 4 and 0 ≤ burn < steps", steps, burn)
	}
	polish := c.Int("polish")
	if polish < 0 {
		return fail(cmd, "--polish = %d must be 0 (none) or more", polish)
	}
	if polish == 0 {
		polish = -1 // infer.FitConfig: negative is none
	}
	chains, cands := c.Int("chains"), c.Int("candidates")
	if chains < 14 || chains%2 != 0 || cands < chains {
		return fail(cmd, "--chains %d, --candidates %d: want an even number of chains ≥ 14 (twice the 7 parameters) and at least as many candidates", chains, cands)
	}
	out := c.String("out")
	if _, err := os.Stat(filepath.Join(out, "summary.csv")); err == nil && !c.Bool("force") {
		return fail(cmd, "--out %s already holds a fit: give --force to replace it", out)
	}
	truth, err := truthFlag(c, cmd)
	if err != nil {
		return err
	}
	winStart, err := windowStart(c, cmd)
	if err != nil {
		return err
	}
	if winStart != nil && len(lcPaths) == 0 {
		return fail(cmd, "--window needs --lc (a dataset event has its window)")
	}
	model, err := loadModel(c, cmd)
	if err != nil {
		return err
	}
	var lcs []infer.LightCurve
	var name string
	if len(lcPaths) > 0 {
		for k, arg := range lcPaths {
			lc, file, err := readLightCurveArg(cmd, arg)
			if err != nil {
				return err
			}
			if k == 0 {
				name = file
			}
			lcs = append(lcs, lc)
		}
		if len(lcs) > 1 {
			name = fmt.Sprintf("%s and %d more datasets", name, len(lcs)-1)
		}
	} else {
		ds, i, err := openDatasetEvent(c, cmd, data)
		if err != nil {
			return err
		}
		defer ds.Close()
		var p event.Params
		lc, p, err := infer.DatasetCurve(ds, i, c.Uint64("seed"))
		if err != nil {
			return fail(cmd, "%v", err)
		}
		lcs = []infer.LightCurve{lc}
		truth = &p
		name = fmt.Sprintf("event %d of %s", i, data)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newProgress(c.App.ErrWriter, cmd, "candidates", c.Bool("quiet"))
	stage := "candidates"
	cfg := infer.FitConfig{Candidates: cands, Chains: chains, Steps: steps, Burn: burn, Tol: c.Float64("tol"),
		Workers: c.Int("workers"), Seed: c.Uint64("seed"), WindowStart: winStart, Polish: polish, RescaleErrors: c.Bool("rescale-errors"),
		Progress: func(s string, done, total int) {
			if s != stage {
				prog.Done()
				stage = s
				prog = newProgress(c.App.ErrWriter, cmd, "steps", c.Bool("quiet"))
			}
			prog.Update(done, total)
		}}
	start := time.Now()
	fit, err := model.Fit(ctx, infer.CPUSampler{Net: model.Net}, lcs, event.DefaultPrior(), cfg)
	prog.Done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return ucli.Exit(cmd+": interrupted before the chains had 4 steps: nothing written", exitInterrupted)
		}
		return fail(cmd, "%v", err)
	}
	elapsed := time.Since(start)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail(cmd, "--out: %v", err)
	}
	if err := writeFitFiles(cmd, out, fit, truth, name); err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "fit: %s: %d candidates, %d chains × %d steps (burn %d) per mode in %.1f s; the fit below is the best mode's (acceptance %.3f)\n",
		name, fit.Candidates.Len(), fit.Chains.Walkers, fit.Chains.Steps, fit.Burn, elapsed.Seconds(), fit.Acceptance)
	fmt.Fprintf(w, "fit: the network's %s\n", fit.Window)
	fmt.Fprintf(w, "fit: best χ² %.1f for %d points; best NDE candidate χ² %.1f\n", fit.BestChi2, fit.Likelihood.Points(), minOf(fit.CandChi2))
	for k, fx := range fit.BestFluxes {
		if fit.ErrScale != nil {
			fmt.Fprintf(w, "fit: dataset %d: error bars × %.4g (χ²/dof %.3g at the best fit with the errors as given)\n",
				k+1, fit.ErrScale[k], fit.ErrScaleChi2[k]/float64(len(lcs[k].T)-2))
		}
		fmt.Fprintf(w, "fit: dataset %d (%d points): source flux %.6g, blend flux %.6g, χ² %.1f\n", k+1, len(lcs[k].T), fx.Source, fx.Blend, fx.Chi2)
	}
	if im := fit.Importance; im != nil {
		verdict := "reliable (k̂ < 0.5)"
		switch {
		case im.ESS < 10:
			verdict = "collapsed: a few candidates carry the weight; use the MCMC"
		case math.IsNaN(im.KHat) || im.KHat > 0.7:
			verdict = "unreliable (k̂ > 0.7): use the MCMC"
		case im.KHat > 0.5:
			verdict = "usable with care (0.5 < k̂ ≤ 0.7)"
		}
		fmt.Fprintf(w, "fit: importance sampling of the %d candidates: ESS %.1f, Pareto k̂ %.2f: %s (importance.csv)\n", fit.Candidates.Len(), im.ESS, im.KHat, verdict)
	} else {
		fmt.Fprintf(w, "fit: importance sampling: %v\n", fit.ImportanceErr)
	}
	for _, m := range fit.Modes {
		side := map[string]string{"close": "<", "wide": "≥"}[m.Label]
		if m.Result == nil {
			fmt.Fprintf(w, "fit: %-5s (s %s 1): NDE mass %.3f, not run: %s (best candidate χ² %.1f)\n", m.Label, side, m.NDEMass, m.Skipped, m.BestChi2)
			continue
		}
		r := m.Result
		polished := ""
		if m.PolishedChi2 != 0 {
			polished = fmt.Sprintf(", walkers started at the polished χ² %.1f", m.PolishedChi2)
		}
		fmt.Fprintf(w, "fit: %-5s (s %s 1): NDE mass %.3f, %d walkers%s, acceptance %.3f, best χ² %.1f (Δχ² %.1f), median s %.5g, q %.5g\n",
			m.Label, side, m.NDEMass, m.Seeded, polished, r.Acceptance, m.BestChi2, m.BestChi2-fit.BestChi2, r.Summary[0].Median, r.Summary[1].Median)
	}
	header := fmt.Sprintf("%-6s %12s %12s %12s %8s %8s", "param", "median", "16%", "84%", "R̂", "ESS")
	if truth != nil {
		header += fmt.Sprintf(" %12s", "truth")
	}
	fmt.Fprintln(w, header)
	var tv [event.NumParams]float64
	if truth != nil {
		tv = truth.Values()
	}
	for j, s := range fit.Summary {
		line := fmt.Sprintf("%-6s %12.6g %12.6g %12.6g %8.4f %8.0f", s.Name, s.Median, s.Lo68, s.Hi68, fit.RHat[j], fit.ESS[j])
		if truth != nil {
			line += fmt.Sprintf(" %12.6g", tv[j])
		}
		fmt.Fprintln(w, line)
	}
	for j, n := range fit.Names {
		if !fit.TauReliable[j] {
			fmt.Fprintf(w, "fit: warning: %s's chains are shorter than 50 autocorrelation times: its ESS is a rough estimate; run more --steps\n", n)
			break
		}
	}
	fmt.Fprintf(w, "fit: results in %s (summary.csv, diagnostics.csv, modes.csv, importance.csv, chains.npy, candidates.npy, trace.png, marginals.png, corner.png, fit.png)\n", out)
	if fit.Stopped != nil {
		return ucli.Exit(fmt.Sprintf("%s: interrupted after %d MCMC steps; the results of those steps are in %s", cmd, fit.Chains.Steps, out), exitInterrupted)
	}
	return nil
}

// writeFitFiles writes the fit's files into dir (each written whole or not at all).
func writeFitFiles(cmd, dir string, fit *infer.Fit, truth *event.Params, name string) error {
	lc := fit.Likelihood.Data[0]
	csvFile := func(file, header string, rows func(w io.Writer)) error {
		return writeFile(cmd, filepath.Join(dir, file), func(w io.Writer) error {
			fmt.Fprintln(w, header)
			rows(w)
			return nil
		})
	}
	if err := csvFile("summary.csv", "parameter,median,lo68,hi68,lo95,hi95", func(w io.Writer) {
		for _, s := range fit.Summary {
			fmt.Fprintf(w, "%s,%.10g,%.10g,%.10g,%.10g,%.10g\n", s.Name, s.Median, s.Lo68, s.Hi68, s.Lo95, s.Hi95)
		}
	}); err != nil {
		return err
	}
	if err := csvFile("diagnostics.csv", "parameter,rhat,ess", func(w io.Writer) {
		for j, n := range fit.Names {
			fmt.Fprintf(w, "%s,%.6g,%.6g\n", n, fit.RHat[j], fit.ESS[j])
		}
	}); err != nil {
		return err
	}
	if err := csvFile("modes.csv", "mode,nde_mass,walkers,acceptance,best_chi2,delta_chi2,s,q,alpha,u0,t0,tE,rho,median_s,median_q,polished_chi2", func(w io.Writer) {
		for _, m := range fit.Modes {
			v := m.Best.Values()
			acc, ms, mq := math.NaN(), math.NaN(), math.NaN()
			if r := m.Result; r != nil {
				acc, ms, mq = r.Acceptance, r.Summary[0].Median, r.Summary[1].Median
			}
			pc := math.NaN()
			if m.PolishedChi2 != 0 {
				pc = m.PolishedChi2
			}
			fmt.Fprintf(w, "%s,%.4f,%d,%.4f,%.6g,%.6g,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%.8g,%.6g\n", m.Label, m.NDEMass, m.Seeded, acc, m.BestChi2,
				m.BestChi2-fit.BestChi2, v[0], v[1], v[2], v[3], v[4], v[5], v[6], ms, mq, pc)
		}
	}); err != nil {
		return err
	}
	if im := fit.Importance; im != nil {
		if err := csvFile("importance.csv", "parameter,median,lo68,hi68,lo95,hi95", func(w io.Writer) {
			for _, s := range im.Summary {
				fmt.Fprintf(w, "%s,%.10g,%.10g,%.10g,%.10g,%.10g\n", s.Name, s.Median, s.Lo68, s.Hi68, s.Lo95, s.Hi95)
			}
		}); err != nil {
			return err
		}
	}
	ch := fit.Chains
	if err := writeFile(cmd, filepath.Join(dir, "chains.npy"), func(w io.Writer) error {
		return npy.Write(w, fit.Physical, ch.Walkers, ch.Steps, 7)
	}); err != nil {
		return err
	}
	cand := fit.Candidates
	rows := make([]float64, 0, cand.Len()*8)
	for i := range cand.Len() {
		rows = append(rows, cand.Values[i*7:(i+1)*7]...)
		rows = append(rows, fit.CandChi2[i])
	}
	if err := writeFile(cmd, filepath.Join(dir, "candidates.npy"), func(w io.Writer) error { return npy.Write(w, rows, cand.Len(), 8) }); err != nil {
		return err
	}
	// The samples after burn-in, every walker.
	post := &infer.Samples{Names: fit.Names}
	T := ch.Steps
	for wk := range ch.Walkers {
		post.Values = append(post.Values, fit.Physical[(wk*T+fit.Burn)*7:(wk*T+T)*7]...)
	}
	if err := writeFile(cmd, filepath.Join(dir, "corner.png"), func(w io.Writer) error {
		return cornerPlot(post.Values, post.Names, event.NewStandardizer(fit.Prior), truth, "MCMC posterior of "+name).Write(w)
	}); err != nil {
		return err
	}
	traces := make([][]float64, ch.Walkers)
	var labels []string
	for _, n := range fit.Names {
		labels = append(labels, cornerLabels[n])
	}
	for wk := range traces {
		tr := append([]float64(nil), fit.Physical[wk*T*7:(wk+1)*T*7]...)
		for i := range tr {
			if cornerLog[fit.Names[i%7]] {
				tr[i] = math.Log10(tr[i])
			}
		}
		traces[wk] = tr
	}
	if err := writeFile(cmd, filepath.Join(dir, "trace.png"), (figure.Trace{Names: labels, Chains: traces, Burn: fit.Burn,
		Title: fmt.Sprintf("MCMC walkers of %s (dashed: end of burn-in)", name)}).WritePNG); err != nil {
		return err
	}
	// The NDE's marginals against the MCMC's.
	tr := func(name string, v float64) float64 {
		if cornerLog[name] {
			return math.Log10(v)
		}
		return v
	}
	mg := figure.Marginals{Names: labels, LabelA: fmt.Sprintf("NDE (%d candidates)", cand.Len()), LabelB: "MCMC (after burn-in)",
		Title: "NDE proposal and MCMC posterior of " + name}
	for j, n := range fit.Names {
		a, b := cand.Column(j), post.Column(j)
		for i := range a {
			a[i] = tr(n, a[i])
		}
		for i := range b {
			b[i] = tr(n, b[i])
		}
		mg.A, mg.B = append(mg.A, a), append(mg.B, b)
		if truth != nil {
			mg.Truth = append(mg.Truth, tr(n, truth.Values()[j]))
		}
	}
	if err := writeFile(cmd, filepath.Join(dir, "marginals.png"), mg.WritePNG); err != nil {
		return err
	}
	// Posterior draws spread over the post-burn samples, the best fit first.
	thin := &infer.Samples{Names: fit.Names}
	n := post.Len()
	for k := range 30 {
		i := k * n / 30
		thin.Values = append(thin.Values, post.Values[i*7:(i+1)*7]...)
	}
	draws, err := infer.Predictive(thin, lc, 30, fit.Likelihood.Tol, 0)
	if err != nil {
		return fail(cmd, "fit.png: %v", err)
	}
	best := fit.Best.Event()
	models := [][]float64{fit.Likelihood.Model(0, best, fit.BestFluxes[0])}
	for _, d := range draws {
		models = append(models, d.Model)
	}
	fig := figure.Predictive{T: lc.T, Flux: lc.Flux, Err: lc.Err, Models: models, Best: best,
		Label: fmt.Sprintf("best fit of the chains: χ² = %.1f for %d points", fit.BestFluxes[0].Chi2, len(lc.T)), Title: "MCMC fit of " + name}
	return writeFile(cmd, filepath.Join(dir, "fit.png"), fig.WritePNG)
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer/mcmc"
	"github.com/mlcu/mlcu/lens"
)

// Likelihood is the exact likelihood of one event's photometry under the binary-lens model:
// one or more datasets (telescopes, bands), each with its own source and blend flux solved
// for every θ by weighted least squares (SolveFluxes), Gaussian errors as given, the
// finite-source magnification at tolerance Tol:
//
//	log L(θ) = −χ²(θ)/2,  χ²(θ) = Σ_datasets min over (Fs, Fb) of Σ_i ((F_i − Fs·A(t_i; θ) − Fb)/σ_i)²,
//
// the profile likelihood microlensing fitters sample (MulensModel, pyLIMA). T0 is the time
// origin of θ's t0: the data's times minus T0 are the event's.
type Likelihood struct {
	Data []LightCurve
	T0   float64 // subtracted from the data's times (the window's start: θ's t0 is window time)
	Tol  float64 // the forward model's tolerance (lens.DefaultTol when 0)
	// ErrScale, when not nil, multiplies each dataset's error bars (one factor per dataset;
	// Fit's RescaleErrors sets it). Scaling all of a dataset's errors by k leaves its
	// weighted least-squares fluxes unchanged and divides its χ² by k².
	ErrScale []float64
	ts       [][]float64
}

// NewLikelihood returns the likelihood of the datasets lcs (one at least) with θ's t0
// counted from t0.
func NewLikelihood(lcs []LightCurve, t0, tol float64) *Likelihood {
	l := &Likelihood{Data: lcs, T0: t0, Tol: tol}
	if l.Tol == 0 {
		l.Tol = lens.DefaultTol
	}
	for _, lc := range lcs {
		ts := make([]float64, len(lc.T))
		for i, t := range lc.T {
			ts[i] = t - t0
		}
		l.ts = append(l.ts, ts)
	}
	return l
}

// Points returns the number of data points over the datasets.
func (l *Likelihood) Points() int {
	n := 0
	for _, lc := range l.Data {
		n += len(lc.T)
	}
	return n
}

// Chi2 returns χ²(θ) summed over the datasets and each dataset's fluxes at it, for the
// event e (t0 in Likelihood's time). It is safe for concurrent use.
func (l *Likelihood) Chi2(e lens.Event) (float64, []Fluxes, error) {
	if err := e.Validate(); err != nil {
		return math.NaN(), nil, err
	}
	total := 0.0
	fx := make([]Fluxes, len(l.Data))
	for k, lc := range l.Data {
		a := lens.LightCurve(e, l.ts[k], l.Tol, nil)
		f, err := SolveFluxes(a, lc.Flux, lc.Err)
		if err != nil {
			return math.NaN(), nil, fmt.Errorf("dataset %d: %v", k+1, err)
		}
		if l.ErrScale != nil {
			f.Chi2 /= l.ErrScale[k] * l.ErrScale[k]
		}
		fx[k] = f
		total += f.Chi2
	}
	return total, fx, nil
}

// errorScales returns, per dataset, the factor k = √(χ²/(N − 2)) that brings the dataset's
// χ² per degree of freedom to 1 at the fluxes fx (χ² with unscaled errors; N points, two
// fluxes solved per dataset; the seven shared parameters are not charged to any dataset),
// as microlensing fits rescale error bars (e.g. Yee et al. 2012, without their error
// floor). It errs when a dataset has fewer than 3 points.
func errorScales(lcs []LightCurve, fx []Fluxes) ([]float64, error) {
	k := make([]float64, len(lcs))
	for d, lc := range lcs {
		dof := len(lc.T) - 2
		if dof < 1 {
			return nil, fmt.Errorf("fit: dataset %d has %d points: rescaling its errors needs at least 3", d+1, len(lc.T))
		}
		k[d] = math.Sqrt(fx[d].Chi2 / float64(dof))
		if !(k[d] > 0) || math.IsInf(k[d], 0) {
			return nil, fmt.Errorf("fit: dataset %d: χ² %v at the optimum: cannot rescale its errors", d+1, fx[d].Chi2)
		}
	}
	return k, nil
}

// Model returns the model flux Fs·A(t_i) + Fb of e (t0 in the data's time, unlike Chi2) at
// the times of dataset k, for its fluxes fx.
func (l *Likelihood) Model(k int, e lens.Event, fx Fluxes) []float64 {
	a := lens.LightCurve(e, l.Data[k].T, l.Tol, nil)
	for i, v := range a {
		a[i] = fx.Source*v + fx.Blend
	}
	return a
}

// FitConfig configures Model.Fit. Zero values take the defaults of Zhang et al. (2021):
// 800 candidates, 16 chains.
type FitConfig struct {
	Candidates int     // NDE samples whose likelihood is evaluated (800)
	Chains     int     // walkers of the ensemble, seeded by the best candidates (16)
	Steps      int     // MCMC steps per walker (2000)
	Burn       int     // steps discarded before the summaries (Steps/2)
	Tol        float64 // forward-model tolerance (lens.DefaultTol)
	Workers    int     // goroutines evaluating likelihoods (NumCPU)
	Seed       uint64
	// Polish is the number of the best candidates of each mode climbed by Nelder–Mead
	// before the MCMC (polish), the walkers then starting in a ball of the posterior's local
	// widths around the highest optimum (ballSeeds); 0: 4; negative: none, the walkers start at the best
	// distinct candidates as in Zhang et al. (2021).
	Polish int
	// WindowStart is the start of the network's 72-day window on the first dataset, in the
	// data's time; nil: PlaceWindow's (centred on the peak).
	WindowStart *float64
	// RescaleErrors rescales each dataset's error bars before the MCMC so that its χ² per
	// degree of freedom is 1 at the best fit (errorScales): the optimum is Nelder–Mead's
	// from the best candidates (of any mode) with the errors as given. Fit.ErrScale holds
	// the factors; every χ² of the fit is then with the rescaled errors.
	RescaleErrors bool
	// Progress, when set, reports the stages: "candidates" (done of Candidates) and "mcmc"
	// (steps done of Steps).
	Progress func(stage string, done, total int)
}

// Fit is the result of Model.Fit: the NDE proposal, the ensemble's chains and their
// summaries, in physical units with t0 in the data's time.
type Fit struct {
	Names      []string     // s, q, alpha, u0, t0, tE, rho
	Window     Window       // the network's window on the first dataset (t0's prior is [Start, Start + 72 d))
	Candidates *Samples     // the NDE draws (t0 in the data's time)
	CandChi2   []float64    // χ² of each candidate (+Inf where it could not be evaluated)
	Chains     *mcmc.Chains // the walkers in the model's standardised coordinates
	Physical   []float64    // (Chains, Steps, 7) the walkers' physical parameters
	Summary    []Summary    // over the steps after Burn, all walkers
	RHat, ESS  []float64    // per parameter (in the model's coordinates: log10 s, …)
	// TauReliable reports per parameter whether the chains are ≥ 50 autocorrelation times
	// long (emcee's tolerance), below which ESS is a rough estimate.
	TauReliable []bool
	Acceptance  float64       // of the ensemble
	Best        event.Params  // the highest-posterior position visited (t0 in the data's time)
	BestChi2    float64       // its χ²
	BestFluxes  []Fluxes      // its source and blend flux, per dataset
	Burn        int           // the steps discarded
	Stopped     error         // non-nil when the MCMC was interrupted (the chains hold the steps done)
	Likelihood  *Likelihood   //
	Prior       event.Prior   //
	Coords      []event.Coord // the coordinates of Chains
	Modes       []Mode        // close and wide (s < 1, s ≥ 1)
	// Importance is the importance-sampling estimate from the candidates (weights =
	// likelihood × prior / the network's density); nil with ImportanceErr when every
	// weight is zero.
	Importance    *Importance
	ImportanceErr error
	// ErrScale is, with RescaleErrors, the factor each dataset's error bars were multiplied
	// by, and ErrScaleChi2 each dataset's χ² (errors as given) at the optimum it came from;
	// nil otherwise.
	ErrScale, ErrScaleChi2 []float64
}

// Fit runs the hybrid of Zhang et al. (2021, §5) on the datasets lcs of one event (the first
// is the one the network sees, on the window of ProposalInput(lcs[0], cfg.WindowStart),
// which is also t0's prior range; all are in the same time system): cfg.Candidates draws from the neural posterior of lcs[0]
// (sampler s), the exact log-posterior (Likelihood plus the prior's log
// density, event.PriorLogDensity) of each, the best cfg.Chains distinct candidates seeding
// an affine-invariant ensemble (mcmc.Run) in the model's standardised coordinates (α
// periodic), cfg.Steps steps. The prior is the model's training prior (given; its
// Standardizer must be the model's). The data are used as observed: every point, at its
// time. On ctx's cancellation during the MCMC it returns the fit of the steps done, with
// Stopped set.
func (m *Model) Fit(ctx context.Context, s Sampler, lcs []LightCurve, prior event.Prior, cfg FitConfig) (*Fit, error) {
	if len(lcs) == 0 {
		return nil, errors.New("fit: no data")
	}
	lc := lcs[0]
	st := m.Standardizer
	if _, fixed := st.Fixed["fs"]; !fixed || st.Dim() != 7 {
		return nil, errors.New("fit: the model's prior has blending (fs): the fit solves the source and blend flux itself; use a model without it")
	}
	if fmt.Sprint(event.NewStandardizer(prior).Coords) != fmt.Sprint(st.Coords) {
		return nil, errors.New("fit: the prior's coordinates differ from those the model was trained with")
	}
	cfg = cfg.withDefaults()
	if cfg.Chains < 2*st.Dim() || cfg.Chains%2 != 0 || cfg.Candidates < cfg.Chains {
		return nil, fmt.Errorf("fit: %d chains from %d candidates: want an even number ≥ %d of chains, and at least as many candidates", cfg.Chains, cfg.Candidates, 2*st.Dim())
	}
	if cfg.Burn < 0 || cfg.Burn >= cfg.Steps {
		return nil, fmt.Errorf("fit: --burn %d with %d steps: want 0 ≤ burn < steps", cfg.Burn, cfg.Steps)
	}
	x, win, err := ProposalInput(lc, cfg.WindowStart)
	if err != nil {
		return nil, err
	}
	cand, err := m.Posterior(s, x, cfg.Candidates, cfg.Seed)
	if err != nil {
		return nil, err
	}
	t0 := win.Start
	like := NewLikelihood(lcs, t0, cfg.Tol)
	// logPostFluxes is the log-posterior at y with each dataset's fluxes and χ² there (nil
	// where the posterior is −Inf); logPost the log-posterior alone.
	logPostFluxes := func(y []float64) (float64, []Fluxes) {
		y = append([]float64(nil), y...)
		st.WrapPeriodic(y)
		lp := event.PriorLogDensity(prior, st, y)
		if math.IsInf(lp, -1) || math.IsNaN(lp) {
			return math.Inf(-1), nil
		}
		chi2, fx, err := like.Chi2(st.Inverse(y).Event())
		if err != nil || math.IsNaN(chi2) {
			return math.Inf(-1), nil
		}
		return lp - chi2/2, fx
	}
	logPost := func(y []float64) float64 {
		lp, _ := logPostFluxes(y)
		return lp
	}
	// The candidates' log-posteriors, in parallel, with each dataset's χ² (for
	// RescaleErrors).
	n := cand.Len()
	ys := make([][]float64, n)
	lps := make([]float64, n)
	chi2 := make([]float64, n)
	chi2d := make([][]float64, n)
	for i := range n {
		ys[i] = st.Forward(event.ParamsFromValues(paramsRow(cand.Values[i*7 : (i+1)*7])))
	}
	done := 0
	parallelFor(n, cfg.Workers, func(i int) {
		var fx []Fluxes
		lps[i], fx = logPostFluxes(ys[i])
		if cfg.RescaleErrors && fx != nil {
			chi2d[i] = make([]float64, len(fx))
			for d, f := range fx {
				chi2d[i][d] = f.Chi2
			}
		}
	}, func() {
		done++
		if cfg.Progress != nil && done%max(1, n/100) == 0 {
			cfg.Progress("candidates", done, n)
		}
	})
	for i := range n {
		chi2[i] = math.Inf(1)
		if !math.IsInf(lps[i], -1) {
			chi2[i] = 2 * (event.PriorLogDensity(prior, st, ys[i]) - lps[i])
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lps[order[a]] > lps[order[b]] })
	var errScale, errScaleChi2 []float64
	if cfg.RescaleErrors {
		if errScale, errScaleChi2, err = rescaleErrors(like, logPost, order, ys, lps, cfg, st); err != nil {
			return nil, err
		}
		// The candidates' posteriors with the rescaled errors: each dataset's χ² over k².
		for i := range n {
			if chi2d[i] == nil {
				continue
			}
			c := 0.0
			for d, v := range chi2d[i] {
				c += v / (errScale[d] * errScale[d])
			}
			lps[i] = event.PriorLogDensity(prior, st, ys[i]) - c/2
			chi2[i] = c
		}
		sort.SliceStable(order, func(a, b int) bool { return lps[order[a]] > lps[order[b]] })
	}
	modes := candidateModes(ys, st)
	cand.ShiftTime(t0)
	for i := range n { // each mode's best candidate (t0 now in the data's time)
		if k := modeOf(st, ys[i]); chi2[i] < modes[k].BestChi2 {
			modes[k].BestChi2 = chi2[i]
			modes[k].Best = event.ParamsFromValues(paramsRow(cand.Values[i*7 : (i+1)*7]))
		}
	}
	// The second route: importance weights of the candidates (nbi's SNPE-IS).
	var imp *Importance
	impErr := error(nil)
	if imp, impErr = NewImportance(cand, lps, m.LogDensity(x, ys)); impErr != nil {
		imp = nil
	}
	f := &Fit{Names: event.ParamNames[:7], Window: win, Candidates: cand, CandChi2: chi2, Burn: cfg.Burn, Likelihood: like, Prior: prior, Coords: st.Coords, Modes: modes,
		Importance: imp, ImportanceErr: impErr, ErrScale: errScale, ErrScaleChi2: errScaleChi2}
	// One ensemble per mode the NDE found (close, s < 1; wide, s ≥ 1: at least MinModeMass
	// of the candidates), seeded by that mode's best distinct candidates and restricted to
	// it: one ensemble seeded in separated modes does not mix (its stretch moves between
	// them are rejected), so each mode gets its own chains.
	var firstErr error
	for k := range modes {
		md := &modes[k]
		if md.NDEMass < MinModeMass {
			md.Skipped = fmt.Sprintf("%.1f%% of the candidates (< %.0f%%)", 100*md.NDEMass, 100*MinModeMass)
			continue
		}
		init := modeSeeds(order, ys, lps, k, cfg.Chains, st)
		if len(init) < cfg.Chains {
			md.Skipped = fmt.Sprintf("%d distinct candidates with a finite posterior, %d chains need as many", len(init), cfg.Chains)
			continue
		}
		if ctx.Err() != nil {
			md.Skipped = "interrupted"
			continue
		}
		inMode := func(y []float64) float64 {
			if modeOf(st, wrapped(st, y)) != k {
				return math.Inf(-1)
			}
			return logPost(y)
		}
		if cfg.Polish > 0 {
			if cfg.Progress != nil {
				cfg.Progress("polish "+md.Label, 0, 1)
			}
			opt := polish(inMode, init[:min(cfg.Polish, len(init))], cfg.Workers)
			md.PolishedChi2 = 2 * (event.PriorLogDensity(prior, st, wrapped(st, opt[0].y)) - opt[0].lp)
			init = ballSeeds(opt[0].y, cfg.Chains, inMode, cfg.Seed+uint64(k))
			if cfg.Progress != nil {
				cfg.Progress("polish "+md.Label, 1, 1)
			}
		}
		md.Seeded = len(init)
		chains, err := mcmc.Run(ctx, inMode, init, mcmc.Config{Steps: cfg.Steps, Workers: cfg.Workers, Seed: cfg.Seed + uint64(k),
			Progress: func(d int) {
				if cfg.Progress != nil {
					cfg.Progress("mcmc "+md.Label, d, cfg.Steps)
				}
			}})
		r := &Fit{Names: f.Names, Burn: cfg.Burn, Likelihood: like, Prior: prior}
		if err != nil {
			if chains == nil || ctx.Err() == nil {
				return nil, fmt.Errorf("fit: %s mode: %w", md.Label, err)
			}
			f.Stopped, r.Stopped = err, err
			r.Burn = min(cfg.Burn, chains.Steps/2)
			if chains.Steps < 4 {
				md.Skipped, md.Seeded = fmt.Sprintf("interrupted after %d steps", chains.Steps), 0
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
		}
		r.Chains = chains
		r.summarise(st, t0)
		md.Result = r
		if r.BestChi2 < md.BestChi2 {
			md.BestChi2, md.Best = r.BestChi2, r.Best
		}
	}
	// The fit is that of the mode with the lowest χ².
	var best *Fit
	for _, md := range modes {
		if md.Result != nil && (best == nil || md.Result.BestChi2 < best.BestChi2) {
			best = md.Result
		}
	}
	if best == nil {
		if firstErr != nil {
			return nil, fmt.Errorf("fit: interrupted before the chains had 4 steps: %w", firstErr)
		}
		return nil, fmt.Errorf("fit: no mode has %d distinct candidates with a finite posterior (of %d candidates)", cfg.Chains, n)
	}
	f.Chains, f.Physical, f.Summary, f.RHat, f.ESS, f.TauReliable = best.Chains, best.Physical, best.Summary, best.RHat, best.ESS, best.TauReliable
	f.Acceptance, f.Best, f.BestChi2, f.BestFluxes, f.Burn = best.Acceptance, best.Best, best.BestChi2, best.BestFluxes, best.Burn
	return f, nil
}

// rescaleErrors finds the optimum of logPost (errors as given) by Nelder–Mead from the best
// max(cfg.Polish, 1) candidates (order: by posterior lps, best first), sets like.ErrScale to
// the factors errorScales gives there, and returns them with each dataset's χ² at the
// optimum.
func rescaleErrors(like *Likelihood, logPost func([]float64) float64, order []int, ys [][]float64, lps []float64, cfg FitConfig, st event.Standardizer) (scale, chi2 []float64, err error) {
	var starts [][]float64
	for _, i := range order[:min(max(cfg.Polish, 1), len(order))] {
		if !math.IsInf(lps[i], -1) {
			starts = append(starts, ys[i])
		}
	}
	if len(starts) == 0 {
		return nil, nil, errors.New("fit: no candidate has a finite posterior: cannot rescale the errors")
	}
	opt := polish(logPost, starts, cfg.Workers)
	_, fx, err := like.Chi2(st.Inverse(wrapped(st, opt[0].y)).Event())
	if err != nil {
		return nil, nil, fmt.Errorf("fit: rescaling the errors: %v", err)
	}
	if scale, err = errorScales(like.Data, fx); err != nil {
		return nil, nil, err
	}
	chi2 = make([]float64, len(fx))
	for d, f := range fx {
		chi2[d] = f.Chi2
	}
	like.ErrScale = scale
	return scale, chi2, nil
}

// MinModeMass is the fraction of the NDE candidates a close or wide mode needs for Fit to
// seed walkers in it.
const MinModeMass = 0.05

// Mode is one of the close (s < 1) / wide (s ≥ 1) solutions of a fit.
type Mode struct {
	Label    string  // "close" or "wide"
	NDEMass  float64 // fraction of the NDE candidates in it
	Seeded   int     // walkers of its ensemble (0 when it was not run)
	Skipped  string  // why it was not run, or ""
	BestChi2 float64 // the lowest χ² of its chains, or of its candidates when not run (+Inf without either)
	// PolishedChi2 is the χ² of the optimum its walkers started around (FitConfig.Polish);
	// 0 when it was not polished.
	PolishedChi2 float64
	Best         event.Params // where (t0 in the data's time)
	Result       *Fit         // its chains and summaries (the fields Fit.summarise fills); nil when not run
}

// candidateModes returns the close and wide modes with their share of the candidates.
func candidateModes(ys [][]float64, st event.Standardizer) []Mode {
	modes := []Mode{{Label: "close", BestChi2: math.Inf(1)}, {Label: "wide", BestChi2: math.Inf(1)}}
	for _, y := range ys {
		modes[modeOf(st, y)].NDEMass += 1 / float64(len(ys))
	}
	return modes
}

// modeOf returns 0 (close, s < 1) or 1 (wide) for the standardised y.
func modeOf(st event.Standardizer, y []float64) int {
	if st.Inverse(y).S < 1 {
		return 0
	}
	return 1
}

// modeSeeds returns up to W distinct standardised candidates of mode k with a finite
// posterior, best first (order sorts the candidates best first).
func modeSeeds(order []int, ys [][]float64, lps []float64, k, W int, st event.Standardizer) [][]float64 {
	var init [][]float64
	for _, i := range order {
		if len(init) == W || math.IsInf(lps[i], -1) {
			break
		}
		if modeOf(st, ys[i]) != k {
			continue
		}
		dup := false
		for _, y := range init {
			dup = dup || equal(y, ys[i])
		}
		if !dup {
			init = append(init, ys[i])
		}
	}
	return init
}

// wrapped returns a copy of y with its periodic coordinates wrapped.
func wrapped(st event.Standardizer, y []float64) []float64 {
	y = append([]float64(nil), y...)
	st.WrapPeriodic(y)
	return y
}

// summarise fills Physical, Summary, RHat, ESS, Acceptance and Best from the chains.
func (f *Fit) summarise(st event.Standardizer, t0 float64) {
	c := f.Chains
	W, T, D := c.Walkers, c.Steps, c.Dim
	f.Physical = make([]float64, W*T*7)
	best, bestLP := []float64(nil), math.Inf(-1)
	y := make([]float64, D)
	for w := range W {
		for t := range T {
			copy(y, c.At(w, t))
			st.WrapPeriodic(y)
			v := st.Inverse(y).Values()
			v[4] += t0
			copy(f.Physical[(w*T+t)*7:], v[:7])
			if lp := c.LogP[w*T+t]; lp > bestLP {
				bestLP, best = lp, append([]float64(nil), v[:7]...)
			}
		}
	}
	post := &Samples{Names: f.Names}
	for w := range W {
		post.Values = append(post.Values, f.Physical[(w*T+f.Burn)*7:(w*T+T)*7]...)
	}
	f.Summary = post.Summary()
	f.Acceptance = c.Acceptance()
	f.RHat, f.ESS, f.TauReliable = make([]float64, D), make([]float64, D), make([]bool, D)
	for j := range D {
		ch := c.Param(j, f.Burn)
		if r, err := mcmc.SplitRHat(ch); err == nil {
			f.RHat[j] = r
		} else {
			f.RHat[j] = math.NaN()
		}
		if tau, ok, err := mcmc.AutocorrTime(ch); err == nil {
			f.ESS[j], f.TauReliable[j] = float64(len(ch)*len(ch[0]))/tau, ok
		} else {
			f.ESS[j] = math.NaN()
		}
	}
	f.Best = event.ParamsFromValues(paramsRow(best))
	e := f.Best.Event()
	e.T0 -= t0
	if chi2, fx, err := f.Likelihood.Chi2(e); err == nil {
		f.BestChi2, f.BestFluxes = chi2, fx
	}
}

// paramsRow returns the 8 values of event.Params from 7 (fs = 1).
func paramsRow(v []float64) [event.NumParams]float64 {
	var r [event.NumParams]float64
	copy(r[:], v[:7])
	r[7] = 1
	return r
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (c FitConfig) withDefaults() FitConfig {
	if c.Candidates == 0 {
		c.Candidates = 800
	}
	if c.Chains == 0 {
		c.Chains = 16
	}
	if c.Steps == 0 {
		c.Steps = 2000
	}
	if c.Burn == 0 {
		c.Burn = c.Steps / 2
	}
	if c.Tol == 0 {
		c.Tol = lens.DefaultTol
	}
	if c.Polish == 0 {
		c.Polish = 4
	}
	return c
}

// parallelFor calls f(0), …, f(n−1) on up to workers goroutines (NumCPU when ≤ 0) and after
// each call tick (serialised), for progress.
func parallelFor(n, workers int, f func(i int), tick func()) {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	jobs := make(chan int)
	done := make(chan struct{})
	for range min(workers, n) {
		go func() {
			for i := range jobs {
				f(i)
				done <- struct{}{}
			}
		}()
	}
	go func() {
		for i := range n {
			jobs <- i
		}
		close(jobs)
	}()
	for range n {
		<-done
		tick()
	}
}

package infer

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/internal/rng"
)

// MinLightCurvePoints is the fewest observed points inside the 72-day window that
// LightCurveInput accepts.
const MinLightCurvePoints = 100

// LightCurve is photometry of one event: times [d], fluxes (any linear unit) and their
// errors (same unit), times strictly increasing.
type LightCurve struct {
	T, Flux, Err []float64
}

// DatasetInput returns the model input of event i of ds and its true parameters: the
// 72-day window placed so that the event's t0 (its closest approach to the lens centre of
// mass) lies its drawn t0 after the window's start (event.CropOffset; t0 quantised to the
// 0.01-d cadence, and the returned parameters carry that t0), with noise drawn from the default SNR distribution (event.DefaultNoise) by a
// stream of seed and i.
func DatasetInput(ds *dataset.Dataset, i int, seed uint64) ([]float32, event.Params, error) {
	x, _, p, err := datasetWindow(ds, i, seed)
	return x, p, err
}

// DatasetCurve returns event i of ds as DatasetInput draws it (the same window, the same
// noise), as photometry: times of the window [d], the noisy normalised flux and its
// standard deviation under the noise model (event.Observation.SD of the true
// magnification: the error bars the simulation drew the noise with), and the true
// parameters (t0 in the window's time).
func DatasetCurve(ds *dataset.Dataset, i int, seed uint64) (LightCurve, event.Params, error) {
	x, obs, p, err := datasetWindow(ds, i, seed)
	if err != nil {
		return LightCurve{}, p, err
	}
	k, _ := event.CropOffset(ds.Params(i).T0)
	mag := make([]float32, event.WindowPoints)
	if _, err := ds.Window(i, k, mag); err != nil {
		return LightCurve{}, p, err
	}
	lc := LightCurve{T: event.WindowTimes(), Flux: make([]float64, len(x)), Err: make([]float64, len(x))}
	for j, v := range x {
		lc.Flux[j] = float64(v)
		lc.Err[j] = obs.SD(float64(mag[j]))
	}
	return lc, p, nil
}

// datasetWindow is DatasetInput with the observation it drew.
func datasetWindow(ds *dataset.Dataset, i int, seed uint64) ([]float32, event.Observation, event.Params, error) {
	p := ds.Params(i)
	k, t0q := event.CropOffset(p.T0)
	mag := make([]float32, event.WindowPoints)
	if _, err := ds.Window(i, k, mag); err != nil {
		return nil, event.Observation{}, p, err
	}
	p.T0 = t0q
	rs := rng.New(dataset.DeriveSeed(seed, "sample/noise"), uint64(i))
	obs := event.DefaultNoise().Draw(p, rs)
	x := make([]float32, event.WindowPoints)
	event.AddNoise(x, mag, obs, rs)
	return x, obs, p, nil
}

// MagZeroPoint is the zero point of ReadLightCurveUnit's magnitudes: flux = 10^(−0.4·(m −
// 22)), MulensModel's convention (its MAG_ZEROPOINT), so that a fit's source and blend
// fluxes read as theirs.
const MagZeroPoint = 22.0

// Units of ReadLightCurveUnit's value column.
const (
	UnitFlux = "flux" // any linear flux unit (difference-imaging fluxes may be negative)
	UnitMag  = "mag"  // magnitudes, converted to flux with MagZeroPoint
)

// ReadLightCurveUnit reads a light curve whose value column is in unit: UnitMag converts
// magnitudes and their errors to flux (F = 10^(−0.4(m − MagZeroPoint)),
// σ_F = 0.4·ln 10·F·σ_m); UnitFlux takes the values as given, except that a file whose every
// value lies in [5, 30] with errors below 0.5 and under 5% of the value looks like
// magnitudes, which is an error unless strict is false ("FILE,flux" insists). Errors name
// the file.
func ReadLightCurveUnit(r io.Reader, name, unit string, strict bool) (LightCurve, error) {
	lc, err := ReadLightCurve(r, name)
	if err != nil {
		return lc, err
	}
	switch unit {
	case UnitMag:
		for i, m := range lc.Flux {
			f := math.Pow(10, -0.4*(m-MagZeroPoint))
			lc.Flux[i], lc.Err[i] = f, 0.4*math.Ln10*f*lc.Err[i]
		}
	case UnitFlux:
		if strict && looksLikeMagnitudes(lc) {
			lo, hi := lc.Flux[0], lc.Flux[0]
			for _, v := range lc.Flux {
				lo, hi = min(lo, v), max(hi, v)
			}
			return lc, fmt.Errorf("%s: every value lies in [%.3g, %.3g] with errors of a few hundredths: these look like magnitudes; give %s,mag (or %s,flux if they are fluxes)", name, lo, hi, name, name)
		}
	default:
		return lc, fmt.Errorf("%s: unit %q: want %s or %s", name, unit, UnitFlux, UnitMag)
	}
	return lc, nil
}

// looksLikeMagnitudes reports whether every value of lc is in [5, 30] with an error below
// 0.5 and below 5% of the value: typical photometry in magnitudes, and fluxes that narrow
// only by accident of units.
func looksLikeMagnitudes(lc LightCurve) bool {
	for i, v := range lc.Flux {
		if v < 5 || v > 30 || lc.Err[i] >= 0.5 || lc.Err[i] >= 0.05*v {
			return false
		}
	}
	return true
}

// ParseLightCurveArg splits a --lc argument "FILE[,UNIT]" into the file, its unit (UnitFlux
// when absent) and whether the unit was given (an explicit ",flux" turns off the magnitude
// check).
func ParseLightCurveArg(arg string) (file, unit string, explicit bool, err error) {
	file, unit = arg, UnitFlux
	if i := strings.LastIndexByte(arg, ','); i >= 0 {
		file, unit, explicit = arg[:i], arg[i+1:], true
		if unit != UnitFlux && unit != UnitMag {
			return "", "", false, fmt.Errorf("%q: unit %q after the comma: want %s or %s", arg, unit, UnitFlux, UnitMag)
		}
	}
	return file, unit, explicit, nil
}

// ReadLightCurve reads time, flux and flux error columns (CSV or whitespace text, '#'
// comments, an optional non-numeric header line), checking that every value is finite,
// every error positive and the times strictly increasing. Errors name the file (name) and
// line.
func ReadLightCurve(r io.Reader, name string) (LightCurve, error) {
	ts, flux, ferr, err := readColumns(r, name)
	return LightCurve{T: ts, Flux: flux, Err: ferr}, err
}

func readColumns(r io.Reader, name string) (ts, flux, ferr []float64, err error) {
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

// LightCurveInput maps a light curve that covers the model's whole window from its first
// point (Roman-like photometry) to the model's input: WindowInput with the window starting
// at lc.T[0], which needs the curve to span the window and hold at least
// MinLightCurvePoints points in it. Add lc.T[0] to the samples' t0 for the file's time.
func LightCurveInput(lc LightCurve) ([]float32, error) {
	if err := checkLightCurve(lc); err != nil {
		return nil, err
	}
	ts := lc.T
	span := float64(event.WindowPoints-1) * event.Cadence
	t0 := ts[0]
	if last := ts[len(ts)-1]; last < t0+span-1e-9 {
		return nil, fmt.Errorf("the light curve spans %.4g d (from %g to %g); the model needs %.2f d (72 d at %.2g d cadence)", last-t0, t0, last, span, event.Cadence)
	}
	if end := sort.SearchFloat64s(ts, t0+span+1e-9); end < MinLightCurvePoints {
		return nil, fmt.Errorf("%d points in the 72-day window from t = %g: need at least %d", end, t0, MinLightCurvePoints)
	}
	x, _, err := WindowInput(lc, t0)
	return x, err
}

func checkLightCurve(lc LightCurve) error {
	if len(lc.T) == 0 || len(lc.Flux) != len(lc.T) || len(lc.Err) != len(lc.T) {
		return fmt.Errorf("light curve of %d times, %d fluxes and %d errors: want equal, non-zero lengths", len(lc.T), len(lc.Flux), len(lc.Err))
	}
	return nil
}

// MinWindowPoints is the fewest observed points inside the window that WindowInput accepts.
const MinWindowPoints = 20

// Window is where the model's 72-day window lies on a light curve and how the curve fills
// it; the network was trained on windows sampled every 0.01 d (event.Cadence), so a
// sparser or gapped curve gives an approximate proposal (Fit's MCMC uses the data as
// observed).
type Window struct {
	Start    float64 // the window's first time, in the data's time [d]: the samples' t0 are Start + the model's t0
	Auto     bool    // placed by PlaceWindow's rule, not given
	Points   int     // observed points inside [Start, Start + 72 d)
	Spacing  float64 // the median spacing of those points [d] (the model's cadence is 0.01 d)
	MaxGap   float64 // the longest stretch of the window without an observation [d] (its ends included)
	Baseline float64 // the baseline flux the curve was divided by (the file's unit)
}

// PlaceWindow returns the start of the model's window on lc, in the data's time: centred
// on the event's peak — the observed point of the highest 3-point running median of the
// significance (F/F_base − 1)/(σ/F_base), F_base the median of the faintest 20% of all
// points, or the brighter of its neighbours (a single outlier cannot place it) — and, when the curve spans at least the window, moved to lie inside the curve
// (so a curve of exactly one window starts it at its first point). The model's prior
// places t0 anywhere in the window, so the centring need not be exact.
func PlaceWindow(lc LightCurve) (float64, error) {
	if err := checkLightCurve(lc); err != nil {
		return 0, err
	}
	span := float64(event.WindowPoints-1) * event.Cadence
	base, err := faintMedian(lc.Flux)
	if err != nil {
		return 0, err
	}
	n := len(lc.T)
	z := make([]float64, n)
	for i := range n {
		z[i] = (lc.Flux[i] - base) / lc.Err[i]
		if math.IsNaN(z[i]) {
			z[i] = math.Inf(-1)
		}
	}
	best, iPeak := math.Inf(-1), 0
	for i := range n {
		lo, hi := max(0, i-1), min(n-1, i+1)
		w := append([]float64(nil), z[lo:hi+1]...)
		sort.Float64s(w)
		if m := w[len(w)/2]; m > best {
			best, iPeak = m, i
		}
	}
	// The peak is the brightest of the three points around the highest running median.
	tPeak, zPeak := lc.T[iPeak], z[iPeak]
	for i := max(0, iPeak-1); i <= min(n-1, iPeak+1); i++ {
		if z[i] > zPeak {
			tPeak, zPeak = lc.T[i], z[i]
		}
	}
	start := tPeak - span/2
	// The 1e-3-d slack: times written with a few decimals (HJD − 2450000 to 1e-5 d) span
	// a window up to rounding.
	if first, last := lc.T[0], lc.T[n-1]; last-first >= span-1e-3 {
		start = math.Min(math.Max(start, first), last-span)
	}
	return start, nil
}

// faintMedian returns the median of the faintest 20% of the fluxes (at least one): the
// baseline estimate of the network's normalisation (event.Normalise).
func faintMedian(flux []float64) (float64, error) {
	if len(flux) == 0 {
		return 0, fmt.Errorf("no points to estimate the baseline from")
	}
	sorted := append([]float64(nil), flux...)
	sort.Float64s(sorted)
	// event.Baseline's estimator (the network's normalisation), in float64 for the file's
	// fluxes.
	faint := sorted[:max(1, int(float64(len(sorted))*event.BaselineFraction))]
	base := faint[len(faint)/2]
	if len(faint)%2 == 0 {
		base = 0.5 * (faint[len(faint)/2-1] + faint[len(faint)/2])
	}
	if !(base > 0) || math.IsInf(base, 0) {
		return 0, fmt.Errorf("baseline (median of the faintest 20%%) %g must be positive and finite", base)
	}
	return base, nil
}

// WindowInput maps a light curve to the model's input window starting at start (the
// data's time): the grid start + 0.01·j d (j < 7200, event.WindowPoints), the flux
// interpolated linearly between the observations on either side of each grid time and
// divided by the baseline, the median of the faintest 20% of the points in the window
// (event.Normalise); before the first observation and after the last the input is the
// baseline (1: no information; Window.MaxGap says how much of the window that is). The
// window must hold at least MinWindowPoints observations. Points outside it are not seen
// by the network (a fit's likelihood uses them all).
func WindowInput(lc LightCurve, start float64) ([]float32, Window, error) {
	w := Window{Start: start}
	if err := checkLightCurve(lc); err != nil {
		return nil, w, err
	}
	if math.IsNaN(start) || math.IsInf(start, 0) {
		return nil, w, fmt.Errorf("window start %g must be finite", start)
	}
	ts := lc.T
	span := float64(event.WindowPoints-1) * event.Cadence
	lo := sort.SearchFloat64s(ts, start-1e-9)
	hi := sort.SearchFloat64s(ts, start+span+1e-9)
	w.Points = hi - lo
	if w.Points < MinWindowPoints {
		return nil, w, fmt.Errorf("%d points in the 72-day window from t = %g to %g: need at least %d", w.Points, start, start+span, MinWindowPoints)
	}
	base, err := faintMedian(lc.Flux[lo:hi])
	if err != nil {
		return nil, w, err
	}
	w.Baseline = base
	gaps := make([]float64, 0, w.Points-1)
	w.MaxGap = math.Max(ts[lo]-start, start+span-ts[hi-1])
	for i := lo + 1; i < hi; i++ {
		gaps = append(gaps, ts[i]-ts[i-1])
		w.MaxGap = math.Max(w.MaxGap, ts[i]-ts[i-1])
	}
	sort.Float64s(gaps)
	w.Spacing = gaps[len(gaps)/2]
	// Interpolate with the observations just outside the window too, so that the grid's
	// first and last times lie between two observations where the data allow.
	a, b := max(lo-1, 0), min(hi+1, len(ts))
	xn, _, err := event.Normalise(lc.Flux[a:b], lc.Err[a:b], base)
	if err != nil {
		return nil, w, fmt.Errorf("baseline (median of the faintest 20%%): %v", err)
	}
	tt := ts[a:b]
	x := make([]float32, event.WindowPoints)
	k := 0
	for j := range x {
		t := start + float64(j)*event.Cadence
		if t < tt[0]-1e-9 || t > tt[len(tt)-1]+1e-9 {
			x[j] = 1
			continue
		}
		for k+1 < len(tt)-1 && tt[k+1] <= t {
			k++
		}
		if k+1 >= len(tt) {
			x[j] = float32(xn[len(tt)-1])
			continue
		}
		f := (t - tt[k]) / (tt[k+1] - tt[k])
		f = math.Min(math.Max(f, 0), 1)
		x[j] = float32(xn[k] + f*(xn[k+1]-xn[k]))
	}
	return x, w, nil
}

// ProposalInput places the model's window on lc — at *start when start is not nil, else by
// PlaceWindow — and maps the curve onto it (WindowInput): the network's input for a light
// curve of any cadence, and the window it saw (its Start is the offset of the samples' t0).
func ProposalInput(lc LightCurve, start *float64) ([]float32, Window, error) {
	var t1 float64
	if start != nil {
		t1 = *start
	} else {
		var err error
		if t1, err = PlaceWindow(lc); err != nil {
			return nil, Window{}, err
		}
	}
	x, w, err := WindowInput(lc, t1)
	w.Auto = start == nil
	return x, w, err
}

// Sparse reports whether the window's observations are much sparser than the model's
// training cadence (median spacing above 4× event.Cadence, an hour): the network's
// proposal is then approximate.
func (w Window) Sparse() bool { return w.Spacing > 4*event.Cadence }

// String describes the window in one line, for logs.
func (w Window) String() string {
	how := "given"
	if w.Auto {
		how = "automatic: centred on the peak, inside the data"
	}
	s := fmt.Sprintf("window %.6g – %.6g (%s): %d points, median spacing %.3g d, longest gap %.3g d",
		w.Start, w.Start+float64(event.WindowPoints-1)*event.Cadence, how, w.Points, w.Spacing, w.MaxGap)
	if w.Sparse() {
		s += fmt.Sprintf("; the model was trained on a %.2g-d cadence, so its proposal from these sparser data (interpolated) is approximate", event.Cadence)
	}
	return s
}

package evaluate

import (
	"math"
	"sort"

	"github.com/mlcu/mlcu/infer"
)

// Marginal density estimation and the per-parameter metrics, on samples in the model's
// coordinates (log10 s, log10 q, α [rad], u0, t0 [d], log10 tE, log10 ρ: the
// standardiser's coordinates before the affine map to [−1, 1]).

// KDE settings. The 1-D marginal of a parameter is a Gaussian kernel density estimate with
// Silverman's bandwidth, h = 0.9·min(sd, IQR/1.349)·n^(−1/5), computed on GridPoints
// equally spaced points over the prior's range by linear binning of the samples and a
// discrete convolution with the kernel (exact to O(Δ²) for Δ ≪ h). A bounded coordinate is
// reflected at its ends (so the density does not halve there); a periodic one (α) wraps.
// A mode is a local maximum of the estimate whose density is at least ModeFraction of the
// highest; modes closer than 2h to a higher one are merged into it (kernel ripples).
const (
	GridPoints   = 256
	ModeFraction = 0.25
)

// Axis describes one coordinate for the estimate: its range and how its ends behave.
type Axis struct {
	Lo, Hi   float64 // the prior's range in the model's coordinate
	Bounded  bool    // the prior's support is [Lo, Hi]: reflect at the ends
	Periodic bool    // the coordinate is an angle of period Hi − Lo: wrap
}

// Mode is a peak of a marginal density.
type Mode struct {
	At      float64 // location, in the model's coordinate
	Density float64 // the estimate's density there (per unit of the coordinate)
}

// Marginal is the kernel density estimate of one parameter's samples.
type Marginal struct {
	Grid, Density []float64 // GridPoints centres over [Lo, Hi] and the density there
	Bandwidth     float64
	Modes         []Mode // by density, highest (the global mode) first
}

// Estimate returns the marginal of the samples xs (in the model's coordinate) on axis a.
// Samples outside [Lo, Hi] (possible only for an unbounded coordinate) are clamped to the
// grid's end bins.
func Estimate(xs []float64, a Axis) Marginal {
	n := len(xs)
	span := a.Hi - a.Lo
	dx := span / GridPoints
	m := Marginal{Grid: make([]float64, GridPoints), Density: make([]float64, GridPoints)}
	for i := range m.Grid {
		m.Grid[i] = a.Lo + (float64(i)+0.5)*dx
	}
	if n == 0 {
		return m
	}
	h := silverman(xs)
	if a.Periodic {
		h = math.Min(h, span/4)
	}
	h = math.Max(h, dx) // at least one bin: the grid cannot resolve less
	m.Bandwidth = h
	// Linear binning onto the grid centres.
	counts := make([]float64, GridPoints)
	for _, x := range xs {
		u := (x-a.Lo)/dx - 0.5
		if a.Periodic {
			u = math.Mod(u+0.5, GridPoints)
			if u < 0 {
				u += GridPoints
			}
			u -= 0.5
		}
		i := int(math.Floor(u))
		f := u - float64(i)
		add := func(i int, w float64) {
			switch {
			case a.Periodic:
				i = ((i % GridPoints) + GridPoints) % GridPoints
			case i < 0:
				i = 0
			case i >= GridPoints:
				i = GridPoints - 1
			}
			counts[i] += w
		}
		add(i, 1-f)
		add(i+1, f)
	}
	// Convolution with the Gaussian kernel out to 4h, reflecting or wrapping at the ends.
	r := int(math.Ceil(4 * h / dx))
	kern := make([]float64, r+1)
	for k := range kern {
		z := float64(k) * dx / h
		kern[k] = math.Exp(-0.5*z*z) / (h * math.Sqrt(2*math.Pi))
	}
	for i, c := range counts {
		if c == 0 {
			continue
		}
		for k := -r; k <= r; k++ {
			j := i + k
			switch {
			case a.Periodic:
				j = ((j % GridPoints) + GridPoints) % GridPoints
			case a.Bounded:
				// Reflection about the range's ends (bin edges −0.5 and GridPoints−0.5).
				for j < 0 || j >= GridPoints {
					if j < 0 {
						j = -1 - j
					}
					if j >= GridPoints {
						j = 2*GridPoints - 1 - j
					}
				}
			default:
				if j < 0 || j >= GridPoints {
					continue
				}
			}
			m.Density[j] += c * kern[abs(k)]
		}
	}
	for i := range m.Density {
		m.Density[i] /= float64(n)
	}
	m.Modes = findModes(m, a, h)
	return m
}

// findModes returns the local maxima of m's density at least ModeFraction of the highest,
// merged within 2h of a higher one, highest first.
func findModes(m Marginal, a Axis, h float64) []Mode {
	d := m.Density
	top := 0.0
	for _, v := range d {
		top = math.Max(top, v)
	}
	if top == 0 {
		return nil
	}
	var peaks []Mode
	for i := range d {
		l, r := i-1, i+1
		if a.Periodic {
			l, r = (l+GridPoints)%GridPoints, r%GridPoints
		}
		left := l >= 0 && d[l] > d[i]
		right := r < GridPoints && d[r] >= d[i]
		if !left && !right && d[i] >= ModeFraction*top {
			peaks = append(peaks, Mode{At: m.Grid[i], Density: d[i]})
		}
	}
	sort.SliceStable(peaks, func(i, j int) bool { return peaks[i].Density > peaks[j].Density })
	var modes []Mode
	for _, p := range peaks {
		keep := true
		for _, q := range modes {
			if Distance(p.At, q.At, a) < 2*h {
				keep = false
				break
			}
		}
		if keep {
			modes = append(modes, p)
		}
	}
	return modes
}

// Distance is |x − y| on the axis (the shorter way round for a periodic one).
func Distance(x, y float64, a Axis) float64 {
	d := math.Abs(x - y)
	if a.Periodic {
		p := a.Hi - a.Lo
		d = math.Mod(d, p)
		d = math.Min(d, p-d)
	}
	return d
}

// silverman returns Silverman's rule-of-thumb bandwidth of xs.
func silverman(xs []float64) float64 {
	n := float64(len(xs))
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= n
	v := 0.0
	for _, x := range xs {
		v += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(v / math.Max(n-1, 1))
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	iqr := (infer.Quantile(s, 0.75) - infer.Quantile(s, 0.25)) / 1.349
	spread := sd
	if iqr > 0 && iqr < sd {
		spread = iqr
	}
	return 0.9 * spread * math.Pow(n, -0.2)
}

func abs(k int) int {
	if k < 0 {
		return -k
	}
	return k
}

// Levels are the nominal levels of the central credible intervals whose coverage is
// measured: 10%…90% in steps of 10%, 68% and 95%, increasing.
var Levels = []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.68, 0.7, 0.8, 0.9, 0.95}

// ParamResult is what one event's posterior says of one parameter, in the model's
// coordinate.
type ParamResult struct {
	Truth     float64
	Mode      float64 // the global mode of the marginal
	Nearest   float64 // the mode nearest the truth (Mode when it is the global one)
	Modes     int     // number of modes
	PeakRatio float64 // the global mode's density over the prior's density there
	Lo68      float64 // central 68% interval
	Hi68      float64 //
	Lo95      float64 // central 95% interval
	Hi95      float64 //
	Covered   []bool  // per Levels: the truth lies in the central interval of that level
	Rank      int     // SBC rank: samples below the truth (0…K)
}

// Constrained is Zhang et al. (2021)'s criterion: the peak posterior density is at least
// twice the prior density (at the peak).
func (r ParamResult) Constrained() bool { return r.PeakRatio >= 2 }

// Correct is Zhang et al. (2021)'s criterion: the true value lies closest to the global
// mode (among the marginal's modes).
func (r ParamResult) Correct() bool { return r.Nearest == r.Mode }

// Analyse computes one parameter's result from its samples xs (model coordinate; xs is
// sorted in place), the truth, the axis, and the prior's density (per unit of the
// coordinate) as a function of the coordinate.
func Analyse(xs []float64, truth float64, a Axis, priorDensity func(u float64) float64) ParamResult {
	sort.Float64s(xs)
	m := Estimate(xs, a)
	r := ParamResult{Truth: truth, Modes: len(m.Modes), Covered: make([]bool, len(Levels))}
	if len(m.Modes) > 0 {
		r.Mode = m.Modes[0].At
		r.Nearest = r.Mode
		best := Distance(truth, r.Mode, a)
		for _, md := range m.Modes[1:] {
			if d := Distance(truth, md.At, a); d < best {
				best, r.Nearest = d, md.At
			}
		}
		if pd := priorDensity(r.Mode); pd > 0 {
			r.PeakRatio = m.Modes[0].Density / pd
		} else {
			r.PeakRatio = math.Inf(1)
		}
	}
	for l, p := range Levels {
		lo, hi := infer.Quantile(xs, (1-p)/2), infer.Quantile(xs, (1+p)/2)
		r.Covered[l] = lo <= truth && truth <= hi
	}
	r.Lo68, r.Hi68 = infer.Quantile(xs, 0.16), infer.Quantile(xs, 0.84)
	r.Lo95, r.Hi95 = infer.Quantile(xs, 0.025), infer.Quantile(xs, 0.975)
	r.Rank = sort.SearchFloat64s(xs, truth) // samples < truth
	return r
}

// TARPScore returns the TARP statistic of one event (Lemos et al. 2023): with the reference
// point ref, the fraction of the samples (n × D, row-major, in any fixed coordinates) that
// lie closer to ref than the truth does (Euclidean distance). Over a calibrated test set it
// is uniform on [0, 1].
func TARPScore(samples []float64, truth, ref []float64) float64 {
	D := len(truth)
	n := len(samples) / D
	dt := sqDist(truth, ref)
	closer := 0
	for i := range n {
		if sqDist(samples[i*D:(i+1)*D], ref) < dt {
			closer++
		}
	}
	return float64(closer) / float64(n)
}

func sqDist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return s
}

// ECP returns the expected coverage probability of TARP at each level in alphas: the
// fraction of scores below it.
func ECP(scores, alphas []float64) []float64 {
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	out := make([]float64, len(alphas))
	for i, a := range alphas {
		out[i] = float64(sort.SearchFloat64s(s, a)) / float64(len(s))
	}
	return out
}

// KSUniform returns the Kolmogorov–Smirnov distance of the scores in [0, 1] from the uniform
// distribution, and its asymptotic p-value (Kolmogorov's distribution, with Stephens'
// correction for finite n).
func KSUniform(scores []float64) (dist, p float64) {
	s := append([]float64(nil), scores...)
	sort.Float64s(s)
	n := float64(len(s))
	for i, v := range s {
		dist = math.Max(dist, math.Max(float64(i+1)/n-v, v-float64(i)/n))
	}
	return dist, kolmogorovQ((math.Sqrt(n) + 0.12 + 0.11/math.Sqrt(n)) * dist)
}

// kolmogorovQ is P(K > x) of the Kolmogorov distribution: 2 Σ (−1)^(k−1) exp(−2k²x²).
func kolmogorovQ(x float64) float64 {
	if x < 0.2 {
		return 1
	}
	s := 0.0
	for k := 1; k <= 100; k++ {
		t := 2 * math.Exp(-2*float64(k*k)*x*x)
		if k%2 == 0 {
			t = -t
		}
		s += t
		if math.Abs(t) < 1e-12 {
			break
		}
	}
	return math.Min(math.Max(s, 0), 1)
}

// RankChi2 returns the χ² statistic of the SBC ranks (each in 0…K) in bins equal-width
// bins against the uniform expectation, and its p-value (bins − 1 degrees of freedom).
func RankChi2(ranks []int, K, bins int) (chi2, p float64) {
	counts := make([]float64, bins)
	for _, r := range ranks {
		b := min(r*bins/(K+1), bins-1)
		counts[b]++
	}
	// Bin b holds the ranks r with ⌊r·bins/(K+1)⌋ = b: its share of the K+1 values.
	for b := range bins {
		lo := (b*(K+1) + bins - 1) / bins
		hi := ((b+1)*(K+1) + bins - 1) / bins
		e := float64(len(ranks)) * float64(hi-lo) / float64(K+1)
		if e > 0 {
			chi2 += (counts[b] - e) * (counts[b] - e) / e
		}
	}
	return chi2, chi2Survival(chi2, float64(bins-1))
}

// chi2Survival is P(X > x) for X ~ χ²(k): the regularised upper incomplete gamma Q(k/2, x/2).
func chi2Survival(x, k float64) float64 {
	return upperGammaQ(k/2, x/2)
}

// upperGammaQ is the regularised upper incomplete gamma function Q(a, x), by its series
// (x < a+1) or its continued fraction (Numerical Recipes' gser/gcf method).
func upperGammaQ(a, x float64) float64 {
	if x <= 0 {
		return 1
	}
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return 1 - sum*math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c, d := 1/tiny, 1/b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return math.Exp(-x+a*math.Log(x)-lg) * h
}

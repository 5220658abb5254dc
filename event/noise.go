package event

import (
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"github.com/mlcu/mlcu/nn"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

// The time grid of simulated curves.
const (
	Cadence      = lens.RomanCadence // days between samples (Roman's ~15-minute cadence)
	WindowDays   = 72                // length of the observed window the network sees (days)
	WindowPoints = 7200              // samples in a window: WindowDays/Cadence
	StoredPoints = 2 * WindowPoints  // samples in a stored curve: 144 days
	CentreIndex  = WindowPoints      // stored index of the event's t0
)

// StoredTimes returns the times of a stored curve relative to the event's t0, in days:
// τ_i = (i − CentreIndex)·Cadence for i = 0, …, StoredPoints−1, that is −72, −71.99, …,
// 71.99, with τ = 0 exactly at i = CentreIndex. A stored curve is the magnification of
// Params.CentredEvent at these times.
func StoredTimes() []float64 {
	ts := make([]float64, StoredPoints)
	for i := range ts {
		ts[i] = float64(i-CentreIndex) * Cadence
	}
	return ts
}

// WindowTimes returns the times of a window's samples from its start, in days:
// j·Cadence for j = 0, …, WindowPoints−1 (lens.RomanTimes(0, WindowDays, Cadence)).
func WindowTimes() []float64 { return lens.RomanTimes(0, WindowDays, Cadence) }

// CentredEvent returns the lens event of pp with t0 = 0: the event in its own frame, which
// the simulator evaluates at StoredTimes. Where the event falls in the observed window is
// decided later, by the crop (CropOffset).
func (pp Params) CentredEvent() lens.Event {
	e := pp.Event()
	e.T0 = 0
	return e
}

// CropOffset returns the first stored index k of the 72-day window [k, k+WindowPoints) that
// places the event at t0 days after the window's start, and that t0 quantised to the
// cadence, t0q = p·Cadence with p = round(t0/Cadence) clamped to [0, WindowPoints], so
// k = CentreIndex − p. Window sample j is then stored sample k + j, at τ = (j − p)·Cadence
// from the event's t0, which is the time j·Cadence − t0q up to the rounding of the times
// (1e-14 d). For every t0 the window lies inside the stored curve (0 ≤ k ≤ WindowPoints).
// Use t0q, not t0, as the event's label. It panics when t0 is NaN.
func CropOffset(t0 float64) (k int, t0q float64) {
	if math.IsNaN(t0) {
		panic("event: CropOffset(NaN)")
	}
	p := int(math.Round(math.Min(math.Max(t0/Cadence, 0), WindowPoints)))
	return CentreIndex - p, float64(p) * Cadence
}

// Observation is the photometric model of one simulated light curve. With the magnification
// A and the baseline flux F0 = SNR² detector counts, the expected flux is
// F = F0·(fs·A + 1 − fs) counts, and each sample gets independent Gaussian noise of
// σ = √F counts (photon noise), so that SNR is the signal-to-noise ratio of the baseline.
//
// The network's input is the observed flux normalised by the baseline, x = F_obs/F0:
//
//	x = fs·A + 1 − fs + n/F0,   n ~ N(0, F),   so   x ~ N(Mean(A), SD(A)²)
//	Mean(A) = fs·A + 1 − fs,    SD(A) = √Mean(A) / SNR
//
// x = 1 is the baseline; real data are normalised the same way by Normalise.
type Observation struct {
	SNR float64 // signal-to-noise ratio of the baseline flux: F0 = SNR² counts
	Fs  float64 // source flux fraction, in (0, 1]
}

// Mean returns the expected normalised flux for magnification a: fs·a + 1 − fs.
func (o Observation) Mean(a float64) float64 { return o.Fs*a + 1 - o.Fs }

// SD returns the standard deviation of the normalised flux for magnification a:
// √(fs·a + 1 − fs)/SNR.
func (o Observation) SD(a float64) float64 { return math.Sqrt(o.Mean(a)) / o.SNR }

// check panics unless o is a usable observation.
func (o Observation) check(fn string) {
	if !(o.SNR > 0) || math.IsInf(o.SNR, 0) || !(o.Fs > 0 && o.Fs <= 1) {
		panic(fmt.Sprintf("event: %s: observation %+v needs SNR > 0 finite and fs in (0, 1]", fn, o))
	}
}

// AddNoise writes to dst the noisy normalised flux x_i = Mean(A_i) + SD(A_i)·z_i of the
// magnifications mags (see Observation), with z_i standard normal variates drawn from src
// in pairs (rng.Source.NormalPair: z_0, z_1 from the first pair, and so on), so it consumes
// 2·⌈n/2⌉ raw outputs for n samples. The arithmetic is in float64, the result rounded to
// float32. dst may be mags. It panics when the lengths differ or o is not usable (SNR ≤ 0,
// fs outside (0, 1]).
func AddNoise(dst, mags []float32, o Observation, src *rng.Source) {
	if len(dst) != len(mags) {
		panic(fmt.Sprintf("event: AddNoise: %d outputs for %d magnifications", len(dst), len(mags)))
	}
	o.check("AddNoise")
	inv := 1 / o.SNR
	for i := 0; i < len(mags); i += 2 {
		z0, z1 := src.NormalPair()
		m := o.Mean(float64(mags[i]))
		dst[i] = float32(m + math.Sqrt(max(m, 0))*inv*z0)
		if i+1 < len(mags) {
			m = o.Mean(float64(mags[i+1]))
			dst[i+1] = float32(m + math.Sqrt(max(m, 0))*inv*z1)
		}
	}
}

// Normalise returns the normalised flux x = flux/baseline, the network's input (see
// Observation), and its uncertainty xErr = fluxErr/baseline (nil when fluxErr is nil), for
// photometry in any linear flux unit with the baseline (unmagnified source plus blend) flux
// in the same unit. It returns an error when the baseline is not positive and finite or the
// lengths differ.
func Normalise(flux, fluxErr []float64, baseline float64) (x, xErr []float64, err error) {
	if !(baseline > 0) || math.IsInf(baseline, 0) {
		return nil, nil, fmt.Errorf("baseline flux %g must be positive and finite", baseline)
	}
	if fluxErr != nil && len(fluxErr) != len(flux) {
		return nil, nil, fmt.Errorf("%d flux errors for %d fluxes", len(fluxErr), len(flux))
	}
	x = make([]float64, len(flux))
	for i, f := range flux {
		x[i] = f / baseline
	}
	if fluxErr != nil {
		xErr = make([]float64, len(fluxErr))
		for i, e := range fluxErr {
			xErr[i] = e / baseline
		}
	}
	return x, xErr, nil
}

// NoiseConfig is the distribution of the observation model's free parameter, the baseline
// SNR. Its JSON form is {"snr": <Dist>}, for example the default
// {"snr": {"family": "uniform", "min": 23, "max": 200}}.
type NoiseConfig struct {
	SNR Dist `json:"snr"`
}

// DefaultNoise returns the noise configuration of Zhang et al. (2021): SNR ~ U(23, 200).
func DefaultNoise() NoiseConfig { return NoiseConfig{SNR: Uniform(23, 200)} }

// Validate reports why c is not a usable noise configuration, or nil: the SNR distribution
// must be valid, with a positive and finite support.
func (c NoiseConfig) Validate() error {
	if err := c.SNR.validate("snr"); err != nil {
		return err
	}
	if lo, hi := c.SNR.Support(); !(lo > 0) || math.IsInf(hi, 1) {
		return fmt.Errorf("snr: support [%g, %g] must be positive and finite", lo, hi)
	}
	return nil
}

// UnmarshalJSON reads c from its JSON form, rejecting unknown keys, and validates it.
func (c *NoiseConfig) UnmarshalJSON(data []byte) error {
	var w struct {
		SNR json.RawMessage `json:"snr"`
	}
	if err := strictDecode(data, &w); err != nil {
		return fmt.Errorf("noise: %v", err)
	}
	if len(w.SNR) == 0 || string(w.SNR) == "null" {
		return fmt.Errorf(`noise: missing "snr"`)
	}
	d, err := parseDist(w.SNR)
	if err != nil {
		return fmt.Errorf("noise: snr: %v", err)
	}
	nc := NoiseConfig{SNR: d}
	if err := nc.Validate(); err != nil {
		return fmt.Errorf("noise: %v", err)
	}
	*c = nc
	return nil
}

// Draw returns the observation of an event with parameters pp: SNR drawn from c (one raw
// output of src, see Dist.Sample) and fs = pp.Fs.
func (c NoiseConfig) Draw(pp Params, src *rng.Source) Observation {
	return Observation{SNR: c.SNR.Sample(src), Fs: pp.Fs}
}

// inputFloor keeps the logarithm of NetworkInput finite: a normalised flux below it (more
// than 99.9% below the baseline, impossible at SNR ≥ 23 but possible in bad real data) is
// clamped.
const inputFloor = 1e-3

// InputVersion names the network input that NetworkInput computes; a model's config.json
// records the input it was trained on (ModelConfig.Input) and a model trained on another
// one is refused, since its posteriors would be silently wrong.
const InputVersion = "ln-flux-over-faint20-baseline"

// BaselineFraction is the share of a window's faintest points whose median is the baseline
// estimate of NetworkInput (and of infer.LightCurveInput's flux scale).
const BaselineFraction = 0.2

// Baseline estimates the baseline (unmagnified) level of a flux window from the window
// itself: the median of its faintest BaselineFraction of points (at least one). Training
// normalises by the true baseline and real data by none at all, so every input to the
// network is divided by this estimate of its own (NetworkInput): the same estimator, with
// the same noise-dependent bias, on simulated and real data, and an input independent of the
// flux unit. scratch (len(x) at least) is overwritten; it allocates when scratch is short.
func Baseline(x, scratch []float32) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	if len(scratch) < n {
		scratch = make([]float32, n)
	}
	w := scratch[:n]
	copy(w, x)
	k := max(1, int(float64(n)*BaselineFraction))
	faint := w[:k]
	selectK(w, k) // w[:k] are the k faintest points, in no order
	// The median of faint: its middle element (or the mean of the middle two).
	m := k / 2
	selectK(faint, m+1)
	hi := float64(maxOf(faint[:m+1]))
	if k%2 == 1 {
		return hi
	}
	selectK(faint, m)
	lo := float64(maxOf(faint[:m]))
	return 0.5 * (lo + hi)
}

// selectK reorders v so that v[:k] hold its k smallest values (Hoare's quickselect with the
// median of three as pivot; expected O(len(v))). NaNs sort last.
func selectK(v []float32, k int) {
	less := func(a, b float32) bool { return a < b || (b != b && a == a) }
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if less(v[mid], v[lo]) {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if less(v[hi], v[lo]) {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if less(v[hi], v[mid]) {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for less(v[i], pivot) {
				i++
			}
			for less(pivot, v[j]) {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		// v[lo..j] ≤ pivot ≤ v[i..hi]; the k-th smallest (index k−1) lies in one part.
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}

func maxOf(v []float32) float32 {
	m := v[0]
	for _, x := range v[1:] {
		if x > m || m != m {
			m = x
		}
	}
	return m
}

// baselineScratch holds NetworkInput's scratch windows.
var baselineScratch = sync.Pool{New: func() any { return new([]float32) }}

// NetworkInput turns a flux window x (WindowPoints samples of flux in any linear unit; see
// AddNoise and Normalise) into the network's input: x divided by its own Baseline estimate,
// the mean over each group of bin samples (nn.BinInput), then the natural logarithm, so
// that dst ≈ ln(fs·A + 1 − fs), about 0 at the baseline. It is the one transform of the
// input for training (mlcu train), datasets and light curves (mlcu sample, mlcu eval), so
// the network meets the same estimator of the baseline everywhere (InputVersion). A window
// whose baseline estimate is not positive (impossible for simulated data; bad real data) is
// taken as it is. The logarithm compresses magnifications of 1e3 and more to a few units:
// on the raw flux, a caustic crossing in one event dominates the batch-norm statistics of
// its whole batch, and the running statistics used in evaluation then fit no batch (measured:
// validation NLL rising from 5.7 to 140 nats while the training NLL fell to -0.6).
func NetworkInput(dst, x []float32, bin int) {
	sp := baselineScratch.Get().(*[]float32)
	if len(*sp) < len(x) {
		*sp = make([]float32, len(x))
	}
	b := Baseline(x, *sp)
	baselineScratch.Put(sp)
	scale := 1.0
	if b > 0 && !math.IsInf(b, 0) {
		scale = 1 / b
	}
	nn.BinInput(dst, x, bin)
	for i, v := range dst {
		dst[i] = float32(math.Log(math.Max(float64(v)*scale, inputFloor)))
	}
}

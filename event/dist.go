package event

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/internal/rng"
)

// The families of Dist.
const (
	FamilyUniform    = "uniform"     // uniform on [Min, Max]
	FamilyLogUniform = "log-uniform" // log10 of the value uniform on [log10 Min, log10 Max]
	FamilyNormal     = "normal"      // N(Mean, SD²), truncated to [Min, Max] when Truncated
	FamilyLogNormal  = "log-normal"  // log10 of the value ~ N(Mean, SD²), truncated to [Min, Max] when Truncated
	FamilyFixed      = "fixed"       // always Value
)

// families lists the family names in the order error messages give them.
var families = []string{FamilyUniform, FamilyLogUniform, FamilyNormal, FamilyLogNormal, FamilyFixed}

// maxTailSD is how far, in standard deviations, the nearer end of a truncation interval may
// lie from the mean: Φ(−30) ≈ 5e-198 is still a normal float64, so the sampler keeps its
// relative precision. Beyond it the prior would in practice never be what the user meant.
const maxTailSD = 30

// Dist is the prior distribution of one parameter. Min and Max are always in the
// parameter's own (physical) units, also for the log families; Mean and SD are those of the
// value for "normal" and of log10 of the value for "log-normal". Which fields a family uses:
//
//	uniform      Min, Max                     (Min < Max)
//	log-uniform  Min, Max                     (0 < Min < Max)
//	normal       Mean, SD; Min, Max if Truncated (SD > 0, Min < Max)
//	log-normal   Mean, SD; Min, Max if Truncated (SD > 0, 0 < Min < Max)
//	fixed        Value
//
// In a prior file a Dist is a JSON object with the key "family" and the keys of the fields
// it uses, in lower case ("min", "max", "mean", "sd", "value"); a normal or log-normal
// distribution is truncated exactly when "min" and "max" are given. Keys that the family
// does not use are an error.
type Dist struct {
	Family    string
	Min, Max  float64 // support (uniform, log-uniform) or truncation (normal, log-normal), physical units
	Mean, SD  float64 // normal: of the value; log-normal: of log10 of the value
	Truncated bool    // normal and log-normal: restricted to [Min, Max]
	Value     float64 // fixed
}

// Uniform returns the uniform distribution on [min, max].
func Uniform(min, max float64) Dist { return Dist{Family: FamilyUniform, Min: min, Max: max} }

// LogUniform returns the distribution whose log10 is uniform on [log10 min, log10 max].
func LogUniform(min, max float64) Dist { return Dist{Family: FamilyLogUniform, Min: min, Max: max} }

// Normal returns the normal distribution N(mean, sd²).
func Normal(mean, sd float64) Dist { return Dist{Family: FamilyNormal, Mean: mean, SD: sd} }

// TruncNormal returns N(mean, sd²) truncated to [min, max].
func TruncNormal(mean, sd, min, max float64) Dist {
	return Dist{Family: FamilyNormal, Mean: mean, SD: sd, Min: min, Max: max, Truncated: true}
}

// LogNormal returns the distribution whose log10 is N(mean, sd²).
func LogNormal(mean, sd float64) Dist { return Dist{Family: FamilyLogNormal, Mean: mean, SD: sd} }

// TruncLogNormal returns the distribution whose log10 is N(mean, sd²), truncated so that the
// value lies in [min, max] (physical units).
func TruncLogNormal(mean, sd, min, max float64) Dist {
	return Dist{Family: FamilyLogNormal, Mean: mean, SD: sd, Min: min, Max: max, Truncated: true}
}

// Fixed returns the distribution that always gives v.
func Fixed(v float64) Dist { return Dist{Family: FamilyFixed, Value: v} }

// isLog reports whether d is defined on log10 of the value.
func (d Dist) isLog() bool { return d.Family == FamilyLogUniform || d.Family == FamilyLogNormal }

// hasBounds reports whether d uses Min and Max.
func (d Dist) hasBounds() bool {
	return d.Family == FamilyUniform || d.Family == FamilyLogUniform || d.Truncated
}

// finite reports whether every x is neither NaN nor infinite.
func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// validate reports the first reason why d is not a distribution, naming the parameter name
// and the offending field, or nil.
func (d Dist) validate(name string) error {
	switch d.Family {
	case FamilyUniform, FamilyLogUniform, FamilyNormal, FamilyLogNormal:
	case FamilyFixed:
		if !finite(d.Value) {
			return fmt.Errorf("%s: value = %g must be finite", name, d.Value)
		}
		return nil
	case "":
		return fmt.Errorf("%s: no family (want one of %q)", name, families)
	default:
		return fmt.Errorf("%s: unknown family %q (want one of %q)", name, d.Family, families)
	}
	if d.Family == FamilyNormal || d.Family == FamilyLogNormal {
		if !finite(d.Mean) {
			return fmt.Errorf("%s: mean = %g must be finite", name, d.Mean)
		}
		if !(d.SD > 0) || !finite(d.SD) {
			return fmt.Errorf("%s: sd = %g must be positive and finite", name, d.SD)
		}
		// Quantiles reach |z| ≤ 8.3 (see rng.Source.UniformOpen); keep them finite, and for
		// log-normal keep 10^(mean ± 9 sd) inside the float64 range.
		lim := math.MaxFloat64
		if d.Family == FamilyLogNormal {
			lim = 300
		}
		if !d.Truncated && !(math.Abs(d.Mean)+9*d.SD < lim) {
			return fmt.Errorf("%s: mean ± 9 sd = %g ± %g leaves the float64 range", name, d.Mean, 9*d.SD)
		}
	}
	if !d.hasBounds() {
		return nil
	}
	if !finite(d.Min) {
		return fmt.Errorf("%s: min = %g must be finite", name, d.Min)
	}
	if !finite(d.Max) {
		return fmt.Errorf("%s: max = %g must be finite", name, d.Max)
	}
	if d.Min == d.Max {
		return fmt.Errorf("%s: min = max = %g: use the fixed family for a constant", name, d.Min)
	}
	if !(d.Min < d.Max) {
		return fmt.Errorf("%s: inverted bounds: min = %g must be below max = %g", name, d.Min, d.Max)
	}
	if d.isLog() && !(d.Min > 0) {
		return fmt.Errorf("%s: min = %g must be positive for the %s family (bounds are physical values, not their log10)", name, d.Min, d.Family)
	}
	if d.Truncated {
		a, b := d.zBounds()
		if a > maxTailSD || b < -maxTailSD {
			return fmt.Errorf("%s: the truncation [min, max] = [%g, %g] lies more than %d sd from the mean", name, d.Min, d.Max, maxTailSD)
		}
	}
	return nil
}

// Validate reports why d is not a distribution, or nil.
func (d Dist) Validate() error { return d.validate("distribution") }

// zBounds returns the truncation bounds of a normal or log-normal d in standard units,
// (−Inf, +Inf) when it is not truncated.
func (d Dist) zBounds() (a, b float64) {
	if !d.Truncated {
		return math.Inf(-1), math.Inf(1)
	}
	lo, hi := d.Min, d.Max
	if d.Family == FamilyLogNormal {
		lo, hi = log10(lo), log10(hi)
	}
	return (lo - d.Mean) / d.SD, (hi - d.Mean) / d.SD
}

// Support returns the smallest interval [lo, hi] that holds every value d can give, in the
// parameter's units: [Min, Max] for the bounded families, [Value, Value] for fixed,
// (−Inf, +Inf) for an untruncated normal and [0, +Inf) for an untruncated log-normal (whose
// values are positive).
func (d Dist) Support() (lo, hi float64) {
	switch {
	case d.Family == FamilyFixed:
		return d.Value, d.Value
	case d.hasBounds():
		return d.Min, d.Max
	case d.Family == FamilyLogNormal:
		return 0, math.Inf(1)
	}
	return math.Inf(-1), math.Inf(1)
}

// Quantile returns the value x with CDF(x) = u, for u in (0, 1): the inverse-CDF transform
// that Sample applies. Results are clamped to the support against rounding. For fixed it
// returns Value.
func (d Dist) Quantile(u float64) float64 {
	var x float64
	switch d.Family {
	case FamilyFixed:
		return d.Value
	case FamilyUniform:
		x = d.Min + u*(d.Max-d.Min)
	case FamilyLogUniform:
		l0, l1 := log10(d.Min), log10(d.Max)
		x = math.Pow(10, l0+u*(l1-l0))
	case FamilyNormal, FamilyLogNormal:
		a, b := d.zBounds()
		x = d.Mean + d.SD*truncStdQuantile(a, b, u)
		if d.Family == FamilyLogNormal {
			x = math.Pow(10, x)
		}
	default:
		panic(fmt.Sprintf("event: Quantile of unknown family %q", d.Family))
	}
	if d.hasBounds() {
		x = math.Min(math.Max(x, d.Min), d.Max)
	}
	return x
}

// CDF returns P(X ≤ x) for X drawn from d.
func (d Dist) CDF(x float64) float64 {
	if d.Family == FamilyFixed {
		if x < d.Value {
			return 0
		}
		return 1
	}
	if d.hasBounds() {
		if x < d.Min {
			return 0
		}
		if x >= d.Max {
			return 1
		}
	}
	switch d.Family {
	case FamilyUniform:
		return (x - d.Min) / (d.Max - d.Min)
	case FamilyLogUniform:
		l0, l1 := log10(d.Min), log10(d.Max)
		return (log10(x) - l0) / (l1 - l0)
	case FamilyNormal, FamilyLogNormal:
		if d.Family == FamilyLogNormal {
			if !(x > 0) {
				return 0
			}
			x = log10(x)
		}
		a, b := d.zBounds()
		return truncStdCDF(a, b, (x-d.Mean)/d.SD)
	}
	panic(fmt.Sprintf("event: CDF of unknown family %q", d.Family))
}

// Sample draws one value from d by the inverse-CDF transform Quantile(u) of one open uniform
// u = src.UniformOpen(). Every family, fixed included, consumes exactly one raw output of
// src, so that changing one parameter's family does not change the draws of the others.
func (d Dist) Sample(src *rng.Source) float64 { return d.Quantile(src.UniformOpen()) }

// stdCDF returns Φ(z), the standard normal CDF, with full relative precision in the lower
// tail (erfc does not cancel there).
func stdCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// stdPDF returns the standard normal density φ(z).
func stdPDF(z float64) float64 { return math.Exp(-0.5*z*z) / math.Sqrt(2*math.Pi) }

// stdQuantile returns Φ⁻¹(p): −Inf for p ≤ 0, +Inf for p ≥ 1. For p ≤ ½ it starts from
// Abramowitz & Stegun 26.2.23 (absolute error < 4.5e-4) and takes Newton steps on
// Φ(z) = p, which converge quadratically to the last bits of math.Erfc; p > ½ uses the
// symmetry Φ⁻¹(p) = −Φ⁻¹(1 − p) (1 − p is exact there).
func stdQuantile(p float64) float64 {
	switch {
	case !(p > 0):
		return math.Inf(-1)
	case p >= 1:
		return math.Inf(1)
	case p > 0.5:
		return -stdQuantile(1 - p)
	}
	t := math.Sqrt(-2 * math.Log(p))
	z := -(t - (2.515517+t*(0.802853+t*0.010328))/(1+t*(1.432788+t*(0.189269+t*0.001308))))
	for range 10 {
		// Φ is convex for z < 0, so after the first step the iterates approach from above.
		dz := (stdCDF(z) - p) / stdPDF(z)
		z -= dz
		if math.Abs(dz) <= 1e-15*math.Max(1, math.Abs(z)) {
			break
		}
	}
	return z
}

// truncStdCDF returns the CDF at z of the standard normal truncated to [a, b]:
// (Φ(z) − Φ(a))/(Φ(b) − Φ(a)), computed on the mirror image when a ≥ 0 so that both
// differences are of lower-tail values.
func truncStdCDF(a, b, z float64) float64 {
	if z <= a {
		return 0
	}
	if z >= b {
		return 1
	}
	if a >= 0 {
		// Φ(z) − Φ(a) = Φ(−a) − Φ(−z)
		return (stdCDF(-a) - stdCDF(-z)) / (stdCDF(-a) - stdCDF(-b))
	}
	pa := stdCDF(a)
	return (stdCDF(z) - pa) / (stdCDF(b) - pa)
}

// truncStdQuantile returns the u-quantile, u in (0, 1), of the standard normal truncated
// to [a, b] (a < b, either may be infinite): Φ⁻¹(Φ(a) + u·(Φ(b) − Φ(a))), the exact inverse
// CDF. When a ≥ 0 it inverts the mirror image on [−b, −a] at 1 − u, so that the
// probabilities it inverts are lower-tail values with full relative precision (for a
// truncation in the far upper tail, Φ(a) and Φ(b) would both round to 1).
func truncStdQuantile(a, b, u float64) float64 {
	if a >= 0 {
		return -truncStdQuantile(-b, -a, 1-u)
	}
	pa, pb := stdCDF(a), stdCDF(b)
	z := stdQuantile(pa + u*(pb-pa))
	return math.Min(math.Max(z, a), b)
}

// log10 returns math.Log10(x), snapped to the integer n when x is the float64 nearest 10ⁿ
// (math.Log10 misses 1e-4 and 1e-1 by an ulp), so that bounds such as 1e-4 standardise to
// exactly −1.
func log10(x float64) float64 {
	l := math.Log10(x)
	if r := math.Round(l); r != l && math.Abs(r-l) < 1e-12 && math.Pow(10, r) == x {
		return r
	}
	return l
}

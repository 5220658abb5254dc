package event

import (
	"fmt"
	"math"
)

// Coord is one coordinate of the standardised parameter vector: the parameter Name, or its
// log10 when Log10, mapped affinely so that Lo goes to −1 and Hi to +1.
type Coord struct {
	Name  string  `json:"name"`  // one of ParamNames
	Log10 bool    `json:"log10"` // the coordinate is log10 of the parameter
	Lo    float64 `json:"lo"`    // (log10) parameter value mapped to −1
	Hi    float64 `json:"hi"`    // (log10) parameter value mapped to +1
	// Bounded says that [Lo, Hi] is the prior's whole support (uniform, log-uniform and
	// truncated families), not the mean ± 3 SD of an untruncated normal; see InSupport.
	Bounded bool `json:"bounded,omitempty"`
}

// Standardizer maps event parameters to the vector the network models and back; it is the
// one place that mapping is defined, and it is saved with every model. The coordinates are
// those of ParamNames in that order, log10 s, log10 q, α, u0, t0, log10 tE, log10 ρ and
// (with blending) log10 fs, minus the parameters the prior fixes: a constant coordinate has
// no density, so it is left out of the vector and restored by Inverse from Fixed (blending
// off counts as fs fixed at 1).
//
// Each coordinate maps its prior range to [−1, 1]: the support's ends for bounded families
// (log10 of them for the log coordinates), and mean ± 3 sd for an untruncated normal (or
// log-normal: log10 values, or 10^(mean ± 3 sd) on a linear coordinate), whose values may
// then fall outside [−1, 1].
//
// Its JSON form, for DefaultPrior:
//
//	{"coords":[{"name":"s","log10":true,"lo":-0.6989700043360187,"hi":0.6989700043360189},
//	  {"name":"q","log10":true,"lo":-3,"hi":0}, …], "fixed":{"fs":1}}
type Standardizer struct {
	Coords []Coord            `json:"coords"` // the free parameters, in vector order
	Fixed  map[string]float64 `json:"fixed"`  // the fixed parameters' values, by name
}

// NewStandardizer returns the Standardizer of prior p. It panics when p is not valid
// (Prior.Validate), which LoadPrior and Prior.UnmarshalJSON ensure.
func NewStandardizer(p Prior) Standardizer {
	if err := p.Validate(); err != nil {
		panic("event: NewStandardizer: " + err.Error())
	}
	st := Standardizer{Fixed: map[string]float64{}}
	for i, d := range p.dists() {
		name := ParamNames[i]
		switch {
		case d == nil:
			st.Fixed[name] = 1
		case d.Family == FamilyFixed:
			st.Fixed[name] = d.Value
		default:
			lo, hi := coordRange(*d, logParams[i])
			st.Coords = append(st.Coords, Coord{Name: name, Log10: logParams[i], Lo: lo, Hi: hi, Bounded: d.hasBounds()})
		}
	}
	return st
}

// coordRange returns the range of a coordinate (log10 values when log) that maps to [−1, 1].
func coordRange(d Dist, log bool) (lo, hi float64) {
	g := func(x float64) float64 {
		if log {
			return log10(x)
		}
		return x
	}
	switch {
	case d.hasBounds():
		return g(d.Min), g(d.Max)
	case d.Family == FamilyLogNormal && log:
		return d.Mean - 3*d.SD, d.Mean + 3*d.SD
	case d.Family == FamilyLogNormal:
		return math.Pow(10, d.Mean-3*d.SD), math.Pow(10, d.Mean+3*d.SD)
	}
	// An untruncated normal, on a linear coordinate (Prior.Validate rejects negative
	// values for every log parameter).
	return g(d.Mean - 3*d.SD), g(d.Mean + 3*d.SD)
}

// Dim returns the length of the standardised vector.
func (st Standardizer) Dim() int { return len(st.Coords) }

// Names returns the coordinates' names, "log10 s" for a log coordinate of s.
func (st Standardizer) Names() []string {
	names := make([]string, len(st.Coords))
	for i, c := range st.Coords {
		names[i] = c.Name
		if c.Log10 {
			names[i] = "log10 " + c.Name
		}
	}
	return names
}

// paramIndex returns the index of name in ParamNames, or −1.
func paramIndex(name string) int {
	for i, n := range ParamNames {
		if n == name {
			return i
		}
	}
	return -1
}

// Forward returns the standardised vector of pp: for each coordinate c,
// y = (2x − c.Lo − c.Hi)/(c.Hi − c.Lo) with x the parameter or its log10. Parameters that
// st fixes are ignored.
func (st Standardizer) Forward(pp Params) []float64 {
	v := pp.Values()
	y := make([]float64, len(st.Coords))
	for i, c := range st.Coords {
		x := v[paramIndex(c.Name)]
		if c.Log10 {
			x = log10(x)
		}
		y[i] = (2*x - c.Lo - c.Hi) / (c.Hi - c.Lo)
	}
	return y
}

// Inverse returns the parameters of the standardised vector y, with the fixed parameters
// from Fixed. It does not clamp: a y outside [−1, 1] gives parameters outside the prior
// range. It panics when len(y) != st.Dim().
func (st Standardizer) Inverse(y []float64) Params {
	if len(y) != len(st.Coords) {
		panic(fmt.Sprintf("event: Standardizer.Inverse: %d coordinates, want %d", len(y), len(st.Coords)))
	}
	var v [NumParams]float64
	for name, x := range st.Fixed {
		v[paramIndex(name)] = x
	}
	for i, c := range st.Coords {
		x := 0.5*(c.Lo+c.Hi) + 0.5*(c.Hi-c.Lo)*y[i]
		if c.Log10 {
			x = math.Pow(10, x)
		}
		v[paramIndex(c.Name)] = x
	}
	return ParamsFromValues(v)
}

// Validate reports why st cannot be a Standardizer, or nil: every parameter of ParamNames
// must be either a coordinate or fixed, exactly once, and every range finite and not empty.
func (st Standardizer) Validate() error {
	var seen [NumParams]bool
	mark := func(name string) error {
		i := paramIndex(name)
		if i < 0 {
			return fmt.Errorf("standardizer: unknown parameter %q (want one of %q)", name, ParamNames)
		}
		if seen[i] {
			return fmt.Errorf("standardizer: parameter %s appears twice", name)
		}
		seen[i] = true
		return nil
	}
	for _, c := range st.Coords {
		if err := mark(c.Name); err != nil {
			return err
		}
		if !finite(c.Lo, c.Hi) || !(c.Lo < c.Hi) {
			return fmt.Errorf("standardizer: %s: range [%g, %g] must be finite with lo < hi", c.Name, c.Lo, c.Hi)
		}
		if c.Log10 != logParams[paramIndex(c.Name)] {
			return fmt.Errorf("standardizer: %s: log10 = %v, want %v", c.Name, c.Log10, logParams[paramIndex(c.Name)])
		}
	}
	for name, x := range st.Fixed {
		if err := mark(name); err != nil {
			return err
		}
		if !finite(x) {
			return fmt.Errorf("standardizer: fixed %s = %g must be finite", name, x)
		}
	}
	for i, ok := range seen {
		if !ok {
			return fmt.Errorf("standardizer: parameter %s is neither a coordinate nor fixed", ParamNames[i])
		}
	}
	return nil
}

// UnmarshalJSON reads st from its JSON form, rejecting unknown keys, and validates it.
func (st *Standardizer) UnmarshalJSON(data []byte) error {
	type plain Standardizer // without the methods, so Decode does not recurse
	var w plain
	if err := strictDecode(data, &w); err != nil {
		return fmt.Errorf("standardizer: %v", err)
	}
	if err := Standardizer(w).Validate(); err != nil {
		return err
	}
	*st = Standardizer(w)
	return nil
}

// InSupport reports whether the standardised vector y lies inside the prior's support: every
// Bounded coordinate within [−1, 1] (to 1e-9, for rounding). The posterior is zero outside
// it, so samples a flow puts there are rejected (mlcu sample).
func (st Standardizer) InSupport(y []float64) bool {
	for j, c := range st.Coords {
		if c.Bounded && !(math.Abs(y[j]) <= 1+1e-9) {
			return false
		}
	}
	return true
}

// WrapPeriodic maps the periodic coordinates of y back into their range in place: α, when
// its coordinate is linear and spans exactly one period (Hi − Lo = 2π, as DefaultPrior's
// [0, 2π)), is an angle, so a value outside the range is the same trajectory as the value
// modulo 2π. The flow's density does not know the period and leaks a little mass over the
// seam; wrapping returns that mass to where the posterior is (rejecting it, as InSupport
// would, under-weights α near 0 and 2π). It reports whether it changed y.
func (st Standardizer) WrapPeriodic(y []float64) bool {
	changed := false
	for j, c := range st.Coords {
		if c.Name != "alpha" || c.Log10 || !c.Bounded || math.Abs((c.Hi-c.Lo)-2*math.Pi) > 1e-12*2*math.Pi {
			continue
		}
		// Standardised units: the period 2π is 2 and the range [Lo, Hi) is [−1, 1).
		if v := y[j]; v < -1 || v >= 1 {
			y[j] = v - 2*math.Floor((v+1)/2)
			changed = true
		}
	}
	return changed
}

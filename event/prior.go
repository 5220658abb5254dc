package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"

	"github.com/mlcu/mlcu/internal/atomicfile"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

// NumParams is the number of parameters of a simulated event: the seven of θ and the source
// flux fraction fs.
const NumParams = 8

// ParamNames are the parameters' names, in the order of Params, of Prior.Sample's draws and
// of the standardised vector; the prior file uses them as keys.
var ParamNames = [NumParams]string{"s", "q", "alpha", "u0", "t0", "tE", "rho", "fs"}

// logParams marks the parameters whose standardised coordinate is log10 of the value.
var logParams = [NumParams]bool{true, true, false, false, false, true, true, true}

// Params are the parameters of one simulated event, in the conventions of package lens.
type Params struct {
	S, Q  float64 // separation (Einstein radii of the total mass), mass ratio m2/m1
	Alpha float64 // trajectory angle (rad)
	U0    float64 // signed impact parameter relative to the centre of mass (Einstein radii)
	T0    float64 // time of closest approach after the start of the 72-day window (days)
	TE    float64 // Einstein time (days)
	Rho   float64 // source radius (Einstein radii); 0 is a point source
	Fs    float64 // source flux fraction F_source/(F_source + F_blend) in (0, 1]; 1 = no blending
}

// Values returns pp's parameters in the order of ParamNames.
func (pp Params) Values() [NumParams]float64 {
	return [NumParams]float64{pp.S, pp.Q, pp.Alpha, pp.U0, pp.T0, pp.TE, pp.Rho, pp.Fs}
}

// ParamsFromValues is the inverse of Params.Values.
func ParamsFromValues(v [NumParams]float64) Params {
	return Params{S: v[0], Q: v[1], Alpha: v[2], U0: v[3], T0: v[4], TE: v[5], Rho: v[6], Fs: v[7]}
}

// Event returns the lens event of pp, with its t0 measured from the start of the window
// (Fs is not part of the lens model).
func (pp Params) Event() lens.Event {
	return lens.Event{S: pp.S, Q: pp.Q, Alpha: pp.Alpha, U0: pp.U0, T0: pp.T0, TE: pp.TE, Rho: pp.Rho}
}

// Prior is the distribution that simulated events are drawn from: one Dist per parameter,
// each parameter independent of the others. Fs, the source flux fraction, is optional: nil
// turns blending off (every event has fs = 1).
type Prior struct {
	S, Q, Alpha, U0, T0, TE, Rho Dist
	Fs                           *Dist
}

// DefaultPrior returns the prior of Zhang et al. (2021, AJ 161, 262) (see the package documentation):
//
//	s     log-uniform on [0.2, 5]        (log10 s ~ U(log10 0.2, log10 5))
//	q     log-uniform on [1e-3, 1]       (log10 q ~ U(−3, 0))
//	alpha uniform on [0, 2π] rad
//	u0    uniform on [0, 2]
//	t0    uniform on [0, 72] d           (inside the 72-day window)
//	tE    log-normal, log10 tE ~ N(1.15, 0.45²) truncated to tE in [1, 100] d
//	rho   log-uniform on [1e-4, 1e-2]    (log10 ρ ~ U(−4, −2))
//	fs    off (no blending)
func DefaultPrior() Prior {
	return Prior{
		S:     LogUniform(0.2, 5),
		Q:     LogUniform(1e-3, 1),
		Alpha: Uniform(0, 2*math.Pi),
		U0:    Uniform(0, 2),
		T0:    Uniform(0, WindowDays),
		TE:    TruncLogNormal(1.15, 0.45, 1, 100),
		Rho:   LogUniform(1e-4, 1e-2),
	}
}

// Blending reports whether p draws the source flux fraction fs (p.Fs != nil).
func (p Prior) Blending() bool { return p.Fs != nil }

// dists returns p's distributions in the order of ParamNames; the last is nil when blending
// is off.
func (p *Prior) dists() [NumParams]*Dist {
	return [NumParams]*Dist{&p.S, &p.Q, &p.Alpha, &p.U0, &p.T0, &p.TE, &p.Rho, p.Fs}
}

// Sample draws one event from p. The parameters are drawn in the fixed order s, q, α, u0,
// t0, tE, ρ, fs, each by Dist.Sample from exactly one raw output of src, so every call
// consumes exactly NumParams outputs (fs consumes one even when blending is off, and is then
// 1). The same src state therefore always gives the same event, and changing one
// parameter's distribution leaves the draws of the others unchanged.
func (p Prior) Sample(src *rng.Source) Params {
	var v [NumParams]float64
	for i, d := range p.dists() {
		if d == nil {
			src.Uint64()
			v[i] = 1
			continue
		}
		v[i] = d.Sample(src)
	}
	return ParamsFromValues(v)
}

// Validate reports the first problem with p, naming the parameter, or nil. Besides each
// Dist being valid, every value p can give must make a valid lens.Event (s in
// [lens.MinS, lens.MaxS], q in [lens.MinQ, lens.MaxQ], ρ = 0 or in [lens.MinRho,
// lens.MaxRho], tE > 0); t0 must lie in [0, WindowDays], because the simulator places the
// event inside the 72-day window by cropping a longer curve (see CropOffset); and fs must
// lie in (0, 1].
func (p Prior) Validate() error {
	for i, d := range p.dists() {
		if d == nil {
			continue
		}
		name := ParamNames[i]
		if err := d.validate(name); err != nil {
			return err
		}
		lo, hi := d.Support()
		// positive: every value is > 0 (an untruncated log-normal's support is open at 0).
		positive := lo > 0 || (lo == 0 && d.Family == FamilyLogNormal && !d.Truncated)
		var err error
		switch name {
		case "s":
			err = within(name, lo, hi, lens.MinS, lens.MaxS, "the supported separations")
		case "q":
			err = within(name, lo, hi, lens.MinQ, lens.MaxQ, "the supported mass ratios")
		case "t0":
			err = within(name, lo, hi, 0, WindowDays, "the 72-day observing window (days)")
		case "tE":
			if !positive {
				err = fmt.Errorf("%s: support [%g, %g] d must hold only positive, finite Einstein times", name, lo, hi)
			}
		case "rho":
			if !(d.Family == FamilyFixed && d.Value == 0) {
				err = within(name, lo, hi, lens.MinRho, lens.MaxRho, "the supported source radii (or fixed 0, a point source)")
			}
		case "fs":
			if !positive || hi > 1 {
				err = fmt.Errorf("%s: support [%g, %g] must lie in (0, 1] (the source's fraction of the baseline flux)", name, lo, hi)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// within reports an error unless [lo, hi] ⊂ [min, max].
func within(name string, lo, hi, min, max float64, what string) error {
	if lo >= min && hi <= max {
		return nil
	}
	return fmt.Errorf("%s: support [%g, %g] leaves [%g, %g], %s", name, lo, hi, min, max, what)
}

// distJSON is a Dist as decoded from a file: nil marks an absent key.
type distJSON struct {
	Family string   `json:"family"`
	Mean   *float64 `json:"mean"`
	SD     *float64 `json:"sd"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
	Value  *float64 `json:"value"`
}

// MarshalJSON writes d in the prior file's form (see Dist), with only the keys its family
// uses, in the order family, mean, sd, min, max, value, on one line:
//
//	{"family": "log-normal", "mean": 1.15, "sd": 0.45, "min": 1, "max": 100}
func (d Dist) MarshalJSON() ([]byte, error) {
	fam, err := json.Marshal(d.Family)
	if err != nil {
		return nil, err
	}
	b := append([]byte(`{"family": `), fam...)
	add := func(key string, x float64) {
		if err != nil {
			return
		}
		var num []byte
		if num, err = json.Marshal(x); err != nil {
			err = fmt.Errorf("%s: %v", key, err)
		}
		b = append(append(b, `, "`+key+`": `...), num...)
	}
	if d.Family == FamilyNormal || d.Family == FamilyLogNormal {
		add("mean", d.Mean)
		add("sd", d.SD)
	}
	if d.hasBounds() {
		add("min", d.Min)
		add("max", d.Max)
	}
	if d.Family == FamilyFixed {
		add("value", d.Value)
	}
	return append(b, '}'), err
}

// UnmarshalJSON reads d from the prior file's form, rejecting unknown keys, keys its
// family does not use, and missing ones. It does not check the values (Prior.Validate does).
func (d *Dist) UnmarshalJSON(data []byte) error {
	nd, err := parseDist(data)
	if err != nil {
		return err
	}
	*d = nd
	return nil
}

// parseDist decodes one Dist; its errors do not name the parameter.
func parseDist(data []byte) (Dist, error) {
	var w distJSON
	if err := strictDecode(data, &w); err != nil {
		return Dist{}, err
	}
	d := Dist{Family: w.Family}
	var need, allow []string // keys the family requires, and may have besides
	switch w.Family {
	case FamilyUniform, FamilyLogUniform:
		need = []string{"min", "max"}
	case FamilyNormal, FamilyLogNormal:
		need, allow = []string{"mean", "sd"}, []string{"min", "max"}
		if (w.Min == nil) != (w.Max == nil) {
			return Dist{}, fmt.Errorf(`a truncated %s needs both "min" and "max"`, w.Family)
		}
		d.Truncated = w.Min != nil
	case FamilyFixed:
		need = []string{"value"}
	case "":
		return Dist{}, fmt.Errorf(`missing "family" (one of %q)`, families)
	default:
		return Dist{}, fmt.Errorf("unknown family %q (want one of %q)", w.Family, families)
	}
	for _, k := range []struct {
		key string
		p   *float64
		dst *float64
	}{{"mean", w.Mean, &d.Mean}, {"sd", w.SD, &d.SD}, {"min", w.Min, &d.Min}, {"max", w.Max, &d.Max}, {"value", w.Value, &d.Value}} {
		needed, allowed := contains(need, k.key), contains(allow, k.key)
		switch {
		case k.p == nil && needed:
			return Dist{}, fmt.Errorf("family %s needs %q", w.Family, k.key)
		case k.p != nil && !needed && !allowed:
			return Dist{}, fmt.Errorf("family %s does not use %q", w.Family, k.key)
		case k.p != nil:
			*k.dst = *k.p
		}
	}
	return d, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// strictDecode decodes the JSON value data into v, rejecting unknown object keys and
// trailing data, with errors free of Go type names.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return CleanJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// CleanJSONError rewrites encoding/json's errors (of the prior, noise and manifest files) for a person who never saw the Go types.
func CleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("expected a JSON object, found JSON %s", te.Value)
		}
		want := "a number"
		if te.Type.Kind() == reflect.String {
			want = "a string"
		}
		return fmt.Errorf("%q: found JSON %s, want %s", te.Field, te.Value, want)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if k, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return fmt.Errorf("unknown key %s", k)
	}
	return errors.New(msg)
}

// priorJSON is the file form of a Prior.
type priorJSON struct {
	S     json.RawMessage `json:"s"`
	Q     json.RawMessage `json:"q"`
	Alpha json.RawMessage `json:"alpha"`
	U0    json.RawMessage `json:"u0"`
	T0    json.RawMessage `json:"t0"`
	TE    json.RawMessage `json:"tE"`
	Rho   json.RawMessage `json:"rho"`
	Fs    json.RawMessage `json:"fs"`
}

// MarshalJSON writes p as a JSON object with one key per parameter (ParamNames; "fs" only
// when blending is on), one parameter per line. It fails when p is not valid.
func (p Prior) MarshalJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("{\n")
	first := true
	for i, d := range p.dists() {
		if d == nil {
			continue
		}
		js, err := d.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", ParamNames[i], err)
		}
		if !first {
			b.WriteString(",\n")
		}
		first = false
		fmt.Fprintf(&b, "  %-9s%s", `"`+ParamNames[i]+`":`, js)
	}
	b.WriteString("\n}\n")
	return b.Bytes(), nil
}

// UnmarshalJSON reads p from the prior file format (see the package documentation) and
// validates it. Unknown keys, missing parameters (all but "fs", which may be absent or
// null) and keys a family does not use are errors; every error names the parameter.
func (p *Prior) UnmarshalJSON(data []byte) error {
	var w priorJSON
	if err := strictDecode(data, &w); err != nil {
		if k, ok := strings.CutPrefix(err.Error(), "unknown key "); ok {
			return fmt.Errorf("unknown parameter %s (want one of %q)", k, ParamNames)
		}
		return err
	}
	raws := [NumParams]json.RawMessage{w.S, w.Q, w.Alpha, w.U0, w.T0, w.TE, w.Rho, w.Fs}
	var np Prior
	for i, dst := range np.dists() {
		name, raw := ParamNames[i], raws[i]
		if len(raw) == 0 || string(raw) == "null" {
			if name == "fs" {
				continue
			}
			return fmt.Errorf("%s: missing (a prior needs every one of %q; fs is optional)", name, ParamNames[:NumParams-1])
		}
		d, err := parseDist(raw)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if name == "fs" {
			np.Fs = &d
		} else {
			*dst = d
		}
	}
	if err := np.Validate(); err != nil {
		return err
	}
	*p = np
	return nil
}

// ParsePrior reads a prior from the JSON in data; name (a file name) starts every error
// message, and syntax errors give the line and column.
func ParsePrior(data []byte, name string) (Prior, error) {
	var p Prior
	if err := json.Unmarshal(data, &p); err != nil {
		return Prior{}, fmt.Errorf("%s: %v", name, positionError(data, err))
	}
	return p, nil
}

// LoadPrior reads and validates the prior file at path (see the package documentation).
// Errors name the file, and the parameter or the line and column.
func LoadPrior(path string) (Prior, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Prior{}, err
	}
	return ParsePrior(data, path)
}

// WriteFile writes p to path in the prior file format, atomically (a temporary file renamed
// over path). LoadPrior reads back the same Prior.
func (p Prior) WriteFile(path string) error {
	js, err := p.MarshalJSON()
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(js)
		return err
	})
}

// positionError adds the line and column to a JSON syntax error on data; other errors are
// cleaned of Go type names.
func positionError(data []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return CleanJSONError(err)
		}
		return err
	}
	// Offset counts the bytes read up to and including the offending one.
	off := min(max(int(se.Offset)-1, 0), len(data))
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
}

package event

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
)

const nKS = 20000 // samples per KS test

func TestStdQuantile(t *testing.T) {
	// Reference: √2·erfinv(2p − 1), or the root of Φ(z) = p, with mpmath 1.3.0 at 30 digits.
	for _, tc := range []struct{ p, want float64 }{
		{0.975, 1.9599639845400542355},
		{0.3, -0.52440051270804078404},
		{0.5, 0},
		{1e-10, -6.3613409024040562047},
		{1e-100, -21.273453560965324295},
	} {
		if got := stdQuantile(tc.p); math.Abs(got-tc.want) > 1e-14*math.Max(1, math.Abs(tc.want)) {
			t.Errorf("stdQuantile(%g) = %.17g, want %.17g", tc.p, got, tc.want)
		}
	}
	// Φ(Φ⁻¹(p)) = p to a few ulps of relative precision over the whole range.
	for _, p := range []float64{1e-300, 1e-200, 1e-50, 1e-17, 2e-16, 0.01, 0.2, 0.4999, 0.51, 0.9, 1 - 1e-9} {
		got := stdCDF(stdQuantile(p))
		if math.Abs(got-p) > 1e-13*p {
			t.Errorf("Φ(Φ⁻¹(%g)) = %.17g", p, got)
		}
	}
}

// family is one KS case: a Dist and its CDF written out independently of the package.
type family struct {
	name string
	d    Dist
	cdf  func(float64) float64
}

// families returns the KS cases, one per family and truncation regime.
func ksFamilies() []family {
	truncNorm := func(mu, sd, a, b float64) func(float64) float64 {
		// The upper-tail form (S(a) − S(x))/(S(a) − S(b)), S = 1 − Φ via erfc, keeps its
		// precision for truncations in either tail.
		za, zb := (a-mu)/sd, (b-mu)/sd
		if za < 0 {
			return func(x float64) float64 {
				return (normCDF((x-mu)/sd) - normCDF(za)) / (normCDF(zb) - normCDF(za))
			}
		}
		return func(x float64) float64 { return (normSF(za) - normSF((x-mu)/sd)) / (normSF(za) - normSF(zb)) }
	}
	lowerTail := func(x float64) float64 {
		// N(0,1) on [−6, −5]: lower-tail probabilities from erfc directly.
		f := func(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
		return (f(x) - f(-6)) / (f(-5) - f(-6))
	}
	return []family{
		{"uniform [2, 5]", Uniform(2, 5), func(x float64) float64 { return (x - 2) / 3 }},
		{"log-uniform [0.2, 5]", LogUniform(0.2, 5), func(x float64) float64 { return math.Log(x/0.2) / math.Log(25) }},
		{"normal N(1, 2²)", Normal(1, 2), func(x float64) float64 { return normCDF((x - 1) / 2) }},
		{"truncated normal N(1.15, 0.45²) on [0, 2]", TruncNormal(1.15, 0.45, 0, 2), truncNorm(1.15, 0.45, 0, 2)},
		{"truncated normal N(0, 1) on [2, 4]", TruncNormal(0, 1, 2, 4), truncNorm(0, 1, 2, 4)},
		{"truncated normal N(0, 1) on [10, 11]", TruncNormal(0, 1, 10, 11), truncNorm(0, 1, 10, 11)},
		{"truncated normal N(0, 1) on [-6, -5]", TruncNormal(0, 1, -6, -5), lowerTail},
		{"log-normal log10 ~ N(0.5, 0.3²)", LogNormal(0.5, 0.3), func(x float64) float64 { return normCDF((math.Log10(x) - 0.5) / 0.3) }},
		{"truncated log-normal (tE) on [1, 100]", TruncLogNormal(1.15, 0.45, 1, 100), func(x float64) float64 { return truncNorm(1.15, 0.45, 0, 2)(math.Log10(x)) }},
	}
}

func TestDistKS(t *testing.T) {
	for i, f := range ksFamilies() {
		if err := f.d.Validate(); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		src := rng.New(100+uint64(i), 1)
		xs := make([]float64, nKS)
		lo, hi := f.d.Support()
		for j := range xs {
			xs[j] = f.d.Sample(src)
			if !(xs[j] >= lo && xs[j] <= hi) {
				t.Fatalf("%s: sample %v outside the support [%v, %v]", f.name, xs[j], lo, hi)
			}
		}
		// The package's CDF agrees with the independent one, and inverts Quantile.
		for _, u := range []float64{1e-6, 0.1, 0.5, 0.77, 1 - 1e-6} {
			x := f.d.Quantile(u)
			if got, want := f.d.CDF(x), f.cdf(x); math.Abs(got-u) > 1e-9 || math.Abs(got-want) > 1e-9 {
				t.Errorf("%s: CDF(Quantile(%g)) = %v, independent CDF %v", f.name, u, got, want)
			}
		}
		d, p := ksTest(xs, f.cdf)
		t.Logf("%-45s D = %.5f  p = %.3f", f.name, d, p)
		if p < pReject {
			t.Errorf("%s: KS D = %v, p = %v < %v", f.name, d, p, pReject)
		}
	}
	// fixed: every draw is the value, and it still consumes one raw output.
	a, b := rng.New(1, 1), rng.New(1, 1)
	for range 100 {
		if x := Fixed(0.25).Sample(a); x != 0.25 {
			t.Fatalf("fixed sample %v", x)
		}
		b.Uint64()
	}
	if a.Uint64() != b.Uint64() {
		t.Error("a fixed draw does not consume one raw output")
	}
}

// The default prior's seven marginals, against their definitions, drawn together by
// Prior.Sample.
func TestDefaultPriorKS(t *testing.T) {
	p := DefaultPrior()
	p.Fs = &Dist{Family: FamilyLogUniform, Min: 0.1, Max: 1}
	src := rng.New(7, 0)
	cols := make([][]float64, NumParams)
	for i := range cols {
		cols[i] = make([]float64, nKS)
	}
	for j := range nKS {
		pp := p.Sample(src)
		if err := pp.Event().Validate(); err != nil {
			t.Fatalf("draw %d: %v", j, err)
		}
		for i, v := range pp.Values() {
			cols[i][j] = v
		}
	}
	log10U := func(a, b float64) func(float64) float64 {
		return func(x float64) float64 { return (math.Log10(x) - a) / (b - a) }
	}
	pa, pb := normCDF((0-1.15)/0.45), normCDF((2-1.15)/0.45)
	cdfs := [NumParams]func(float64) float64{
		log10U(math.Log10(0.2), math.Log10(5)),               // log10 s ~ U(log10 0.2, log10 5)
		log10U(-3, 0),                                        // log10 q ~ U(−3, 0)
		func(x float64) float64 { return x / (2 * math.Pi) }, // α ~ U(0, 2π)
		func(x float64) float64 { return x / 2 },             // u0 ~ U(0, 2)
		func(x float64) float64 { return x / 72 },            // t0 ~ U(0, 72)
		func(x float64) float64 { return (normCDF((math.Log10(x)-1.15)/0.45) - pa) / (pb - pa) }, // log10 tE ~ N(1.15, 0.45) on [0, 2]
		log10U(-4, -2), // log10 ρ ~ U(−4, −2)
		log10U(-1, 0),  // log10 fs ~ U(−1, 0)
	}
	for i, cdf := range cdfs {
		d, pv := ksTest(cols[i], cdf)
		t.Logf("default prior %-6s D = %.5f  p = %.3f", ParamNames[i], d, pv)
		if pv < pReject {
			t.Errorf("%s: KS D = %v, p = %v < %v", ParamNames[i], d, pv, pReject)
		}
	}
}

// Sample consumes exactly NumParams raw outputs in the documented order, and fixing one
// parameter leaves the others' draws unchanged.
func TestSampleOrder(t *testing.T) {
	p := DefaultPrior()
	a, b := rng.New(3, 4), rng.New(3, 4)
	pp := p.Sample(a)
	var want [NumParams]float64
	for i, d := range p.dists() {
		if d == nil {
			b.Uint64()
			want[i] = 1
			continue
		}
		want[i] = d.Sample(b)
	}
	if pp.Values() != want {
		t.Errorf("Sample = %v, want %v", pp.Values(), want)
	}
	if a.Uint64() != b.Uint64() {
		t.Error("Sample did not consume exactly NumParams raw outputs")
	}
	q := p
	q.U0 = Fixed(0.1)
	qq := q.Sample(rng.New(3, 4))
	if qq.U0 != 0.1 || qq.S != pp.S || qq.TE != pp.TE || qq.Rho != pp.Rho || qq.Fs != 1 {
		t.Errorf("fixing u0 changed other draws: %+v vs %+v", qq, pp)
	}
}

// docExample returns the JSON example of the package documentation (the indented block
// after the line "The default prior file"), so the test keeps it in step with the code.
func docExample(t *testing.T) string {
	f, err := os.Open("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.Contains(line, "The default prior file"):
			in = true
		case in && strings.HasPrefix(line, "//\t"):
			b.WriteString(strings.TrimPrefix(line, "//\t") + "\n")
		case in && b.Len() > 0:
			return b.String()
		}
	}
	t.Fatal("doc.go has no default prior example")
	return ""
}

func TestPriorJSONRoundTrip(t *testing.T) {
	def := DefaultPrior()
	js, err := json.Marshal(def) // compacted by encoding/json
	if err != nil {
		t.Fatal(err)
	}
	var back Prior
	if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, def) {
		t.Fatalf("json round trip: %v\n got %+v\nwant %+v", err, back, def)
	}
	own, _ := def.MarshalJSON()
	if want := docExample(t); string(own) != want {
		t.Errorf("DefaultPrior file:\n%s\ndiffers from the package documentation's example:\n%s", own, want)
	}

	dir := t.TempDir()
	fs := TruncNormal(0.7, 0.2, 0.1, 1)
	other := Prior{
		S: Fixed(1.2), Q: LogUniform(1e-6, 1), Alpha: Normal(1, 0.3), U0: TruncNormal(0, 1, -2, 2),
		T0: Uniform(10, 60), TE: LogNormal(1.2, 0.3), Rho: Fixed(0), Fs: &fs,
	}
	for _, p := range []Prior{def, other} {
		path := filepath.Join(dir, "prior.json")
		if err := p.WriteFile(path); err != nil {
			t.Fatal(err)
		}
		got, err := LoadPrior(path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("file round trip:\n got %+v\nwant %+v", got, p)
		}
	}
}

// priorWith returns the default prior file with the parameter lines in repl replaced or
// added (an empty value drops the parameter) and extra appended before the closing brace.
// It empties repl.
func priorWith(repl map[string]string, extra string) string {
	js, _ := DefaultPrior().MarshalJSON()
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(string(js)), "\n") {
		l = strings.TrimSuffix(l, ",")
		if l == "{" || l == "}" {
			continue
		}
		name := strings.Trim(strings.TrimSpace(l[:strings.Index(l, ":")]), `"`)
		if r, ok := repl[name]; ok {
			delete(repl, name)
			if r == "" {
				continue
			}
			l = `"` + name + `": ` + r
		}
		lines = append(lines, l)
	}
	for name, r := range repl { // parameters the default prior lacks (fs)
		lines = append(lines, `"`+name+`": `+r)
	}
	if extra != "" {
		lines = append(lines, extra)
	}
	return "{\n" + strings.Join(lines, ",\n") + "\n}\n"
}

func TestPriorBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, js string
		want     []string // substrings of the error
	}{
		{"unknown family", priorWith(map[string]string{"tE": `{"family": "gaussian", "mean": 1, "sd": 1}`}, ""), []string{"tE", `"gaussian"`}},
		{"missing family", priorWith(map[string]string{"u0": `{"min": 0, "max": 2}`}, ""), []string{"u0", "family"}},
		{"inverted bounds", priorWith(map[string]string{"s": `{"family": "log-uniform", "min": 5, "max": 0.2}`}, ""), []string{"s:", "min = 5", "max = 0.2"}},
		{"equal bounds", priorWith(map[string]string{"u0": `{"family": "uniform", "min": 1, "max": 1}`}, ""), []string{"u0", "min", "fixed"}},
		{"t0 past the window", priorWith(map[string]string{"t0": `{"family": "uniform", "min": 0, "max": 80}`}, ""), []string{"t0", "72"}},
		{"t0 before the window", priorWith(map[string]string{"t0": `{"family": "uniform", "min": -5, "max": 10}`}, ""), []string{"t0", "72"}},
		{"t0 unbounded", priorWith(map[string]string{"t0": `{"family": "normal", "mean": 36, "sd": 10}`}, ""), []string{"t0", "72"}},
		{"unknown top-level key", priorWith(nil, `"foo": 1`), []string{`unknown parameter "foo"`}},
		{"unknown key in a distribution", priorWith(map[string]string{"u0": `{"family": "uniform", "min": 0, "max": 2, "mx": 3}`}, ""), []string{"u0", `"mx"`}},
		{"key the family does not use", priorWith(map[string]string{"alpha": `{"family": "uniform", "min": 0, "max": 1, "mean": 0}`}, ""), []string{"alpha", `"mean"`}},
		{"key the family needs", priorWith(map[string]string{"alpha": `{"family": "uniform", "min": 0}`}, ""), []string{"alpha", `"max"`}},
		{"missing parameter", priorWith(map[string]string{"rho": ""}, ""), []string{"rho", "missing"}},
		{"sd zero", priorWith(map[string]string{"tE": `{"family": "log-normal", "mean": 1, "sd": 0, "min": 1, "max": 100}`}, ""), []string{"tE", "sd"}},
		{"sd negative", priorWith(map[string]string{"alpha": `{"family": "normal", "mean": 1, "sd": -1}`}, ""), []string{"alpha", "sd"}},
		{"log family at zero", priorWith(map[string]string{"q": `{"family": "log-uniform", "min": 0, "max": 1}`}, ""), []string{"q", "min = 0", "positive"}},
		{"log-normal negative bound", priorWith(map[string]string{"tE": `{"family": "log-normal", "mean": 1, "sd": 1, "min": -1, "max": 100}`}, ""), []string{"tE", "min = -1"}},
		{"half truncation", priorWith(map[string]string{"tE": `{"family": "log-normal", "mean": 1, "sd": 1, "min": 1}`}, ""), []string{"tE", `"min"`, `"max"`}},
		{"far tail truncation", priorWith(map[string]string{"u0": `{"family": "normal", "mean": 0, "sd": 1, "min": 40, "max": 50}`}, ""), []string{"u0", "sd from the mean"}},
		{"s beyond the solver", priorWith(map[string]string{"s": `{"family": "log-uniform", "min": 1e-4, "max": 5}`}, ""), []string{"s:", "0.0001", "separations"}},
		{"q beyond the solver", priorWith(map[string]string{"q": `{"family": "log-uniform", "min": 1e-12, "max": 1}`}, ""), []string{"q:", "mass ratios"}},
		{"rho reaching 0", priorWith(map[string]string{"rho": `{"family": "uniform", "min": 0, "max": 0.01}`}, ""), []string{"rho", "source radii"}},
		{"tE not positive", priorWith(map[string]string{"tE": `{"family": "uniform", "min": 0, "max": 100}`}, ""), []string{"tE", "positive"}},
		{"fs above 1", priorWith(map[string]string{"fs": `{"family": "uniform", "min": 0.5, "max": 1.5}`}, ""), []string{"fs", "(0, 1]"}},
		{"fs zero", priorWith(map[string]string{"fs": `{"family": "fixed", "value": 0}`}, ""), []string{"fs", "(0, 1]"}},
		{"string for a number", priorWith(map[string]string{"s": `{"family": "log-uniform", "min": "0.2", "max": 5}`}, ""), []string{"s:", `"min"`, "string", "number"}},
		{"not an object", `[1, 2]`, []string{"object", "array"}},
		{"malformed", "{\n  \"s\": {\"family\": \"log-uniform\", \"min\": 0.2,, \"max\": 5}\n}\n", []string{"line 2, column 45", "invalid character ','"}},
		{"trailing data", priorWith(nil, "") + "x", []string{"line 10, column 1", "after top-level value"}},
		{"empty", "", []string{"unexpected end of JSON input"}},
	} {
		_, err := ParsePrior([]byte(tc.js), "prior.json")
		if err == nil {
			t.Errorf("%s: no error for\n%s", tc.name, tc.js)
			continue
		}
		msg := err.Error()
		ok := strings.HasPrefix(msg, "prior.json: ")
		for _, w := range tc.want {
			ok = ok && strings.Contains(msg, w)
		}
		if !ok {
			t.Errorf("%s: error %q, want one starting with the file name and naming %q", tc.name, msg, tc.want)
		}
	}
	if _, err := LoadPrior(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestPriorValidateNonFinite(t *testing.T) {
	for _, tc := range []struct {
		set  func(*Prior)
		want string
	}{
		{func(p *Prior) { p.S.Min = math.NaN() }, "s: min = NaN"},
		{func(p *Prior) { p.U0.Max = math.Inf(1) }, "u0: max = +Inf"},
		{func(p *Prior) { p.TE.Mean = math.NaN() }, "tE: mean = NaN"},
		{func(p *Prior) { p.TE.SD = math.Inf(1) }, "tE: sd = +Inf"},
		{func(p *Prior) { p.Alpha = Fixed(math.Inf(-1)) }, "alpha: value = -Inf"},
		{func(p *Prior) { p.Alpha = Normal(1e308, 1e308) }, "alpha: mean ± 9 sd"},
		{func(p *Prior) { p.TE = LogNormal(400, 1) }, "tE: mean ± 9 sd"},
	} {
		p := DefaultPrior()
		tc.set(&p)
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
		if _, err := p.MarshalJSON(); err == nil {
			t.Errorf("%s: MarshalJSON accepted an invalid prior", tc.want)
		}
	}
}

func TestStandardizer(t *testing.T) {
	st := NewStandardizer(DefaultPrior())
	if got := strings.Join(st.Names(), ","); got != "log10 s,log10 q,alpha,u0,t0,log10 tE,log10 rho" {
		t.Errorf("Names = %s", got)
	}
	if !reflect.DeepEqual(st.Fixed, map[string]float64{"fs": 1}) {
		t.Errorf("Fixed = %v", st.Fixed)
	}
	// Support ends map to ±1.
	lo := Params{S: 0.2, Q: 1e-3, Alpha: 0, U0: 0, T0: 0, TE: 1, Rho: 1e-4, Fs: 1}
	hi := Params{S: 5, Q: 1, Alpha: 2 * math.Pi, U0: 2, T0: 72, TE: 100, Rho: 1e-2, Fs: 1}
	for i, y := range st.Forward(lo) {
		if math.Abs(y+1) > 1e-15 {
			t.Errorf("%s: lower end maps to %v", st.Coords[i].Name, y)
		}
	}
	for i, y := range st.Forward(hi) {
		if math.Abs(y-1) > 1e-15 {
			t.Errorf("%s: upper end maps to %v", st.Coords[i].Name, y)
		}
	}

	fs := LogUniform(0.1, 1)
	other := Prior{
		S: LogUniform(0.2, 5), Q: Fixed(0.01), Alpha: Normal(1, 0.5), U0: TruncNormal(0, 1, -2, 2),
		T0: Uniform(0, 72), TE: LogNormal(1.2, 0.3), Rho: Fixed(0), Fs: &fs,
	}
	sto := NewStandardizer(other)
	if got := strings.Join(sto.Names(), ","); got != "log10 s,alpha,u0,t0,log10 tE,log10 fs" {
		t.Errorf("Names = %s", got)
	}
	if c := sto.Coords[1]; c.Lo != 1-1.5 || c.Hi != 1+1.5 {
		t.Errorf("untruncated normal alpha: range [%v, %v], want mean ± 3 sd = [-0.5, 2.5]", c.Lo, c.Hi)
	}
	if c := sto.Coords[4]; math.Abs(c.Lo-0.3) > 1e-15 || math.Abs(c.Hi-2.1) > 1e-15 {
		t.Errorf("untruncated log-normal tE: range [%v, %v], want [0.3, 2.1]", c.Lo, c.Hi)
	}

	for k, tc := range []struct {
		p  Prior
		st Standardizer
	}{{DefaultPrior(), st}, {other, sto}} {
		src := rng.New(9, uint64(k))
		for range 2000 {
			pp := tc.p.Sample(src)
			y := tc.st.Forward(pp)
			if len(y) != tc.st.Dim() {
				t.Fatalf("len(Forward) = %d, Dim = %d", len(y), tc.st.Dim())
			}
			for i, c := range tc.st.Coords {
				bounded := c.Name != "alpha" && c.Name != "tE" || k == 0
				if bounded && !(y[i] >= -1-1e-12 && y[i] <= 1+1e-12) {
					t.Fatalf("%s = %v maps outside [-1, 1]: %v", c.Name, pp, y[i])
				}
			}
			back, want := tc.st.Inverse(y).Values(), pp.Values()
			for i := range back {
				if math.Abs(back[i]-want[i]) > 1e-13*math.Max(1, math.Abs(want[i])) {
					t.Fatalf("round trip of %s: %v → %v", ParamNames[i], want[i], back[i])
				}
			}
		}
		js, err := json.Marshal(tc.st)
		if err != nil {
			t.Fatal(err)
		}
		var back Standardizer
		if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, tc.st) {
			t.Errorf("JSON round trip %s: %v\n got %+v\nwant %+v", js, err, back, tc.st)
		}
	}

	for _, tc := range []struct{ js, want string }{
		{`{"coords":[{"name":"s","log10":true,"lo":0,"hi":1}],"fixed":{"q":1,"alpha":0,"u0":0,"t0":0,"tE":1,"rho":0}}`, "fs is neither"},
		{`{"coords":[{"name":"s","log10":true,"lo":1,"hi":0}],"fixed":{"q":1,"alpha":0,"u0":0,"t0":0,"tE":1,"rho":0,"fs":1}}`, "s: range"},
		{`{"coords":[{"name":"s","log10":false,"lo":0,"hi":1}],"fixed":{"q":1,"alpha":0,"u0":0,"t0":0,"tE":1,"rho":0,"fs":1}}`, "s: log10"},
		{`{"coords":[{"name":"x","log10":true,"lo":0,"hi":1}],"fixed":{}}`, `unknown parameter "x"`},
		{`{"coords":[],"fixed":{"s":1,"s ":2}}`, `unknown parameter "s "`},
		{`{"coords":[],"fixed":{},"scale":2}`, `unknown key "scale"`},
	} {
		var s Standardizer
		if err := json.Unmarshal([]byte(tc.js), &s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.js, err, tc.want)
		}
	}
}

// TestInSupport checks the prior-support test of standardised vectors: bounded coordinates
// must lie in [−1, 1]; an untruncated normal's ±3 SD range is not a bound.
func TestInSupport(t *testing.T) {
	p := DefaultPrior()
	p.U0 = Normal(0.5, 0.2) // unbounded: its coordinate is never rejected
	st := NewStandardizer(p)
	y := make([]float64, st.Dim())
	if !st.InSupport(y) {
		t.Fatal("the centre of the prior is outside its support")
	}
	for j, c := range st.Coords {
		y[j] = 1.5
		if got, want := st.InSupport(y), !c.Bounded; got != want {
			t.Errorf("%s at 1.5: InSupport = %v, want %v", c.Name, got, want)
		}
		y[j] = -1
		if !st.InSupport(y) {
			t.Errorf("%s at −1 (the support's edge) rejected", c.Name)
		}
		y[j] = 0
	}
	if c := st.Coords[3]; c.Name != "u0" || c.Bounded {
		t.Errorf("coordinate 3 = %+v, want an unbounded u0", c)
	}
}

// TestWrapPeriodic: α spanning one period is wrapped (in standardised units the period is
// 2); the other coordinates and an α range narrower than 2π are left alone.
func TestWrapPeriodic(t *testing.T) {
	st := NewStandardizer(DefaultPrior())
	ia := -1
	for j, c := range st.Coords {
		if c.Name == "alpha" {
			ia = j
		}
	}
	if ia < 0 {
		t.Fatal("no alpha coordinate in the default standardizer")
	}
	for _, c := range []struct{ in, want float64 }{{0.25, 0.25}, {1.5, -0.5}, {-1.25, 0.75}, {1, -1}, {-1, -1}, {5.5, -0.5}} {
		y := make([]float64, st.Dim())
		y[ia] = c.in
		y[0] = 3 // not periodic: kept
		a0 := st.Inverse(y).Alpha
		st.WrapPeriodic(y)
		if math.Abs(y[ia]-c.want) > 1e-12 || y[0] != 3 {
			t.Errorf("wrap %v: alpha %v (want %v), s %v", c.in, y[ia], c.want, y[0])
		}
		// The wrapped α is the same angle.
		if d := math.Remainder(st.Inverse(y).Alpha-a0, 2*math.Pi); math.Abs(d) > 1e-9 {
			t.Errorf("wrap %v changed the angle by %v", c.in, d)
		}
	}
	narrow := st
	narrow.Coords = append([]Coord(nil), st.Coords...)
	narrow.Coords[ia].Hi = math.Pi
	y := make([]float64, st.Dim())
	y[ia] = 1.5
	if narrow.WrapPeriodic(y) || y[ia] != 1.5 {
		t.Errorf("an α range of π was wrapped: %v", y[ia])
	}
}

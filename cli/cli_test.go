package cli

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/bench"
	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/lens"
	"github.com/mlcu/mlcu/nn"
)

// run runs mlcu in-process with args (without the program name) and returns its standard
// output and error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := NewApp(&out, &errOut).Run(append([]string{"mlcu"}, args...))
	return out.String(), err
}

// readCSV parses a CSV file or string into records.
func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(s))
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, s)
	}
	return recs
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dirNames returns the sorted entries of dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestMagnifyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "points.csv")
	// Columns in an unusual order, extra columns, a comment, an empty rho (point source), a
	// zero rho (point source) and a small source far from the caustics.
	const input = "# test points\n" +
		"id,y2,note,q,rho,s,y1\n" +
		"a,0.1,\"x, y\",0.1,,1.1,0.3\n" +
		"b,-0.4,,0.001,0,0.8,1.2\n" +
		"# a comment between rows\n" +
		"c,0.5,far,0.5,0.001,1.5,-1.5\n" +
		"d,1e-3,,1e-5,0,1.0,0.6\n"
	if err := os.WriteFile(in, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, err := run(t, "magnify", "--in", in, "--workers", "3")
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, stdout)
	if got := strings.Join(recs[0], ","); got != "id,y2,note,q,rho,s,y1,A" {
		t.Fatalf("header %q", got)
	}
	if len(recs) != 5 {
		t.Fatalf("%d records, want header + 4", len(recs))
	}
	inRecs := readCSV(t, input)
	for i, rec := range recs[1:] {
		if strings.Join(rec[:7], "|") != strings.Join(inRecs[i+1], "|") {
			t.Errorf("row %d: input fields changed: %q → %q", i, inRecs[i+1], rec[:7])
		}
		f := func(k int) float64 { v, _ := strconv.ParseFloat(rec[k], 64); return v }
		b := lens.NewBinary(f(5), f(3))
		want := b.PointMag(f(6), f(1))
		if rho := f(4); rho > 0 {
			want = b.FiniteMag(f(6), f(1), rho, lens.DefaultTol)
		}
		if got := f(7); got != want {
			t.Errorf("row %d: A = %v, want %v (exact round trip of the 'g' -1 format)", i, got, want)
		}
	}

	// --out gives the same bytes as standard output, for any number of workers.
	out := filepath.Join(dir, "mags.csv")
	if _, err := run(t, "magnify", "--in", in, "--out", out, "--workers", "1"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, out); got != stdout {
		t.Errorf("--out file differs from standard output:\n%s\nvs\n%s", got, stdout)
	}
	if names := dirNames(t, dir); strings.Join(names, ",") != "mags.csv,points.csv" {
		t.Errorf("directory holds %v", names)
	}
}

func TestMagnifyManyRowsOrder(t *testing.T) {
	// More rows than one worker chunk, so several workers share the table.
	var sb strings.Builder
	sb.WriteString("s,q,y1,y2\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&sb, "1.2,0.2,%g,%g\n", -1+float64(i)*0.004, 0.3)
	}
	pts, err := ReadPoints(strings.NewReader(sb.String()), "many.csv")
	if err != nil {
		t.Fatal(err)
	}
	a1, err := Magnify(pts, 1e-4, 1)
	if err != nil {
		t.Fatal(err)
	}
	a4, err := Magnify(pts, 1e-4, 4)
	if err != nil {
		t.Fatal(err)
	}
	b := lens.NewBinary(1.2, 0.2)
	for i := range a1 {
		want := b.PointMag(pts.Y1[i], pts.Y2[i])
		if a1[i] != want || a4[i] != want {
			t.Fatalf("row %d: %v (1 worker), %v (4 workers), want %v", i, a1[i], a4[i], want)
		}
	}
}

func TestMagnifyBadInput(t *testing.T) {
	cases := []struct {
		name, content string
		args          []string
		want          []string // substrings of the error besides the file name
	}{
		{"empty", "", nil, []string{"empty"}},
		{"comments-only", "# nothing\n", nil, []string{"empty"}},
		{"header-only", "s,q,y1,y2\n", nil, []string{"line 1", "no data rows"}},
		{"missing-column", "s,q,y1\n1,0.1,0\n", nil, []string{"line 1", `missing column "y2"`}},
		{"duplicate-column", "s,q,y1,y2,S\n1,0.1,0,0,1\n", nil, []string{"line 1", "twice"}},
		{"non-numeric", "s,q,y1,y2\n1,0.1,0,0\n1,abc,0,0\n", nil, []string{"line 3", "q", "not a number"}},
		{"nan", "# c\ns,q,y1,y2\n1,0.1,NaN,0\n", nil, []string{"line 3", "y1", "not finite"}},
		{"inf", "s,q,y1,y2\n1,0.1,0,+Inf\n", nil, []string{"line 2", "y2", "not finite"}},
		{"s-zero", "s,q,y1,y2\n0,0.1,0,0\n", nil, []string{"line 2", "s = 0"}},
		{"q-negative", "s,q,y1,y2\n1,-0.1,0,0\n", nil, []string{"line 2", "q = -0.1"}},
		{"rho-negative", "s,q,y1,y2,rho\n1,0.1,0,0,0.01\n1,0.1,0,0,-0.01\n", nil, []string{"line 3", "rho = -0.01"}},
		{"field-count", "s,q,y1,y2\n1,0.1,0,0\n1,0.1,0\n", nil, []string{"line 3", "fields"}},
		{"bad-quote", "s,q,y1,y2\n1,0.1,\"0,0\n", nil, []string{"line"}},
		{"has-A", "s,q,y1,y2,A\n1,0.1,0,0,3\n", nil, []string{"line 1", "column named A"}},
		{"tol-zero", "s,q,y1,y2\n1,0.1,0,0\n", []string{"--tol", "0"}, []string{"--tol"}},
		{"tol-nan", "s,q,y1,y2\n1,0.1,0,0\n", []string{"--tol", "NaN"}, []string{"--tol"}},
		{"workers-zero", "s,q,y1,y2\n1,0.1,0,0\n", []string{"--workers", "0"}, []string{"--workers"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, tc.name+".csv")
			if err := os.WriteFile(in, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out.csv")
			_, err := run(t, append([]string{"magnify", "--in", in, "--out", out}, tc.args...)...)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			if !strings.HasPrefix(tc.name, "tol") && !strings.HasPrefix(tc.name, "workers") && !strings.Contains(msg, in) {
				t.Errorf("error %q does not name the file %s", msg, in)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("files left behind: %v", names)
			}
		})
	}
	t.Run("missing-file", func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "nope.csv")
		_, err := run(t, "magnify", "--in", in, "--out", filepath.Join(dir, "out.csv"))
		if err == nil || !strings.Contains(err.Error(), in) {
			t.Fatalf("error %v does not name %s", err, in)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("files left behind: %v", names)
		}
	})
	t.Run("positional-argument", func(t *testing.T) {
		_, err := run(t, "magnify", "--in", "x.csv", "points.csv")
		if err == nil || !strings.Contains(err.Error(), `"points.csv"`) {
			t.Fatalf("error %v does not name the unexpected argument", err)
		}
	})
	t.Run("missing-flag", func(t *testing.T) {
		_, err := run(t, "magnify")
		if err == nil || !strings.Contains(err.Error(), `"in"`) {
			t.Fatalf("error %v does not name the flag in", err)
		}
	})
}

func TestLightcurve(t *testing.T) {
	dir := t.TempDir()
	out, plot := filepath.Join(dir, "lc.csv"), filepath.Join(dir, "lc.png")
	e := DemoEvent
	e.Rho = 0 // point source: fast, and exactly reproducible below
	args := []string{"lightcurve", "--s", "1.1", "--q", "0.1", "--alpha", "2.7", "--u0", "0.1",
		"--t0", "36", "--tE", "20", "--rho", "0", "--tmin", "30", "--tmax", "35", "--dt", "0.01",
		"--out", out, "--plot", plot}
	if _, err := run(t, args...); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, readFile(t, out))
	if strings.Join(recs[0], ",") != "t,A" {
		t.Fatalf("header %q", recs[0])
	}
	ts := lens.RomanTimes(30, 35, 0.01)
	if len(recs) != 1+500 || len(ts) != 500 {
		t.Fatalf("%d rows, want 500", len(recs)-1)
	}
	want := lens.LightCurve(e, ts, lens.DefaultTol, nil)
	for i, rec := range recs[1:] {
		tv, _ := strconv.ParseFloat(rec[0], 64)
		a, _ := strconv.ParseFloat(rec[1], 64)
		if tv != ts[i] || a != want[i] {
			t.Fatalf("row %d: (%v, %v), want (%v, %v)", i, tv, a, ts[i], want[i])
		}
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", plot, err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 500 {
		t.Errorf("figure is only %v", b)
	}
}

func TestLightcurveFiniteSourceShort(t *testing.T) {
	// A finite source far from the caustics, 20 points.
	out := filepath.Join(t.TempDir(), "lc.csv")
	if _, err := run(t, "lightcurve", "--s", "1.1", "--q", "0.1", "--alpha", "1", "--u0", "0.8",
		"--t0", "10", "--tE", "20", "--rho", "0.001", "--tmin", "0", "--tmax", "0.2", "--out", out); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, readFile(t, out))
	if len(recs) != 21 {
		t.Fatalf("%d rows, want 20", len(recs)-1)
	}
}

func TestLightcurveBadFlags(t *testing.T) {
	base := map[string]string{"s": "1.1", "q": "0.1", "alpha": "2.7", "u0": "0.1", "t0": "36", "tE": "20", "rho": "0"}
	for _, tc := range []struct{ flag, value, want string }{
		{"s", "-1", "s = -1"},
		{"q", "0", "q = 0"},
		{"tE", "-20", "tE = -20"},
		{"rho", "-0.1", "rho = -0.1"},
		{"alpha", "NaN", "alpha = NaN"},
		{"dt", "0", "--dt"},
		{"tmax", "-1", "--tmax"},
		{"tol", "-1", "--tol"},
		{"s", "abc", "s"},
	} {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"lightcurve", "--out", filepath.Join(dir, "lc.csv"), "--plot", filepath.Join(dir, "lc.png")}
			for k, v := range base {
				if k != tc.flag {
					args = append(args, "--"+k, v)
				}
			}
			args = append(args, "--"+tc.flag, tc.value)
			_, err := run(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("files left behind: %v", names)
			}
		})
	}
}

func TestMap(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "map.png")
	if _, err := run(t, "map", "--s", "1.1", "--q", "0.1", "--region", "-1,1,-0.5,0.5",
		"--res", "40", "--rays", "20", "--workers", "2", "--out", out); err != nil {
		t.Fatal(err)
	}
	a, shape, err := npy.ReadFile[float64](filepath.Join(dir, "map.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != 20 || shape[1] != 40 {
		t.Fatalf("map.npy shape %v, want (20, 40)", shape)
	}
	// Away from caustics a pixel's magnification is close to the point-source value at its
	// centre; with 20 rays per unit magnification the Poisson noise is ~20%, so compare the
	// median ratio.
	b := lens.NewBinary(1.1, 0.1)
	var ratios []float64
	for j := 0; j < 20; j++ {
		for i := 0; i < 40; i++ {
			x, y := -1+(float64(i)+0.5)*0.05, -0.5+(float64(j)+0.5)*0.05
			if v := a[j*40+i]; v < 0 || math.IsNaN(v) {
				t.Fatalf("pixel (%d,%d) = %v", i, j, v)
			}
			ratios = append(ratios, a[j*40+i]/b.PointMag(x, y))
		}
	}
	sort.Float64s(ratios)
	if med := ratios[len(ratios)/2]; math.Abs(med-1) > 0.1 {
		t.Errorf("median A_map/A_point = %v, want 1 ± 0.1", med)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("%s is not a PNG: %v", out, err)
	}

	// Default region, explicit --npy.
	np2 := filepath.Join(dir, "other.npy")
	if _, err := run(t, "map", "--s", "0.8", "--q", "0.3", "--res", "16", "--rays", "4",
		"--out", filepath.Join(dir, "m2.png"), "--npy", np2); err != nil {
		t.Fatal(err)
	}
	if _, shape, err := npy.ReadFile[float64](np2); err != nil || len(shape) != 2 || max(shape[0], shape[1]) != 16 {
		t.Fatalf("other.npy: shape %v, %v", shape, err)
	}
}

func TestMapBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--s", "0"}, "s = 0"},
		{[]string{"--region", "1,0,0,1"}, "--region"},
		{[]string{"--region", "0,1,0"}, "--region"},
		{[]string{"--region", "0,1,a,2"}, "--region"},
		{[]string{"--res", "1"}, "--res"},
		{[]string{"--rays", "0"}, "--rays"},
		{[]string{"--rays", "1e7"}, "--rays"},
		{[]string{"--region", "0.1,0.1000000000001,0,1e-13", "--rays", "1e6"}, "image-plane grid"},
		{[]string{"--out", "m.txt"}, "ending in .png"}, // the last --out counts
		{[]string{"--npy", "m.txt"}, "ending in .npy"},
	} {
		dir := t.TempDir()
		for i, a := range tc.args {
			if strings.HasSuffix(a, ".txt") {
				tc.args[i] = filepath.Join(dir, a)
			}
		}
		args := append([]string{"map", "--s", "1", "--q", "0.5", "--out", filepath.Join(dir, "m.png")}, tc.args...)
		_, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("%v: files left behind: %v", tc.args, names)
		}
	}
}

func TestDemoEventCrossesCaustic(t *testing.T) {
	n := lens.CausticCrossings(DemoEvent, lens.RomanTimes(0, 72, lens.RomanCadence))
	if n < 2 || n%2 != 0 {
		t.Errorf("demo event crosses the caustic %d times, want an even number ≥ 2", n)
	}
}

func TestBenchLens(t *testing.T) {
	dir := t.TempDir()
	evPath, dump := filepath.Join(dir, "events.csv"), filepath.Join(dir, "mags.csv")
	stdout, err := run(t, "bench", "lens", "--events", "2", "--tol", "1e-3", "--save-events", evPath, "--dump", dump)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "lightcurves/s/core") || !strings.Contains(stdout, "µs/point") || !strings.Contains(stdout, "\nblas: "+nn.BLASName()+"\n") {
		t.Errorf("output lacks the figures:\n%s", stdout)
	}
	f, err := os.Open(evPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := bench.ReadEvents(f, evPath)
	if err != nil {
		t.Fatal(err)
	}
	want := bench.Events(2, bench.DefaultSeed)
	for i := range want {
		if evs[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, evs[i], want[i])
		}
	}
	recs := readCSV(t, readFile(t, dump))
	if len(recs) != 1+2*7200 || strings.Join(recs[0], ",") != "id,t,A" {
		t.Fatalf("dump has %d records, header %q", len(recs), recs[0])
	}
	if _, err := run(t, "bench", "lens", "--events", "0"); err == nil || !strings.Contains(err.Error(), "--events") {
		t.Errorf("--events 0: error %v", err)
	}
}

func TestVersionAndSuggest(t *testing.T) {
	out, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "mlcu "+Version) || !strings.Contains(out, "blas "+nn.BLASName()+", cuda "+cuda.BuildName()+")") {
		t.Errorf("version: %q, %v", out, err)
	}
	// urfave/cli prints the suggestion with the usage on standard output.
	out, err = run(t, "magnify", "--inn", "x.csv")
	if err == nil || !strings.Contains(out, "Did you mean \"--in\"?") {
		t.Errorf("misspelt flag: error %v, output %q, want a suggestion of --in", err, out)
	}
}

// TestMagnifyExtremeInput: values the parser accepts but far outside the physics of
// interest must give either a positive finite A or one error line naming the row's line,
// never a panic, NaN or a negative magnification in the output.
func TestMagnifyExtremeInput(t *testing.T) {
	rows := []string{
		"1,0.5,1e150,1e150,0",
		"1e300,1,0,0,0.5",
		"1,1e-12,1e-12,0,1e-12",
		"1,0.1,0,0,1e10",
	}
	for _, r := range rows {
		dir := t.TempDir()
		in := filepath.Join(dir, "x.csv")
		if err := os.WriteFile(in, []byte("s,q,y1,y2,rho\n"+r+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, "magnify", "--in", in)
		if err != nil {
			if !strings.Contains(err.Error(), in+": line 2:") || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %q does not name %s: line 2 on one line", r, err, in)
			}
			continue
		}
		recs := readCSV(t, out)
		a, perr := strconv.ParseFloat(recs[1][5], 64)
		if perr != nil || !(a > 0) || math.IsInf(a, 0) {
			t.Errorf("%s: wrote A = %q", r, recs[1][5])
		}
	}
}

package cli

import (
	"context"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/event"

	"gonum.org/v1/plot/vg"

	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/internal/figure"
	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/nn"
)

// TestTrainSampleRoundTrip: simulate a tiny dataset, train the small preset for one epoch
// of two batches, then sample a dataset event (truth known) and a light-curve file.
func TestTrainSampleRoundTrip(t *testing.T) {
	dir := t.TempDir()
	data, model := filepath.Join(dir, "data"), filepath.Join(dir, "model")
	if _, _, err := runCtx(t, context.Background(), "simulate", "--n", "4", "--seed", "3", "--quiet", "--out", data); err != nil {
		t.Fatal(err)
	}
	trainArgs := []string{"train", "--data", data, "--val-events", "2", "--batch", "2", "--epochs", "1", "--device", "cpu", "--quiet", "--out", model}
	out, stderr, err := runCtx(t, context.Background(), trainArgs...)
	if err != nil {
		t.Fatal(err)
	}
	if stderr != "" { // --quiet: not even the device line
		t.Errorf("train --quiet wrote to stderr:\n%s", stderr)
	}
	if !strings.Contains(out, "prior NLL") || !strings.Contains(out, "model in "+model) {
		t.Fatalf("train output:\n%s", out)
	}
	for _, f := range []string{"best/model.safetensors", "last/optimizer.safetensors", "train_log.csv", "loss.png"} {
		if _, err := os.Stat(filepath.Join(model, f)); err != nil {
			t.Error(err)
		}
	}
	check := func(path string, n int) {
		t.Helper()
		v, shape, err := npy.ReadFile[float64](path)
		if err != nil {
			t.Fatal(err)
		}
		if len(shape) != 2 || shape[0] != n || shape[1] != 7 {
			t.Fatalf("%s: shape %v, want (%d, 7)", path, shape, n)
		}
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Fatalf("%s: non-finite sample", path)
			}
		}
	}
	// Samples outside the prior's support are rejected by mlcu sample: every parameter of
	// the --data run (t0 in window time) lies in the default prior's bounds.
	inPrior := func(path string) {
		t.Helper()
		v, _, err := npy.ReadFile[float64](path)
		if err != nil {
			t.Fatal(err)
		}
		p := event.DefaultPrior()
		ds := []event.Dist{p.S, p.Q, p.Alpha, p.U0, p.T0, p.TE, p.Rho}
		for i, x := range v {
			lo, hi := ds[i%7].Support()
			if x < lo*(1-1e-9)-1e-12 || x > hi*(1+1e-9)+1e-12 {
				t.Fatalf("%s: sample %d column %d = %v outside the prior's [%v, %v]", path, i/7, i%7, x, lo, hi)
			}
		}
	}
	sp := filepath.Join(dir, "s.npy")
	plotPath := filepath.Join(dir, "corner.png")
	out, err = run(t, "sample", "--model", model, "--data", data, "--index", "1", "--n", "64", "--out", sp, "--csv", "--plot", plotPath)
	if err != nil {
		t.Fatal(err)
	}
	check(sp, 64)
	inPrior(sp)
	if !strings.Contains(out, "corner plot → "+plotPath) {
		t.Errorf("sample output does not name the corner plot:\n%s", out)
	}
	// The 7 free parameters of the default prior (fs is fixed): a 7×7 grid.
	if img, err := png.Decode(strings.NewReader(readFile(t, plotPath))); err != nil {
		t.Errorf("corner plot: %v", err)
	} else if w, want := img.Bounds().Dx(), int(7*figure.CornerPanel/vg.Inch*figure.DPI); w != want {
		t.Errorf("corner plot is %d px wide, want %d (7 panels)", w, want)
	}
	if !strings.Contains(out, "truth") || !regexp.MustCompile(`(?m)^tE\s`).MatchString(out) {
		t.Fatalf("sample output:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "s.csv")); err != nil || strings.Count(string(b), "\n") != 65 {
		t.Fatalf("CSV: %v", err)
	}
	// A light-curve file: 80 days at 0.05 d, a bump on a baseline of 100.
	var lc strings.Builder
	lc.WriteString("# time flux err\n")
	for i := range 1600 {
		tt := 1000 + 0.05*float64(i)
		fmt.Fprintf(&lc, "%g,%g,1\n", tt, 100*(1+1/math.Sqrt(0.09+math.Pow((tt-1030)/10, 2))))
	}
	lcp := filepath.Join(dir, "lc.csv")
	os.WriteFile(lcp, []byte(lc.String()), 0o644)
	sp2 := filepath.Join(dir, "s2.npy")
	svgPath := filepath.Join(dir, "corner.svg")
	if _, err = run(t, "sample", "--model", model, "--lc", lcp, "--n", "32", "--out", sp2, "--plot", svgPath); err != nil {
		t.Fatal(err)
	}
	check(sp2, 32)
	if b := readFile(t, svgPath); !strings.Contains(b[:min(len(b), 512)], "<svg") {
		t.Errorf("%s is not SVG", svgPath)
	}

	// mlcu eval on the dataset's first events (a training split here: it warns).
	ev := filepath.Join(dir, "eval")
	out, err = run(t, "eval", "--model", model, "--data", data, "--n", "3", "--samples", "40", "--out", ev, "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "eval: 3 events × 40 samples") || !strings.Contains(out, "TARP: KS distance") {
		t.Errorf("eval output:\n%s", out)
	}
	if b := readFile(t, filepath.Join(ev, "summary.csv")); !strings.HasPrefix(b, "parameter,constrained,correct,coverage68,coverage95,width68\n") {
		t.Errorf("summary.csv:\n%s", b)
	}

	// Bad input: one clear error line each.
	bad := filepath.Join(dir, "short.csv")
	os.WriteFile(bad, []byte("0 1 1\n1 1 1\n2 1 1\n"), 0o644)
	unsorted := filepath.Join(dir, "unsorted.csv")
	os.WriteFile(unsorted, []byte("0 1 1\n2 1 1\n1 1 1\n"), 0o644)
	corrupt := filepath.Join(dir, "corrupt")
	os.MkdirAll(filepath.Join(corrupt, "last"), 0o755)
	for _, f := range []string{"model.safetensors", "config.json", "optimizer.safetensors"} {
		b, _ := os.ReadFile(filepath.Join(model, "last", f))
		if f == "model.safetensors" {
			b = b[:len(b)/2]
		}
		os.WriteFile(filepath.Join(corrupt, "last", f), b, 0o644)
	}
	type errCase struct {
		args []string
		want string
	}
	var extra []errCase
	if !cuda.Available() {
		extra = append(extra, errCase{[]string{"train", "--data", data, "--device", "cuda"}, "built without CUDA"},
			errCase{[]string{"sample", "--model", model, "--lc", lcp, "--device", "cuda", "--out", sp}, "built without CUDA"})
	}
	for _, tc := range append([]errCase{
		{[]string{"train", "--data", filepath.Join(dir, "nope"), "--out", filepath.Join(dir, "fresh")}, "not a dataset directory"},
		{[]string{"train", "--data", data, "--preset", "huge", "--out", filepath.Join(dir, "fresh")}, "unknown model preset"},
		{[]string{"train", "--data", data, "--out", model}, "give --resume to continue it or --force"},
		{[]string{"train", "--data", data, "--out", model, "--resume", "--force"}, "not both"},
		{[]string{"train", "--data", data, "--batch", "2", "--val-events", "2", "--resume", "--out", corrupt}, "corrupt"},
		{[]string{"train", "--data", data, "--device", "gpu"}, "--device"},
		{[]string{"sample", "--model", model, "--lc", bad, "--out", sp}, "3 points in the 72-day window"},
		{[]string{"sample", "--model", model, "--lc", unsorted, "--out", sp}, "does not increase"},
		{[]string{"sample", "--model", filepath.Join(dir, "nope"), "--lc", lcp, "--out", sp}, "--model"},
		{[]string{"sample", "--model", model, "--data", data, "--index", "9", "--out", sp}, "--index"},
		{[]string{"sample", "--model", model, "--lc", lcp, "--n", "8", "--out", sp, "--plot", filepath.Join(dir, "nope", "c.png")}, "--plot"},
		{[]string{"sample", "--lc", lcp, "--out", sp}, "no --model given, and the shipped model models/small-wn-100k is not here"},
		{[]string{"eval", "--model", model, "--data", data, "--n", "4", "--samples", "5", "--out", filepath.Join(dir, "ev0")}, "--samples 5"},
		{[]string{"eval", "--model", model, "--data", filepath.Join(dir, "nope"), "--out", filepath.Join(dir, "ev0")}, "--data"},
	}, extra...) {
		_, err := run(t, tc.args...)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one line with %q", tc.args, err, tc.want)
		}
	}
}

// TestBenchSamples: the three figures, each as '<number> <unit>'.
func TestBenchSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the paper preset")
	}
	out, err := run(t, "bench", "--samples", "256", "--train-steps", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"samples/s", "ms/event", "examples/s"} {
		if !regexp.MustCompile(`(?m)^[0-9.e+]+ ` + regexp.QuoteMeta(unit) + `$`).MatchString(out) {
			t.Errorf("no '<number> %s' line in:\n%s", unit, out)
		}
	}
	if !strings.Contains(out, "\nblas: "+nn.BLASName()+"\n") {
		t.Errorf("no 'blas: %s' line in:\n%s", nn.BLASName(), out)
	}
}

// TestTrainWeightNormSteps: --norm weight --base made-mog trains a weight-normalised model
// with a MADE-MoG base (recorded in config.json, no running statistics saved) for exactly
// --steps steps, and the model samples; bad --norm, --base and --steps values and
// conflicting budgets are one-line errors.
func TestTrainWeightNormSteps(t *testing.T) {
	dir := t.TempDir()
	data, model := filepath.Join(dir, "data"), filepath.Join(dir, "model")
	if _, _, err := runCtx(t, context.Background(), "simulate", "--n", "4", "--seed", "3", "--quiet", "--out", data); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCtx(t, context.Background(), "train", "--data", data, "--val-events", "2", "--batch", "2", "--steps", "3",
		"--norm", "weight", "--base", "made-mog", "--device", "cpu", "--quiet", "--out", model)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "train: 3 steps") {
		t.Errorf("train output, want 3 steps:\n%s", out)
	}
	cfg, err := os.ReadFile(filepath.Join(model, "best", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), `"norm": "weight"`) || !strings.Contains(string(cfg), `"base": "made-mog"`) {
		t.Errorf("config.json does not record the weight norm and the MADE-MoG base:\n%s", cfg)
	}
	ck, err := nn.LoadCheckpoint[float32](filepath.Join(model, "best"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range ck.Tensors {
		if strings.Contains(tn.Name, "running_") || strings.HasSuffix(tn.Name, "bn1.weight") {
			t.Errorf("weight-normalised model saved %s", tn.Name)
		}
	}
	if _, _, err := runCtx(t, context.Background(), "sample", "--model", model, "--data", data, "--index", "0",
		"--n", "50", "--out", filepath.Join(dir, "s.npy")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--norm", "layer"}, `--norm = "layer"`},
		{[]string{"--base", "flow"}, `--base = "flow"`},
		{[]string{"--steps", "0"}, "--steps = 0"},
		{[]string{"--steps", "5", "--epochs", "1"}, "one of --epochs, --minutes and --steps"},
	} {
		out := filepath.Join(dir, "bad")
		args := append([]string{"train", "--data", data, "--val-events", "2", "--device", "cpu", "--quiet", "--out", out}, tc.args...)
		if _, _, err := runCtx(t, context.Background(), args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: %s written", tc.args, out)
		}
	}
}

// TestSampleExampleEvent: the photometry 'mlcu lightcurve --snr' writes is an --lc input;
// 'mlcu sample --truth --lcplot' prints the truth beside the intervals and draws the
// posterior-predictive figure with the best draw's χ² (with the shipped model); bad
// --truth, --draws and --lcplot with --data are one-line errors that write nothing.
func TestSampleExampleEvent(t *testing.T) {
	dir := t.TempDir()
	lcp := demoPhotometry(t, dir)
	b, err := os.ReadFile(lcp)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); lines[0] != "t,flux,flux_err" || len(lines) != 7201 {
		t.Fatalf("photometry: header %q, %d lines; want t,flux,flux_err and 7200 rows", lines[0], len(lines)-1)
	}
	model := filepath.Join("..", ShippedModel)
	fig := filepath.Join(dir, "draws.png")
	out, err := run(t, "sample", "--model", model, "--lc", lcp, "--truth", "1.1,0.1,2.7,0.1,36,20,0.001", "--n", "500",
		"--draws", "5", "--lcplot", fig, "--out", filepath.Join(dir, "s.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^tE +\S+ +\S+ +\S+ +20$`).MatchString(out) || !strings.Contains(out, "best of 5 draws: χ² = ") {
		t.Errorf("sample output lacks the truth column or the best draw's χ²:\n%s", out)
	}
	f, err := os.Open(fig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: %v", fig, err)
	}
	f.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lc", lcp, "--truth", "1,2,3"}, "want 7 comma-separated"},
		{[]string{"--lc", lcp, "--truth", "1.1,0.1,2.7,0.1,36,-20,0.001"}, "--truth"},
		{[]string{"--lc", lcp, "--draws", "0"}, "--draws = 0"},
		{[]string{"--data", dir, "--index", "0", "--lcplot", fig}, "go with --lc"},
	} {
		o := filepath.Join(dir, "bad.npy")
		args := append([]string{"sample", "--model", model, "--out", o}, tc.args...)
		if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
		if _, err := os.Stat(o); err == nil {
			t.Errorf("%v: %s written", tc.args, o)
		}
	}
}

// TestSampleMagnitudes: the same photometry in magnitudes (zero point 22) gives the same
// posterior through --lc FILE,mag as in flux (the network input is scale-free); given as
// flux it is refused with the advice to add ,mag.
func TestSampleMagnitudes(t *testing.T) {
	dir := t.TempDir()
	lcp := demoPhotometry(t, dir)
	b, err := os.ReadFile(lcp)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.WriteString("# HJD-2450000, I mag, err\n")
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 {
			continue
		}
		var tv, f, e float64
		if _, err := fmt.Sscanf(strings.ReplaceAll(line, ",", " "), "%g %g %g", &tv, &f, &e); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&sb, "%.5f %.6f %.6f\n", tv+9000, 22-2.5*math.Log10(f), 2.5/math.Ln10*e/f)
	}
	magp := filepath.Join(dir, "lc.mag")
	if err := os.WriteFile(magp, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join("..", ShippedModel)
	median := func(out string, name string) string {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] == name {
				return f[1]
			}
		}
		return ""
	}
	outF, err := run(t, "sample", "--model", model, "--lc", lcp, "--n", "300", "--out", filepath.Join(dir, "f.npy"))
	if err != nil {
		t.Fatal(err)
	}
	outM, err := run(t, "sample", "--model", model, "--lc", magp+",mag", "--n", "300", "--out", filepath.Join(dir, "m.npy"))
	if err != nil {
		t.Fatal(err)
	}
	// The same input up to the file's 6 decimals of magnitude (1e-6 mag = 1e-6 relative).
	a, errA := strconv.ParseFloat(median(outF, "tE"), 64)
	b2, errB := strconv.ParseFloat(median(outM, "tE"), 64)
	if errA != nil || errB != nil || math.Abs(a-b2) > 1e-3*a {
		t.Errorf("median tE in flux %v, in magnitudes %v: want the same to 1e-3", a, b2)
	}
	if _, err := run(t, "sample", "--model", model, "--lc", magp, "--n", "10", "--out", filepath.Join(dir, "x.npy")); err == nil || !strings.Contains(err.Error(), "look like magnitudes") {
		t.Errorf("magnitudes as flux: error %v, want the magnitude warning", err)
	}
}

// demoPhotometry writes the demo event's simulated photometry (SNR 100, seed 1) into dir
// with 'mlcu lightcurve --snr' and returns the file.
func demoPhotometry(t *testing.T, dir string) string {
	t.Helper()
	lcp := filepath.Join(dir, "lc.csv")
	if _, err := run(t, "lightcurve", "--s", "1.1", "--q", "0.1", "--alpha", "2.7", "--u0", "0.1", "--t0", "36", "--tE", "20",
		"--rho", "1e-3", "--snr", "100", "--seed", "1", "--out", lcp); err != nil {
		t.Fatal(err)
	}
	return lcp
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/internal/npy"
)

// TestFit: 'mlcu fit' with the shipped model on simulated photometry of a binary event
// (no caustic crossing: cheap light curves), tiny settings: every output file, with the
// exact headers and the chains' shape; a second run into the same --out needs --force; bad
// flags are one-line errors that write nothing.
func TestFit(t *testing.T) {
	dir := t.TempDir()
	lcp := filepath.Join(dir, "lc.csv")
	if _, err := run(t, "lightcurve", "--s", "0.8", "--q", "0.02", "--alpha", "0.6", "--u0", "0.2", "--t0", "36", "--tE", "15",
		"--rho", "1e-3", "--snr", "100", "--seed", "3", "--out", lcp); err != nil {
		t.Fatal(err)
	}
	// Every 10th point and the last (721 points over the 72 days): ten times cheaper
	// light curves for the polish and the chains, and a curve sparser than the network's
	// cadence, which fit accepts.
	b, err := os.ReadFile(lcp)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var thin []string
	for i, l := range lines {
		if i == 0 || (i-1)%10 == 0 || i == len(lines)-1 {
			thin = append(thin, l)
		}
	}
	if err := os.WriteFile(lcp, []byte(strings.Join(thin, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join("..", ShippedModel)
	out := filepath.Join(dir, "fit")
	args := []string{"fit", "--model", model, "--lc", lcp, "--truth", "0.8,0.02,0.6,0.2,36,15,0.001", "--candidates", "80",
		"--chains", "14", "--steps", "8", "--burn", "4", "--polish", "1", "--rescale-errors", "--quiet", "--out", out}
	stdout, err := run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"14 chains × 8 steps (burn 4) per mode", "best χ²", "truth", "R̂", "importance sampling of the 80 candidates: ESS",
		"window 0 – 71.99 (automatic: centred on the peak, inside the data): 721 points", "walkers started at the polished χ²",
		"fit: dataset 1: error bars × "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for file, header := range map[string]string{"summary.csv": "parameter,median,lo68,hi68,lo95,hi95", "diagnostics.csv": "parameter,rhat,ess",
		"importance.csv": "parameter,median,lo68,hi68,lo95,hi95"} {
		b, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if lines[0] != header || len(lines) != 8 || !strings.HasPrefix(lines[1], "s,") || !strings.HasPrefix(lines[7], "rho,") {
			t.Errorf("%s:\n%s", file, b)
		}
	}
	if b, err := os.ReadFile(filepath.Join(out, "modes.csv")); err != nil {
		t.Error(err)
	} else if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 3 || lines[0] != "mode,nde_mass,walkers,acceptance,best_chi2,delta_chi2,s,q,alpha,u0,t0,tE,rho,median_s,median_q,polished_chi2" ||
		!strings.HasPrefix(lines[1], "close,") || !strings.HasPrefix(lines[2], "wide,") {
		t.Errorf("modes.csv:\n%s", b)
	}
	_, shape, err := npy.ReadFile[float64](filepath.Join(out, "chains.npy"))
	if err != nil || len(shape) != 3 || shape[0] != 14 || shape[1] != 8 || shape[2] != 7 {
		t.Errorf("chains.npy: shape %v (%v), want [14 8 7]", shape, err)
	}
	_, shape, err = npy.ReadFile[float64](filepath.Join(out, "candidates.npy"))
	if err != nil || len(shape) != 2 || shape[0] != 80 || shape[1] != 8 {
		t.Errorf("candidates.npy: shape %v (%v), want [80 8]", shape, err)
	}
	for _, f := range []string{"corner.png", "fit.png", "trace.png", "marginals.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second run into %s: error %v, want one asking for --force", out, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--lc", lcp, "--chains", "13"}, "--chains 13"},
		{[]string{"--lc", lcp, "--chains", "16", "--candidates", "8"}, "--candidates 8"},
		{[]string{"--lc", lcp, "--steps", "10", "--burn", "10"}, "--burn 10"},
		{[]string{"--lc", filepath.Join(dir, "nope.csv")}, "--lc"},
		{[]string{"--data", dir, "--truth", "1,2,3,4,5,6,7"}, "--truth goes with --lc"},
		{[]string{}, "give either --lc"},
		{[]string{"--lc", lcp, "--polish", "-1"}, "--polish"},
		{[]string{"--lc", lcp, "--window", "0,10"}, "the model's window is 72 d"},
		{[]string{"--data", dir, "--index", "0", "--window", "0,72"}, "--window needs --lc"},
	} {
		o := filepath.Join(dir, "bad")
		a := append([]string{"fit", "--model", model, "--quiet", "--out", o}, tc.args...)
		if _, err := run(t, a...); err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error %v, want one line containing %q", tc.args, err, tc.want)
		}
		if _, err := os.Stat(o); err == nil {
			t.Errorf("%v: %s written", tc.args, o)
		}
	}
}

// TestFitLcUnitSurvivesRepeat: fit's repeatable --lc FILE,mag reaches the reader whole. A
// slice flag that split its values on commas made it two files, FILE read as flux and
// refused as magnitudes; here the magnitudes are read and the second file's absence is the
// error.
func TestFitLcUnitSurvivesRepeat(t *testing.T) {
	dir := t.TempDir()
	mags := filepath.Join(dir, "mags.dat")
	if err := os.WriteFile(mags, []byte("9000.1 18.2 0.01\n9000.2 18.1 0.01\n9000.3 18.2 0.01\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, "fit", "--model", filepath.Join("..", ShippedModel), "--quiet", "--out", filepath.Join(dir, "o"),
		"--lc", mags+",mag", "--lc", filepath.Join(dir, "nope.csv"))
	if err == nil || !strings.Contains(err.Error(), "nope.csv") || strings.Contains(err.Error(), "look like magnitudes") {
		t.Errorf("error %v, want the missing nope.csv (mags.dat read as magnitudes)", err)
	}
}

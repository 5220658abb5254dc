package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/internal/testutil"
)

// runCtx runs mlcu in-process with ctx and returns its standard output, standard error and
// error.
func runCtx(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := NewApp(&out, &errOut).RunContext(ctx, append([]string{"mlcu"}, args...))
	return out.String(), errOut.String(), err
}

// TestSimulateShards: a full run and three separate --shard runs give the same files; a
// re-run skips complete shards; the files are what numpy expects.
func TestSimulateShards(t *testing.T) {
	full, sharded := t.TempDir(), t.TempDir()
	stdout, stderr, err := runCtx(t, context.Background(), "simulate", "--n", "7", "--seed", "4", "--shards", "3", "--workers", "2", "--out", full)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "3 shard(s) written (7 events") || !strings.Contains(stderr, "7 events (seed 4, split train), all 3 shards") {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	for _, spec := range []string{"2/3", "0/3", "1/3"} {
		if _, _, err := runCtx(t, context.Background(), "simulate", "--n", "7", "--seed", "4", "--shard", spec, "--workers", "1", "--quiet", "--out", sharded); err != nil {
			t.Fatalf("--shard %s: %v", spec, err)
		}
	}
	a, b := testutil.Snapshot(t, full), testutil.Snapshot(t, sharded)
	if len(a) != 7 || !maps.Equal(a, b) {
		t.Errorf("a single run and shard runs differ: %d and %d files", len(a), len(b))
	}
	stdout, _, err = runCtx(t, context.Background(), "simulate", "--n", "7", "--seed", "4", "--shards", "3", "--quiet", "--out", full)
	if err != nil || !strings.Contains(stdout, "0 shard(s) written (0 events") || !strings.Contains(stdout, "3 already complete") {
		t.Errorf("re-run: %q, %v", stdout, err)
	}
	_, shape, err := npy.ReadFile[float32](filepath.Join(full, "shard-00001-of-00003.curves.npy"))
	if err != nil || len(shape) != 2 || shape[0] != 2 || shape[1] != event.StoredPoints {
		t.Errorf("shard 1 curves: shape %v, %v; want [2 14400]", shape, err)
	}
}

// TestSimulateBadInput: each mistake gives one error line naming the flag or file, exit
// status 1, and leaves the directory as it was.
func TestSimulateBadInput(t *testing.T) {
	tmp := t.TempDir()
	// Prior files in the documented format, with a mistake in u0.
	priorFile := func(name, u0 string) string {
		path := filepath.Join(tmp, name)
		js := `{"s": {"family": "log-uniform", "min": 0.2, "max": 5},
 "q": {"family": "log-uniform", "min": 0.001, "max": 1},
 "alpha": {"family": "uniform", "min": 0, "max": 6.283185307179586},
 "u0": ` + u0 + `,
 "t0": {"family": "uniform", "min": 0, "max": 72},
 "tE": {"family": "log-normal", "mean": 1.15, "sd": 0.45, "min": 1, "max": 100},
 "rho": {"family": "log-uniform", "min": 0.0001, "max": 0.01}}`
		if err := os.WriteFile(path, []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := priorFile("good.json", `{"family": "uniform", "min": 0, "max": 2}`)
	if _, err := event.LoadPrior(good); err != nil {
		t.Fatalf("the test's prior file is not valid: %v", err)
	}
	unknown := priorFile("unknown.json", `{"family": "gaussian", "min": 0, "max": 2}`)
	inverted := priorFile("inverted.json", `{"family": "uniform", "min": 2, "max": 0}`)

	// A dataset to damage: seed 1, 4 events, 2 shards.
	data := filepath.Join(tmp, "data")
	if _, _, err := runCtx(t, context.Background(), "simulate", "--n", "4", "--shards", "2", "--quiet", "--out", data); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(tmp, "truncated")
	os.MkdirAll(truncated, 0o755)
	for name, content := range testutil.Snapshot(t, data) {
		if strings.HasSuffix(name, "curves.npy") {
			content = content[:len(content)-1000]
		}
		os.WriteFile(filepath.Join(truncated, name), []byte(content), 0o644)
	}
	empty := filepath.Join(tmp, "empty")

	for _, c := range []struct {
		name string
		dir  string
		args []string
		want string
	}{
		{"zero events", empty, []string{"--n", "0"}, "--n"},
		{"negative events", empty, []string{"--n", "-3"}, "--n"},
		{"no --n", empty, nil, "--n"},
		{"shard index too large", empty, []string{"--n", "5", "--shard", "3/2"}, "--shard"},
		{"shard not numbers", empty, []string{"--n", "5", "--shard", "a/b"}, "--shard"},
		{"shard and shards disagree", empty, []string{"--n", "5", "--shard", "1/2", "--shards", "3"}, "--shards"},
		{"more shards than events", empty, []string{"--n", "2", "--shards", "3"}, "shards"},
		{"unknown family", empty, []string{"--n", "5", "--prior", unknown}, "gaussian"},
		{"inverted bounds", empty, []string{"--n", "5", "--prior", inverted}, "u0"},
		{"missing prior", empty, []string{"--n", "5", "--prior", filepath.Join(tmp, "nope.json")}, "--prior"},
		{"unknown split", empty, []string{"--n", "5", "--split", "dev"}, "split"},
		{"other dataset", data, []string{"--n", "4", "--shards", "2", "--seed", "2"}, "seed 1, not 2"},
		{"other size", data, []string{"--n", "6"}, "events 4, not 6"},
		{"truncated npy", truncated, []string{"--n", "4", "--shards", "2"}, "truncated"},
		{"data without show", empty, []string{"--n", "4", "--data", data}, "--data"},
		{"zero workers", empty, []string{"--n", "4", "--workers", "0"}, "--workers"},
	} {
		before := testutil.Snapshot(t, c.dir)
		args := append([]string{"simulate", "--quiet", "--out", c.dir}, c.args...)
		_, _, err := runCtx(t, context.Background(), args...)
		var ec ucli.ExitCoder
		if err == nil || !errors.As(err, &ec) || ec.ExitCode() != 1 {
			t.Errorf("%s: error %v, want exit status 1", c.name, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "simulate: ") {
			t.Errorf("%s: error %q, want one line naming %q", c.name, msg, c.want)
		}
		if !maps.Equal(before, testutil.Snapshot(t, c.dir)) {
			t.Errorf("%s: the directory %s changed", c.name, c.dir)
		}
	}
}

// TestSimulateInterrupted: a cancelled run (what SIGINT does) exits with status 130 and a
// message, and leaves no shard file, temporary or not.
func TestSimulateInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := runCtx(t, ctx, "simulate", "--n", "5", "--quiet", "--out", dir)
	var ec ucli.ExitCoder
	if err == nil || !errors.As(err, &ec) || ec.ExitCode() != exitInterrupted || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("error %v, want exit status %d and 'interrupted'", err, exitInterrupted)
	}
	for name := range testutil.Snapshot(t, dir) {
		if name != dataset.ManifestName {
			t.Errorf("file %s left after the interrupt", name)
		}
	}
}

// TestSimulateShow: --show writes decodable PNGs, simulated or from a dataset.
func TestSimulateShow(t *testing.T) {
	tmp := t.TempDir()
	data, figs, figs2 := filepath.Join(tmp, "data"), filepath.Join(tmp, "figs"), filepath.Join(tmp, "figs2")
	if _, _, err := runCtx(t, context.Background(), "simulate", "--show", "2", "--out", figs); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCtx(t, context.Background(), "simulate", "--n", "3", "--quiet", "--out", data); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCtx(t, context.Background(), "simulate", "--show", "3", "--data", data, "--out", figs2); err != nil {
		t.Fatal(err)
	}
	for dir, n := range map[string]int{figs: 2, figs2: 3} {
		files := testutil.Snapshot(t, dir)
		if len(files) != n {
			t.Errorf("%s: %d files, want %d", dir, len(files), n)
		}
		for name, b := range files {
			if _, err := png.Decode(strings.NewReader(b)); err != nil || !strings.HasPrefix(name, "event-") {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--show", "0"}, "--show"},
		{[]string{"--show", "4", "--data", data}, "only 3 events"},
		{[]string{"--show", "1", "--data", tmp}, "manifest.json"},
		{[]string{"--show", "1", "--n", "5"}, "--n"},
		{[]string{"--show", "1", "--data", data, "--prior", "x.json"}, "--prior"},
	} {
		_, _, err := runCtx(t, context.Background(), append([]string{"simulate", "--out", filepath.Join(tmp, "bad")}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one naming %q", c.args, err, c.want)
		}
	}
}

func TestBenchSimulate(t *testing.T) {
	stdout, err := run(t, "bench", "simulate", "--events", "2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "events/s/core") || !strings.Contains(stdout, "minutes for 100000 events on") {
		t.Errorf("output lacks the figures:\n%s", stdout)
	}
	if _, err := run(t, "bench", "simulate", "--events", "0"); err == nil || !strings.Contains(err.Error(), "--events") {
		t.Errorf("--events 0: error %v", err)
	}
}

// compareDatasets compares the datasets in dirs a and b: the same file names, the same
// manifest and params bytes, and curves whose every float32 value agrees within tol·A
// (tol: the manifest's accuracy goal, what the forward model promises). It returns the
// number of curve values that differ at all and the largest relative difference.
func compareDatasets(t *testing.T, a, b string) (values, differ int, maxRel float64) {
	t.Helper()
	fa, fb := testutil.Snapshot(t, a), testutil.Snapshot(t, b)
	m, err := dataset.ReadManifest(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(fa) != 2*m.Shards+1 || len(fa) != len(fb) {
		t.Fatalf("%d files in %s, %d in %s, want %d", len(fa), a, len(fb), b, 2*m.Shards+1)
	}
	for name, ca := range fa {
		cb, ok := fb[name]
		switch {
		case !ok:
			t.Fatalf("%s is missing from %s", name, b)
		case !strings.HasSuffix(name, ".curves.npy"):
			if ca != cb {
				t.Errorf("%s differs", name)
			}
			continue
		}
		va, shape, err := npy.ReadFile[float32](filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		vb, shapeB, err := npy.ReadFile[float32](filepath.Join(b, name))
		if err != nil || fmt.Sprint(shape) != fmt.Sprint(shapeB) {
			t.Fatalf("%s: shapes %v and %v, %v", name, shape, shapeB, err)
		}
		for i := range va {
			values++
			if va[i] == vb[i] {
				continue
			}
			differ++
			d := math.Abs(float64(va[i])-float64(vb[i])) / float64(va[i])
			maxRel = math.Max(maxRel, d)
			if !(d <= m.Tol) {
				t.Fatalf("%s: value %d (event row %d, sample %d): %v and %v", name, i, i/event.StoredPoints, i%event.StoredPoints, va[i], vb[i])
			}
		}
	}
	return values, differ, maxRel
}

// TestSimulateDeviceFlag: --device auto works in every build and, where it takes the CPU,
// writes the --device cpu dataset; it says which device it took (not with --quiet). In a
// build without CUDA, --device cuda fails with one line saying so and writes nothing (the
// cuda-tagged TestSimulateDeviceMatchesCPU runs it where it exists); an unknown device is
// refused.
func TestSimulateDeviceFlag(t *testing.T) {
	tmp := t.TempDir()
	cpu, auto := filepath.Join(tmp, "cpu"), filepath.Join(tmp, "auto")
	args := []string{"simulate", "--n", "3", "--seed", "2", "--workers", "2"}
	_, stderr, err := runCtx(t, context.Background(), append(args, "--device", "cpu", "--out", cpu)...)
	if err != nil || !strings.Contains(stderr, "simulate: device cpu: asked for with --device cpu\n") {
		t.Fatalf("--device cpu: %v, stderr %q", err, stderr)
	}
	_, stderr, err = runCtx(t, context.Background(), append(args, "--device", "auto", "--out", auto)...)
	if err != nil || !strings.Contains(stderr, "simulate: device ") {
		t.Fatalf("--device auto: %v, stderr %q", err, stderr)
	}
	values, differ, maxRel := compareDatasets(t, cpu, auto)
	t.Logf("--device auto (%s) against cpu: %d of %d values differ, max relative difference %.2g",
		strings.TrimSpace(stderr[:strings.Index(stderr, "\n")]), differ, values, maxRel)
	if ch, _ := cuda.Choose("auto"); !ch.CUDA && differ != 0 {
		t.Errorf("--device auto took the CPU but its dataset differs from --device cpu's")
	}
	if _, stderr, err := runCtx(t, context.Background(), append(args, "--quiet", "--out", filepath.Join(tmp, "quiet"))...); err != nil || stderr != "" {
		t.Errorf("--quiet: %v, stderr %q", err, stderr)
	}

	cases := []struct{ device, want string }{{"gpu", "--device gpu: want auto, cpu or cuda"}}
	if !cuda.Available() {
		cases = append(cases, struct{ device, want string }{"cuda", "built without CUDA"})
	}
	for _, c := range cases {
		dir := filepath.Join(tmp, "bad-"+c.device)
		for _, cmd := range [][]string{
			{"simulate", "--n", "3", "--out", dir, "--device", c.device},
			{"simulate", "--show", "1", "--out", dir, "--device", c.device},
			{"bench", "simulate", "--events", "1", "--device", c.device},
		} {
			_, _, err := runCtx(t, context.Background(), cmd...)
			var ec ucli.ExitCoder
			if err == nil || !errors.As(err, &ec) || ec.ExitCode() != 1 {
				t.Errorf("%q: error %v, want exit status 1", cmd, err)
				continue
			}
			msg := err.Error()
			prefix := "simulate: "
			if cmd[0] == "bench" {
				prefix = "bench simulate: "
			}
			if !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, prefix) {
				t.Errorf("%q: error %q, want one line naming %q", cmd, msg, c.want)
			}
		}
		if files := testutil.Snapshot(t, dir); len(files) != 0 {
			t.Errorf("--device %s: %d files written", c.device, len(files))
		}
	}
}

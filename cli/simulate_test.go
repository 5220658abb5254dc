package cli

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/train"
)

// runCtx runs mlcu in-process with ctx and returns its standard output, standard error and
// error.
func runCtx(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := NewApp(&out, &errOut).RunContext(ctx, append([]string{"mlcu"}, args...))
	return out.String(), errOut.String(), err
}

// dirContents returns every file name and content under dir ("" when dir is missing).
func dirContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return files
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

func sameContents(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
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
	a, b := dirContents(t, full), dirContents(t, sharded)
	if len(a) != 7 || !sameContents(a, b) {
		t.Errorf("a single run and shard runs differ: %d and %d files", len(a), len(b))
	}
	stdout, _, err = runCtx(t, context.Background(), "simulate", "--n", "7", "--seed", "4", "--shards", "3", "--quiet", "--out", full)
	if err != nil || !strings.Contains(stdout, "0 shard(s) written (0 events") || !strings.Contains(stdout, "3 already complete") {
		t.Errorf("re-run: %q, %v", stdout, err)
	}
	_, shape, err := npy.ReadFile[float32](filepath.Join(full, "shard-00001-of-00003.curves.npy"))
	if err != nil || len(shape) != 2 || shape[0] != 2 || shape[1] != train.StoredPoints {
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
	if _, err := train.LoadPrior(good); err != nil {
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
	for name, content := range dirContents(t, data) {
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
		before := dirContents(t, c.dir)
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
		if !sameContents(before, dirContents(t, c.dir)) {
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
	for name := range dirContents(t, dir) {
		if name != train.ManifestName {
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
		files := dirContents(t, dir)
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

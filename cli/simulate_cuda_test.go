//go:build cuda || cudaemu

package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/cuda"
)

// TestSimulateDeviceMatchesCPU simulates 6 events (seed 1: 5.5% of their points are
// integrated on the host, by contours) in 2 shards with --device cpu and with
// --device cuda (2 workers: device batches of 2 and 1 events per shard), and once more with
// shard 0 on the CPU and shard 1 on the device into one directory (the manifest does not
// record the device, so the second run must accept the first's directory). Against the CPU
// dataset: the manifests and params are byte-identical, and every stored float32 value
// agrees within tol·A (1e-4 relative, the forward model's accuracy goal: a point whose
// quadrupole-or-contour decision sits within rounding of its threshold may take the other
// method, and a contour integrated on the device samples the boundary differently from the
// CPU's, both within their error estimates below tol·A). That is what makes mixing shards
// safe. Few values differ at all after float32 rounding, which is checked too: off the
// contours the device computes the CPU's values to float64 rounding (≤ 5e-13 relative: about
// 1e-5 of the values sit that close to a float32 rounding boundary); the device contours (a
// few % of the points) differ from the CPU's by their estimates' residue (measured ≤ 3e-8
// relative, mostly far less), which changes a float32 value (ulp ≥ 6e-8 relative) with
// probability ≲ difference/ulp: measured 29 of 86,400 values (3.4e-4); at most 1 in 10³ may
// differ. It logs how many differ and by how much.
func TestSimulateDeviceMatchesCPU(t *testing.T) {
	if ch, err := cuda.Choose("cuda"); err != nil || !ch.CUDA {
		t.Skipf("no CUDA device: %v", err)
	}
	tmp := t.TempDir()
	cpu, dev, mixed := filepath.Join(tmp, "cpu"), filepath.Join(tmp, "cuda"), filepath.Join(tmp, "mixed")
	args := []string{"simulate", "--n", "6", "--seed", "1", "--shards", "2", "--workers", "2"}
	if _, _, err := runCtx(t, context.Background(), append(args, "--device", "cpu", "--quiet", "--out", cpu)...); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := runCtx(t, context.Background(), append(args, "--device", "cuda", "--out", dev)...)
	if err != nil {
		t.Fatal(err)
	}
	var host, total int
	if i := strings.Index(stderr, "simulate: device cuda: asked for with --device cuda"); i < 0 {
		t.Errorf("stderr %q lacks the device line", stderr)
	} else if j := strings.LastIndex(stderr, "\nsimulate: "); j < 0 {
		t.Errorf("stderr %q lacks the host-points line", stderr)
	} else if _, err := fmt.Sscanf(stderr[j:], "\nsimulate: %d of %d magnifications", &host, &total); err != nil || host == 0 || total != 6*event.StoredPoints {
		t.Errorf("host-points line %q: %d of %d (%v); want some of %d", stderr[j:], host, total, err, 6*event.StoredPoints)
	}
	for i, d := range []string{"cpu", "cuda"} {
		spec := []string{"0/2", "1/2"}[i]
		if _, _, err := runCtx(t, context.Background(), "simulate", "--n", "6", "--seed", "1", "--shard", spec, "--device", d, "--quiet", "--out", mixed); err != nil {
			t.Fatalf("mixed, shard %s on %s: %v", spec, d, err)
		}
	}
	for _, c := range []struct{ name, dir string }{{"--device cuda", dev}, {"shard 0 on the CPU, shard 1 on the device", mixed}} {
		values, differ, maxRel := compareDatasets(t, cpu, c.dir)
		t.Logf("%s against --device cpu: %d of %d stored values differ, max relative difference %.2g (tolerance 1e-4 each, at most 1e-3 of the values)",
			c.name, differ, values, maxRel)
		if differ > values/1000 {
			t.Errorf("%s: %d of %d values differ from the CPU's: more than float64 rounding explains", c.name, differ, values)
		}
	}
}

// TestBenchSimulateDevice: bench simulate --device cuda times the device path.
func TestBenchSimulateDevice(t *testing.T) {
	stdout, err := run(t, "bench", "simulate", "--events", "3", "--device", "cuda")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"events/s (GPU and", "of the magnifications integrated on the host", "minutes for 100000 events"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

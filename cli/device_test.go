//go:build cuda || cudaemu

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlcu/mlcu/cuda"
)

// TestMapDevice: 'mlcu map --device cuda' shoots the same lattice of rays as the CPU, so the
// .npy of the map is byte-identical to the one of --device cpu (amd64: no fused
// multiply-adds on either side).
func TestMapDevice(t *testing.T) {
	if err := cuda.Init(); err != nil {
		t.Skipf("no device: %v", err)
	}
	dir := t.TempDir()
	var npys [2][]byte
	for i, dev := range []string{"cpu", "cuda"} {
		out := filepath.Join(dir, dev+".png")
		if _, err := run(t, "map", "--s", "1.1", "--q", "0.1", "--res", "24", "--rays", "30", "--device", dev, "--out", out); err != nil {
			t.Fatalf("--device %s: %v", dev, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, dev+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		npys[i] = b
	}
	if !bytes.Equal(npys[0], npys[1]) {
		t.Error("the cuda map differs from the cpu map")
	}
}

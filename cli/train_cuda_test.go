//go:build cuda || cudaemu

package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/cuda"
)

// TestTrainDeviceVariant: the small preset is weight-normalised, which the device kernels
// do not implement: --device cuda refuses it with the flags that train its device variant,
// and nothing is written.
func TestTrainDeviceVariant(t *testing.T) {
	if !cuda.Available() {
		t.Skip("no CUDA device")
	}
	dir := t.TempDir()
	data, model := filepath.Join(dir, "data"), filepath.Join(dir, "model")
	if _, _, err := runCtx(t, context.Background(), "simulate", "--n", "4", "--seed", "3", "--quiet", "--device", "cpu", "--out", data); err != nil {
		t.Fatal(err)
	}
	_, _, err := runCtx(t, context.Background(), "train", "--data", data, "--val-events", "2", "--batch", "2", "--steps", "1",
		"--device", "cuda", "--quiet", "--out", model)
	if err == nil || !strings.Contains(err.Error(), "--norm batch --base mixture") {
		t.Fatalf("error %v, want one that gives --norm batch --base mixture", err)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("files besides the dataset: %v", names)
	}
}

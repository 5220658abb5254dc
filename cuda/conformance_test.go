//go:build cuda || cudaemu

package cuda_test

import (
	"testing"

	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/device"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/nn"
)

// The shared conformance suites (package internal/conformance) against the CUDA
// implementations, through the wiring that --device cuda uses (package device). The CPU
// implementations run the same suites in nn, train, dataset and infer.

// cudaBackend returns --device cuda's backend (TestMain has initialised the device).
func cudaBackend(t *testing.T) device.Backend {
	t.Helper()
	b, err := device.Choose("cuda")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGemmConformance(t *testing.T) {
	conformance.Gemm(t, func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) error {
		// Empty operands (k = 0) still need a valid device buffer.
		da, err := cuda.FromHost(append(a, 0))
		if err != nil {
			return err
		}
		defer da.Free()
		db, err := cuda.FromHost(append(b, 0))
		if err != nil {
			return err
		}
		defer db.Free()
		dc, err := cuda.FromHost(c)
		if err != nil {
			return err
		}
		defer dc.Free()
		if err := cuda.Gemm(transA, transB, m, n, k, alpha, da.Slice(0, len(a)), lda, db.Slice(0, len(b)), ldb, beta, dc, ldc); err != nil {
			return err
		}
		return dc.Download(c)
	})
}

func TestTrainerConformance(t *testing.T) { conformance.TrainBackend(t, cudaBackend(t).Trainer()) }

func TestLightCurverConformance(t *testing.T) {
	curves, free, err := cudaBackend(t).Curves(2)
	if err != nil {
		t.Fatal(err)
	}
	defer free()
	conformance.Curves(t, curves)
}

func TestModelSamplerConformance(t *testing.T) {
	conformance.Sampler(t, func(m *nn.Model[float32]) (infer.Sampler, error) { return cudaBackend(t).Sampler(m) })
}

package train_test

import (
	"testing"

	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/train"
)

// TestCPUBackendConformance runs the training-backend suite against the CPU backend (the
// CUDA one runs it in package cuda).
func TestCPUBackendConformance(t *testing.T) { conformance.TrainBackend(t, train.NewCPUBackend) }

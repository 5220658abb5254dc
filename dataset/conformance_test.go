package dataset_test

import (
	"testing"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/internal/conformance"
)

// TestCPUCurvesConformance runs the curve-backend suite against CPUCurves (the CUDA
// LightCurver runs it in package cuda).
func TestCPUCurvesConformance(t *testing.T) { conformance.Curves(t, dataset.CPUCurves{}) }

package infer_test

import (
	"testing"

	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/nn"
)

// TestCPUSamplerConformance runs the sampler suite against CPUSampler (the CUDA sampler
// runs it in package cuda).
func TestCPUSamplerConformance(t *testing.T) {
	conformance.Sampler(t, func(m *nn.Model[float32]) (infer.Sampler, error) { return infer.CPUSampler{Net: m}, nil })
}

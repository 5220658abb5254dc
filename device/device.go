// Package device turns the --device flag (auto, cpu or cuda) into the backends the
// commands run on: the training step (package train), the forward model of dataset
// simulation (package dataset), the posterior sampler (package infer) and the ray-shooting
// map (package lens). It is the one place that decides between the pure-Go CPU path and the
// CUDA kernels (package cuda; real or, in the -tags cudaemu build, emulated).
package device

import (
	"github.com/mlcu/mlcu/cuda"
	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
	"github.com/mlcu/mlcu/nn"
	"github.com/mlcu/mlcu/train"
)

// Backend is the resolved --device: the CPU, or the CUDA kernels.
type Backend struct {
	CUDA   bool   // run the CUDA kernels (real or emulated)
	Reason string // one line for the user: which backend and why
}

// Choose resolves a --device value: "cpu"; "cuda" (an error when this build has no CUDA
// library or the runtime finds no device); "auto" takes CUDA when the binary was built with
// -tags cuda and the runtime finds a device, else the CPU, never the emulation build's
// emulated device (ask for it with "cuda"). A value other than the three is a
// *cuda.DeviceFlagError.
func Choose(name string) (Backend, error) {
	ch, err := cuda.Choose(name)
	return Backend{CUDA: ch.CUDA, Reason: ch.Reason}, err
}

// CPU is the CPU backend, for callers that never run on a device.
var CPU = Backend{Reason: "cpu"}

// Name returns "cuda" or "cpu".
func (b Backend) Name() string {
	if b.CUDA {
		return "cuda"
	}
	return "cpu"
}

// Trainer returns the constructor of the training backend: the whole training step on the
// device (cuda.Trainer) for CUDA, train.NewCPUBackend (nn.Model on the CPU) otherwise.
func (b Backend) Trainer() train.NewBackendFunc {
	if !b.CUDA {
		return train.NewCPUBackend
	}
	return func(m *nn.Model[float32], a *nn.Adam[float32]) (train.Backend, error) {
		t, err := cuda.NewTrainer(m, a)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

// Curves returns the forward model of dataset simulation with up to batch events per
// device call (cuda.LightCurver), or dataset.CPUCurves on the CPU, and the function that
// frees it.
func (b Backend) Curves(batch int) (dataset.CurveBackend, func(), error) {
	if !b.CUDA {
		return dataset.CPUCurves{}, func() {}, nil
	}
	lc, err := cuda.NewLightCurver(batch)
	if err != nil {
		return nil, nil, err
	}
	return lc, lc.Free, nil
}

// Sampler returns the posterior sampler of the network m: infer.CPUSampler on the CPU; on
// CUDA the featurizer on the CPU and the fused flow sampler on the device, round r of seed
// drawn with Philox key rng.New(seed, r).Uint64() (cuda.ModelSampler). The two give samples
// of the same distribution, not the same samples. Close the sampler when done.
func (b Backend) Sampler(m *nn.Model[float32]) (infer.Sampler, error) {
	if !b.CUDA {
		return infer.CPUSampler{Net: m}, nil
	}
	s, err := cuda.NewModelSampler(m)
	if err != nil {
		return nil, err
	}
	return cudaSampler{s}, nil
}

// cudaSampler adapts cuda.ModelSampler to infer.Sampler.
type cudaSampler struct{ s *cuda.ModelSampler }

func (c cudaSampler) Draw(out, xb []float32, n int, seed, round uint64) error {
	return c.s.Sample(out, xb, n, rng.New(seed, round).Uint64())
}

func (c cudaSampler) Close() error {
	c.s.Free()
	return nil
}

// RayShootMap is (lens.Binary).RayShootMap on the chosen backend with workers goroutines
// on the CPU (cuda.RayShootMap on CUDA: the same lattice of rays, the same counts).
func (b Backend) RayShootMap(bin lens.Binary, x0, x1, y0, y1 float64, nx, ny int, raysPerPixel float64, workers int) (*lens.MagMap, error) {
	if b.CUDA {
		return cuda.RayShootMap(bin, x0, x1, y0, y1, nx, ny, raysPerPixel)
	}
	return bin.RayShootMap(x0, x1, y0, y1, nx, ny, raysPerPixel, workers), nil
}

//go:build cuda || cudaemu

package cuda

import (
	"fmt"

	"github.com/mlcu/mlcu/nn"
)

// ModelSampler draws posterior samples of a trained model on the device: the featurizer
// (evaluation mode, Model.Context) and then the flow's fused sampler (FlowSampler) for each
// event. Samples depend on the seed only, not on how a call is split into launches.
type ModelSampler struct {
	m    *nn.Model[float32]
	dm   *Model
	fs   *FlowSampler
	out  *Buffer[float32]
	rows int // rows of out
}

// maxLaunchRows bounds the samples of one launch (and the device buffer: 4M·D floats).
const maxLaunchRows = 1 << 22

// NewModelSampler uploads m's flow to the device. A model with weight-normalised blocks
// runs as its batch-norm equivalent (nn.FoldWeightNorm), the same function in evaluation
// mode.
func NewModelSampler(m *nn.Model[float32]) (*ModelSampler, error) {
	dev := m
	if m.Config.Featurizer.WeightNorm() {
		var err error
		if dev, err = nn.FoldWeightNorm(m); err != nil {
			return nil, err
		}
	}
	fs, err := NewFlowSampler(m.Flow)
	if err != nil {
		return nil, err
	}
	dm, err := NewModel(dev)
	if err != nil {
		fs.Free()
		return nil, err
	}
	return &ModelSampler{m: m, dm: dm, fs: fs}, nil
}

// Free releases the device memory.
func (s *ModelSampler) Free() {
	s.fs.Free()
	s.dm.Free()
	s.out.Free()
}

// Sample draws S samples for each event of x (E, 1, L) into out (E, S, D) (the standardised
// θ, as nn.Model.Sample), the base draws from Philox with key seed: event e's row j is global
// row e·S + j of the stream.
func (s *ModelSampler) Sample(out, x []float32, S int, seed uint64) error {
	D, L := s.m.Config.D(), s.m.Config.Featurizer.L
	E := len(x) / L
	if E == 0 || len(x) != E*L || S < 1 || len(out) != E*S*D {
		panic(fmt.Sprintf("cuda: ModelSampler.Sample: len(x) = %d, S = %d, len(out) = %d: want E·%d, S ≥ 1, E·S·%d", len(x), S, len(out), L, D))
	}
	ctx, err := s.dm.Context(x)
	if err != nil {
		return err
	}
	C := s.m.Flow.Shape.C
	chunk := min(S, maxLaunchRows)
	if s.out == nil || s.rows < chunk {
		s.out.Free()
		var err error
		if s.out, err = Alloc[float32](chunk * D); err != nil {
			return err
		}
		s.rows = chunk
	}
	for e := range E {
		for lo := 0; lo < S; lo += chunk {
			n := min(chunk, S-lo)
			buf := s.out.Slice(0, n*D)
			if err := s.fs.SampleDeviceCtx(buf, nil, nil, ctx.Slice(e*C, (e+1)*C), 1, n, seed, int64(e)*int64(S)+int64(lo)); err != nil {
				return err
			}
			if err := buf.Download(out[(e*S+lo)*D : (e*S+lo+n)*D]); err != nil {
				return err
			}
		}
	}
	return nil
}

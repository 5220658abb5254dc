//go:build cuda || cudaemu

package cuda

import (
	"github.com/mlcu/mlcu/nn"
)

// Trainer runs training steps of a model on the device: the device Model, the gradient-norm
// clip and Adam, with the host model and optimizer as the place checkpoints are written
// from (Sync). It satisfies train.Backend.
type Trainer struct {
	m     *Model
	adam  *Adam
	host  *nn.Adam[float32]
	saved *F32 // the running statistics of the last SaveBuffers (one element at least)
}

// NewTrainer uploads m's parameters and running statistics and a's state.
func NewTrainer(m *nn.Model[float32], a *nn.Adam[float32]) (*Trainer, error) {
	dm, err := NewModel(m)
	if err != nil {
		return nil, err
	}
	da, err := NewAdam(len(m.Params))
	if err != nil {
		dm.Free()
		return nil, err
	}
	da.LR, da.Beta1, da.Beta2, da.Eps, da.WeightDecay, da.Step = a.LR, a.Beta1, a.Beta2, a.Eps, a.WeightDecay, a.Step
	t := &Trainer{m: dm, adam: da, host: a}
	if t.saved, err = Alloc[float32](max(len(m.Buffers), 1)); err != nil {
		t.Close()
		return nil, err
	}
	if err := da.M.Upload(a.M); err != nil {
		t.Close()
		return nil, err
	}
	if err := da.V.Upload(a.V); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Name returns "cuda", or "cuda (emulated)" in the emulation build.
func (t *Trainer) Name() string {
	if Emulated() {
		return "cuda (emulated)"
	}
	return "cuda"
}

// Step is one training step (train.Backend.Step): nn.TrainStep on the device.
func (t *Trainer) Step(x, theta []float32, clip, lr float64) (float64, float64, error) {
	return nn.TrainStep(devicePasses{t}, x, theta, clip, lr)
}

// devicePasses are the nn.StepPasses of the trainer's device model and Adam.
type devicePasses struct{ t *Trainer }

func (p devicePasses) SaveBuffers() error {
	if p.t.m.Buffers.Len() == 0 {
		return nil
	}
	return p.t.saved.Slice(0, p.t.m.Buffers.Len()).CopyFrom(p.t.m.Buffers)
}

func (p devicePasses) RestoreBuffers() error {
	if p.t.m.Buffers.Len() == 0 {
		return nil
	}
	return p.t.m.Buffers.CopyFrom(p.t.saved.Slice(0, p.t.m.Buffers.Len()))
}

func (p devicePasses) ZeroGrads() error { return p.t.m.ZeroGrads() }

func (p devicePasses) LossForward(x, theta []float32, train bool) (float64, error) {
	return p.t.m.LossForward(x, theta, train)
}

func (p devicePasses) LossBackward() error { return p.t.m.LossBackward() }

func (p devicePasses) ClipGradNorm(clip float64) (float64, error) {
	return ClipGradNorm(p.t.m.Grads, clip)
}

func (p devicePasses) Update(lr float64) error { return p.t.adam.Update(p.t.m.Params, p.t.m.Grads, lr) }

// Loss is the evaluation-mode loss of a batch.
func (t *Trainer) Loss(x, theta []float32) (float64, error) { return t.m.LossForward(x, theta, false) }

// Losses is train.Backend.Losses on the device.
func (t *Trainer) Losses(x, theta []float32, batchStats bool) ([]float64, error) {
	p := devicePasses{t}
	if batchStats {
		if err := p.SaveBuffers(); err != nil {
			return nil, err
		}
	}
	if _, err := t.m.LossForward(x, theta, batchStats); err != nil {
		return nil, err
	}
	lp := t.m.LogProb()
	out := make([]float64, len(lp))
	for i, v := range lp {
		out[i] = -float64(v)
	}
	if batchStats {
		if err := p.RestoreBuffers(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Sync copies the parameters, running statistics and Adam's state to the host.
func (t *Trainer) Sync() error {
	if err := t.m.Download(); err != nil {
		return err
	}
	if err := t.adam.M.Download(t.host.M); err != nil {
		return err
	}
	if err := t.adam.V.Download(t.host.V); err != nil {
		return err
	}
	t.host.Step = t.adam.Step
	return nil
}

// Close releases the device memory.
func (t *Trainer) Close() {
	t.m.Free()
	t.adam.Free()
	t.saved.Free()
}

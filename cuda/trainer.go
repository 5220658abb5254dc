//go:build cuda || cudaemu

package cuda

import (
	"math"

	"github.com/mlcu/mlcu/nn"
)

// Trainer runs training steps of a model on the device: the device Model, the gradient-norm
// clip and Adam, with the host model and optimizer as the place checkpoints are written
// from (Sync). It satisfies train.Backend.
type Trainer struct {
	m    *Model
	adam *Adam
	host *nn.Adam[float32]
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

// Step is one training step (train.Backend.Step).
func (t *Trainer) Step(x, theta []float32, clip, lr float64) (float64, float64, error) {
	if err := t.m.ZeroGrads(); err != nil {
		return 0, 0, err
	}
	loss, err := t.m.LossForward(x, theta, true)
	if err != nil {
		return 0, 0, err
	}
	if err := t.m.LossBackward(); err != nil {
		return 0, 0, err
	}
	norm, err := ClipGradNorm(t.m.Grads, clip)
	if err != nil || math.IsNaN(norm) || math.IsInf(norm, 0) || math.IsNaN(loss) {
		return loss, norm, err
	}
	return loss, norm, t.adam.Update(t.m.Params, t.m.Grads, lr)
}

// Loss is the evaluation-mode loss of a batch.
func (t *Trainer) Loss(x, theta []float32) (float64, error) { return t.m.LossForward(x, theta, false) }

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
}

package nn

import "math"

// StepPasses are the passes of one training step on a backend, over the backend's own
// parameters, gradients and optimizer state: the CPU's Model and Adam (CPUPasses), the
// CUDA trainer's device buffers (package cuda).
type StepPasses interface {
	// SaveBuffers copies the running statistics (batch norm's) aside; RestoreBuffers puts
	// them back. A training-mode forward pass folds its batch's statistics into them, so a
	// step whose loss is not finite restores them: otherwise one bad batch would poison
	// every later evaluation with NaN.
	SaveBuffers() error
	RestoreBuffers() error
	ZeroGrads() error
	// LossForward returns the mean negative log-density of the batch (x (B, 1, L), theta
	// (B, D)), in training mode when train is set.
	LossForward(x, theta []float32, train bool) (float64, error)
	// LossBackward accumulates the gradient of the last LossForward's loss.
	LossBackward() error
	// ClipGradNorm scales the gradients to norm at most clip (none when clip ≤ 0) and returns
	// the norm before clipping.
	ClipGradNorm(clip float64) (float64, error)
	// Update applies one Adam step at learning rate lr.
	Update(lr float64) error
}

// TrainStep is one training step, the same on every backend: zero the gradients, forward in
// training mode, backward, clip the gradient norm to clip, one Adam update at learning rate
// lr. It returns the batch loss and the gradient norm before clipping; when either is not
// finite (NaN loss, NaN or infinite norm) it returns them without updating, with the
// running statistics restored, so the parameters, the running statistics and the optimizer
// state are unchanged and the caller decides.
func TrainStep(p StepPasses, x, theta []float32, clip, lr float64) (loss, norm float64, err error) {
	if err = p.SaveBuffers(); err != nil {
		return 0, 0, err
	}
	if err = p.ZeroGrads(); err != nil {
		return 0, 0, err
	}
	if loss, err = p.LossForward(x, theta, true); err != nil {
		return 0, 0, err
	}
	if err = p.LossBackward(); err != nil {
		return 0, 0, err
	}
	if norm, err = p.ClipGradNorm(clip); err != nil {
		return loss, norm, err
	}
	if math.IsNaN(norm) || math.IsInf(norm, 0) || math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, norm, p.RestoreBuffers()
	}
	return loss, norm, p.Update(lr)
}

// CPUPasses are the StepPasses of a float32 Model and its Adam on the CPU.
type CPUPasses struct {
	M    *Model[float32]
	Adam *Adam[float32]
}

func (p CPUPasses) SaveBuffers() error    { p.M.SaveBuffers(); return nil }
func (p CPUPasses) RestoreBuffers() error { p.M.RestoreBuffers(); return nil }
func (p CPUPasses) ZeroGrads() error      { p.M.ZeroGrads(); return nil }

func (p CPUPasses) LossForward(x, theta []float32, train bool) (float64, error) {
	return p.M.LossForward(x, theta, train), nil
}

func (p CPUPasses) LossBackward() error { p.M.LossBackward(nil); return nil }

func (p CPUPasses) ClipGradNorm(clip float64) (float64, error) {
	return ClipGradNorm(p.M.Grads, clip), nil
}

func (p CPUPasses) Update(lr float64) error { p.Adam.Update(p.M.Params, p.M.Grads, lr); return nil }

package train

import (
	"github.com/mlcu/mlcu/nn"
)

// Backend runs the model's passes for Train. The default is the CPU (the nn.Model's own
// passes); the CUDA backend (package cuda, wired in by the CLI's --device) keeps the
// parameters, gradients and optimizer state on the device and copies them back on Sync.
type Backend interface {
	// Name names the backend in logs: "cpu", "cuda".
	Name() string
	// Step runs one training step (nn.TrainStep) on the batch x (B, 1, L), theta (B, D):
	// zero the gradients, forward in training mode, backward, clip the gradient norm to clip
	// (none when ≤ 0), one Adam update at learning rate lr. It returns the batch loss and the
	// gradient norm before clipping; with a non-finite loss or norm it returns them without
	// updating.
	Step(x, theta []float32, clip, lr float64) (loss, norm float64, err error)
	// Loss returns the evaluation-mode loss of a batch.
	Loss(x, theta []float32) (float64, error)
	// Losses returns each example's negative log-density, with batch norm normalising by
	// the running statistics (batchStats false: evaluation mode, the mean is Loss) or by
	// the batch's own statistics (true: as a training step sees it), leaving the running
	// statistics and the parameters as they were either way: the training log's
	// diagnostics of a validation set (train_log.csv).
	Losses(x, theta []float32, batchStats bool) ([]float64, error)
	// Sync makes the host model's parameters and running statistics and the host Adam's
	// state current (before a checkpoint is written from them).
	Sync() error
	// Close releases what the backend holds.
	Close()
}

// NewBackendFunc creates the backend of a run from its host model and optimizer, after they
// are initialised or restored from a checkpoint.
type NewBackendFunc func(m *nn.Model[float32], adam *nn.Adam[float32]) (Backend, error)

// cpuBackend is the nn.Model itself.
type cpuBackend struct {
	m    *nn.Model[float32]
	adam *nn.Adam[float32]
}

// NewCPUBackend returns the CPU backend (what Train uses when TrainConfig.Backend is nil).
func NewCPUBackend(m *nn.Model[float32], adam *nn.Adam[float32]) (Backend, error) {
	return &cpuBackend{m: m, adam: adam}, nil
}

func (b *cpuBackend) Name() string { return "cpu" }

// Step is nn.TrainStep on the CPU.
func (b *cpuBackend) Step(x, theta []float32, clip, lr float64) (float64, float64, error) {
	return nn.TrainStep(nn.CPUPasses{M: b.m, Adam: b.adam}, x, theta, clip, lr)
}

func (b *cpuBackend) Loss(x, theta []float32) (float64, error) {
	return b.m.LossForward(x, theta, false), nil
}

func (b *cpuBackend) Losses(x, theta []float32, batchStats bool) ([]float64, error) {
	if batchStats {
		b.m.SaveBuffers()
		defer b.m.RestoreBuffers()
	}
	b.m.LossForward(x, theta, batchStats)
	lp := b.m.LogProb()
	out := make([]float64, len(lp))
	for i, v := range lp {
		out[i] = -float64(v)
	}
	return out, nil
}

func (b *cpuBackend) Sync() error { return nil }
func (b *cpuBackend) Close()      {}

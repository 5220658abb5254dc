//go:build !cuda && !cudaemu

package cuda

import (
	"github.com/mlcu/mlcu/lens"
	"github.com/mlcu/mlcu/nn"
)

// Available reports whether this binary was built with a CUDA library (real or emulated).
func Available() bool { return false }

// Emulated reports whether the library is the emulation build.
func Emulated() bool { return false }

// Devices returns ErrNotBuilt.
func Devices() ([]Device, error) { return nil, ErrNotBuilt }

// Init returns ErrNotBuilt.
func Init() error { return ErrNotBuilt }

// StartProfile returns ErrNotBuilt.
func StartProfile() error { return ErrNotBuilt }

// StopProfile returns nothing.
func StopProfile() []OpTime { return nil }

// ModelSampler draws posterior samples of a model on the device; this build has none.
type ModelSampler struct{}

// NewModelSampler returns ErrNotBuilt.
func NewModelSampler(m *nn.Model[float32]) (*ModelSampler, error) { return nil, ErrNotBuilt }

// Sample returns ErrNotBuilt.
func (s *ModelSampler) Sample(out, x []float32, S int, seed uint64) error { return ErrNotBuilt }

// Free does nothing.
func (s *ModelSampler) Free() {}

// Trainer runs training steps on the device; this build has none.
type Trainer struct{}

// NewTrainer returns ErrNotBuilt.
func NewTrainer(m *nn.Model[float32], a *nn.Adam[float32]) (*Trainer, error) { return nil, ErrNotBuilt }

// Name returns "cuda".
func (t *Trainer) Name() string { return "cuda" }

// Step returns ErrNotBuilt.
func (t *Trainer) Step(x, theta []float32, clip, lr float64) (float64, float64, error) {
	return 0, 0, ErrNotBuilt
}

// Loss returns ErrNotBuilt.
func (t *Trainer) Loss(x, theta []float32) (float64, error) { return 0, ErrNotBuilt }

// Losses returns ErrNotBuilt.
func (t *Trainer) Losses(x, theta []float32, batchStats bool) ([]float64, error) {
	return nil, ErrNotBuilt
}

// Sync returns ErrNotBuilt.
func (t *Trainer) Sync() error { return ErrNotBuilt }

// Close does nothing.
func (t *Trainer) Close() {}

// LightCurver computes light curves on the device; this build has none.
type LightCurver struct{}

// NewLightCurver returns ErrNotBuilt.
func NewLightCurver(batch int) (*LightCurver, error) { return nil, ErrNotBuilt }

// BatchSize returns 1.
func (l *LightCurver) BatchSize() int { return 1 }

// Points returns zeros.
func (l *LightCurver) Points() (total, host int64) { return 0, 0 }

// LightCurves returns ErrNotBuilt.
func (l *LightCurver) LightCurves(events []lens.Event, ts []float64, tol float64, out [][]float64) error {
	return ErrNotBuilt
}

// Free does nothing.
func (l *LightCurver) Free() {}

// RayShootMap returns ErrNotBuilt.
func RayShootMap(b lens.Binary, x0, x1, y0, y1 float64, nx, ny int, raysPerPixel float64) (*lens.MagMap, error) {
	return nil, ErrNotBuilt
}

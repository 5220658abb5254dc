//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
)

// GradNorm returns the Euclidean norm of grads (nn.GradNorm), accumulated in double on the
// device by a deterministic two-pass reduction: the same grads give the same bits on every
// run.
func GradNorm(grads *F32) (float64, error) {
	scratch, err := Alloc[float64](sumsqPartials + 1)
	if err != nil {
		return 0, err
	}
	defer scratch.Free()
	out, partial := scratch.Slice(0, 1), scratch.Slice(1, scratch.n)
	if err := mlcuSumsq(out, partial, grads, grads.n); err != nil {
		return 0, err
	}
	var s [1]float64
	if err := out.Download(s[:]); err != nil {
		return 0, err
	}
	return math.Sqrt(s[0]), nil
}

// ClipGradNorm scales grads in place so that their norm is at most maxNorm and returns the
// norm before clipping, with nn.ClipGradNorm's rules: grads are left unchanged when the norm
// is within maxNorm, when maxNorm ≤ 0, or when the norm is not finite.
func ClipGradNorm(grads *F32, maxNorm float64) (float64, error) {
	norm, err := GradNorm(grads)
	if err != nil || maxNorm <= 0 || norm <= maxNorm || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return norm, err
	}
	return norm, mlcuScaleF32(grads, grads.n, maxNorm/norm)
}

// Adam is nn.Adam with its moment estimates in device memory: the same fields, the same
// update formula (see nn.Adam), computed in double on the device and stored in float32.
type Adam struct {
	LR          float64 // base (peak) learning rate; Update takes the step's rate
	Beta1       float64 // decay of the first moment estimate
	Beta2       float64 // decay of the second moment estimate
	Eps         float64 // ε added to √v̂
	WeightDecay float64 // λ of decoupled weight decay (AdamW); 0 for plain Adam
	Step        int     // number of updates done so far
	M, V        *F32    // first and second moment estimates, one per parameter
}

// NewAdam returns an Adam optimizer for n parameters with nn.NewAdam's defaults (LR 1e-3,
// β1 0.9, β2 0.999, ε 1e-8, no weight decay) and zero moments. Free releases the moments.
func NewAdam(n int) (*Adam, error) {
	m, err := Alloc[float32](n)
	if err != nil {
		return nil, err
	}
	v, err := Alloc[float32](n)
	if err != nil {
		m.Free()
		return nil, err
	}
	a := &Adam{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, M: m, V: v}
	if err := m.Zero(); err != nil {
		a.Free()
		return nil, err
	}
	if err := v.Zero(); err != nil {
		a.Free()
		return nil, err
	}
	return a, nil
}

// Free releases the moment estimates.
func (a *Adam) Free() {
	a.M.Free()
	a.V.Free()
}

// Update increments Step and applies one Adam step with learning rate lr to params, given
// their gradients grads (nn.Adam.Update). It panics unless params, grads, M and V have the
// same length.
func (a *Adam) Update(params, grads *F32, lr float64) error {
	n := params.n
	if grads.n != n || a.M.n != n || a.V.n != n {
		panic(fmt.Sprintf("cuda: Adam.Update: %d params, %d grads, %d M, %d V", n, grads.n, a.M.n, a.V.n))
	}
	a.Step++
	// The bias corrections exactly as nn computes them, on the host.
	c1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	c2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	return mlcuAdamUpdate(params, grads, a.M, a.V, n, lr, a.Beta1, a.Beta2, a.Eps, a.WeightDecay, c1, c2)
}

package nn

import (
	"fmt"
	"math"
)

// Adam is the Adam optimizer (Kingma & Ba 2015, "Adam: A Method for Stochastic
// Optimization", Algorithm 1) over one flat parameter buffer, as in llm.c: all parameters
// live in one slice addressed by named views, and M and V are the first and second moment
// estimates of the same length. With WeightDecay > 0 it is AdamW (Loshchilov & Hutter 2019):
// the decay is decoupled from the gradient and scaled by the learning rate.
//
// The update for step t = Step (counted from 1) and every element i is
//
//	m = β1·m + (1−β1)·g
//	v = β2·v + (1−β2)·g²
//	p −= lr·( (m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε) + λ·p )
//
// computed in float64 without fused multiply-adds and stored in T.
type Adam[T Float] struct {
	LR          float64 // base (peak) learning rate, e.g. lrMax of CosineLR; Update takes the step's rate
	Beta1       float64 // decay of the first moment estimate
	Beta2       float64 // decay of the second moment estimate
	Eps         float64 // ε added to √v̂ for stability
	WeightDecay float64 // λ of decoupled weight decay (AdamW); 0 for plain Adam
	Step        int     // number of updates done so far
	M, V        []T     // first and second moment estimates, one per parameter
}

// NewAdam returns an Adam optimizer for n parameters with the defaults of the paper and of
// mlcu's presets: LR 1e-3, β1 0.9, β2 0.999, ε 1e-8, no weight decay, zero moments.
func NewAdam[T Float](n int) *Adam[T] {
	return &Adam[T]{
		LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8,
		M: make([]T, n), V: make([]T, n),
	}
}

// Update increments Step and applies one Adam step with learning rate lr to params, given
// their gradients grads. It panics unless params, grads, M and V have the same length.
func (a *Adam[T]) Update(params, grads []T, lr float64) {
	n := len(params)
	if len(grads) != n || len(a.M) != n || len(a.V) != n {
		panic(fmt.Sprintf("nn: Adam.Update: %d params, %d grads, %d M, %d V", n, len(grads), len(a.M), len(a.V)))
	}
	a.Step++
	b1, b2 := a.Beta1, a.Beta2
	c1 := 1 - math.Pow(b1, float64(a.Step)) // bias corrections
	c2 := 1 - math.Pow(b2, float64(a.Step))
	m, v, g := a.M[:n], a.V[:n], grads[:n]
	for i, p := range params {
		gi := float64(g[i])
		// The explicit float64 conversions forbid fused multiply-adds (Go fuses x·y + z on
		// arm64, not on amd64): every platform, and the CUDA kernel (kernels/adam.cu), gives
		// the same bits.
		mi := float64(b1*float64(m[i])) + float64((1-b1)*gi)
		vi := float64(b2*float64(v[i])) + float64(float64((1-b2)*gi)*gi)
		m[i], v[i] = T(mi), T(vi)
		pf := float64(p)
		step := (mi/c1)/(math.Sqrt(vi/c2)+a.Eps) + float64(a.WeightDecay*pf)
		params[i] = T(pf - float64(lr*step))
	}
}

// GradNorm returns the Euclidean norm of grads, accumulated in float64 (so float32
// gradients neither overflow nor lose small terms).
func GradNorm[T Float](grads []T) float64 {
	var s float64
	for _, g := range grads {
		s += float64(g) * float64(g)
	}
	return math.Sqrt(s)
}

// ClipGradNorm scales grads in place so that their norm is at most maxNorm, and returns the
// norm before clipping. It leaves grads unchanged when the norm is already within maxNorm,
// when maxNorm ≤ 0 (clipping off), or when the norm is not finite (the caller should then
// skip the step: scaling cannot repair a NaN or Inf).
func ClipGradNorm[T Float](grads []T, maxNorm float64) (norm float64) {
	norm = GradNorm(grads)
	if maxNorm <= 0 || norm <= maxNorm || math.IsInf(norm, 0) || math.IsNaN(norm) {
		return norm
	}
	scale := maxNorm / norm
	for i, g := range grads {
		grads[i] = T(float64(g) * scale)
	}
	return norm
}

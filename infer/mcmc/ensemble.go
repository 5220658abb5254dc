// Package mcmc samples a posterior density by Markov chain Monte Carlo: the
// affine-invariant ensemble sampler of Goodman & Weare (2010, CAMCoS 5, 65) with the stretch
// move, as emcee (Foreman-Mackey et al. 2013) runs it, and the convergence diagnostics an
// astronomer reports with the chains: the rank-normalised split-R̂ of Vehtari et al. (2021,
// Bayesian Analysis 16, 667) and the effective sample size from the integrated
// autocorrelation time (Sokal's adaptive window, as emcee's autocorr.integrated_time).
// It knows nothing about microlensing: the caller gives a log-density.
package mcmc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/mlcu/mlcu/internal/rng"
)

// LogProb returns the log of an unnormalised density at x (length Dim); −Inf (or NaN) where
// the density is zero. It must be safe for concurrent calls.
type LogProb func(x []float64) float64

// Config configures Run.
type Config struct {
	Steps   int     // steps of every walker (≥ 1)
	A       float64 // the stretch move's scale a (> 1); 2 when 0, emcee's default
	Workers int     // goroutines evaluating the log-density; NumCPU when ≤ 0
	Seed    uint64  // the random numbers of step t, walker k come from rng.New(Seed, t·2^20 + k)
	// Progress, when set, is called after every step with the steps done.
	Progress func(done int)
}

// Chains are the positions of an ensemble's walkers at every step.
type Chains struct {
	Walkers, Steps, Dim int
	X                   []float64 // (Walkers, Steps, Dim): walker w's position after step t at X[(w·Steps+t)·Dim:]
	LogP                []float64 // (Walkers, Steps) the log-density at those positions
	Accepted            []int     // (Walkers) accepted proposals
}

// At returns walker w's position after step t (a view).
func (c *Chains) At(w, t int) []float64 { return c.X[(w*c.Steps+t)*c.Dim : (w*c.Steps+t+1)*c.Dim] }

// Acceptance returns the fraction of proposals accepted over all walkers and steps.
func (c *Chains) Acceptance() float64 {
	n := 0
	for _, a := range c.Accepted {
		n += a
	}
	return float64(n) / float64(c.Walkers*c.Steps)
}

// Param returns parameter j of every walker over steps [burn, Steps): (Walkers) chains of
// Steps − burn draws, the input of SplitRHat and ESS.
func (c *Chains) Param(j, burn int) [][]float64 {
	out := make([][]float64, c.Walkers)
	for w := range out {
		s := make([]float64, 0, c.Steps-burn)
		for t := burn; t < c.Steps; t++ {
			s = append(s, c.X[(w*c.Steps+t)*c.Dim+j])
		}
		out[w] = s
	}
	return out
}

// maxWalkers bounds the walkers of one ensemble (the stream layout of Config.Seed).
const maxWalkers = 1 << 20

// Run moves an ensemble of len(init) walkers, started at init (each of length Dim, every
// one with a finite log-density), by the stretch move for cfg.Steps steps. Each step
// updates the two halves of the ensemble in turn, every walker of a half against a walker
// drawn from the other (emcee's parallel stretch move), the log-densities of a half's
// proposals evaluated on cfg.Workers goroutines; the chains do not depend on Workers. It
// needs at least 2·Dim walkers, an even number (emcee's requirement for a well-spread
// ensemble). When ctx is cancelled it returns the chains of the steps done so far (Steps
// says how many) with ctx's error.
func Run(ctx context.Context, lp LogProb, init [][]float64, cfg Config) (*Chains, error) {
	W := len(init)
	if W == 0 {
		return nil, errors.New("mcmc: no walkers")
	}
	D := len(init[0])
	switch {
	case D < 1:
		return nil, errors.New("mcmc: walkers of dimension 0")
	case W < 2*D || W%2 != 0 || W > maxWalkers:
		return nil, fmt.Errorf("mcmc: %d walkers in %d dimensions: want an even number ≥ %d (and ≤ %d)", W, D, 2*D, maxWalkers)
	case cfg.Steps < 1:
		return nil, fmt.Errorf("mcmc: %d steps, want ≥ 1", cfg.Steps)
	}
	a := cfg.A
	if a == 0 {
		a = 2
	}
	if !(a > 1) || math.IsInf(a, 0) {
		return nil, fmt.Errorf("mcmc: stretch scale a = %v, want > 1", a)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	cur := make([][]float64, W)
	curLP := make([]float64, W)
	for w, x := range init {
		if len(x) != D {
			return nil, fmt.Errorf("mcmc: walker %d has %d values, walker 0 has %d", w, len(x), D)
		}
		cur[w] = append([]float64(nil), x...)
	}
	parallel(W, workers, func(w int) { curLP[w] = lp(cur[w]) })
	for w, v := range curLP {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("mcmc: walker %d starts where the log-density is %v: start every walker inside the support", w, v)
		}
	}
	c := &Chains{Walkers: W, Steps: cfg.Steps, Dim: D, X: make([]float64, W*cfg.Steps*D), LogP: make([]float64, W*cfg.Steps), Accepted: make([]int, W)}
	half := W / 2
	prop := make([][]float64, W)
	for w := range prop {
		prop[w] = make([]float64, D)
	}
	z, u, propLP := make([]float64, W), make([]float64, W), make([]float64, W)
	for t := range cfg.Steps {
		if err := ctx.Err(); err != nil {
			c.trim(t)
			return c, err
		}
		for h := range 2 {
			lo, other := h*half, (1-h)*half
			// Draws first, in walker order, so that the chains do not depend on Workers.
			for k := lo; k < lo+half; k++ {
				src := rng.New(cfg.Seed, uint64(t)<<20|uint64(k))
				j := other + src.IntN(half)
				r := (a-1)*src.Uniform() + 1
				z[k] = r * r / a // g(z) ∝ 1/√z on [1/a, a]
				u[k] = src.UniformOpen()
				for d := range D {
					prop[k][d] = cur[j][d] + z[k]*(cur[k][d]-cur[j][d])
				}
			}
			parallel(half, workers, func(i int) { propLP[lo+i] = lp(prop[lo+i]) })
			for k := lo; k < lo+half; k++ {
				q := float64(D-1)*math.Log(z[k]) + propLP[k] - curLP[k]
				if !math.IsNaN(propLP[k]) && math.Log(u[k]) < q {
					copy(cur[k], prop[k])
					curLP[k] = propLP[k]
					c.Accepted[k]++
				}
			}
		}
		for w := range W {
			copy(c.X[(w*c.Steps+t)*D:], cur[w])
			c.LogP[w*c.Steps+t] = curLP[w]
		}
		if cfg.Progress != nil {
			cfg.Progress(t + 1)
		}
	}
	return c, nil
}

// trim keeps the first t steps of c (after an interruption).
func (c *Chains) trim(t int) {
	D := c.Dim
	x, lp := make([]float64, c.Walkers*t*D), make([]float64, c.Walkers*t)
	for w := range c.Walkers {
		copy(x[w*t*D:(w+1)*t*D], c.X[w*c.Steps*D:])
		copy(lp[w*t:(w+1)*t], c.LogP[w*c.Steps:])
	}
	c.X, c.LogP, c.Steps = x, lp, t
}

// parallel calls f(0), …, f(n−1) on up to workers goroutines.
func parallel(n, workers int, f func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < n; i += workers {
				f(i)
			}
		}(g)
	}
	wg.Wait()
}

package infer

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/optimize"

	"github.com/mlcu/mlcu/internal/rng"
)

// polishEvals is the most log-posterior evaluations one Nelder–Mead run of polish makes.
const polishEvals = 1500

// polished is one local maximum of the log-posterior found by polish.
type polished struct {
	y  []float64 // standardised coordinates
	lp float64   // log-posterior there
}

// polish climbs the log-posterior logPost from each start with Nelder–Mead (gonum's
// optimize, an initial simplex of 0.02 in the standardised coordinates, whose prior range is
// [−1, 1]; at most polishEvals evaluations), the starts shared among workers goroutines, and
// returns the end points sorted by log-posterior, highest first. A start is kept when the
// climb fails (a point where the posterior is −Inf counts as 1e300 to the minimiser).
//
// Why: a network's proposal from data unlike its training set (sparse ground photometry,
// blending it was not trained with) can lie hundreds of χ² from the solution along a smooth
// degeneracy such as u0–tE–blending; an ensemble seeded there spends its steps walking, an
// optimiser gets there in a few hundred evaluations.
func polish(logPost func([]float64) float64, starts [][]float64, workers int) []polished {
	out := make([]polished, len(starts))
	parallelFor(len(starts), workers, func(i int) {
		f := func(y []float64) float64 {
			lp := logPost(y)
			if math.IsInf(lp, -1) || math.IsNaN(lp) {
				return 1e300
			}
			return -lp
		}
		res, _ := optimize.Minimize(optimize.Problem{Func: f}, starts[i],
			&optimize.Settings{FuncEvaluations: polishEvals, Converger: &optimize.FunctionConverge{Absolute: 1e-4, Iterations: 50}},
			&optimize.NelderMead{SimplexSize: 0.02})
		out[i] = polished{y: append([]float64(nil), starts[i]...), lp: logPost(starts[i])}
		// A failed climb still returns its best point: keep the better of it and the start.
		if res != nil && res.F < 1e299 && -res.F > out[i].lp {
			out[i] = polished{y: append([]float64(nil), res.X...), lp: -res.F}
		}
	}, func() {})
	sort.SliceStable(out, func(a, b int) bool { return out[a].lp > out[b].lp })
	return out
}

// localScales returns, per coordinate of y, the conditional standard deviation of the
// log-posterior there, 1/√(−∂²logPost/∂y_j²), from central differences with step 1e-3
// (standardised coordinates, prior range [−1, 1]), clamped to [1e-5, 0.05]; 1e-3 where the
// curvature is not negative (flat, or not a maximum along that axis) or not finite.
func localScales(y []float64, logPost func([]float64) float64) []float64 {
	const h = 1e-3
	lp0 := logPost(y)
	sc := make([]float64, len(y))
	p := append([]float64(nil), y...)
	for j := range y {
		p[j] = y[j] + h
		up := logPost(p)
		p[j] = y[j] - h
		dn := logPost(p)
		p[j] = y[j]
		d2 := (up - 2*lp0 + dn) / (h * h)
		sc[j] = 1e-3
		if d2 < 0 && !math.IsInf(d2, 0) && !math.IsNaN(d2) {
			sc[j] = math.Min(math.Max(1/math.Sqrt(-d2), 1e-5), 0.05)
		}
	}
	return sc
}

// ballSeeds returns W walkers drawn around y (standardised coordinates) from independent
// Gaussians of the local scales (localScales: the posterior's conditional widths at the
// optimum), each redrawn until logPost is finite there (the centre itself after 100
// tries). A ball of the posterior's own size: a much smaller one (10⁻⁴) leaves the
// stretch move hundreds of steps of expansion (docs/fitting.md).
func ballSeeds(y []float64, W int, logPost func([]float64) float64, seed uint64) [][]float64 {
	scale := localScales(y, logPost)
	src := rng.New(seed, 1<<40)
	seeds := make([][]float64, W)
	for w := range W {
		p := append([]float64(nil), y...)
		for try := 0; try < 100; try++ {
			for j := range p {
				p[j] = y[j] + scale[j]*src.Normal()
			}
			if !math.IsInf(logPost(p), -1) {
				break
			}
			copy(p, y)
		}
		seeds[w] = p
	}
	return seeds
}

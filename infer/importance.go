package infer

import (
	"fmt"
	"math"
	"sort"

	"github.com/mlcu/mlcu/event"
)

// LogDensity returns log q(y | x), the network's density of standardised vectors ys for the
// model input x (one event, event.WindowPoints values): the flow's density, with, for a
// periodic α (Standardizer.WrapPeriodic), the density of the wrapped draw — the sum over
// y's images one period (2 standardised units) to either side, where the flow leaks its
// mass over the seam. Draws outside the prior were rejected by Posterior; that truncation
// is a constant factor, which self-normalised importance weights do not see.
func (m *Model) LogDensity(x []float32, ys [][]float64) []float64 {
	mc := m.Net.Config
	xb := make([]float32, mc.Featurizer.L)
	event.NetworkInput(xb, x, mc.Bin)
	D := mc.Flow.D
	alpha := -1
	for j, c := range m.Standardizer.Coords {
		probe := make([]float64, D)
		probe[j] = 1.5
		if c.Name == "alpha" && m.Standardizer.WrapPeriodic(probe) {
			alpha = j
		}
	}
	shifts := []float64{0}
	if alpha >= 0 {
		shifts = []float64{0, -2, 2}
	}
	n := len(ys)
	theta := make([]float32, n*len(shifts)*D)
	for k, sh := range shifts {
		for i, y := range ys {
			row := theta[(k*n+i)*D : (k*n+i+1)*D]
			for j, v := range y {
				row[j] = float32(v)
			}
			if alpha >= 0 {
				row[alpha] += float32(sh)
			}
		}
	}
	lp := make([]float32, n*len(shifts))
	m.Net.EventLogProb(lp, xb, theta)
	out := make([]float64, n)
	for i := range n {
		mx := math.Inf(-1)
		for k := range shifts {
			mx = math.Max(mx, float64(lp[k*n+i]))
		}
		s := 0.0
		for k := range shifts {
			s += math.Exp(float64(lp[k*n+i]) - mx)
		}
		out[i] = mx + math.Log(s)
	}
	return out
}

// Importance is the importance-sampling estimate of a posterior from draws of a proposal q
// (nbi's SNPE-IS): weights w_i ∝ p(data | θ_i)·prior(θ_i)/q(θ_i | data), self-normalised.
type Importance struct {
	Weights []float64 // normalised weights (sum 1); 0 where the posterior is 0
	ESS     float64   // (Σw)²/Σw², the effective sample size
	KHat    float64   // Pareto k̂ of the largest weights (ParetoK): > 0.7 means the estimate is unreliable
	Summary []Summary // weighted medians and intervals, physical units
}

// NewImportance returns the importance-sampling estimate from the draws s (physical
// units), their log-posteriors logPost (−Inf where it is 0) and their proposal
// log-densities logQ. Non-finite log-weights count as zero weight. It returns an error when
// every weight is zero.
func NewImportance(s *Samples, logPost, logQ []float64) (*Importance, error) {
	n := s.Len()
	if len(logPost) != n || len(logQ) != n {
		return nil, fmt.Errorf("importance: %d draws, %d posteriors, %d proposal densities", n, len(logPost), len(logQ))
	}
	lw := make([]float64, n)
	mx := math.Inf(-1)
	for i := range lw {
		lw[i] = logPost[i] - logQ[i]
		if math.IsNaN(lw[i]) || math.IsInf(lw[i], 0) {
			lw[i] = math.Inf(-1)
		}
		mx = math.Max(mx, lw[i])
	}
	if math.IsInf(mx, -1) {
		return nil, fmt.Errorf("importance: every one of the %d weights is zero (no draw where the posterior is positive)", n)
	}
	w := make([]float64, n)
	sum := 0.0
	for i, v := range lw {
		w[i] = math.Exp(v - mx)
		sum += w[i]
	}
	ss := 0.0
	for i := range w {
		w[i] /= sum
		ss += w[i] * w[i]
	}
	im := &Importance{Weights: w, ESS: 1 / ss, KHat: ParetoK(lw)}
	for j, name := range s.Names {
		col := s.Column(j)
		im.Summary = append(im.Summary, Summary{Name: name, Median: weightedQuantile(col, w, 0.5),
			Lo68: weightedQuantile(col, w, 0.16), Hi68: weightedQuantile(col, w, 0.84),
			Lo95: weightedQuantile(col, w, 0.025), Hi95: weightedQuantile(col, w, 0.975)})
	}
	return im, nil
}

// weightedQuantile returns the p-quantile of x under the weights w (sum 1): the value where
// the cumulative weight, each value's weight centred on it, crosses p, interpolated linearly.
func weightedQuantile(x, w []float64, p float64) float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	c := 0.0
	prevC, prevX := math.Inf(-1), x[idx[0]]
	for _, i := range idx {
		if w[i] == 0 {
			continue
		}
		mid := c + w[i]/2
		if mid >= p {
			if math.IsInf(prevC, -1) {
				return x[i]
			}
			return prevX + (x[i]-prevX)*(p-prevC)/(mid-prevC)
		}
		prevC, prevX = mid, x[i]
		c += w[i]
	}
	return prevX
}

// ParetoK returns the shape k̂ of the generalised Pareto distribution fitted to the largest
// importance weights (log-weights lw; −Inf for zero weights), as PSIS does (Vehtari et al.
// 2024, JMLR 25, 72): the M = min(n/5, 3√n) largest, their excess over the next largest,
// fitted by the estimator of Zhang & Stephens (2009) with its weakly informative
// adjustment toward 0.5 (k̂·M/(M+10) + 5/(M+10)). k̂ < 0.5: the weights have finite variance;
// 0.5–0.7: usable with care; > 0.7: the estimate is not to be trusted. It returns NaN for
// fewer than 10 positive weights.
func ParetoK(lw []float64) float64 {
	var v []float64
	for _, x := range lw {
		if !math.IsInf(x, -1) && !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	n := len(v)
	if n < 10 {
		return math.NaN()
	}
	sort.Float64s(v)
	M := int(math.Min(float64(n)/5, 3*math.Sqrt(float64(n))))
	M = max(M, 5)
	mx := v[n-1]
	u := math.Exp(v[n-M-1] - mx)
	x := make([]float64, M)
	for i := range M {
		x[i] = math.Exp(v[n-M+i]-mx) - u
	}
	k := gpdShape(x)
	return k*float64(M)/float64(M+10) + 0.5*10/float64(M+10)
}

// gpdShape returns the Zhang & Stephens (2009) estimate of the generalised Pareto shape k
// of the sorted positive exceedances x (the sign convention of PSIS: k > 0 heavy tails).
func gpdShape(x []float64) float64 {
	n := len(x)
	const prior = 3.0
	m := 30 + int(math.Sqrt(float64(n)))
	xstar := x[int(math.Floor(float64(n)/4+0.5))-1]
	if xstar <= 0 {
		xstar = x[n-1] / float64(n)
	}
	theta := make([]float64, m)
	lth := make([]float64, m)
	kOf := func(th float64) float64 { // the profile estimate of k at θ = −k/σ
		s := 0.0
		for _, xi := range x {
			s += math.Log1p(-th * xi)
		}
		return s / float64(n)
	}
	for j := range m {
		theta[j] = 1/x[n-1] + (1-math.Sqrt(float64(m)/(float64(j+1)-0.5)))/prior/xstar
		k := kOf(theta[j])
		lth[j] = float64(n) * (math.Log(-theta[j]/k) - k - 1)
	}
	thetaHat := 0.0
	for j := range m {
		s := 0.0
		for l := range m {
			s += math.Exp(lth[l] - lth[j])
		}
		thetaHat += theta[j] / s
	}
	return kOf(thetaHat)
}

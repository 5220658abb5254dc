package conformance

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

// NewSamplerFunc makes the sampler of a model under test.
type NewSamplerFunc func(m *nn.Model[float32]) (infer.Sampler, error)

// Draws of the Sampler suite: the distribution checks' and the determinism checks' (an
// emulated device draws a few hundred a second).
const (
	samplerDraws = 2000
	repeatDraws  = 256
)

// Sampler checks an infer.Sampler made by newSampler for a model (TrainModel, trained a
// few steps on the CPU so that its running statistics and weights are not the initial ones):
//
//   - the same seed and round give the same draws, bit for bit; another round and another
//     seed give other draws (fewer than 0.1% of the values equal, correlation within 4/√n of zero);
//   - the draws follow the model's flow: per dimension, the mean and the variance agree
//     with those of nn.Model.Sample's draws (an independent stream) within 5 standard
//     errors, and so does the mean log-density of the draws under the CPU model (the
//     entropy: a sampler with the right moments and the wrong shape fails it);
//   - Close returns no error.
func Sampler(t *testing.T, newSampler NewSamplerFunc) {
	c := TrainModel()
	m, err := nn.NewModel[float32](c)
	require.NoError(t, err)
	m.Init(5)
	adam := nn.NewAdam[float32](m.NumParams())
	for i := range 3 {
		x, th := Batch(c, 8, uint64(10+i))
		_, _, err := nn.TrainStep(nn.CPUPasses{M: m, Adam: adam}, x, th, suiteClip, 3e-2)
		require.NoError(t, err)
	}
	xs, _ := Batch(c, 1, 3)
	D, n := c.D(), samplerDraws

	s, err := newSampler(m)
	require.NoError(t, err)
	draw := func(n int, seed, round uint64) []float32 {
		t.Helper()
		out := make([]float32, n*D)
		require.NoError(t, s.Draw(out, xs, n, seed, round))
		for i, v := range out {
			require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "draw %d: %v", i, v)
		}
		return out
	}
	a := draw(n, 9, 0)

	t.Run("determinism and independence", func(t *testing.T) {
		a := draw(repeatDraws, 9, 0)
		require.Equal(t, a, draw(repeatDraws, 9, 0), "the same seed and round")
		for _, other := range []struct {
			name        string
			seed, round uint64
		}{{"round 1", 9, 1}, {"seed 10", 10, 0}} {
			b := draw(repeatDraws, other.seed, other.round)
			same := 0
			for i := range a {
				if a[i] == b[i] {
					same++
				}
			}
			require.LessOrEqual(t, same, len(a)/1000, "%s: values equal to round 0 of seed 9", other.name)
			for j := range D {
				r := correlation(column(a, D, j), column(b, D, j))
				require.Less(t, math.Abs(r), 4/math.Sqrt(repeatDraws), "%s: dimension %d correlated with round 0 of seed 9 (r = %.3f)", other.name, j, r)
			}
		}
	})

	t.Run("draws follow the flow", func(t *testing.T) {
		ref := make([]float32, n*D)
		m.Sample(ref, xs, n, rng.New(12345, 6))
		for j := range D {
			ga, gr := column(a, D, j), column(ref, D, j)
			ma, va := meanVar(ga)
			mr, vr := meanVar(gr)
			seMean := math.Sqrt((va + vr) / float64(n))
			require.InDelta(t, mr, ma, 5*seMean, "dimension %d: mean of the draws against nn.Model.Sample's", j)
			// Var of a sample variance ≈ (μ4 − σ⁴)/n; μ4 estimated from both samples.
			seVar := math.Sqrt((fourth(ga, ma) - va*va + fourth(gr, mr) - vr*vr) / float64(n))
			require.InDelta(t, vr, va, 5*seVar, "dimension %d: variance of the draws against nn.Model.Sample's", j)
		}
		la, lr := logDensities(m, xs, a), logDensities(m, xs, ref)
		ma, va := meanVar(la)
		mr, vr := meanVar(lr)
		require.InDelta(t, mr, ma, 5*math.Sqrt((va+vr)/float64(n)), "mean log-density of the draws under the CPU model against nn.Model.Sample's")
	})

	require.NoError(t, s.Close(), "Close")
}

// logDensities returns the CPU model's log-density of each draw (n × D) given the event xs.
func logDensities(m *nn.Model[float32], xs, draws []float32) []float64 {
	D := m.Config.D()
	n := len(draws) / D
	x := make([]float32, 0, n*len(xs))
	for range n {
		x = append(x, xs...)
	}
	m.LossForward(x, draws, false)
	lp := m.LogProb()
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(lp[i])
	}
	return out
}

func column(v []float32, D, j int) []float64 {
	out := make([]float64, len(v)/D)
	for i := range out {
		out[i] = float64(v[i*D+j])
	}
	return out
}

func meanVar(x []float64) (mean, variance float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		variance += (v - mean) * (v - mean)
	}
	return mean, variance / float64(len(x)-1)
}

func fourth(x []float64, mean float64) float64 {
	s := 0.0
	for _, v := range x {
		d := v - mean
		s += d * d * d * d
	}
	return s / float64(len(x))
}

func correlation(a, b []float64) float64 {
	ma, va := meanVar(a)
	mb, vb := meanVar(b)
	s := 0.0
	for i := range a {
		s += (a[i] - ma) * (b[i] - mb)
	}
	return s / float64(len(a)-1) / math.Sqrt(va*vb)
}

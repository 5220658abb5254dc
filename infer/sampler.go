package infer

import (
	"fmt"
	"sort"
	"time"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

// Sampler draws from the flow of a model: standardised θ for one event.
type Sampler interface {
	// Draw writes n draws of standardised θ given the network input xb into out: for one
	// event (the featurizer's length: event.NetworkInput's output) n × D row-major; for E
	// events (E inputs one after the other) E × n × D, event by event, the featurizer run
	// once on the E (mlcu eval batches them). Calls with the same seed, round and events
	// give the same draws; different rounds are independent.
	Draw(out, xb []float32, n int, seed, round uint64) error
	// Close frees what the sampler holds (device memory); the sampler is not used after.
	Close() error
}

// CPUSampler is the Sampler of nn.Model on the CPU: round r of seed draws from
// rng.New(seed, r) (nn.Model.Sample).
type CPUSampler struct{ Net *nn.Model[float32] }

// Draw implements Sampler.
func (s CPUSampler) Draw(out, xb []float32, n int, seed, round uint64) error {
	s.Net.Sample(out, xb, n, rng.New(seed, round))
	return nil
}

// Close implements Sampler; it holds nothing.
func (CPUSampler) Close() error { return nil }

// Samples are posterior draws in physical units.
type Samples struct {
	Names    []string      // parameter names, the columns of Values
	Values   []float64     // (N, len(Names)) row-major
	Accepted float64       // fraction of the flow's draws that fell inside the prior's support
	Elapsed  time.Duration // time spent drawing (featurizer and flow)
}

// Len returns the number of samples.
func (s *Samples) Len() int { return len(s.Values) / len(s.Names) }

// Column returns a copy of the column of parameter j.
func (s *Samples) Column(j int) []float64 {
	D, n := len(s.Names), s.Len()
	col := make([]float64, n)
	for i := range n {
		col[i] = s.Values[i*D+j]
	}
	return col
}

// MinAccepted is the smallest fraction of the flow's draws inside the prior's support that
// Posterior accepts before it gives up: below it the light curve is not one the model was
// trained on.
const MinAccepted = 1e-3

// Posterior draws n samples of θ for the model input x (one event, event.WindowPoints
// values, as LightCurveInput and DatasetInput give) from sampler s, in physical units, with
// t0 in the window's time. α is first wrapped modulo 2π when the prior spans one period
// (event.Standardizer.WrapPeriodic: the same trajectory). Draws outside the prior's support
// (the flow leaks some mass there; the posterior is zero) are rejected and replaced by
// further rounds (Sampler.Draw's round) of at least 1024 draws; Posterior fails when fewer
// than MinAccepted of the draws so far are kept, after at least 1000 draws.
func (m *Model) Posterior(s Sampler, x []float32, n int, seed uint64) (*Samples, error) {
	if n < 1 {
		return nil, fmt.Errorf("posterior: %d samples: want at least 1", n)
	}
	if len(x) != event.WindowPoints {
		return nil, fmt.Errorf("posterior: input of %d points, want the %d-point window", len(x), event.WindowPoints)
	}
	mc := m.Net.Config
	xb := make([]float32, mc.Featurizer.L)
	event.NetworkInput(xb, x, mc.Bin)
	D := mc.Flow.D
	names := m.Names()
	res := &Samples{Names: names, Values: make([]float64, 0, n*len(names))}
	y := make([]float64, D)
	start := time.Now()
	drawn, inside, kept := 0, 0, 0
	for round := uint64(0); kept < n; round++ {
		if drawn >= 1000 && float64(inside) < MinAccepted*float64(drawn) {
			res.Accepted, res.Elapsed = float64(inside)/float64(drawn), time.Since(start)
			return res, fmt.Errorf("only %d of %d posterior draws fall inside the prior's support: this light curve is outside what the model was trained on", inside, drawn)
		}
		batch := n - kept
		if round > 0 {
			batch = max(batch, 1024)
		}
		out := make([]float32, batch*D)
		if err := s.Draw(out, xb, batch, seed, round); err != nil {
			return nil, err
		}
		drawn += batch
		for i := range batch {
			for j := range D {
				y[j] = float64(out[i*D+j])
			}
			m.Standardizer.WrapPeriodic(y)
			if !m.Standardizer.InSupport(y) {
				continue
			}
			inside++
			if kept == n {
				continue
			}
			v := m.Standardizer.Inverse(y).Values()
			res.Values = append(res.Values, v[:len(names)]...)
			kept++
		}
	}
	res.Accepted, res.Elapsed = float64(inside)/float64(drawn), time.Since(start)
	return res, nil
}

// Summary is one parameter's marginal: its median and the central 68% (16th–84th
// percentile) and 95% (2.5th–97.5th) intervals, in physical units.
type Summary struct {
	Name               string
	Median, Lo68, Hi68 float64
	Lo95, Hi95         float64
}

// Quantile returns the p-quantile of the sorted values xs by linear interpolation between
// order statistics (xs[(n−1)p], numpy's default "linear" method). It panics on an empty xs.
func Quantile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		panic("infer: Quantile of no values")
	}
	h := p * float64(len(xs)-1)
	i := int(h)
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}

// Summary returns the marginal summary of every parameter, in the order of Names.
func (s *Samples) Summary() []Summary {
	out := make([]Summary, len(s.Names))
	for j, name := range s.Names {
		col := s.Column(j)
		sort.Float64s(col)
		out[j] = Summary{Name: name, Median: Quantile(col, 0.5),
			Lo68: Quantile(col, 0.16), Hi68: Quantile(col, 0.84),
			Lo95: Quantile(col, 0.025), Hi95: Quantile(col, 0.975)}
	}
	return out
}

// ShiftTime adds dt [d] to every sample's t0: from the window's time to the time of the
// light curve's file (LightCurve.T[0] for LightCurveInput).
func (s *Samples) ShiftTime(dt float64) {
	j := -1
	for k, name := range s.Names {
		if name == "t0" {
			j = k
		}
	}
	if j < 0 || dt == 0 {
		return
	}
	D := len(s.Names)
	for i := j; i < len(s.Values); i += D {
		s.Values[i] += dt
	}
}

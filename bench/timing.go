package bench

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
	"github.com/mlcu/mlcu/train"
)

// Input returns n values 1 + 0.01·N(0, 1) from seed: a flat normalised light curve with
// noise, the network input the sampling and training benchmarks time.
func Input(n int, seed uint64) []float32 {
	src := rng.New(seed, 0)
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(1 + 0.01*src.Normal())
	}
	return x
}

// Sampling times sampler s on the network input x (one event): a warm-up draw (uploads,
// allocations, a first launch), three one-sample draws, the fastest of which is the
// featurizer's time (a single flow draw is negligible beside it), and n draws, from whose
// time the featurizer's is subtracted. It returns the flow's samples per second and the
// featurizer's milliseconds per event. When the n draws take less than 4/3 of the
// featurizer's time (few samples, or a loaded machine: the difference would be noise, or
// negative), the rate counts the whole draw, featurizer included.
func Sampling(s infer.Sampler, x []float32, n, D int) (samplesPerSec, featurizerMS float64, err error) {
	out := make([]float32, n*D)
	w := min(n, 1024)
	if err := s.Draw(out[:w*D], x, w, 1, 0); err != nil {
		return 0, 0, err
	}
	feat := math.Inf(1)
	for r := range 3 {
		start := time.Now()
		if err := s.Draw(out[:D], x, 1, 1, uint64(2+r)); err != nil {
			return 0, 0, err
		}
		feat = min(feat, time.Since(start).Seconds())
	}
	start := time.Now()
	if err := s.Draw(out, x, n, 1, 1); err != nil {
		return 0, 0, err
	}
	total := time.Since(start).Seconds()
	flow := total - feat
	if flow < total/4 {
		flow = total
	}
	return float64(n) / flow, feat * 1e3, nil
}

// Training times k training steps (Backend.Step: forward, backward, clip at 5, Adam) of a
// model of shape mc with random weights (seed 1) on the backend newBackend makes, at batch
// size B on a fixed batch of Input, after one warm-up step, and returns examples per second.
// When around is not nil it is called with the backend after the timing (a profiled step:
// cuda.StartProfile).
func Training(newBackend train.NewBackendFunc, mc nn.ModelConfig, B, k int, around func(train.Backend, []float32, []float32) error) (float64, error) {
	m, err := nn.NewModel[float32](mc)
	if err != nil {
		return 0, err
	}
	m.Init(1)
	be, err := newBackend(m, nn.NewAdam[float32](m.NumParams()))
	if err != nil {
		return 0, err
	}
	defer be.Close()
	x := Input(B*mc.Featurizer.L, 2)
	th := make([]float32, B*mc.Flow.D)
	if _, _, err := be.Step(x, th, 5, 1e-4); err != nil {
		return 0, err
	}
	start := time.Now()
	for range k {
		if _, _, err := be.Step(x, th, 5, 1e-4); err != nil {
			return 0, err
		}
	}
	eps := float64(k*B) / time.Since(start).Seconds()
	if around != nil {
		if err := around(be, x, th); err != nil {
			return eps, err
		}
	}
	return eps, nil
}

// Simulation times events 0 … n−1 of sim, as 'mlcu simulate' computes them: batches of
// batch events (Simulator.Events) taken in turn by workers goroutines.
func Simulation(sim dataset.Simulator, n, batch, workers int) (time.Duration, error) {
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps := make([]event.Params, batch)
			curves := make([]float32, batch*event.StoredPoints)
			for {
				lo := int(next.Add(int64(batch))) - batch
				if lo >= n {
					return
				}
				k := min(batch, n-lo)
				if err := sim.Events(lo, ps[:k], curves[:k*event.StoredPoints]); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}

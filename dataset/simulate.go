package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/lens"
)

// Splits are the dataset split names that SplitSeed accepts.
var Splits = []string{"train", "val", "test"}

// DeriveSeed returns a seed derived from (seed, label): the first 8 bytes, read as a
// little-endian integer, of SHA-256 of the bytes "mlcu/" + label + "/" + the decimal seed.
// In Python:
//
//	int.from_bytes(hashlib.sha256(f"mlcu/{label}/{seed}".encode()).digest()[:8], "little")
//
// Different labels give unrelated seeds, so that the random streams of different purposes
// (dataset splits, the Reader's shuffles and noise) never coincide.
func DeriveSeed(seed uint64, label string) uint64 {
	h := sha256.Sum256([]byte("mlcu/" + label + "/" + strconv.FormatUint(seed, 10)))
	return binary.LittleEndian.Uint64(h[:8])
}

// SplitSeed returns the seed of the event streams of the named split of a dataset with
// user seed seed: DeriveSeed(seed, "split/"+split). Event i of the split is drawn from
// rng.New(SplitSeed(seed, split), i), so the train, val and test splits of one seed draw
// from unrelated streams and never share events. It returns an error for a split name not
// in Splits.
func SplitSeed(seed uint64, split string) (uint64, error) {
	for _, s := range Splits {
		if s == split {
			return DeriveSeed(seed, "split/"+split), nil
		}
	}
	return 0, fmt.Errorf("unknown split %q (want one of %q)", split, Splits)
}

// storedTimes holds StoredTimes(), shared read-only by the simulators.
var storedTimes = sync.OnceValue(event.StoredTimes)

// CurveBackend computes the noise-free magnification curves of the events: the forward model
// behind a Simulator. CPUCurves (lens.LightCurve, one event per call) is the default;
// package cli plugs in the CUDA one (cuda.LightCurver) for --device cuda. A backend must
// compute each event's curve from that event alone (not from the other events of the call),
// so that a dataset's bytes do not depend on how its events are batched.
type CurveBackend interface {
	// LightCurves writes into out[k] (len(ts) values) the magnification of events[k] at the
	// times ts (days) with relative accuracy goal tol (lens.LightCurve's meaning). It is
	// called from several goroutines at once.
	LightCurves(events []lens.Event, ts []float64, tol float64, out [][]float64) error
	// BatchSize is the number of events per call that suits the backend (at least 1).
	BatchSize() int
}

// CPUCurves is the CPU backend: lens.LightCurve, one event per call.
type CPUCurves struct{}

// LightCurves computes each event's curve with lens.LightCurve.
func (CPUCurves) LightCurves(events []lens.Event, ts []float64, tol float64, out [][]float64) error {
	for k, e := range events {
		lens.LightCurve(e, ts, tol, out[k][:len(ts)])
	}
	return nil
}

// BatchSize is 1: the events of a shard are spread over the workers one by one.
func (CPUCurves) BatchSize() int { return 1 }

// Simulator makes the events of a dataset: event i has the parameters
// Prior.Sample(rng.New(Seed, i)) and a noise-free magnification curve computed by Curves
// (lens.LightCurve when nil) at relative accuracy Tol. A Simulator is safe for concurrent
// use.
type Simulator struct {
	Prior event.Prior
	Seed  uint64  // seed of the event streams (a dataset's SplitSeed)
	Tol   float64 // relative accuracy goal of the magnifications; lens.DefaultTol when 0
	// Curves is the forward model's backend; CPUCurves when nil. The CUDA backend gives the
	// CPU's curves within the accuracy goal Tol (to float64 rounding off the contours; see
	// Manifest and cli's TestSimulateDeviceMatchesCPU), so it is the same forward model.
	Curves CurveBackend
}

// Params returns the parameters of event i (t0 is the prior draw).
func (s Simulator) Params(i int) event.Params { return s.Prior.Sample(rng.New(s.Seed, uint64(i))) }

// Event computes event i: its parameters and, in dst (length StoredPoints), its magnification
// at the StoredPoints times t0 + τ_j, computed as the light curve of Params.CentredEvent at
// the times τ_j of StoredTimes and rounded to float32. The curve is centred on the
// event whatever its t0; CropOffset cuts the window that places it at t0.
func (s Simulator) Event(i int, dst []float32) (event.Params, error) {
	if len(dst) != event.StoredPoints {
		panic(fmt.Sprintf("dataset: Simulator.Event: dst has length %d, want %d", len(dst), event.StoredPoints))
	}
	return s.Window(i, 0, dst)
}

// Events computes the events lo, lo+1, …, lo+len(ps)−1 in one call of the backend: ps[k]
// and dst[k·StoredPoints : (k+1)·StoredPoints] are what Event(lo+k, ·) returns and writes.
// It panics when len(dst) ≠ len(ps)·StoredPoints.
func (s Simulator) Events(lo int, ps []event.Params, dst []float32) error {
	if len(dst) != len(ps)*event.StoredPoints {
		panic(fmt.Sprintf("dataset: Simulator.Events: dst has length %d, want %d·%d", len(dst), len(ps), event.StoredPoints))
	}
	for k := range ps {
		ps[k] = s.Params(lo + k)
	}
	return s.magnify(lo, ps, storedTimes(), dst)
}

// Window computes the magnification of event i at the stored samples k, k+1, …,
// k+len(dst)−1 (times τ_{k+j} of StoredTimes, relative to t0) into dst and returns the event's
// parameters. Window(i, 0, dst) with len(dst) = StoredPoints is Event. Because the light
// curve's root finder is warm-started from point to point, a window may differ from the same
// samples of the full curve in the last float32 bit where the solver's accuracy goal allows
// it. It panics when the samples are not within [0, StoredPoints).
func (s Simulator) Window(i, k int, dst []float32) (event.Params, error) {
	if k < 0 || k+len(dst) > event.StoredPoints || len(dst) == 0 {
		panic(fmt.Sprintf("dataset: Simulator.Window: samples [%d, %d) outside [0, %d)", k, k+len(dst), event.StoredPoints))
	}
	ps := []event.Params{s.Params(i)}
	err := s.magnify(i, ps, storedTimes()[k:k+len(dst)], dst)
	return ps[0], err
}

func (s Simulator) tol() float64 {
	if s.Tol == 0 {
		return lens.DefaultTol
	}
	return s.Tol
}

func (s Simulator) backend() CurveBackend {
	if s.Curves == nil {
		return CPUCurves{}
	}
	return s.Curves
}

// scratch holds float64 light-curve buffers of StoredPoints values.
var scratch = sync.Pool{New: func() any { b := make([]float64, event.StoredPoints); return &b }}

// magnify computes the magnification of the events lo, lo+1, … (parameters ps) at times ts
// (days from t0) into dst (len(ps) rows of len(ts)), as float32. A panic of the lens solver,
// an error of the backend, or a magnification that is not a positive finite number, is
// returned as an error naming the event (or the events of the call).
func (s Simulator) magnify(lo int, ps []event.Params, ts []float64, dst []float32) (err error) {
	events := make([]lens.Event, len(ps))
	out := make([][]float64, len(ps))
	for k, p := range ps {
		events[k] = p.CentredEvent()
		bp := scratch.Get().(*[]float64)
		defer scratch.Put(bp)
		out[k] = (*bp)[:len(ts)]
	}
	which := func() string {
		if len(ps) == 1 {
			return fmt.Sprintf("event %d (%s)", lo, formatParams(ps[0]))
		}
		return fmt.Sprintf("events %d to %d", lo, lo+len(ps)-1)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: the lens solver failed: %v", which(), r)
		}
	}()
	if err := s.backend().LightCurves(events, ts, s.tol(), out); err != nil {
		return fmt.Errorf("%s: %v", which(), err)
	}
	for k, as := range out {
		row := dst[k*len(ts) : (k+1)*len(ts)]
		for j, a := range as {
			if !(a > 0) || math.IsInf(a, 0) {
				return fmt.Errorf("event %d (%s): the lens solver returned A = %v at t − t0 = %v d", lo+k, formatParams(ps[k]), a, ts[j])
			}
			row[j] = float32(a)
		}
	}
	return nil
}

// formatParams formats p for error messages, with every digit needed to reproduce it.
func formatParams(p event.Params) string {
	v := p.Values()
	s := ""
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		s += event.ParamNames[i] + "=" + strconv.FormatFloat(x, 'g', -1, 64)
	}
	return s
}

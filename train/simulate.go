package train

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync"

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
var storedTimes = sync.OnceValue(StoredTimes)

// Simulator makes the events of a dataset: event i has the parameters
// Prior.Sample(rng.New(Seed, i)) and a noise-free magnification curve computed by
// lens.LightCurve at relative accuracy Tol. A Simulator is safe for concurrent use.
type Simulator struct {
	Prior Prior
	Seed  uint64  // seed of the event streams (a dataset's SplitSeed)
	Tol   float64 // relative accuracy goal of the magnifications; lens.DefaultTol when 0
}

// Params returns the parameters of event i (t0 is the prior draw).
func (s Simulator) Params(i int) Params { return s.Prior.Sample(rng.New(s.Seed, uint64(i))) }

// Event computes event i: its parameters and, in dst (length StoredPoints), its magnification
// at the StoredPoints times t0 + τ_j, computed as the light curve of Params.CentredEvent at
// the times τ_j of StoredTimes and rounded to float32. The curve is centred on the
// event whatever its t0; CropOffset cuts the window that places it at t0.
func (s Simulator) Event(i int, dst []float32) (Params, error) {
	if len(dst) != StoredPoints {
		panic(fmt.Sprintf("train: Simulator.Event: dst has length %d, want %d", len(dst), StoredPoints))
	}
	return s.Window(i, 0, dst)
}

// Window computes the magnification of event i at the stored samples k, k+1, …,
// k+len(dst)−1 (times τ_{k+j} of StoredTimes, relative to t0) into dst and returns the event's
// parameters. Window(i, 0, dst) with len(dst) = StoredPoints is Event. Because the light
// curve's root finder is warm-started from point to point, a window may differ from the same
// samples of the full curve in the last float32 bit where the solver's accuracy goal allows
// it. It panics when the samples are not within [0, StoredPoints).
func (s Simulator) Window(i, k int, dst []float32) (Params, error) {
	if k < 0 || k+len(dst) > StoredPoints || len(dst) == 0 {
		panic(fmt.Sprintf("train: Simulator.Window: samples [%d, %d) outside [0, %d)", k, k+len(dst), StoredPoints))
	}
	p := s.Params(i)
	if err := magnify(p, storedTimes()[k:k+len(dst)], s.tol(), dst); err != nil {
		return p, fmt.Errorf("event %d (%s): %v", i, formatParams(p), err)
	}
	return p, nil
}

func (s Simulator) tol() float64 {
	if s.Tol == 0 {
		return lens.DefaultTol
	}
	return s.Tol
}

// scratch holds float64 light-curve buffers of StoredPoints values.
var scratch = sync.Pool{New: func() any { b := make([]float64, StoredPoints); return &b }}

// magnify computes the magnification of p.CentredEvent() at times ts (days from t0)
// into dst, as float32. A panic of the lens solver, or a magnification that is not a
// positive finite number, is returned as an error.
func magnify(p Params, ts []float64, tol float64, dst []float32) (err error) {
	e := p.CentredEvent()
	bp := scratch.Get().(*[]float64)
	defer scratch.Put(bp)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the lens solver failed: %v", r)
		}
	}()
	as := lens.LightCurve(e, ts, tol, (*bp)[:len(ts)])
	for j, a := range as {
		if !(a > 0) || math.IsInf(a, 0) {
			return fmt.Errorf("the lens solver returned A = %v at t − t0 = %v d", a, ts[j])
		}
		dst[j] = float32(a)
	}
	return nil
}

// formatParams formats p for error messages, with every digit needed to reproduce it.
func formatParams(p Params) string {
	v := p.Values()
	s := ""
	for i, x := range v {
		if i > 0 {
			s += " "
		}
		s += ParamNames[i] + "=" + strconv.FormatFloat(x, 'g', -1, 64)
	}
	return s
}

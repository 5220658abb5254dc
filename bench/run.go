package bench

import (
	"time"

	"github.com/mlcu/mlcu/lens"
)

// Result is the outcome of one timed run of LightCurves.
type Result struct {
	Curves  int           // light curves computed
	Points  int           // magnifications computed (Curves × len(times))
	Elapsed time.Duration // wall-clock time on one goroutine
}

// CurvesPerSecond is the throughput in light curves per second on one core.
func (r Result) CurvesPerSecond() float64 { return float64(r.Curves) / r.Elapsed.Seconds() }

// PerPoint is the mean time per magnification.
func (r Result) PerPoint() time.Duration {
	if r.Points == 0 {
		return 0
	}
	return r.Elapsed / time.Duration(r.Points)
}

// LightCurves computes the light curve of every event at times ts with relative accuracy
// goal tol (lens.LightCurve), one after the other on the calling goroutine, and times the
// whole. When mags is non-nil it must have room for len(evs)·len(ts) values and receives
// the magnifications, event-major.
func LightCurves(evs []lens.Event, ts []float64, tol float64, mags []float64) Result {
	buf := make([]float64, len(ts))
	start := time.Now()
	for i, e := range evs {
		out := buf
		if mags != nil {
			out = mags[i*len(ts) : (i+1)*len(ts)]
		}
		lens.LightCurve(e, ts, tol, out)
	}
	return Result{Curves: len(evs), Points: len(evs) * len(ts), Elapsed: time.Since(start)}
}

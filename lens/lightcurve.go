package lens

import (
	"fmt"
	"math"
	"sync"
)

// Event holds the seven parameters θ = (s, q, α, u0, t0, tE, ρ) of a binary-lens event with a
// uniform finite source, in the convention of VBBinaryLensing's BinaryLightCurve (see the
// package documentation): α in radians, t0 and tE in days, u0 and ρ in Einstein radii of
// the total mass, u0 signed.
type Event struct {
	S, Q   float64 // separation, mass ratio (m2/m1)
	Alpha  float64 // trajectory angle (rad)
	U0     float64 // impact parameter relative to the centre of mass
	T0, TE float64 // time of closest approach to the centre of mass, Einstein time (days)
	Rho    float64 // source radius; 0 means a point source
}

// Validate reports the first parameter of e that cannot describe an event, or nil.
func (e Event) Validate() error {
	if err := ValidateBinary(e.S, e.Q); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"alpha", e.Alpha}, {"u0", e.U0}, {"t0", e.T0}} {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) {
			return fmt.Errorf("%s = %v must be finite", p.name, p.v)
		}
	}
	if !(e.TE > 0) || math.IsInf(e.TE, 0) {
		return fmt.Errorf("tE = %v must be positive and finite", e.TE)
	}
	return ValidateRho(e.Rho)
}

// SourcePos returns the source position (y1, y2) at time t (days) in the reference frame:
//
//	tau = (t - t0)/tE
//	y1  =  u0 sin α - tau cos α
//	y2  = -u0 cos α - tau sin α
//
// The source moves along (-cos α, -sin α) and passes closest to the centre of mass, at
// distance |u0|, at t = t0.
func (e Event) SourcePos(t float64) (y1, y2 float64) {
	tau := (t - e.T0) / e.TE
	sa, ca := math.Sincos(e.Alpha)
	return e.U0*sa - tau*ca, -e.U0*ca - tau*sa
}

// RomanTimes returns the times tmin, tmin+dt, ... below tmax (days); each time is computed as
// tmin + i·dt, not by accumulation, so that t_i = i/100 exactly as in the reference files for
// tmin = 0, dt = 0.01. It panics when dt ≤ 0 or the interval is empty or not finite.
func RomanTimes(tmin, tmax, dt float64) []float64 {
	if !(dt > 0) || !(tmax > tmin) || math.IsInf(tmax-tmin, 0) {
		panic(fmt.Sprintf("lens: RomanTimes(%v, %v, %v): need tmax > tmin and dt > 0", tmin, tmax, dt))
	}
	n := int(math.Ceil((tmax-tmin)/dt - 1e-9))
	ts := make([]float64, n)
	for i := range ts {
		ts[i] = tmin + float64(i)*dt
	}
	return ts
}

// RomanCadence is Roman's ~15-minute cadence in days, as used by the reference light curves.
const RomanCadence = 0.01

// LightCurve returns the magnification of event e at the times ts (days), with relative
// accuracy goal tol (see Binary.FiniteMag; e.Rho = 0 gives a point source), in out
// (allocated when nil or too short).
func LightCurve(e Event, ts []float64, tol float64, out []float64) []float64 {
	if cap(out) < len(ts) {
		out = make([]float64, len(ts))
	}
	out = out[:len(ts)]
	b := NewBinary(e.S, e.Q)
	// Consecutive points warm-start the root finder and share the caustic boxes.
	st := solverState{useBoxes: true, extrapolate: uniformSteps(ts)}
	for i, t := range ts {
		y1, y2 := e.SourcePos(t)
		out[i], _ = b.finiteMag(complex(y1, y2), e.Rho, tol, &st, nil)
	}
	return out
}

// uniformSteps reports whether ts are equally spaced (to 1e-9 relative), so that the root
// finder may extrapolate linearly from the two previous points.
func uniformSteps(ts []float64) bool {
	if len(ts) < 3 {
		return false
	}
	d := ts[1] - ts[0]
	for i := 2; i < len(ts); i++ {
		if math.Abs(ts[i]-ts[i-1]-d) > 1e-9*math.Abs(d) {
			return false
		}
	}
	return true
}

// ParallelLightCurve computes LightCurve(e, ts, tol) split into up to workers
// contiguous blocks of times computed in parallel. The result does not depend on workers
// beyond what LightCurve's warm starts allow (it is identical when LightCurve computes
// each point independently). A panic of the lens solver, or a magnification that is not a
// positive finite number, is returned as an error naming the first such time.
func ParallelLightCurve(e Event, ts []float64, tol float64, workers int) ([]float64, error) {
	as := make([]float64, len(ts))
	const minBlock = 256
	nb := max(1, min(workers, len(ts)/minBlock))
	errs := make([]error, nb)
	var wg sync.WaitGroup
	for k := range nb {
		lo, hi := k*len(ts)/nb, (k+1)*len(ts)/nb
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errs[k] = fmt.Errorf("the lens solver failed (%v) between t = %v and %v", r, ts[lo], ts[hi-1])
				}
			}()
			LightCurve(e, ts[lo:hi], tol, as[lo:hi])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for i, a := range as {
		if !(a > 0) || math.IsInf(a, 0) {
			return nil, fmt.Errorf("the lens solver returned A = %v at t = %v, outside the range it handles", a, ts[i])
		}
	}
	return as, nil
}

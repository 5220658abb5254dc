package lens

// DefaultTol is the default relative accuracy goal of the finite-source magnification.
const DefaultTol = 1e-4

// FiniteMag returns the magnification of a uniform source disk of radius rho centred at
// (y1, y2) (reference frame, Einstein radii of the total mass), with relative accuracy goal
// tol. rho = 0 gives the point-source magnification.
//
// WORK IN PROGRESS: contour integration (Bozza 2010) is being written; this currently
// returns the point-source value.
func (b Binary) FiniteMag(y1, y2, rho, tol float64) float64 {
	return b.PointMag(y1, y2)
}

// LightCurve returns the magnification of event e at the times ts (days), with relative
// accuracy goal tol, in out (allocated when nil or too short).
func LightCurve(e Event, ts []float64, tol float64, out []float64) []float64 {
	if cap(out) < len(ts) {
		out = make([]float64, len(ts))
	}
	out = out[:len(ts)]
	b := NewBinary(e.S, e.Q)
	for i, t := range ts {
		y1, y2 := e.SourcePos(t)
		out[i] = b.FiniteMag(y1, y2, e.Rho, tol)
	}
	return out
}

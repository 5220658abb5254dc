package lens

import (
	"math"
	"testing"
)

// FuzzMagnification feeds the solver arbitrary lenses and sources inside the supported
// domain: it must not panic, the point-source A must be ≥ 1 - 1e-9 and not NaN (+Inf is
// right for a source exactly on a caustic: at s = 2 the centre of mass is one for every q,
// the image at the lenses' midpoint has det J = 1 - (M1 + M2)² = 0), and the
// finite-source A finite and ≥ 1 within its relative tolerance (a large disk far from the
// lens has A - 1 far below the tolerance, so the approximation may land just under 1).
func FuzzMagnification(f *testing.F) {
	f.Add(1.0, 1.0, 0.1, 0.2, 1e-3)
	f.Add(0.2, 1e-6, -4.9, -2.2, 1e-4)
	f.Add(5.0, 1e-3, 4.8, 0.0, 1e-2)
	f.Add(1.1, 0.87, -0.2128, 0.2509, 6e-4)
	f.Fuzz(func(t *testing.T, s, q, y1, y2, rho float64) {
		if ValidateBinary(s, q) != nil || ValidateRho(math.Abs(rho)) != nil ||
			math.IsNaN(y1) || math.IsNaN(y2) || math.Abs(y1) > 1e6 || math.Abs(y2) > 1e6 {
			return
		}
		rho = math.Abs(rho)
		b := NewBinary(s, q)
		a := b.PointMag(y1, y2)
		if math.IsNaN(a) || a < 1-1e-9 {
			t.Fatalf("PointMag: s=%v q=%v y=(%v, %v): A = %v", s, q, y1, y2, a)
		}
		if rho == 0 {
			return
		}
		// A loose tolerance keeps the fuzzer fast; the check is on robustness, not accuracy.
		const tol = 1e-2
		af := b.FiniteMag(y1, y2, rho, tol)
		if math.IsNaN(af) || math.IsInf(af, 0) || af < 1-tol {
			t.Fatalf("FiniteMag: s=%v q=%v y=(%v, %v) rho=%v: A = %v", s, q, y1, y2, rho, af)
		}
	})
}

// Package bench is the benchmark harness behind `mlcu bench` and the peer comparisons
// (peer.sh and peer_vbm.py time VBMicrolensing; check_mulensmodel.py checks the mapping to
// MulensModel's parameters): it generates the fixed event sets that mlcu and the peer
// codes both time, reads and writes them as CSV, and times light-curve computation.
//
// The event prior (Prior) is the Roman-like binary-lens prior of the design:
//
//	log10 s  ~ U(log10 0.2, log10 5)
//	log10 q  ~ U(-6, 0)
//	alpha    ~ U(0, 2π)            (radians)
//	u0       ~ U(0, 2)             (Einstein radii of the total mass, from the centre of mass)
//	t0       ~ U(0, 72)            (days)
//	log10 tE ~ N(1.15, 0.45), clipped to [0, 2] (tE in [1, 100] days)
//	log10 ρ  ~ U(-4, -2)
//
// in the conventions of package lens. Events draws them from an internal/rng Source (PCG),
// whose uniform and normal variates are computed from its raw 64-bit output, so that the
// same seed gives the same events on every Go version.
package bench

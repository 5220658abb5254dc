package lens

import (
	"fmt"
	"math"
	"math/cmplx"
)

// Curve is one closed critical curve of a binary lens and its caustic, both in the reference
// frame (Einstein radii of the total mass, origin at the centre of mass, lenses on the real
// axis). Caustic[i] is the image of Critical[i] under the lens equation
// y = z - M1/(conj(z)-X1) - M2/(conj(z)-X2).
//
// The points are ordered along the curve, and the curve is closed: the last point is followed
// by the first, which is not repeated. Consecutive points are consecutive phases of the
// critical-curve parametrisation (see Binary.Caustics).
type Curve struct {
	Critical []complex128
	Caustic  []complex128
}

// DefaultCausticPoints is the number of phases per root track that CausticDistance uses when
// it is given no curves.
const DefaultCausticPoints = 1024

// Caustics returns the critical curves and caustics of b as 1, 2 or 3 closed curves: one for
// the intermediate topology, two for the wide (one around each lens), three for the close (a
// central one around both lenses and two small ones off the lens axis, mirror images of each
// other). See CausticTopology.
//
// Parametrisation (Witt 1990, A&A 236, 311): on the critical curve det J = 1 - |γ|² = 0 with
// γ(z) = M1/(conj(z)-X1)² + M2/(conj(z)-X2)², so for each phase φ the critical points are the
// four roots z of
//
//	M1/(z-X1)² + M2/(z-X2)² = e^{iφ}
//
// (the complex conjugate of M1/(w-X1)² + M2/(w-X2)² = e^{-iφ} with w = conj(z)), a quartic
// once the denominators are cleared. Caustics solves it at the n phases φ_k = 2πk/n,
// k = 0..n-1 (Aberth–Ehrlich, polyRootsN, warm-started from an Euler prediction along each
// track), polishes every root by Newton's method on the rational equation above (so |det J|
// is at rounding level, ~1e-15, even for roots within √q of a light lens), and pairs each
// track's prediction with a root by the best assignment, halving the phase step wherever the
// pairing is not clear-cut (see trackCritical). After a full turn the four tracks are
// permuted; the cycles of that permutation are the closed curves: a curve made of k tracks
// (k = 4 intermediate; 2 and 2 wide; 2, 1 and 1 close) has exactly k·n points, and the j-th
// point of a curve has phase φ = 2π j/n (mod 2π).
//
// Resolution: the caustic is sampled uniformly in φ, not in arc length, so points crowd near
// the cusps and thin out where the critical curve moves fast in φ (near a topology boundary,
// where it almost pinches). The topology and the curves' connectivity do not depend on n
// (tested with n = 64 at 1e-3 and 1e-5 relative in s from each boundary, 1e-6 ≤ q ≤ 1), but
// plots and CausticDistance may need n of several hundred there. It panics when n < 8.
func (b Binary) Caustics(n int) []Curve {
	if n < 8 {
		panic(fmt.Sprintf("lens: Caustics: n = %d phases, need at least 8", n))
	}
	tracks := make([][]complex128, 4)
	for i := range tracks {
		tracks[i] = make([]complex128, n)
	}
	var c [5]complex128
	var z [4]complex128
	sh := complex(b.criticalQuartic(1, &c), 0)
	polyRootsN(c[:], z[:])
	for i := range z {
		z[i] = b.polishCritical(z[i]+sh, 1)
		tracks[i][0] = z[i]
	}
	dphi := 2 * math.Pi / float64(n)
	halvings := maxTrackHalvings
	for k := 1; k <= n; k++ {
		z = b.trackCritical(z, float64(k-1)*dphi, float64(k)*dphi, 0, &halvings)
		if k < n {
			for i := range z {
				tracks[i][k] = z[i]
			}
		}
	}
	// After φ = 2π, track i continues as the track whose phase-0 root it has reached (the
	// same equation, so they agree to rounding).
	var starts [4]complex128
	for i := range starts {
		starts[i] = tracks[i][0]
	}
	next := bestAssignment4(&z, &starts)

	var curves []Curve
	var used [4]bool
	for i := 0; i < 4; i++ {
		if used[i] {
			continue
		}
		var crit []complex128
		for j := i; !used[j]; j = next[j] {
			used[j] = true
			crit = append(crit, tracks[j]...)
		}
		caus := make([]complex128, len(crit))
		for j, zc := range crit {
			caus[j] = b.mapToSource(zc)
		}
		curves = append(curves, Curve{Critical: crit, Caustic: caus})
	}
	return curves
}

// maxTrackDepth bounds the step halvings of trackCritical: steps down to 2π/n·2^-30.
// maxTrackHalvings bounds their total number in one Caustics call, so that no lens can make
// the recursion exponential (a branch ambiguous at every depth would take 2^30 steps); the
// lenses of a grid over the whole supported s and q (n = 64…1024) use at most 60.
const (
	maxTrackDepth    = 30
	maxTrackHalvings = 1 << 14
)

// trackCritical continues the four critical points z of phase phiA to phase phiB. It predicts
// each by an Euler step along dz/dφ = i e^{iφ}/G'(z) (differentiating G(z) = e^{iφ}), solves
// the quartic at phiB warm-started from the predictions, polishes, and pairs each prediction
// with a root by the best assignment. The pairing is accepted when every prediction is at
// least three times closer to its root than to any other root; otherwise (near a point where
// two branches of the critical curve almost touch, close to a topology boundary) the step is
// halved, recursively, so the tracks do not jump between branches whatever n is.
func (b *Binary) trackCritical(z [4]complex128, phiA, phiB float64, depth int, halvings *int) [4]complex128 {
	ea := cmplx.Rect(1, phiA)
	eb := cmplx.Rect(1, phiB)
	var pred, roots [4]complex128
	for i := range z {
		_, dg := b.critShear(z[i])
		pred[i] = z[i] + complex(0, phiB-phiA)*ea/dg
		if cmplx.IsNaN(pred[i]) || cmplx.IsInf(pred[i]) {
			pred[i] = z[i]
		}
	}
	var c [5]complex128
	sh := complex(b.criticalQuartic(eb, &c), 0)
	for i := range roots {
		roots[i] = pred[i] - sh
	}
	polyRootsNWarm(c[:], roots[:], true)
	for i := range roots {
		roots[i] = b.polishCritical(roots[i]+sh, eb)
	}
	perm := bestAssignment4(&pred, &roots)
	var out [4]complex128
	unambiguous := true
	for i := range pred {
		out[i] = roots[perm[i]]
		d := abs2(out[i] - pred[i])
		for j := range roots {
			if j != perm[i] && 9*d >= abs2(roots[j]-pred[i]) {
				unambiguous = false
			}
		}
	}
	if unambiguous || depth >= maxTrackDepth || *halvings <= 0 {
		return out
	}
	*halvings--
	mid := 0.5 * (phiA + phiB)
	zm := b.trackCritical(z, phiA, mid, depth+1, halvings)
	return b.trackCritical(zm, mid, phiB, depth+1, halvings)
}

// criticalQuartic fills c (low to high) with the quartic
// e (z-X1)²(z-X2)² - M1 (z-X2)² - M2 (z-X1)² in the variable z - shift, whose roots are the
// critical points of phase e, and returns shift: the position of the lighter lens. Centred
// there, the two critical points within √q of a light lens are resolved (centred elsewhere
// the coefficients are differences of numbers of size s, and at q = 1e-10, s ≈ 1e3 the root
// pair, 1e-5 apart, comes out as wide as its separation: the tracks could not be told apart
// and the step halving of trackCritical ran to its depth limit on every step).
func (b *Binary) criticalQuartic(e complex128, c *[5]complex128) (shift float64) {
	shift = b.X1
	if b.M2 <= b.M1 {
		shift = b.X2
	}
	a, d := b.X1-shift, b.X2-shift
	s, p := a+d, a*d
	m := b.M1 + b.M2
	c[4] = e
	c[3] = -2 * e * complex(s, 0)
	c[2] = e*complex(s*s+2*p, 0) - complex(m, 0)
	c[1] = -2*e*complex(p*s, 0) + complex(2*(b.M1*d+b.M2*a), 0)
	c[0] = e*complex(p*p, 0) - complex(b.M1*d*d+b.M2*a*a, 0)
	return shift
}

// critShear returns G(z) = M1/(z-X1)² + M2/(z-X2)² and G'(z); det J(z) = 1 - |G(z)|².
func (b *Binary) critShear(z complex128) (g, dg complex128) {
	i1 := 1 / (z - complex(b.X1, 0))
	i2 := 1 / (z - complex(b.X2, 0))
	t1 := complex(b.M1, 0) * i1 * i1
	t2 := complex(b.M2, 0) * i2 * i2
	return t1 + t2, -2 * (t1*i1 + t2*i2)
}

// polishCritical refines a critical point of phase e by Newton's method on G(z) = e, keeping
// a step only while it lowers the residual.
func (b *Binary) polishCritical(z, e complex128) complex128 {
	g, dg := b.critShear(z)
	r := cmplx.Abs(g - e)
	for it := 0; it < 6 && r > 1e-16; it++ {
		zn := z - (g-e)/dg
		gn, dgn := b.critShear(zn)
		rn := cmplx.Abs(gn - e)
		if !(rn < r) {
			break
		}
		z, g, dg, r = zn, gn, dgn, rn
	}
	return z
}

// mapToSource returns the source position y = z - M1/(conj(z)-X1) - M2/(conj(z)-X2) of the image
// position z (reference frame).
func (b *Binary) mapToSource(z complex128) complex128 {
	zb := cmplx.Conj(z)
	return z - complex(b.M1, 0)/(zb-complex(b.X1, 0)) - complex(b.M2, 0)/(zb-complex(b.X2, 0))
}

// perms4 lists the 24 permutations of {0,1,2,3}.
var perms4 = func() [][4]int {
	var out [][4]int
	for a := 0; a < 4; a++ {
		for b := 0; b < 4; b++ {
			for c := 0; c < 4; c++ {
				d := 6 - a - b - c
				if a != b && a != c && b != c && d != a && d != b && d != c {
					out = append(out, [4]int{a, b, c, d})
				}
			}
		}
	}
	return out
}()

// bestAssignment4 returns the permutation p minimising Σ|to[p[i]] - from[i]|².
func bestAssignment4(from, to *[4]complex128) [4]int {
	var d [4][4]float64
	for i := range from {
		for j := range to {
			d[i][j] = abs2(to[j] - from[i])
		}
	}
	best, bi := math.Inf(1), 0
	for k, p := range perms4 {
		s := d[0][p[0]] + d[1][p[1]] + d[2][p[2]] + d[3][p[3]]
		if s < best {
			best, bi = s, k
		}
	}
	return perms4[bi]
}

// CausticBoundaries returns the separations at which the caustic topology of a binary of mass
// ratio q changes (Einstein radii of the total mass): close for s < sClose, intermediate
// (resonant) for sClose ≤ s ≤ sWide, wide for s > sWide. With mass fractions
// m1 = 1/(1+q), m2 = q/(1+q) (Erdl & Schneider 1993, A&A 268, 453; Dominik 1999, A&A 349,
// 108):
//
//	sWide = (m1^(1/3) + m2^(1/3))^(3/2) = (1 + q^(1/3))^(3/2) / √(1+q)
//	sClose⁸ = (1 - sClose⁴)³ / (27 m1 m2) = (1+q)² (1 - sClose⁴)³ / (27 q)
//
// The close boundary is solved as 3 (m1 m2)^(1/3) x^(2/3) + x = 1 for x = sClose⁴ (the cube
// root of the equation above, monotonic in x) by bisection to full precision. For q = 1 they
// are 1/√2 and 2; for q ≪ 1, sClose ≈ 1 - (3/4) q^(1/3) and sWide ≈ 1 + (3/2) q^(1/3). It
// panics when q is not positive and finite.
func CausticBoundaries(q float64) (sClose, sWide float64) {
	if !(q > 0) || math.IsInf(q, 0) {
		panic(fmt.Sprintf("lens: CausticBoundaries: q = %v must be positive and finite", q))
	}
	m1, m2 := 1/(1+q), q/(1+q)
	sWide = math.Pow(math.Cbrt(m1)+math.Cbrt(m2), 1.5)
	c := 3 * math.Cbrt(m1*m2)
	lo, hi := 0.0, 1.0
	for i := 0; i < 200 && hi-lo > 0; i++ {
		x := 0.5 * (lo + hi)
		if x == lo || x == hi {
			break
		}
		if c*math.Pow(x, 2.0/3)+x < 1 {
			lo = x
		} else {
			hi = x
		}
	}
	sClose = math.Pow(0.5*(lo+hi), 0.25)
	return sClose, sWide
}

// CausticTopology returns "close", "intermediate" or "wide": the caustic topology of b, from
// the boundaries of CausticBoundaries (close: three caustics; intermediate: one six-cusp
// resonant caustic; wide: two four-cusp caustics). A separation exactly on a boundary counts
// as intermediate.
func (b Binary) CausticTopology() string {
	sc, sw := CausticBoundaries(b.Q)
	switch {
	case b.S < sc:
		return "close"
	case b.S > sw:
		return "wide"
	}
	return "intermediate"
}

// CausticDistance returns the distance from the source point (y1, y2) (reference frame,
// Einstein radii of the total mass) to the nearest point of the caustics of b. curves are
// b's caustics from Caustics (for speed when it is called for many points); nil means
// b.Caustics(DefaultCausticPoints).
//
// It scans the caustic polylines, then refines on the exact caustic around up to
// maxDistCandidates local minima of the segment distance (those within twice the nearest
// vertex distance, nearest first): over the three segments around each, it follows the
// critical curve continuously in its phase (Newton on M1/(z-X1)² + M2/(z-X2)² = e^{iφ},
// started from the polyline), maps it through the lens equation, and minimises the distance
// by sampling and golden-section search. The result is the distance to the exact caustic (to
// ~1e-12 absolute), not to the polyline, provided the sampling resolves the caustic near the
// nearest point well enough for that point to lie within one segment of a candidate. Every
// point it measures is an exact caustic point, so it never underestimates the distance by
// more than rounding. n = 512 phases per track suffices on every row of the reference data
// (see TestCausticDistanceReference); n = 256 on all but one, whose s lies 2e-5 from a
// topology boundary. A point on the caustic has distance 0 (to rounding).
func (b Binary) CausticDistance(y1, y2 float64, curves []Curve) float64 {
	if curves == nil {
		curves = b.Caustics(DefaultCausticPoints)
	}
	// Squared distances: nearest vertex, and per curve the segment distances.
	vmin := math.Inf(1)
	for _, c := range curves {
		for _, p := range c.Caustic {
			dx, dy := real(p)-y1, imag(p)-y2
			vmin = math.Min(vmin, dx*dx+dy*dy)
		}
	}
	if math.IsInf(vmin, 1) {
		return math.Inf(1)
	}
	type cand struct {
		d    float64
		c, j int
	}
	var cands [maxDistCandidates]cand
	nc := 0
	limit := 4 * vmin // (2 × vertex distance)²
	for ci, c := range curves {
		pts := c.Caustic
		m := len(pts)
		seg := func(j int) float64 {
			a, e := pts[(j+m)%m], pts[(j+1+m)%m]
			return segDist2(y1, y2, real(a), imag(a), real(e), imag(e))
		}
		prev, cur := seg(-1), seg(0)
		for j := 0; j < m; j++ {
			next := seg(j + 1)
			// A local minimum: keep the maxDistCandidates nearest, sorted.
			if cur <= limit && cur <= prev && cur < next &&
				(nc < maxDistCandidates || cur < cands[nc-1].d) {
				if nc < maxDistCandidates {
					nc++
				}
				k := nc - 1
				for k > 0 && cands[k-1].d > cur {
					cands[k] = cands[k-1]
					k--
				}
				cands[k] = cand{cur, ci, j}
			}
			prev, cur = cur, next
		}
	}
	best := math.Sqrt(vmin)
	for _, cd := range cands[:nc] {
		if r := b.refineCausticDistance(complex(y1, y2), curves[cd.c].Critical, cd.j); r >= 0 {
			best = math.Min(best, r)
		}
	}
	return best
}

// maxDistCandidates bounds the polyline local minima that CausticDistance refines.
const maxDistCandidates = 8

// segDist2 returns the squared distance from (px, py) to the segment (ax, ay)-(cx, cy).
func segDist2(px, py, ax, ay, cx, cy float64) float64 {
	dx, dy := cx-ax, cy-ay
	wx, wy := px-ax, py-ay
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = (wx*dx + wy*dy) / l2
		t = math.Max(0, math.Min(1, t))
	}
	ex, ey := wx-t*dx, wy-t*dy
	return ex*ex + ey*ey
}

// refineCausticDistance minimises |mapToSource(z(τ)) - y| over τ ∈ [0, 3], where z(τ) is the
// critical point whose phase interpolates linearly between those of crit[j-1], ..., crit[j+2]
// (indices cyclic). It returns -1 when the refinement fails.
func (b *Binary) refineCausticDistance(y complex128, crit []complex128, j int) float64 {
	m := len(crit)
	var zs [4]complex128
	var ph [4]float64
	for k := 0; k < 4; k++ {
		zs[k] = crit[((j-1+k)%m+m)%m]
		g, _ := b.critShear(zs[k])
		ph[k] = cmplx.Phase(g)
		if k > 0 { // unwrap
			d := math.Remainder(ph[k]-ph[k-1], 2*math.Pi)
			ph[k] = ph[k-1] + d
		}
	}
	dist := func(tau float64) float64 {
		s := int(tau)
		if s > 2 {
			s = 2
		}
		f := tau - float64(s)
		z0 := zs[s] + complex(f, 0)*(zs[s+1]-zs[s])
		e := cmplx.Rect(1, ph[s]+f*(ph[s+1]-ph[s]))
		z := b.polishCritical(z0, e)
		if g, _ := b.critShear(z); !(cmplx.Abs(g-e) < 1e-10) {
			return math.Inf(1) // not a critical point: Newton did not converge
		}
		return cmplx.Abs(b.mapToSource(z) - y)
	}
	const ns = 24
	bestT, bestD := 0.0, math.Inf(1)
	for i := 0; i <= ns; i++ {
		tau := 3 * float64(i) / ns
		if d := dist(tau); d < bestD {
			bestT, bestD = tau, d
		}
	}
	if math.IsInf(bestD, 1) || math.IsNaN(bestD) {
		return -1
	}
	// Golden-section search on the bracket around the best sample.
	lo, hi := math.Max(0, bestT-3.0/ns), math.Min(3, bestT+3.0/ns)
	const gr = 0.6180339887498949
	x1, x2 := hi-gr*(hi-lo), lo+gr*(hi-lo)
	f1, f2 := dist(x1), dist(x2)
	for it := 0; it < 60 && hi-lo > 1e-12; it++ {
		if f1 < f2 {
			hi, x2, f2 = x2, x1, f1
			x1 = hi - gr*(hi-lo)
			f1 = dist(x1)
		} else {
			lo, x1, f1 = x1, x2, f2
			x2 = lo + gr*(hi-lo)
			f2 = dist(x2)
		}
	}
	return math.Min(bestD, math.Min(f1, f2))
}

// CausticCrossings returns how many times the centre of the source of e crosses a caustic
// between consecutive times of ts, found as changes of the number of point-source images
// (3 outside the caustics, 5 inside). Crossings closer together than the time step, and
// grazes between two samples, are missed.
func CausticCrossings(e Event, ts []float64) int {
	b := NewBinary(e.S, e.Q)
	n, prev := 0, -1
	for _, t := range ts {
		k := len(b.Images(e.SourcePos(t)))
		if prev >= 0 && k != prev {
			n++
		}
		prev = k
	}
	return n
}

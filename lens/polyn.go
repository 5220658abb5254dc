package lens

import (
	"fmt"
	"math"
	"math/cmplx"
)

// maxPolyDegree is the largest degree polyRootsN accepts.
const maxPolyDegree = 8

// polyRootsN finds all roots of the polynomial coeffs[0] + coeffs[1] z + ... + coeffs[d] z^d,
// d = len(coeffs) - 1 (1 ≤ d ≤ 8, coeffs[d] ≠ 0), and writes them to roots, which must have
// length d. It reports whether every root met the stopping criterion below.
//
// Algorithm: Aberth–Ehrlich simultaneous iteration in Gauss–Seidel form (Aberth 1973; Bini
// 1996, Numer. Algorithms 13, 179), started from Bini's guesses: points on circles whose radii
// come from the upper convex hull of (i, log|c_i|) (the Newton polygon), so roots of very
// different moduli each get a starting circle of the right size. Exact zero roots (leading
// zero coefficients c_0 = ... = c_{m-1} = 0) are returned as 0 and divided out. A root stops
// being updated when |p(z)| is below the rounding-error bound of Horner's rule,
// 2 d eps Σ|c_i||z|^i (Bini's criterion); then every root gets up to two Newton steps on the
// undeflated polynomial, each kept only if it lowers |p| and moves the root by less than half
// its distance to the nearest other root (so a close pair cannot collapse onto one root).
//
// Accuracy: each root is accurate to about eps·cond, where cond is its condition number:
// ~eps relative for well-separated roots, eps·scale/δ for a pair at distance δ, √eps for a
// double root.
func polyRootsN(coeffs []complex128, roots []complex128) bool {
	return polyRootsNWarm(coeffs, roots, false)
}

// polyRootsNWarm is polyRootsN; when warm is true, roots holds starting guesses on entry (for
// example the roots of a nearby polynomial). If the guesses are not distinct, or the warm
// start does not converge to roots that pass a check against Vieta's formulas, it restarts
// from Bini's guesses.
func polyRootsNWarm(coeffs []complex128, roots []complex128, warm bool) bool {
	d := len(coeffs) - 1
	if d < 1 || d > maxPolyDegree || len(roots) != d || coeffs[d] == 0 {
		panic(fmt.Sprintf("lens: polyRootsN: need 1 ≤ degree ≤ %d, a non-zero leading coefficient and len(roots) = degree (len(coeffs) = %d, len(roots) = %d)",
			maxPolyDegree, len(coeffs), len(roots)))
	}
	// Divide out exact zero roots.
	m := 0
	for m < d && coeffs[m] == 0 {
		roots[m] = 0
		m++
	}
	c := coeffs[m:]
	r := roots[m:]
	d -= m
	if m > 0 {
		warm = false
	}
	if d == 0 {
		return true
	}
	if d == 1 {
		r[0] = -c[0] / c[1]
		return true
	}
	var ok bool
	if warm && distinctRoots(r) {
		ok = aberthN(c, r) && vietaOK(c, r)
	}
	if !ok {
		biniStart(c, r)
		ok = aberthN(c, r) && vietaOK(c, r)
	}
	newtonPolishN(c, r)
	return ok
}

// distinctRoots reports whether no two guesses coincide to 1e-12 relative: Aberth's
// iteration cannot separate coincident guesses, and if they sit on a root both stop there.
func distinctRoots(r []complex128) bool {
	for k := range r {
		for j := k + 1; j < len(r); j++ {
			if cmplx.Abs(r[k]-r[j]) <= 1e-12*(cmplx.Abs(r[k])+cmplx.Abs(r[j])) {
				return false
			}
		}
	}
	return true
}

// vietaOK checks the converged roots against Vieta's formulas for Σ r_i = -c_{d-1}/c_d and
// Σ 1/r_i = -c_1/c_0, each to 1e-6 of the sum of moduli: a cheap guard against two
// approximations that converged to the same root while another root was missed (the
// duplicate shows up in the sum dominated by roots of its own size).
func vietaOK(c, r []complex128) bool {
	d := len(r)
	var s, si complex128
	var a, ai float64
	for _, z := range r {
		s += z
		si += 1 / z
		a += cmplx.Abs(z)
		ai += 1 / cmplx.Abs(z)
	}
	return cmplx.Abs(s+c[d-1]/c[d]) <= 1e-6*a && cmplx.Abs(si+c[1]/c[0]) <= 1e-6*ai
}

// maxAberthIterN bounds the Aberth sweeps; convergence from Bini's start typically takes
// 5-15 sweeps (cubic convergence once the roots are isolated).
const maxAberthIterN = 100

// aberthN runs Aberth–Ehrlich sweeps on the roots r of the polynomial c (degree len(r) ≥ 2,
// no zero root guaranteed) until every root meets Bini's stopping criterion.
func aberthN(c, r []complex128) bool {
	d := len(r)
	var done [maxPolyDegree]bool
	eps := 2 * float64(d) * 0x1p-53
	for iter := 0; iter < maxAberthIterN; iter++ {
		all := true
		for k := 0; k < d; k++ {
			if done[k] {
				continue
			}
			zk := r[k]
			p, dp, bound := hornerN(c, zk)
			if cmplx.Abs(p) <= eps*bound {
				done[k] = true
				continue
			}
			all = false
			ratio := p / dp
			var sum complex128
			for j := 0; j < d; j++ {
				if j != k {
					sum += 1 / (zk - r[j])
				}
			}
			w := ratio / (1 - ratio*sum)
			if cmplx.IsNaN(w) || cmplx.IsInf(w) {
				// p'(z) = 0 or two coincident guesses: nudge the root off the point, in
				// a direction that differs from root to root.
				w = cmplx.Rect(1e-7*(cmplx.Abs(zk)+1), 2.4*float64(k+1))
			}
			r[k] = zk - w
		}
		if all {
			return true
		}
	}
	return false
}

// hornerN returns p(z), p'(z) and Σ|c_i||z|^i (the scale of the rounding error of p(z)).
func hornerN(c []complex128, z complex128) (p, dp complex128, bound float64) {
	d := len(c) - 1
	p = c[d]
	az := cmplx.Abs(z)
	bound = cmplx.Abs(c[d])
	for i := d - 1; i >= 0; i-- {
		dp = dp*z + p
		p = p*z + c[i]
		bound = bound*az + cmplx.Abs(c[i])
	}
	return p, dp, bound
}

// biniStart places the starting guesses of Bini (1996): for each edge (k_i, k_{i+1}) of the
// upper convex hull of the points (i, log|c_i|), k_{i+1} - k_i guesses on the circle of radius
// (|c_{k_i}|/|c_{k_{i+1}}|)^(1/(k_{i+1}-k_i)), with angles offset from edge to edge so that
// no two guesses coincide and none sits on a symmetry axis of a real polynomial.
func biniStart(c, r []complex128) {
	d := len(c) - 1
	var logc [maxPolyDegree + 1]float64
	for i := 0; i <= d; i++ {
		logc[i] = math.Log(cmplx.Abs(c[i])) // -Inf for a zero coefficient
	}
	// Upper convex hull by the monotone chain, over indices with c_i ≠ 0 (c_0, c_d ≠ 0).
	var hull [maxPolyDegree + 1]int
	nh := 0
	for i := 0; i <= d; i++ {
		if math.IsInf(logc[i], -1) {
			continue
		}
		for nh >= 2 {
			a, b := hull[nh-2], hull[nh-1]
			// remove b if it lies on or below the segment a→i
			if (logc[b]-logc[a])*float64(i-a) <= (logc[i]-logc[a])*float64(b-a) {
				nh--
				continue
			}
			break
		}
		hull[nh] = i
		nh++
	}
	const sigma = 0.7
	k := 0
	for e := 0; e+1 < nh; e++ {
		a, b := hull[e], hull[e+1]
		n := b - a
		rad := math.Exp((logc[a] - logc[b]) / float64(n))
		for j := 0; j < n; j++ {
			ang := 2*math.Pi*float64(j)/float64(n) + 2*math.Pi*float64(e)/float64(d) + sigma
			r[k] = complex(rad*math.Cos(ang), rad*math.Sin(ang))
			k++
		}
	}
}

// newtonPolishN applies up to two Newton steps to every root, keeping a step only when it
// lowers |p| and moves the root by less than half its distance to the nearest other root.
func newtonPolishN(c, r []complex128) {
	for k := range r {
		z := r[k]
		reach := math.Inf(1)
		for j := range r {
			if j != k {
				reach = math.Min(reach, 0.5*cmplx.Abs(r[j]-z))
			}
		}
		p, dp, _ := hornerN(c, z)
		for it := 0; it < 2 && p != 0 && dp != 0; it++ {
			zn := z - p/dp
			if !(cmplx.Abs(zn-r[k]) < reach) {
				break
			}
			pn, dpn, _ := hornerN(c, zn)
			if !(cmplx.Abs(pn) < cmplx.Abs(p)) {
				break
			}
			z, p, dp = zn, pn, dpn
		}
		r[k] = z
	}
}

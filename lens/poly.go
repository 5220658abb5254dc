package lens

import (
	"math"
	"math/cmplx"
)

// polyRoots5 finds the five complex roots of the quintic c[0] + c[1] z + ... + c[5] z^5
// by Aberth–Ehrlich simultaneous iteration (Gauss–Seidel form) followed by one Newton
// polish of every root on the undeflated polynomial.
//
// On entry roots holds starting guesses when warm is true (for example the roots of a nearby
// source position); otherwise guesses on a circle around the roots' centroid are used. The
// iteration stops when every correction is below 1e-15 of the root's size (relative) or after
// maxAberthIter sweeps; when a warm start fails to converge it restarts cold once. The return
// value reports convergence.
//
// Aberth–Ehrlich needs no deflation, so a small root does not inherit the rounding of a
// deflated large one (the failure mode Skowron & Gould 2012 guard against with polishing).
func polyRoots5(c *[6]complex128, roots *[5]complex128, warm bool) bool {
	if warm {
		start := *roots
		if newtonWarm5(c, roots) {
			return true
		}
		*roots = start
		if aberth5(c, roots) {
			return true
		}
	}
	coldStart5(c, roots)
	return aberth5(c, roots)
}

const maxAberthIter = 60

// coldStart5 places five guesses on a circle centred on the roots' centroid -c4/(5 c5), with
// a radius from the geometric mean of the roots' distances to it (Bini 1996 style), rotated
// off the real axis so that a symmetric polynomial does not trap the iteration.
func coldStart5(c *[6]complex128, roots *[5]complex128) {
	centre := -c[4] / (5 * c[5])
	// Shifted polynomial's constant term = p(centre)/c5; its modulus is the product of the
	// distances from centre to the roots.
	pc := evalPoly5(c, centre)
	r := math.Pow(cmplx.Abs(pc/c[5]), 0.2)
	if r == 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		r = 1
	}
	for k := 0; k < 5; k++ {
		phi := 2*math.Pi*float64(k)/5 + 0.4
		roots[k] = centre + complex(r*math.Cos(phi), r*math.Sin(phi))
	}
}

func evalPoly5(c *[6]complex128, z complex128) complex128 {
	return ((((c[5]*z+c[4])*z+c[3])*z+c[2])*z+c[1])*z + c[0]
}

// evalPolyDeriv5 returns p(z) and p'(z) by Horner's rule.
func evalPolyDeriv5(c *[6]complex128, z complex128) (p, dp complex128) {
	p = c[5]
	dp = 0
	for i := 4; i >= 0; i-- {
		dp = dp*z + p
		p = p*z + c[i]
	}
	return p, dp
}

// newtonWarm5 refines warm-start guesses by independent Newton iterations, five times
// cheaper per sweep than Aberth's. It reports failure (and the caller falls back to Aberth)
// when a root does not converge within a few steps or two roots end closer than 1e-7 of
// their size, the sign that both went to the same root.
func newtonWarm5(c *[6]complex128, roots *[5]complex128) bool {
	for k := 0; k < 5; k++ {
		z := roots[k]
		ok := false
		for it := 0; it < 6; it++ {
			p, dp := evalPolyDeriv5(c, z)
			if dp == 0 {
				return false
			}
			w := p * inv(dp)
			z -= w
			w2 := abs2(w)
			if math.IsNaN(w2) || math.IsInf(w2, 0) {
				return false
			}
			// Newton converges quadratically here: a step of 1e-7 leaves an error of order
			// 1e-14, and the images are polished on the lens equation afterwards anyway.
			if w2 <= 1e-14*(abs2(z)+1e-30) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
		roots[k] = z
	}
	for i := 0; i < 5; i++ {
		for j := i + 1; j < 5; j++ {
			if abs2(roots[i]-roots[j]) < 1e-14*(abs2(roots[i])+abs2(roots[j])+1e-30) {
				return false
			}
		}
	}
	return true
}

// inv returns 1/z without the special-value handling of Go's complex division (which costs
// a runtime call); z must be finite and non-zero.
func inv(z complex128) complex128 {
	d := 1 / (real(z)*real(z) + imag(z)*imag(z))
	return complex(real(z)*d, -imag(z)*d)
}

// aberthTol is the relative size of the Aberth corrections at which the iteration stops.
// The roots are polished afterwards on the lens equation itself (quadratic convergence), so
// they need only be inside Newton's basin; clustered roots next to a small mass are not
// defined better than ~1e-9 by the polynomial anyway.
const aberthTol = 1e-9

func aberth5(c *[6]complex128, roots *[5]complex128) bool {
	prevMax := math.Inf(1)
	for iter := 0; iter < maxAberthIter; iter++ {
		converged := true
		maxRel := 0.0
		for k := 0; k < 5; k++ {
			zk := roots[k]
			p, dp := evalPolyDeriv5(c, zk)
			if p == 0 {
				continue
			}
			ratio := p * inv(dp)
			var sum complex128
			for j := 0; j < 5; j++ {
				if j != k {
					sum += inv(zk - roots[j])
				}
			}
			w := ratio * inv(1-ratio*sum)
			w2 := abs2(w)
			if math.IsNaN(w2) || math.IsInf(w2, 0) {
				return false
			}
			roots[k] = zk - w
			rel := w2 / (abs2(zk) + 1e-30)
			maxRel = math.Max(maxRel, rel)
			if rel > aberthTol*aberthTol {
				converged = false
			}
		}
		if converged {
			return true
		}
		// A (near-)double root, as at a fold, converges only linearly and then stalls at
		// the rounding floor (~sqrt(eps) relative): stop once the corrections are small and
		// no longer shrinking.
		if iter >= 6 && maxRel < 1e-12 && maxRel > 0.25*prevMax {
			return true
		}
		prevMax = maxRel
	}
	return false
}

package lens

import (
	"container/heap"
	"math"
	"math/cmplx"
)

// DefaultTol is the default relative accuracy goal of FiniteMag. It is ten times tighter
// than the accuracy that mlcu guarantees against the reference data (1e-3 relative), because
// the contour integrator's error estimate is an estimate.
const DefaultTol = 1e-4

// Tuning constants of the choice between the quadrupole approximation and contour
// integration (Bozza et al. 2018 use the same two tests with their own constants). They were
// chosen by measurement against testdata (see TestFiniteMagReference and the light-curve test).
const (
	// quadSafety multiplies the quadrupole term before it is compared with tol·A. The
	// approximation error after the quadrupole correction is nominally of order
	// (quadrupole term)²/A, but where the expansion converges slowly (an image next to a
	// small planet, a cusp) the neglected terms can exceed the quadrupole itself: measured
	// 4.2× on reference curve 28 (t = 26.21 d). With 2 that point missed tol = 1e-4 (error
	// 1.1e-4); with 4 every reference point stays below tol/10, for 10% more time per curve.
	quadSafety = 4.0
	// ghostSafety: a three-image source whose ghost-image fold estimate (Binary.ghostDist)
	// is below ghostSafety·ρ is treated as possibly touching the caustic. Outside a fold the
	// three real images are analytic, so a disk that does not reach the caustic is well
	// served by the quadrupole approximation. On the reference rows near a caustic that the
	// quadrupole test does not flag, the estimate exceeds the true distance by at most 3.2×
	// (TestNearCausticDetected).
	ghostSafety = 6.0
	// ghostArcSafety: see contour.arc.
	ghostArcSafety = 4.0
)

// maxContourSamples caps the number of points on the source boundary; the result is then
// returned with whatever accuracy it has reached (VBBinaryLensing caps at 10,000 likewise).
const maxContourSamples = 20000

// initialContourSamples is the number of equally spaced boundary points before adaptive
// refinement.
const initialContourSamples = 16

// FiniteMag returns the magnification of a uniform source disk of radius rho centred at
// (y1, y2) (reference frame, Einstein radii of the total mass): the total area of the images
// divided by π rho². tol is the relative accuracy goal (DefaultTol when tol ≤ 0); rho = 0
// gives the point-source magnification. rho must satisfy ValidateRho (it panics otherwise);
// a disk farther than 1e4 from both lenses sees a single point lens (A - 1 < 1e-15).
//
// Far from the caustics it returns the point-source magnification plus the analytic
// quadrupole correction (rho²/8)·Σ ±∇²μ over the images; it chooses that path only when the
// quadrupole term is small against tol·A and no false root of the lens polynomial comes
// within a few rho of solving the lens equation (the ghost-image test of Bozza et al. 2018,
// which detects a fold approached from outside). Otherwise it integrates the image
// boundaries by Green's theorem (Bozza 2010; Hermite-cubic arcs between boundary points,
// adaptive bisection of the boundary arc with the largest error estimate, image pairs joined
// where they are created or destroyed on the critical curve) until the estimated error is
// below tol·A.
func (b Binary) FiniteMag(y1, y2, rho, tol float64) float64 {
	a, _ := b.finiteMag(complex(y1, y2), rho, tol, nil, nil)
	return a
}

// FiniteMagErr is FiniteMag that also returns the absolute error estimate of the result and
// the method used ("point", "quadrupole" or "contour").
func (b Binary) FiniteMagErr(y1, y2, rho, tol float64) (a, aerr float64, method string) {
	var info finiteInfo
	a, aerr = b.finiteMag(complex(y1, y2), rho, tol, nil, &info)
	return a, aerr, info.method
}

type finiteInfo struct {
	method  string
	samples int
}

// finiteMag is FiniteMag with an optional solver state st that carries the centre's roots
// from one call to the next (a light curve) for warm starts.
func (b *Binary) finiteMag(y complex128, rho, tol float64, st *solverState, info *finiteInfo) (float64, float64) {
	if err := ValidateRho(rho); err != nil {
		panic("lens: " + err.Error())
	}
	if tol <= 0 {
		tol = DefaultTol
	}
	if u, far := b.farField(real(y), imag(y), rho); far {
		if info != nil {
			info.method = "far field"
		}
		return PointLensFiniteMag(u, rho), 0
	}
	if st == nil {
		st = new(solverState)
	}
	var imgs [5]Image
	n := 0
	if st.useBoxes && b.trackOutside(y, rho, st, &imgs) {
		n = 3
	} else {
		n = b.images(y, &imgs, st)
		st.track(imgs[:n])
	}
	if rho == 0 {
		if info != nil {
			info.method = "point"
		}
		a0 := 0.0
		for k := 0; k < n; k++ {
			a0 += 1 / math.Abs(imgs[k].DetJ)
		}
		return a0, 0
	}
	a0, aq, qerr := b.quadrupole(imgs[:n], rho)
	if !needsContour(a0, qerr, ghostLazy{st, b, y}, rho, tol) {
		if info != nil {
			info.method = "quadrupole"
		}
		return a0 + aq, qerr * qerr / a0
	}
	if info != nil {
		info.method = "contour"
	}
	a, aerr := b.contourMag(y, rho, tol, a0, st.boxes, info)
	if contourPlausible(a, aerr, tol) {
		return a, aerr
	}
	// The contour integration failed (NaN, or A < 1: seen with the disk centred exactly on a
	// lens, and for ρ ~ 1e-6 next to the tiny central caustic of a very close binary, where
	// the images form a near-Einstein ring of width ~ρ). First the disk displaced by 1e-6 ρ,
	// which changes A by ~1e-6 relative and leaves symmetric positions; then the mean of the
	// point-source magnification over the disk by polar quadrature.
	if info != nil {
		info.method = "contour (displaced)"
	}
	a, aerr = b.contourMag(y+complex(1e-6*rho, 0.7e-6*rho), rho, tol, a0, st.boxes, info)
	if contourPlausible(a, aerr, tol) {
		return a, aerr
	}
	if info != nil {
		info.method = "disk quadrature"
	}
	return b.diskQuadrature(y, rho)
}

// contourPlausible reports whether a contour result can be right: finite, with a finite
// error estimate, and A ≥ 1 within tol (no magnification is below 1).
func contourPlausible(a, aerr, tol float64) bool {
	return !math.IsNaN(a) && !math.IsInf(a, 0) && !math.IsNaN(aerr) && a >= 1-tol
}

// diskQuadrature returns the mean of the point-source magnification over the disk of radius
// rho about y, by the midpoint rule in r² (64 rings) and θ (256 angles), and as its error
// the difference from the same rule on half the rings and angles. It is the last resort of
// finiteMag (a few tenths of a second); near a caustic inside the disk it converges slowly
// (the integrand's 1/√d singularities), to ~1% in the cases that need it.
func (b *Binary) diskQuadrature(y complex128, rho float64) (float64, float64) {
	mean := func(n, m int) float64 {
		s := 0.0
		for i := range n {
			r := rho * math.Sqrt((float64(i)+0.5)/float64(n))
			for k := range m {
				ph := 2 * math.Pi * (float64(k) + 0.5) / float64(m)
				s += b.PointMag(real(y)+r*math.Cos(ph), imag(y)+r*math.Sin(ph))
			}
		}
		return s / float64(n*m)
	}
	a := mean(64, 256)
	return a, math.Abs(a - mean(32, 128))
}

// quadrupole returns the point-source magnification a0 of the images, the quadrupole
// correction aq = (ρ²/8) Σ sign(J)∇²μ of a uniform disk of radius rho, and qerr, the same
// sum with absolute values (the size of the finite-source effect).
func (b *Binary) quadrupole(imgs []Image, rho float64) (a0, aq, qerr float64) {
	for k := range imgs {
		mu := 1 / imgs[k].DetJ
		lap := b.laplacianMu(imgs[k].d1, imgs[k].d2, imgs[k].DetJ)
		a0 += math.Abs(mu)
		aq += math.Copysign(1, mu) * lap
		qerr += math.Abs(lap)
	}
	r2 := rho * rho / 8
	return a0, aq * r2, qerr * r2
}

// needsContour decides between the quadrupole approximation and contour integration for a
// disk of radius rho whose centre has point-source magnification a0, absolute quadrupole
// term qerr and ghost-image fold estimate ghost (+Inf with five images, 0 when unknown).
// Inside or near a caustic from the inside, and near cusps, the quadrupole term is large; a
// fold approached from outside leaves the real images smooth and is seen only by the ghosts.
func needsContour(a0, qerr float64, ghost ghostLazy, rho, tol float64) bool {
	return !(quadSafety*qerr < tol*a0 && ghost.farther(ghostSafety*rho))
}

// ghostLazy defers the ghost-image estimate (a few dozen Newton steps) until the cheaper
// quadrupole test has passed.
type ghostLazy struct {
	st *solverState
	b  *Binary
	y  complex128
}

func (g ghostLazy) farther(lim float64) bool { return g.st.ghostFarther(g.b, g.y, lim) }

// laplacianMu returns the source-plane Laplacian ∇²μ of the signed magnification μ = 1/J
// of the image whose offsets from the lenses are d1 = z - x1 and d2 = z - x2, J = 1 - |h'|²,
// h(z) = Σ m_j/(z - x_j). With
// P = conj(h')h” + h'² conj(h”), ∂μ/∂ζ = P/J³ and
//
//	∇²μ = 4 ∂²μ/∂ζ∂conj(ζ)
//	    = 4 { [2 Re(conj(h')² h''') + (1 + 2|h'|²)|h''|²] / J⁴
//	        + 3 [(1 + |h'|²)|h'|²|h''|² + 2 Re(conj(h')³ h''²)] / J⁵ }.
//
// The uniform-disk mean of μ is μ + (ρ²/8)∇²μ + O(ρ⁴). Checked against finite differences
// in TestLaplacianMu.
func (b *Binary) laplacianMu(d1, d2 complex128, J float64) float64 {
	i1, i2 := inv(d1), inv(d2)
	m1, m2 := complex(b.M1, 0), complex(b.M2, 0)
	i1s, i2s := i1*i1, i2*i2
	h1 := -(m1*i1s + m2*i2s)
	h2 := 2 * (m1*i1s*i1 + m2*i2s*i2)
	h3 := -6 * (m1*i1s*i1s + m2*i2s*i2s)
	hb := cmplx.Conj(h1)
	a1 := abs2(h1)
	a2 := abs2(h2)
	j4 := J * J * J * J
	t4 := 2*real(hb*hb*h3) + (1+2*a1)*a2
	t5 := 3 * ((1+a1)*a1*a2 + 2*real(hb*hb*hb*h2*h2))
	return 4 * (t4/j4 + t5/(j4*J))
}

// bImage is one image of a point on the source boundary, with what Green's theorem needs.
type bImage struct {
	z  complex128 // position (reference frame)
	j  float64    // det J (its sign is the parity)
	dz complex128 // dz/dθ along the boundary
	d2 complex128 // d²z/dθ²
}

// bSample is one point of the source boundary ζ(θ) = y + ρ e^{iθ} and its images.
type bSample struct {
	theta float64
	n     int
	img   [5]bImage
	roots [5]complex128 // raw quintic roots, for warm starts of neighbours
	// ghost is Binary.ghostDist of this boundary point (+Inf with 5 images), computed on
	// first need (NaN until then) from ghostMid, the midpoint of its false roots.
	ghost    float64
	ghostMid complex128
	next     int // index of the next sample along increasing θ (cyclic)
	// The arc from this sample to next: its area contribution, error estimate, and a
	// version counter that invalidates stale heap entries.
	area, err float64
	version   int
}

type contour struct {
	b       *Binary
	y       complex128
	rho     float64
	samples []bSample
	// unresolvedErr is the error charged per radian of boundary to an arc whose images
	// cannot be followed or that may hide a caustic crossing: ten times the arc's share of
	// the expected area, so that such arcs are bisected until resolved (or minArc).
	unresolvedErr float64
	// boxes, when not nil, bound the caustic (see solverState.boxes).
	boxes []causticBox
}

// sample solves the images of the boundary point at angle theta, warm-started from the
// roots of sample `from` (or cold when from < 0), and computes the image derivatives.
func (c *contour) sample(theta float64, from int) bSample {
	s := bSample{theta: theta}
	e := complex(math.Cos(theta), math.Sin(theta))
	zeta := c.y + complex(c.rho, 0)*e
	var st solverState
	if from >= 0 {
		st.roots = c.samples[from].roots
		st.warm = true
	}
	var imgs [5]Image
	s.n = c.b.images(zeta, &imgs, &st)
	s.roots = st.roots
	s.ghost = math.Inf(1)
	if st.hasGhosts {
		s.ghost, s.ghostMid = math.NaN(), st.ghostMid
	}
	// Boundary derivatives: ζ' = iρe^{iθ}, ζ'' = -ρe^{iθ}.
	zp := complex(0, c.rho) * e
	zpp := complex(-c.rho, 0) * e
	zpb, zppb := cmplx.Conj(zp), cmplx.Conj(zpp)
	m1, m2 := complex(c.b.M1, 0), complex(c.b.M2, 0)
	for k := 0; k < s.n; k++ {
		z := imgs[k].Z
		J := imgs[k].DetJ
		i1 := inv(imgs[k].d1)
		i2 := inv(imgs[k].d2)
		h1 := -(m1*i1*i1 + m2*i2*i2)
		h2 := 2 * (m1*i1*i1*i1 + m2*i2*i2*i2)
		hb := cmplx.Conj(h1)
		// dz = (dζ + conj(h') conj(dζ)) / J
		dz := (zp + hb*zpb) * complex(1/J, 0)
		// dJ/dθ = -2 Re(conj(h') h'' z')
		dJ := -2 * real(hb*h2*dz)
		ddz := (zpp+hb*zppb+cmplx.Conj(h2*dz)*zpb)*complex(1/J, 0) - dz*complex(dJ/J, 0)
		s.img[k] = bImage{z: z, j: J, dz: dz, d2: ddz}
	}
	fixParities(&s)
	return s
}

// fixParities enforces the parity count of a binary lens (one positive image of three, two
// of five; Witt & Mao 1995) on a boundary sample. A boundary point within rounding of the
// caustic has an image pair on the critical curve whose det J signs are noise; the image of
// smallest |det J| on the wrong side has its sign flipped so that image tracks stay matched.
func fixParities(s *bSample) {
	want := 1
	if s.n == 5 {
		want = 2
	}
	// At most one flip per image: an image whose det J is exactly 0 (or NaN) cannot change
	// sign, and looping on it hung the solver (s = 1/42, q = 7.6e4, a 1.1e-8 disk at the
	// centre of mass: CI's fuzz input).
	for range s.n {
		pos := 0
		for k := 0; k < s.n; k++ {
			if s.img[k].j > 0 {
				pos++
			}
		}
		if pos == want {
			return
		}
		flip, best := -1, math.Inf(1)
		for k := 0; k < s.n; k++ {
			if j := s.img[k].j; j != 0 && (j > 0) == (pos > want) && math.Abs(j) < best {
				flip, best = k, math.Abs(j)
			}
		}
		if flip < 0 {
			return // no image of the surplus parity: leave the sample to the matcher
		}
		s.img[flip].j = -s.img[flip].j
	}
}

// hermiteArc returns the area between the chord from z0 to z1 and the cubic Hermite curve
// with end tangents d0, d1 (per unit parameter) over a parameter length L:
//
//	(L/10) Im(conj(z1-z0)(d1-d0)) - (L²/60) Im(conj(d0) d1).
//
// For a circular arc of radius R and angle L it gives R²L³/12, the leading term of the
// segment area R²(L - sin L)/2.
func hermiteArc(z0, z1, d0, d1 complex128, L float64) float64 {
	dz := z1 - z0
	return L/10*imag(cmplx.Conj(dz)*(d1-d0)) - L*L/60*imag(cmplx.Conj(d0)*d1)
}

// quinticArc returns the area between the chord from a.z to b.z and the quintic Hermite
// curve that matches z, dz/dθ and d²z/dθ² at both ends over an angle L: the integral
// (1/2)∫ Im(conj(z - z0) dz) by 5-point Gauss–Legendre quadrature, exact for the degree-9
// integrand. Its error per arc is O(L⁷) against O(L⁵) for hermiteArc.
func quinticArc(a, b *bImage, L float64) float64 {
	d0, d1 := a.dz*complex(L, 0), b.dz*complex(L, 0)
	s0, s1 := a.d2*complex(L*L, 0), b.d2*complex(L*L, 0)
	dz := b.z - a.z
	sum := 0.0
	for k := range gl5x {
		t := gl5x[k]
		t2 := t * t
		t3 := t2 * t
		t4 := t3 * t
		t5 := t4 * t
		// Quintic Hermite basis (value/derivative/second derivative at 0 and 1) and its
		// derivatives; the value-at-0 term drops out of z - z0.
		h1 := t - 6*t3 + 8*t4 - 3*t5
		h2 := (t2 - 3*t3 + 3*t4 - t5) / 2
		h3 := (t3 - 2*t4 + t5) / 2
		h4 := -4*t3 + 7*t4 - 3*t5
		h5 := 10*t3 - 15*t4 + 6*t5
		g1 := 1 - 18*t2 + 32*t3 - 15*t4
		g2 := (2*t - 9*t2 + 12*t3 - 5*t4) / 2
		g3 := (3*t2 - 8*t3 + 5*t4) / 2
		g4 := -12*t2 + 28*t3 - 15*t4
		g5 := 30*t2 - 60*t3 + 30*t4
		z := d0*complex(h1, 0) + s0*complex(h2, 0) + s1*complex(h3, 0) + d1*complex(h4, 0) + dz*complex(h5, 0)
		zp := d0*complex(g1, 0) + s0*complex(g2, 0) + s1*complex(g3, 0) + d1*complex(g4, 0) + dz*complex(g5, 0)
		sum += gl5w[k] * (real(z)*imag(zp) - imag(z)*real(zp))
	}
	return sum / 2
}

// Gauss–Legendre nodes and weights mapped to [0, 1], 5 points (nodes ±0.5384693101056831,
// ±0.9061798459386640 and 0 on [-1, 1], weights 0.4786286704993665, 0.2369268850561891 and
// 128/225).
var (
	gl5x = [5]float64{(1 - 0.9061798459386640) / 2, (1 - 0.5384693101056831) / 2, 0.5,
		(1 + 0.5384693101056831) / 2, (1 + 0.9061798459386640) / 2}
	gl5w = [5]float64{0.2369268850561891 / 2, 0.4786286704993665 / 2, 64.0 / 225,
		0.4786286704993665 / 2, 0.2369268850561891 / 2}
)

// cross2 is the shoelace term (1/2) Im(conj(a) b) of the segment a → b.
func cross2(a, b complex128) float64 { return 0.5 * (real(a)*imag(b) - imag(a)*real(b)) }

// arc computes the area contribution and error estimate of the boundary arc from sample a
// to sample bb (angle step L). Images are followed from a to bb by parity-respecting
// nearest-neighbour matching of their tangent-predicted positions. Positive-parity tracks
// add their Green's-theorem area, negative-parity tracks subtract it (they run clockwise),
// and image pairs created or destroyed on the critical curve inside the arc are joined by a
// connector whose shape is taken from the square-root behaviour at a fold.
//
// An arc whose ends both have three images but whose ghost-image fold estimate is within
// ghostArcSafety chords of either end may hide a caustic crossing (a cusp poking through the
// boundary between the two points, say): it is charged the unresolved error so that it is
// bisected until the chord is short against the fold distance.
func (c *contour) arc(sa, sb *bSample, L float64) (area, errEst float64) {
	unresolved := c.unresolvedErr * L
	match, ok := matchImages(sa, sb, L)
	if !ok {
		// Inconsistent parities: treat the arc as unresolved so that it is refined.
		return 0, unresolved
	}
	if sa.n == 3 && sb.n == 3 && (c.ghostNear(sa, ghostArcSafety*c.rho*L) || c.ghostNear(sb, ghostArcSafety*c.rho*L)) {
		errEst += unresolved
	}
	usedB := [5]bool{}
	for i := 0; i < sa.n; i++ {
		j := match[i]
		if j < 0 {
			continue
		}
		usedB[j] = true
		ia, ib := &sa.img[i], &sb.img[j]
		p := math.Copysign(1, ia.j)
		ch := hermiteArc(ia.z, ib.z, ia.dz, ib.dz, L)
		cq := quinticArc(ia, ib, L)
		area += p * (cross2(ia.z, ib.z) + cq)
		dz := ib.z - ia.z
		// e1: the cubic's error, estimated by the quintic (itself far more accurate);
		// e2: the chord against the tangents (Bozza 2010), which also catches mismatched
		// image tracks.
		e1 := math.Abs(cq - ch)
		e2 := 1.5 * math.Abs(ch) * math.Abs(abs2(dz)/(L*L*cmplx.Abs(ia.dz)*cmplx.Abs(ib.dz))-1)
		errEst += e1 + e2
	}
	// Destroyed pair: unmatched images of a (one of each parity).
	if sa.n > sb.n {
		P, M := unmatchedPair(sa, match[:sa.n])
		if P < 0 {
			return 0, unresolved
		}
		ar, er := connector(&sa.img[P], &sa.img[M], false)
		area += ar
		errEst += er
	}
	if sb.n > sa.n {
		var inv [5]int
		for j := range inv {
			inv[j] = 0
			if !usedB[j] {
				inv[j] = -1
			}
		}
		P, M := unmatchedPair(sb, inv[:sb.n])
		if P < 0 {
			return 0, unresolved
		}
		ar, er := connector(&sb.img[P], &sb.img[M], true)
		area += ar
		errEst += er
	}
	return area, errEst
}

// ghostNear reports whether the ghost estimate of boundary sample s is known (> 0:
// Binary.ghostDist returns 0 when its iteration fails) and below lim. The estimate is
// computed on first need, unless the caustic boxes (along a light curve) already show the
// point to be farther than lim from every caustic.
func (c *contour) ghostNear(s *bSample, lim float64) bool {
	if math.IsNaN(s.ghost) {
		zeta := c.y + complex(c.rho*math.Cos(s.theta), c.rho*math.Sin(s.theta))
		if c.boxes != nil && boxFarther(c.boxes, zeta, lim) {
			return false
		}
		s.ghost = c.b.ghostDist(s.ghostMid, zeta)
	}
	return s.ghost > 0 && s.ghost < lim
}

// unmatchedPair returns the positive- and negative-parity images among those with
// mark[k] < 0, or (-1, -1) when they are not exactly one of each.
func unmatchedPair(s *bSample, mark []int) (P, M int) {
	P, M = -1, -1
	cnt := 0
	for k := 0; k < s.n; k++ {
		if mark[k] >= 0 {
			continue
		}
		cnt++
		if s.img[k].j > 0 {
			P = k
		} else {
			M = k
		}
	}
	if cnt != 2 || P < 0 || M < 0 {
		return -1, -1
	}
	return P, M
}

// connector joins an image pair that is created (created = true: the loop runs M → P) or
// destroyed (P → M) on the critical curve. Near a fold, z(θ) = z_c ± α√|θ - θ_c| + ..., so
// in the parameter σ = ±√|θ - θ_c| the boundary is smooth; its tangents are ±2σ z'(θ). σ is
// estimated from |P - M| ≈ 2σ² (|z'_P| + |z'_M|), and the Hermite arc in σ gives the area
// between the curve and the straight connector. The error estimate adds to that correction
// the spread between the corrections obtained with σ estimated from either end alone: the
// two agree only once the arc is short enough for the square-root asymptotics to hold.
func connector(p, m *bImage, created bool) (area, errEst float64) {
	d := cmplx.Abs(p.z - m.z)
	ap, am := cmplx.Abs(p.dz), cmplx.Abs(m.dz)
	ch := connectorArc(p, m, created, d/(2*(ap+am)))
	chP := connectorArc(p, m, created, d/(4*ap))
	chM := connectorArc(p, m, created, d/(4*am))
	if created {
		area = cross2(m.z, p.z)
	} else {
		area = cross2(p.z, m.z)
	}
	// Far from the asymptotic regime (|J| of the pair not small, as when the arc is long
	// against the distance to the crossing) the connector may miss an area of order |P-M|²;
	// at a fold J ∝ σ, so this term fades like σ⁴.
	jj := math.Abs(p.j) + math.Abs(m.j)
	return area + ch, math.Abs(ch) + math.Abs(chP-chM) + 0.25*d*d*jj*jj
}

// connectorArc is the Hermite correction of the connector for a given σ².
func connectorArc(p, m *bImage, created bool, sigma2 float64) float64 {
	if !(sigma2 > 0) || math.IsInf(sigma2, 0) {
		return 0
	}
	sigma := math.Sqrt(sigma2)
	dP := complex(2*sigma, 0) * p.dz
	dM := complex(-2*sigma, 0) * m.dz
	if created {
		return hermiteArc(m.z, p.z, dM, dP, 2*sigma)
	}
	return hermiteArc(p.z, m.z, dP, dM, 2*sigma)
}

// matchImages maps each image of sa to an image of sb (or -1 when it disappears), pairing
// equal parities and minimising the summed distance between the positions each predicts
// for the middle of the arc. The two parity groups are matched independently (the cost is
// a sum over them); each group has at most three images, so every injection is tried. ok is
// false when the group sizes differ by more than one image, which a boundary point within
// rounding of the caustic can produce.
func matchImages(sa, sb *bSample, L float64) (match [5]int, ok bool) {
	for i := range match {
		match[i] = -1
	}
	var pa, pb [5]complex128
	for i := 0; i < sa.n; i++ {
		pa[i] = sa.img[i].z + sa.img[i].dz*complex(L/2, 0)
	}
	for j := 0; j < sb.n; j++ {
		pb[j] = sb.img[j].z - sb.img[j].dz*complex(L/2, 0)
	}
	for _, positive := range [2]bool{true, false} {
		var ga, gb [5]int
		na, nb := 0, 0
		for i := 0; i < sa.n; i++ {
			if (sa.img[i].j > 0) == positive {
				ga[na] = i
				na++
			}
		}
		for j := 0; j < sb.n; j++ {
			if (sb.img[j].j > 0) == positive {
				gb[nb] = j
				nb++
			}
		}
		if na > 3 || nb > 3 || na-nb > 1 || nb-na > 1 {
			return match, false
		}
		// Enumerate the orderings of the larger group; its first min(na, nb) entries are
		// matched to the smaller group in order.
		k, m := na, nb
		if nb < na {
			k, m = nb, na
		}
		best, bestP := math.Inf(1), -1
		for pi, perm := range perms[m] {
			cost := 0.0
			for t := 0; t < k; t++ {
				if na <= nb {
					cost += abs2(pa[ga[t]] - pb[gb[perm[t]]])
				} else {
					cost += abs2(pa[ga[perm[t]]] - pb[gb[t]])
				}
			}
			if cost < best {
				best, bestP = cost, pi
			}
		}
		if bestP < 0 {
			continue // empty group
		}
		perm := perms[m][bestP]
		for t := 0; t < k; t++ {
			if na <= nb {
				match[ga[t]] = gb[perm[t]]
			} else {
				match[ga[perm[t]]] = gb[t]
			}
		}
	}
	return match, true
}

// perms[m] lists the permutations of 0..m-1 for m ≤ 3.
var perms = [4][][3]int{
	{{}},
	{{0}},
	{{0, 1}, {1, 0}},
	{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}},
}

// arcHeap orders boundary arcs by decreasing error estimate.
type arcEntry struct {
	err     float64
	start   int
	version int
}
type arcHeap []arcEntry

func (h arcHeap) Len() int            { return len(h) }
func (h arcHeap) Less(i, j int) bool  { return h[i].err > h[j].err }
func (h arcHeap) Swap(i, j int)       { h[i], h[j] = h[j], h[i] }
func (h *arcHeap) Push(x interface{}) { *h = append(*h, x.(arcEntry)) }
func (h *arcHeap) Pop() interface{} {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// minArc is the smallest boundary arc (radians) that is bisected further; an arc that
// small with a large error estimate is a numerical dead end (for example a boundary point
// within rounding of the caustic), and its best estimate is kept.
const minArc = 1e-9

// contourMag integrates the image boundaries of the disk (y, rho) (see FiniteMag) and
// returns the magnification and its absolute error estimate.
//
// a0 is the point-source magnification at the centre, the scale of the unresolved-arc error.
func (b *Binary) contourMag(y complex128, rho, tol, a0 float64, boxes []causticBox, info *finiteInfo) (float64, float64) {
	c := contour{b: b, y: y, rho: rho, boxes: boxes, samples: make([]bSample, 0, 256)}
	c.unresolvedErr = 10 * a0 * rho * rho / 2 // 10 · πρ²A0 / 2π per radian
	n0 := initialContourSamples
	const phase = 0.3183 // keeps sample angles off the lens axis' symmetry lines
	for k := 0; k < n0; k++ {
		from := -1
		if k > 0 {
			from = k - 1
		}
		s := c.sample(math.Mod(phase+2*math.Pi*float64(k)/float64(n0), 2*math.Pi), from)
		s.next = (k + 1) % n0
		c.samples = append(c.samples, s)
	}
	norm := 1 / (math.Pi * rho * rho)
	h := make(arcHeap, 0, 256)
	var area, errSum float64
	for k := range c.samples {
		sa := &c.samples[k]
		sb := &c.samples[sa.next]
		L := arcLength(sa.theta, sb.theta)
		sa.area, sa.err = c.arc(sa, sb, L)
		area += sa.area
		errSum += sa.err
		h = append(h, arcEntry{err: sa.err, start: k})
	}
	heap.Init(&h)
	for len(c.samples) < maxContourSamples && h.Len() > 0 {
		// Re-sum occasionally: running sums of +/- terms drift, and Inf must not stick.
		if math.IsInf(errSum, 0) || math.IsNaN(errSum) || len(c.samples)%64 == 0 {
			area, errSum = 0, 0
			for k := range c.samples {
				area += c.samples[k].area
				errSum += c.samples[k].err
			}
		}
		if errSum*norm <= tol*math.Abs(area*norm) {
			break
		}
		top := heap.Pop(&h).(arcEntry)
		sa := &c.samples[top.start]
		if top.version != sa.version {
			continue
		}
		L := arcLength(sa.theta, c.samples[sa.next].theta)
		if L < minArc {
			// Keep the estimate; drop the error from the budget so others can converge.
			errSum -= sa.err
			sa.err = 0
			continue
		}
		mid := sa.theta + L/2
		if mid >= 2*math.Pi {
			mid -= 2 * math.Pi
		}
		ns := c.sample(mid, top.start)
		idx := len(c.samples)
		ns.next = sa.next
		c.samples = append(c.samples, ns)
		sa = &c.samples[top.start] // the append may have moved the slice
		sa.next = idx
		area -= sa.area
		errSum -= sa.err
		sm := &c.samples[idx]
		sa.area, sa.err = c.arc(sa, sm, L/2)
		sm.area, sm.err = c.arc(sm, &c.samples[sm.next], L/2)
		sa.version++
		area += sa.area + sm.area
		errSum += sa.err + sm.err
		heap.Push(&h, arcEntry{err: sa.err, start: top.start, version: sa.version})
		heap.Push(&h, arcEntry{err: sm.err, start: idx, version: sm.version})
	}
	area, errSum = 0, 0
	for k := range c.samples {
		area += c.samples[k].area
		errSum += c.samples[k].err
	}
	if info != nil {
		info.samples = len(c.samples)
	}
	return area * norm, errSum * norm
}

// arcLength returns the angle from a to b going forward, in (0, 2π]; a and b are any angles
// (equal angles mean the whole circle).
func arcLength(a, b float64) float64 {
	d := math.Mod(b-a, 2*math.Pi)
	if d <= 0 {
		d += 2 * math.Pi
	}
	return d
}

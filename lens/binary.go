package lens

import (
	"fmt"
	"math"
	"math/cmplx"
)

// Binary is a lens of two point masses in the reference frame of mlcu (the frame of
// VBBinaryLensing): lengths in Einstein radii of the total mass, origin at the centre of
// mass, both lenses on the real axis. Lens 1 (mass fraction M1 = 1/(1+q)) sits at
// X1 = -s q/(1+q); lens 2 (M2 = q/(1+q)) at X2 = s/(1+q). With q ≤ 1 lens 1 is the heavier.
//
// A Binary holds no mutable state and is safe for concurrent use.
type Binary struct {
	S, Q   float64 // separation (Einstein radii) and mass ratio m2/m1
	M1, M2 float64 // mass fractions, M1 + M2 = 1
	X1, X2 float64 // lens positions on the real axis
}

// NewBinary returns the binary lens of separation s and mass ratio q. It panics when (s, q)
// is outside the supported domain; callers that take user input check with ValidateBinary.
func NewBinary(s, q float64) Binary {
	if err := ValidateBinary(s, q); err != nil {
		panic("lens: " + err.Error())
	}
	return Binary{
		S: s, Q: q,
		M1: 1 / (1 + q), M2: q / (1 + q),
		X1: -s * q / (1 + q), X2: s / (1 + q),
	}
}

// The supported domain of the binary-lens routines. Accuracy is verified against the
// reference data for s ∈ [0.1, 10], q ∈ [1e-6, 1]; the sum rule of the five-image region
// (Σ 1/det J = 1, Witt & Mao 1995) holds to ~1e-11 out to these limits (TestSumRule).
const (
	MinS, MaxS     = 1e-3, 1e3
	MinQ, MaxQ     = 1e-10, 1e10
	MinRho, MaxRho = 1e-8, 10.0 // ρ = 0 (a point source) is also accepted
)

// ValidateBinary reports why (s, q) is outside the supported domain, or nil.
func ValidateBinary(s, q float64) error {
	if !(s >= MinS && s <= MaxS) {
		return fmt.Errorf("separation s = %v is outside the supported range [%g, %g]", s, MinS, MaxS)
	}
	if !(q >= MinQ && q <= MaxQ) {
		return fmt.Errorf("mass ratio q = %v is outside the supported range [%g, %g]", q, MinQ, MaxQ)
	}
	return nil
}

// ValidateRho reports why rho is not a supported source radius (0, or [MinRho, MaxRho]), or
// nil. Below MinRho the contour integral would lose its digits to cancellation; such a source
// is a point source to any useful accuracy away from the caustic.
func ValidateRho(rho float64) error {
	if rho == 0 || (rho >= MinRho && rho <= MaxRho) {
		return nil
	}
	return fmt.Errorf("source radius rho = %v is neither 0 nor in the supported range [%g, %g]", rho, MinRho, MaxRho)
}

// Image is one image of a point source: its position Z (reference frame) and the
// determinant of the lens-map Jacobian there; the image's magnification is 1/|DetJ| and its
// parity the sign of DetJ.
type Image struct {
	Z    complex128
	DetJ float64
	// d1, d2 are z - X1 and z - X2 computed in the solver's frame, where they keep their
	// digits: an image of a far source next to a lens of mass ratio 1e-10 lies ~1e-14 from
	// it, below the rounding of Z itself when the lens sits hundreds of units from the origin
	// (there Z - X2 is exactly 0 and the derivatives of the lens map would be Inf/NaN).
	d1, d2 complex128
}

// solverFrame is the binary in a frame shifted along the real axis so that the lighter
// lens sits at the origin (lens "a", mass Ma) and the other ("b", mass Mb) at D, as
// VBBinaryLensing does. At small q the quintic's roots cluster around the light lens (images
// within ~sqrt(Ma) of it); in a frame centred elsewhere those roots are defined by
// coefficients that are differences of O(1) numbers and come out with errors of ~1e-9.
// Measured on testdata/binary_point.csv (after the lens-equation polish below): centred on
// the lighter lens, max relative error 1e-11; centred on the lens nearest to the source, 2e-7.
type solverFrame struct {
	Shift  float64 // reference-frame position of lens a: z_ref = z + Shift
	Ma, Mb float64
	D      float64
	aIs2   bool // lens a (at the origin) is the binary's lens 2
}

func (b *Binary) frameFor(y complex128) solverFrame {
	if b.M2 <= b.M1 {
		return solverFrame{Shift: b.X2, Ma: b.M2, Mb: b.M1, D: b.X1 - b.X2, aIs2: true}
	}
	return solverFrame{Shift: b.X1, Ma: b.M1, Mb: b.M2, D: b.X2 - b.X1}
}

// quintic fills c with the Witt & Mao (1995) fifth-degree polynomial in the shifted frame
// for the source w (shifted frame). It follows from substituting the conjugated lens
// equation, conj(z) = conj(w) + Ma/z + Mb/(z-D) = N(z)/Dz(z), back into the lens equation
// and clearing denominators:
//
//	(w - z) N (N - D Dz) + Ma Dz (N - D Dz) + Mb Dz N = 0.
func (f *solverFrame) quintic(w complex128, c *[6]complex128) {
	wb := cmplx.Conj(w)
	d := complex(f.D, 0)
	ma, mb := complex(f.Ma, 0), complex(f.Mb, 0)
	n := [3]complex128{-ma * d, ma + mb - wb*d, wb} // N(z)
	k := [3]complex128{n[0], n[1] + d*d, n[2] - d}  // N - D·Dz
	dz := [3]complex128{0, -d, 1}                   // Dz(z) = z(z-D)
	nk := mul22(&n, &k)
	dk := mul22(&dz, &k)
	dn := mul22(&dz, &n)
	// (w - z)·nk
	c[0] = w * nk[0]
	for i := 1; i < 5; i++ {
		c[i] = w*nk[i] - nk[i-1]
	}
	c[5] = -nk[4]
	for i := 0; i < 5; i++ {
		c[i] += ma*dk[i] + mb*dn[i]
	}
}

func mul22(a, b *[3]complex128) [5]complex128 {
	return [5]complex128{
		a[0] * b[0],
		a[0]*b[1] + a[1]*b[0],
		a[0]*b[2] + a[1]*b[1] + a[2]*b[0],
		a[1]*b[2] + a[2]*b[1],
		a[2] * b[2],
	}
}

// coldGuesses places starting points for the quintic's roots where the images of a binary
// lens lie (shifted frame): the two images of a single lens of the total mass at the centre
// of mass, the minor image of each lens taken alone (next to it), and a fifth point off the
// lens axis for the false roots. From these Aberth–Ehrlich needs about half the sweeps that
// guesses on a circle need.
func (f *solverFrame) coldGuesses(w complex128, roots *[5]complex128) {
	cm := complex(f.Mb*f.D, 0) // centre of mass
	pointImages := func(centre, u complex128, m float64) (major, minor complex128) {
		u2 := abs2(u)
		if u2 == 0 {
			r := math.Sqrt(m)
			return centre + complex(r, 0), centre - complex(r, 0)
		}
		k := math.Sqrt(1 + 4*m/u2)
		return centre + u*complex((1+k)/2, 0), centre + u*complex((1-k)/2, 0)
	}
	roots[0], roots[1] = pointImages(cm, w-cm, 1)
	_, roots[2] = pointImages(0, w, f.Ma)
	d := complex(f.D, 0)
	_, roots[3] = pointImages(d, w-d, f.Mb)
	roots[4] = cm + complex(0, 0.5*(1+math.Abs(f.D)))
	// Aberth needs distinct starting points.
	for i := 1; i < 5; i++ {
		for j := 0; j < i; j++ {
			if abs2(roots[i]-roots[j]) < 1e-20*(1+abs2(roots[i])) {
				roots[i] += complex(1e-3*float64(i), 1e-3*float64(j+1))
			}
		}
	}
}

// lensEq returns the lens-equation residual F = z - Ma/conj(z) - Mb/(conj(z)-D) - w and
// the shear g = Ma/conj(z)^2 + Mb/(conj(z)-D)^2 at z (shifted frame); det J = 1 - |g|^2.
func (f *solverFrame) lensEq(z, w complex128) (F, g complex128) {
	zb := cmplx.Conj(z)
	ia := inv(zb)
	ib := inv(zb - complex(f.D, 0))
	ma, mb := complex(f.Ma, 0), complex(f.Mb, 0)
	F = z - ma*ia - mb*ib - w
	g = ma*ia*ia + mb*ib*ib
	return F, g
}

// image returns the image at z (shifted frame) with det J = det, carrying its offsets from
// both lenses as computed in this frame (see Image).
func (f *solverFrame) image(z complex128, det float64) Image {
	da, db := z, z-complex(f.D, 0)
	if f.aIs2 {
		da, db = db, da
	}
	return Image{Z: z + complex(f.Shift, 0), DetJ: det, d1: da, d2: db}
}

func abs2(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }

// solverState carries roots between nearby source positions (a light curve, a source
// boundary) so that the root finder can warm-start.
type solverState struct {
	roots [5]complex128 // reference frame
	warm  bool
	// prev holds the roots of the solve before last when hasPrev: along a light curve's
	// uniform time steps, 2·roots - prev predicts the next roots to second order.
	prev    [5]complex128
	hasPrev bool
	// With three images, the two false roots ("ghost images") lie on either side of the
	// fold they would appear at; ghostMid is their midpoint (reference frame). See
	// Binary.ghostDist.
	hasGhosts bool
	ghostMid  complex128
	// Along a light curve, boxes around the caustic curves (computed on first need when
	// useBoxes is set) let ghostFarther skip the ghost estimate far from the caustic.
	useBoxes bool
	boxes    []causticBox
	// extrapolate enables the prediction from prev (uniformly spaced source positions).
	extrapolate bool
	// The three images of the last point (valid when tracked; tracked2 when the point
	// before had three images too, in trk2), followed by Newton steps outside the caustic
	// (see trackOutside).
	trk, trk2         [3]complex128
	tracked, tracked2 bool
}

// track records the images of the last solve for trackOutside.
func (st *solverState) track(imgs []Image) {
	if len(imgs) != 3 {
		st.tracked, st.tracked2 = false, false
		return
	}
	st.trk2, st.tracked2 = st.trk, st.tracked
	for k := range st.trk {
		st.trk[k] = imgs[k].Z
	}
	st.tracked = true
}

// trackOutside finds the images of the source y by Newton steps on the lens equation from
// the last point's images (extrapolated linearly when two are known), skipping the quintic.
// It applies only where the image count is known to be three: farther than
// ghostSafety·rho from every caustic box (outside all caustics a binary has exactly three
// images, and there the ghost test of FiniteMag passes too). It reports false, leaving the
// work to the full solver, unless the three results each solve the lens equation to 1e-14,
// are distinct and have the parities of a three-image configuration (one positive): three
// distinct images are then all the images.
func (b *Binary) trackOutside(y complex128, rho float64, st *solverState, out *[5]Image) bool {
	if !st.tracked {
		return false
	}
	if st.boxes == nil {
		st.boxes = b.causticBoxes()
	}
	if !boxFarther(st.boxes, y, ghostSafety*rho) {
		st.tracked = false
		return false
	}
	f := b.frameFor(y)
	shift := complex(f.Shift, 0)
	w := y - shift
	scale := 1 + cmplx.Abs(w)
	var zs [3]complex128
	pos := 0
	for k := range zs {
		z := st.trk[k]
		if st.tracked2 && st.extrapolate {
			z += st.trk[k] - st.trk2[k]
		}
		z -= shift
		ok := false
		for it := 0; it < 6; it++ {
			F, g := f.lensEq(z, w)
			det := 1 - abs2(g)
			r2 := abs2(F)
			if r2 < 1e-28*scale*scale {
				ok = true
				out[k] = f.image(z, det)
				break
			}
			if det == 0 || math.IsNaN(r2) {
				break
			}
			z -= (F - g*cmplx.Conj(F)) * complex(1/det, 0)
		}
		if !ok {
			st.tracked = false
			return false
		}
		zs[k] = z
		if out[k].DetJ > 0 {
			pos++
		}
	}
	for i := 0; i < 3; i++ {
		for j := i + 1; j < 3; j++ {
			if abs2(zs[i]-zs[j]) < 1e-12*scale*scale {
				st.tracked = false
				return false
			}
		}
	}
	if pos != 1 {
		st.tracked = false
		return false
	}
	st.track(out[:3])
	return true
}

// images solves the lens equation for the point source y (reference frame). It writes the
// images into out and returns their number, 3 or 5. st may be nil.
func (b *Binary) images(y complex128, out *[5]Image, st *solverState) int {
	f := b.frameFor(y)
	shift := complex(f.Shift, 0)
	w := y - shift
	var c [6]complex128
	f.quintic(w, &c)
	var roots [5]complex128
	warm := false
	if st != nil && st.warm {
		for i := range roots {
			roots[i] = st.roots[i] - shift
			if st.hasPrev {
				roots[i] += st.roots[i] - st.prev[i]
			}
		}
		warm = true
	}
	if !warm {
		f.coldGuesses(w, &roots)
		if !aberth5(&c, &roots) {
			polyRoots5(&c, &roots, false)
		}
	} else {
		polyRoots5(&c, &roots, true)
	}
	raw := roots

	// Polish every root on the lens equation itself (Newton in the plane; the map is not
	// analytic, so dz = -(F - g conj(F)) / (1 - |g|^2)). A true image converges to rounding
	// level; a false root of the quintic stays at a residual of the order of the distance
	// between its pair's members, because no image exists there.
	var res [5]float64 // squared relative residuals
	var gs [5]complex128
	scale := 1 + cmplx.Abs(w)
	polished := roots
	// A step may not carry a root more than half-way to another root: near a true image, a
	// false root could otherwise be pulled onto it and count it twice.
	var reach2 [5]float64
	for i := range reach2 {
		reach2[i] = math.Inf(1)
	}
	for i := 0; i < 5; i++ {
		for j := i + 1; j < 5; j++ {
			d := 0.25 * abs2(roots[j]-roots[i])
			if d < reach2[i] {
				reach2[i] = d
			}
			if d < reach2[j] {
				reach2[j] = d
			}
		}
	}
	for i := range roots {
		z := roots[i]
		F, g := f.lensEq(z, w)
		r2 := abs2(F)
		// Roots already at 1e-14 of the scale need no polish (their magnification is then
		// good to ~1e-12 away from the caustic), and a residual above 1e-3 marks a false
		// root that Newton cannot improve.
		for it := 0; it < 4 && r2 > 1e-28*scale*scale && r2 < 1e-6*scale*scale; it++ {
			det := 1 - abs2(g)
			if det == 0 {
				break
			}
			zn := z - (F-g*cmplx.Conj(F))*complex(1/det, 0)
			if abs2(zn-roots[i]) > reach2[i] {
				break
			}
			Fn, gn := f.lensEq(zn, w)
			rn2 := abs2(Fn)
			if !(rn2 < r2) {
				break
			}
			z, F, g, r2 = zn, Fn, gn, rn2
		}
		sz := scale + math.Abs(real(z)) + math.Abs(imag(z))
		polished[i], res[i], gs[i] = z, r2/(sz*sz), g
	}
	roots = polished
	if st != nil {
		st.prev, st.hasPrev = st.roots, st.warm && st.extrapolate
		for i := range roots {
			st.roots[i] = roots[i] + shift
		}
		st.warm = true
	}

	// Order the roots by residual (insertion sort of five indices).
	idx := [5]int{0, 1, 2, 3, 4}
	for i := 1; i < 5; i++ {
		for j := i; j > 0 && res[idx[j]] < res[idx[j-1]]; j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	n := 3
	const tol2 = imageAcceptTol * imageAcceptTol
	switch {
	case res[idx[4]] < tol2:
		n = 5
	case res[idx[3]] < tol2:
		// Four roots solve the lens equation: the source sits within rounding of a fold,
		// where the new image pair is nearly a double root and one member may not polish.
		// Residuals cannot tell the pair from the true images here, but the pair is by far
		// the closest two roots: drop it and keep the three images of the outer side.
		dropClosestPair(&roots, &idx)
	}
	if st != nil {
		st.hasGhosts = n == 3
		st.ghostMid = (raw[idx[3]]+raw[idx[4]])/2 + shift
	}
	for k := 0; k < n; k++ {
		i := idx[k]
		out[k] = f.image(roots[i], 1-abs2(gs[i]))
	}
	return n
}

// dropClosestPair reorders idx so that the two closest roots come last.
func dropClosestPair(roots *[5]complex128, idx *[5]int) {
	bi, bj, best := 0, 1, math.Inf(1)
	for i := 0; i < 5; i++ {
		for j := i + 1; j < 5; j++ {
			if d := abs2(roots[i] - roots[j]); d < best {
				bi, bj, best = i, j, d
			}
		}
	}
	k := 0
	for i := 0; i < 5; i++ {
		if i != bi && i != bj {
			idx[k] = i
			k++
		}
	}
	idx[3], idx[4] = bi, bj
}

// ghostDistance returns Binary.ghostDist for the false roots of the last solve (+Inf when
// the source had five images).
func (st *solverState) ghostDistance(b *Binary, y complex128) float64 {
	if !st.hasGhosts {
		return math.Inf(1)
	}
	return b.ghostDist(st.ghostMid, y)
}

// ghostFarther reports whether the ghost-image fold estimate for the last solve (source y)
// exceeds lim. Along a light curve (useBoxes), a source whose distance to every caustic's
// bounding box exceeds lim is answered without the estimate's Newton iterations: the box
// distance is a lower bound on the true distance to the caustic. Where the estimate fails,
// the boxes (computed then) decide.
func (st *solverState) ghostFarther(b *Binary, y complex128, lim float64) bool {
	if !st.hasGhosts {
		return true
	}
	if st.useBoxes {
		if st.boxes == nil {
			st.boxes = b.causticBoxes()
		}
		if boxFarther(st.boxes, y, lim) {
			return true
		}
	}
	if d := b.ghostDist(st.ghostMid, y); d > 0 {
		return d > lim
	}
	// The estimate failed (ghosts far from any critical curve, as for a source far from the
	// lens): fall back on the caustic boxes.
	if st.boxes == nil {
		st.boxes = b.causticBoxes()
	}
	return boxFarther(st.boxes, y, lim)
}

// causticBox is an axis-aligned box that contains one caustic curve, widened by twice the
// longest segment of its sampled polyline so that the caustic between samples (a cusp tip
// between two phases, say) stays inside.
type causticBox struct{ x0, x1, y0, y1 float64 }

// causticBoxPoints is the phase sampling per root track of the caustics behind the boxes.
const causticBoxPoints = 128

func (b *Binary) causticBoxes() []causticBox {
	curves := b.Caustics(causticBoxPoints)
	boxes := make([]causticBox, 0, len(curves))
	for _, c := range curves {
		bx := causticBox{math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)}
		seg := 0.0
		for i, p := range c.Caustic {
			bx.x0, bx.x1 = math.Min(bx.x0, real(p)), math.Max(bx.x1, real(p))
			bx.y0, bx.y1 = math.Min(bx.y0, imag(p)), math.Max(bx.y1, imag(p))
			seg = math.Max(seg, cmplx.Abs(p-c.Caustic[(i+1)%len(c.Caustic)]))
		}
		m := 2*seg + 1e-9
		boxes = append(boxes, causticBox{bx.x0 - m, bx.x1 + m, bx.y0 - m, bx.y1 + m})
	}
	return boxes
}

// boxFarther reports whether y is farther than lim from every box.
func boxFarther(boxes []causticBox, y complex128, lim float64) bool {
	x, yy := real(y), imag(y)
	for _, bx := range boxes {
		dx, dy := 0.0, 0.0
		if x < bx.x0 {
			dx = bx.x0 - x
		} else if x > bx.x1 {
			dx = x - bx.x1
		}
		if yy < bx.y0 {
			dy = bx.y0 - yy
		} else if yy > bx.y1 {
			dy = yy - bx.y1
		}
		if dx*dx+dy*dy <= lim*lim {
			return false
		}
	}
	return true
}

// imageAcceptTol is the relative lens-equation residual below which a root of the quintic
// counts as an image. Polished true images reach ~1e-16; a false root keeps a residual of the
// order of the separation of its pair, about sqrt(distance to the fold), so only sources
// within ~1e-20 of a fold could be given a spurious pair.
const imageAcceptTol = 1e-11

// farFieldRadius is the distance from both lenses beyond which the binary is treated as a
// single lens of the total mass at the centre of mass: there A - 1 < 2/d⁴ < 1e-15, so the
// binary's correction is invisible in double precision, while the quintic's coefficients
// (∝ |y|³) would overflow for |y| ≳ 1e100.
const farFieldRadius = 1e4

// farField returns the source's distance u from the centre of mass and whether a disk of
// radius rho around it stays beyond farFieldRadius from both lenses (u is computed only
// then).
func (b *Binary) farField(y1, y2, rho float64) (u float64, far bool) {
	d1 := (y1-b.X1)*(y1-b.X1) + y2*y2
	d2 := (y1-b.X2)*(y1-b.X2) + y2*y2
	r := farFieldRadius + rho
	if d1 <= r*r || d2 <= r*r {
		return 0, false
	}
	return math.Hypot(y1, y2), true
}

// Images returns the images of a point source at (y1, y2) (reference frame). The source must
// lie within about 1e4 of a lens (see PointMag for farther sources).
func (b Binary) Images(y1, y2 float64) []Image {
	var out [5]Image
	n := b.images(complex(y1, y2), &out, nil)
	return append([]Image(nil), out[:n]...)
}

// PointMag returns the point-source magnification A = Σ 1/|det J| at source position
// (y1, y2) in the reference frame (Einstein radii of the total mass). Accuracy: relative
// ~1e-12 or better away from the caustic; it degrades like eps/dist near a fold, and it is
// +Inf for a source exactly on the caustic (e.g. the centre of mass when s = 2).
func (b Binary) PointMag(y1, y2 float64) float64 {
	if u, far := b.farField(y1, y2, 0); far {
		return PointLensMag(u)
	}
	var out [5]Image
	n := b.images(complex(y1, y2), &out, nil)
	a := 0.0
	for k := 0; k < n; k++ {
		a += 1 / math.Abs(out[k].DetJ)
	}
	return a
}

// ghostDist estimates the distance from the source y to the caustic fold near which the
// quintic's two false roots lie (Bozza et al. 2018's ghost-image idea, in a form of our own).
// Outside a fold the pair of images that would appear inside it survive as a pair of false
// roots next to the critical curve. Starting from their midpoint zm, Newton steps along the
// gradient reach the critical curve at z_c, and the caustic point ζ(z_c) = z_c - conj(h(z_c))
// lies near the part of the fold closest to y. Two iterations are run and the smaller
// distance kept: one on J = 1 - |h'|² (gradient -2 conj(h”) h'), which stays on the fold
// the ghosts belong to, and one on ln|h'|² (gradient 2 conj(h”/h')), which also converges
// from next to a lens, where the ghosts of a small planet sit. Measured against the caustic
// distances of testdata/binary_point.csv in TestGhostDist. It returns 0 (the cautious
// answer) when both iterations fail.
func (b *Binary) ghostDist(zm, y complex128) float64 {
	d1 := b.criticalFrom(zm, y, false)
	d2 := b.criticalFrom(zm, y, true)
	switch {
	case d1 == 0:
		return d2
	case d2 == 0:
		return d1
	}
	return math.Min(d1, d2)
}

// criticalFrom runs the Newton iteration of ghostDist from z (on ln|h'|² when logScale) and
// returns the distance from y to the caustic point reached, or 0 when it does not converge.
func (b *Binary) criticalFrom(z, y complex128, logScale bool) float64 {
	m1, m2 := complex(b.M1, 0), complex(b.M2, 0)
	x1, x2 := complex(b.X1, 0), complex(b.X2, 0)
	converged := false
	for it := 0; it < 20; it++ {
		i1, i2 := inv(z-x1), inv(z-x2)
		h1 := -(m1*i1*i1 + m2*i2*i2)
		h2 := 2 * (m1*i1*i1*i1 + m2*i2*i2*i2)
		a := abs2(h1)
		if a == 0 || math.IsNaN(a) || math.IsInf(a, 0) {
			return 0
		}
		var f float64
		var G complex128
		if logScale {
			f, G = math.Log(a), 2*cmplx.Conj(h2*inv(h1))
		} else {
			f, G = 1-a, -2*cmplx.Conj(h2)*h1
		}
		g2 := abs2(G)
		if g2 == 0 || math.IsNaN(g2) {
			return 0
		}
		z -= complex(f/g2, 0) * G
		if math.Abs(f) < 1e-9 {
			converged = true
			break
		}
	}
	if !converged {
		return 0
	}
	i1, i2 := inv(z-x1), inv(z-x2)
	d := cmplx.Abs(z - cmplx.Conj(m1*i1+m2*i2) - y)
	if math.IsNaN(d) {
		return 0
	}
	return d
}

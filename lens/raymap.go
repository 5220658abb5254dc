package lens

import (
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
)

// MagMap is a magnification map of a binary lens on a rectangle of the source plane
// (reference frame, Einstein radii of the total mass): NX × NY pixels covering
// [X0, X1] × [Y0, Y1]. A holds NY rows of NX values, row-major: A[j*NX+i] is the
// mean point-source magnification over pixel (i, j), whose centre is
// (X0 + (i+½)(X1-X0)/NX, Y0 + (j+½)(Y1-Y0)/NY).
type MagMap struct {
	S, Q           float64 // the lens
	X0, X1, Y0, Y1 float64 // source-plane rectangle
	NX, NY         int
	A              []float64 // NY rows of NX pixels
	// RaysPerPixel is the number of rays per pixel at magnification 1 (the image-plane ray
	// density times the pixel area). A pixel of magnification A received A·RaysPerPixel
	// rays; its statistical error is at most that of Poisson counts, √(A/RaysPerPixel).
	RaysPerPixel float64
}

// rayTile is the side of the square image-plane tiles, in rays, that RayShootMap keeps or
// discards as a whole.
const rayTile = 16

// RayGrid is the image-plane ray lattice of RayShootMap, shared with the GPU's ray
// shooting (package cuda) so that both shoot the same rays: rays at (Origin + (i + ½)·H,
// Origin + (j + ½)·H), grouped in tiles of RayTile × RayTile rays of side Tile; the root
// square has 2^Level tiles per side, centred on the origin, and covers every image of a
// source inside the rectangle (|z| ≤ R*).
type RayGrid struct {
	H      float64 // ray spacing (Einstein radii)
	Tile   float64 // RayTile·H
	Level  int     // the root square has 2^Level tiles per side
	Origin float64 // lower corner of the root square on both axes
}

// RayTile is the side of the square image-plane tiles, in rays, that RayShootMap keeps or
// discards as a whole.
const RayTile = rayTile

// RayGrid returns the lattice RayShootMap uses for these arguments. It panics when the
// rectangle is empty or not finite, nx or ny < 1, raysPerPixel is not positive and finite,
// or the lattice would exceed 2^44 rays per side.
func (b Binary) RayGrid(x0, x1, y0, y1 float64, nx, ny int, raysPerPixel float64) RayGrid {
	for _, v := range []float64{x0, x1, y0, y1} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			panic(fmt.Sprintf("lens: RayShootMap: rectangle [%v, %v] × [%v, %v] is not finite", x0, x1, y0, y1))
		}
	}
	if !(x1 > x0) || !(y1 > y0) || nx < 1 || ny < 1 {
		panic(fmt.Sprintf("lens: RayShootMap: need x1 > x0, y1 > y0, nx, ny ≥ 1 (got [%v, %v] × [%v, %v], %d × %d)", x0, x1, y0, y1, nx, ny))
	}
	if !(raysPerPixel > 0) || math.IsInf(raysPerPixel, 0) {
		panic(fmt.Sprintf("lens: RayShootMap: raysPerPixel = %v must be positive and finite", raysPerPixel))
	}
	dx, dy := (x1-x0)/float64(nx), (y1-y0)/float64(ny)
	h := math.Sqrt(dx * dy / raysPerPixel) // ray spacing
	// The root square: 2^level tiles of side t = rayTile·h on each axis, centred on the
	// origin, covering |z| ≤ R*.
	ymax := math.Hypot(math.Max(math.Abs(x0), math.Abs(x1)), math.Max(math.Abs(y0), math.Abs(y1)))
	xm := math.Max(math.Abs(b.X1), math.Abs(b.X2))
	rstar := ((ymax + xm) + math.Sqrt((ymax-xm)*(ymax-xm)+4)) / 2
	t := rayTile * h
	level := 0
	for t*math.Ldexp(1, level) < 2*rstar {
		level++
	}
	if level > 40 {
		panic(fmt.Sprintf("lens: RayShootMap: %g rays per pixel need an image-plane grid of more than 2^44 rays per side", raysPerPixel))
	}
	origin := -t * math.Ldexp(1, level-1)
	if level == 0 {
		origin = -t / 2
	}
	return RayGrid{H: h, Tile: t, Level: level, Origin: origin}
}

// RayShootMap computes the magnification map of b over the source rectangle
// [x0, x1] × [y0, y1] (reference frame, Einstein radii of the total mass) with nx × ny pixels,
// by inverse ray shooting (Kayser, Refsdal & Stabell 1986; Wambsganss 1990): rays on a square
// grid in the image plane, raysPerPixel of them per source pixel area, are mapped through the
// lens equation y = z - M1/(conj(z)-X1) - M2/(conj(z)-X2) and binned; a pixel's magnification
// is its ray count divided by raysPerPixel. workers goroutines share the work
// (runtime.GOMAXPROCS(0) when workers ≤ 0).
//
// Image-plane region. Every image z of a source y satisfies |z - y| ≤ 1/(|z| - max|X_i|)
// when |z| > max|X_i|, hence |z| ≤ R* = ((Y + Xm) + √((Y - Xm)² + 4))/2 with Y the largest
// |y| over the source rectangle and Xm = max(|X1|, |X2|). RayShootMap covers the square
// |Re z|, |Im z| ≤ R* with a quadtree of tiles and discards, without shooting, every tile
// whose image provably misses the source rectangle: the image of a disk D(c, r) that does
// not contain a lens lies in the disk of centre c - Σ M_i (c - X_i)/(|c - X_i|² - r²) and
// radius r + Σ M_i r/(|c - X_i|² - r²) (each term M/conj(z - X) maps a disk onto a disk).
// So no image is missed: the missed-flux bound is zero, up to rounding in the culling test
// (which has a relative safety margin of 1e-9). Tiles that contain a lens are refined down
// to rayTile × rayTile rays and shot. The cost is proportional to the area of the images
// of the source rectangle, about the rectangle's area times its mean magnification, plus a
// boundary layer of tiles.
//
// Accuracy: the rays form a regular grid, so a pixel's count fluctuates by less than
// Poisson's √N away from the caustics (where images of pixels are smooth, the error is that
// of counting lattice points in a region: O(N^(1/3)) or better); near a caustic a pixel
// holds the mean of a divergent magnification and its value depends on the pixel. Counts
// are uint32: A·raysPerPixel must stay below 4e9.
//
// Work split: the kept tiles are sorted in image-plane row order and handed out in strips
// of consecutive tiles to the workers, each with its own count array; the arrays are summed
// at the end. It panics when the rectangle is empty or not finite, nx or ny < 1, or
// raysPerPixel is not positive and finite.
func (b Binary) RayShootMap(x0, x1, y0, y1 float64, nx, ny int, raysPerPixel float64, workers int) *MagMap {
	g := b.RayGrid(x0, x1, y0, y1, nx, ny, raysPerPixel)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	h, t, level := g.H, g.Tile, g.Level
	dx, dy := (x1-x0)/float64(nx), (y1-y0)/float64(ny) // as RayGrid computes them
	m := &MagMap{S: b.S, Q: b.Q, X0: x0, X1: x1, Y0: y0, Y1: y1, NX: nx, NY: ny,
		A: make([]float64, nx*ny), RaysPerPixel: raysPerPixel}
	cl := rayCuller{b: b, x0: x0, x1: x1, y0: y0, y1: y1, origin: g.Origin, t: t}
	cl.visit(0, 0, level)
	tiles := cl.tiles
	sort.Slice(tiles, func(i, j int) bool {
		if tiles[i].iy != tiles[j].iy {
			return tiles[i].iy < tiles[j].iy
		}
		return tiles[i].ix < tiles[j].ix
	})

	sh := rayShooter{
		m1: b.M1, m2: b.M2, a1: b.X1, a2: b.X2,
		x0: x0, y0: y0, invDx: 1 / dx, invDy: 1 / dy,
		fnx: float64(nx), fny: float64(ny), nx: nx,
		origin: cl.origin, h: h,
	}
	const strip = 64 // tiles per work unit
	var next atomic.Int64
	counts := make([][]uint32, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := make([]uint32, nx*ny)
			counts[w] = c
			for {
				lo := int(next.Add(strip)) - strip
				if lo >= len(tiles) {
					return
				}
				hi := min(lo+strip, len(tiles))
				for _, tl := range tiles[lo:hi] {
					sh.shootTile(tl, c)
				}
			}
		}(w)
	}
	wg.Wait()
	inv := 1 / raysPerPixel
	for _, c := range counts {
		for i, v := range c {
			m.A[i] += float64(v)
		}
	}
	for i := range m.A {
		m.A[i] *= inv
	}
	return m
}

// rayTileIndex is a kept tile: it holds the rays (ix·rayTile + i, iy·rayTile + j),
// 0 ≤ i, j < rayTile, of the image-plane lattice.
type rayTileIndex struct{ ix, iy int64 }

// rayCuller builds the list of image-plane tiles whose images may meet the source rectangle.
type rayCuller struct {
	b              Binary
	x0, x1, y0, y1 float64 // source rectangle
	origin, t      float64 // lower-left corner of the root square (both axes); tile side
	tiles          []rayTileIndex
}

// visit handles the square of 2^level × 2^level tiles whose lower-left tile is (ix, iy).
func (c *rayCuller) visit(ix, iy int64, level int) {
	side := c.t * math.Ldexp(1, level)
	cx := c.origin + float64(ix)*c.t + side/2
	cy := c.origin + float64(iy)*c.t + side/2
	if !c.mayHit(cx, cy, side/math.Sqrt2) {
		return
	}
	if level == 0 {
		c.tiles = append(c.tiles, rayTileIndex{ix, iy})
		return
	}
	half := int64(1) << (level - 1)
	c.visit(ix, iy, level-1)
	c.visit(ix+half, iy, level-1)
	c.visit(ix, iy+half, level-1)
	c.visit(ix+half, iy+half, level-1)
}

// mayHit reports whether the image of the disk of centre (cx, cy) and radius r may meet the
// source rectangle. It is true when the disk contains (or nearly touches) a lens.
func (c *rayCuller) mayHit(cx, cy, r float64) bool {
	r2 := r * r
	px, py, rad := cx, cy, r
	for _, l := range [2]struct{ m, x float64 }{{c.b.M1, c.b.X1}, {c.b.M2, c.b.X2}} {
		ux, uy := cx-l.x, cy
		den := ux*ux + uy*uy - r2
		if den <= 1e-9*r2 {
			return true
		}
		f := l.m / den
		px -= f * ux
		py -= f * uy
		rad += f * r
	}
	rad = rad*(1+1e-9) + 1e-300
	// distance from (px, py) to the rectangle
	ex := math.Max(0, math.Max(c.x0-px, px-c.x1))
	ey := math.Max(0, math.Max(c.y0-py, py-c.y1))
	return ex*ex+ey*ey <= rad*rad
}

// rayShooter holds what the inner loop needs, in plain float64s.
type rayShooter struct {
	m1, m2, a1, a2 float64 // masses and positions of the lenses (on the real axis)
	x0, y0         float64 // source rectangle's lower-left corner
	invDx, invDy   float64 // inverse pixel size
	fnx, fny       float64
	nx             int
	origin, h      float64 // image-plane lattice: ray k at origin + (k + ½)h
}

// shootTile shoots the rayTile × rayTile rays of one tile and counts them into c.
func (s *rayShooter) shootTile(tl rayTileIndex, c []uint32) {
	bx := float64(tl.ix*rayTile) + 0.5
	by := float64(tl.iy*rayTile) + 0.5
	for j := 0; j < rayTile; j++ {
		z2 := s.origin + (by+float64(j))*s.h
		z22 := z2 * z2
		for i := 0; i < rayTile; i++ {
			z1 := s.origin + (bx+float64(i))*s.h
			d1, d2 := z1-s.a1, z1-s.a2
			r1, r2 := d1*d1+z22, d2*d2+z22
			// M/conj(z - a) = M (z - a)/|z - a|²; one division for both lenses.
			inv := 1 / (r1 * r2)
			f1, f2 := s.m1*r2*inv, s.m2*r1*inv
			u := (z1 - f1*d1 - f2*d2 - s.x0) * s.invDx
			v := (z2*(1-f1-f2) - s.y0) * s.invDy
			if u >= 0 && u < s.fnx && v >= 0 && v < s.fny {
				c[int(v)*s.nx+int(u)]++
			}
		}
	}
}

// At returns the map's magnification at the source point (y1, y2) by bilinear interpolation
// between pixel centres (constant within half a pixel of the edges). It returns NaN outside
// the map's rectangle.
func (m *MagMap) At(y1, y2 float64) float64 {
	if !(y1 >= m.X0 && y1 <= m.X1 && y2 >= m.Y0 && y2 <= m.Y1) {
		return math.NaN()
	}
	u := (y1-m.X0)/(m.X1-m.X0)*float64(m.NX) - 0.5
	v := (y2-m.Y0)/(m.Y1-m.Y0)*float64(m.NY) - 0.5
	u = math.Max(0, math.Min(u, float64(m.NX-1)))
	v = math.Max(0, math.Min(v, float64(m.NY-1)))
	i, j := min(int(u), m.NX-2), min(int(v), m.NY-2)
	i, j = max(i, 0), max(j, 0)
	fu, fv := u-float64(i), v-float64(j)
	at := func(i, j int) float64 {
		return m.A[min(j, m.NY-1)*m.NX+min(i, m.NX-1)]
	}
	return (1-fv)*((1-fu)*at(i, j)+fu*at(i+1, j)) + fv*((1-fu)*at(i, j+1)+fu*at(i+1, j+1))
}

// DiskMean returns the mean of the map over the disk of radius rho centred at (y1, y2): the
// pixel values weighted by the exact area of each pixel's overlap with the disk. With the
// pixel values being means of the point-source magnification over the pixels, this is the
// uniform-source magnification (Binary.FiniteMag) up to the ray noise and the variation of
// the magnification inside the pixels cut by the disk's edge. That error is second order in
// pixel/rho, also when a caustic crosses or grazes the disk (measured on reference rows:
// 2e-3 relative at pixel = rho/30 for a fold 0.01 rho outside the disk, 1e-4 at rho/120).
// rho = 0 gives At(y1, y2). It returns NaN when the disk is not inside the map.
func (m *MagMap) DiskMean(y1, y2, rho float64) float64 {
	if rho == 0 {
		return m.At(y1, y2)
	}
	if !(rho > 0) || !(y1-rho >= m.X0 && y1+rho <= m.X1 && y2-rho >= m.Y0 && y2+rho <= m.Y1) {
		return math.NaN()
	}
	dx, dy := (m.X1-m.X0)/float64(m.NX), (m.Y1-m.Y0)/float64(m.NY)
	i0 := max(int((y1-rho-m.X0)/dx), 0)
	i1 := min(int((y1+rho-m.X0)/dx), m.NX-1)
	j0 := max(int((y2-rho-m.Y0)/dy), 0)
	j1 := min(int((y2+rho-m.Y0)/dy), m.NY-1)
	var sum, wsum float64
	for j := j0; j <= j1; j++ {
		py0 := m.Y0 + float64(j)*dy - y2
		for i := i0; i <= i1; i++ {
			px0 := m.X0 + float64(i)*dx - y1
			w := diskRectArea(px0, px0+dx, py0, py0+dy, rho)
			sum += w * m.A[j*m.NX+i]
			wsum += w
		}
	}
	return sum / wsum
}

// diskRectArea returns the area of the intersection of the disk of radius r centred at the
// origin with the rectangle [x0, x1] × [y0, y1], by inclusion–exclusion over the quadrants
// {X ≤ x, Y ≤ y} (absolute error ~1e-16 r²; clamped at 0).
func diskRectArea(x0, x1, y0, y1, r float64) float64 {
	a := diskQuadrant(x1, y1, r) - diskQuadrant(x0, y1, r) - diskQuadrant(x1, y0, r) + diskQuadrant(x0, y0, r)
	return math.Max(a, 0)
}

// diskQuadrant returns the area of {(X, Y): X ≤ x, Y ≤ y, X² + Y² ≤ r²}: the integral over
// X ≤ x of the chord length below y, clamp(y + h(X), 0, 2h(X)) with h = √(r² - X²), using
// the primitive H(X) = (X h(X) + r² asin(X/r))/2 of h.
func diskQuadrant(x, y, r float64) float64 {
	x = math.Max(-r, math.Min(x, r))
	if y <= -r || x <= -r {
		return 0
	}
	H := func(t float64) float64 {
		return 0.5 * (t*math.Sqrt(math.Max(0, r*r-t*t)) + r*r*math.Asin(math.Max(-1, math.Min(1, t/r))))
	}
	if y >= r {
		return 2 * (H(x) - H(-r))
	}
	a := math.Sqrt(r*r - y*y) // |X| < a: chord crosses y
	area := 0.0
	if y > 0 { // full chords for |X| ≥ a
		area += 2 * (H(math.Min(x, -a)) - H(-r))
		if x > a {
			area += 2 * (H(x) - H(a))
		}
	}
	if x > -a {
		hi := math.Min(x, a)
		area += y*(hi+a) + H(hi) - H(-a)
	}
	return area
}

package lens

import (
	"math"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

func TestDiskRectArea(t *testing.T) {
	const r = 0.7
	full := math.Pi * r * r
	cases := []struct {
		name                 string
		x0, x1, y0, y1, want float64
	}{
		{"cover", -1, 1, -1, 1, full},
		{"quadrant", 0, 1, 0, 1, full / 4},
		{"half", -1, 0, -1, 1, full / 2},
		{"upper half", -1, 1, 0, 5, full / 2},
		{"inside", -0.1, 0.2, 0.05, 0.15, 0.03},
		{"outside", 0.8, 1, -1, 1, 0},
		// a segment: area of the disk beyond x = r/2 is r²(π/3 - √3/4)
		{"segment", r / 2, 1, -1, 1, r * r * (math.Pi/3 - math.Sqrt(3)/4)},
	}
	for _, c := range cases {
		if got := diskRectArea(c.x0, c.x1, c.y0, c.y1, r); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("%s: area %.17g, want %.17g", c.name, got, c.want)
		}
	}
	// A grid of 37 × 41 cells over an off-centre box covering the disk sums to π r².
	sum := 0.0
	x0, y0 := -0.83, -0.71
	dx, dy := 1.7/37, 1.5/41
	for j := 0; j < 41; j++ {
		for i := 0; i < 37; i++ {
			a := diskRectArea(x0+float64(i)*dx, x0+float64(i+1)*dx, y0+float64(j)*dy, y0+float64(j+1)*dy, r)
			if a < -1e-16 || a > dx*dy*(1+1e-12) {
				t.Fatalf("cell (%d, %d): area %g outside [0, %g]", i, j, a, dx*dy)
			}
			sum += a
		}
	}
	if math.Abs(sum-full) > 1e-14 {
		t.Errorf("grid sum %.17g, want π r² = %.17g", sum, full)
	}
}

// testPixelMeanPointMag is the mean of Binary.PointMag over a pixel by 4×4 Gauss–Legendre
// (the magnification is smooth on pixels far from the caustic).
func testPixelMeanPointMag(b Binary, x0, x1, y0, y1 float64) float64 {
	x, w := testGaussLegendre(4)
	s := 0.0
	for j := range x {
		for i := range x {
			s += w[i] * w[j] * b.PointMag(x0+(x1-x0)*(x[i]+1)/2, y0+(y1-y0)*(x[j]+1)/2)
		}
	}
	return s / 4
}

// TestRayShootMapPointMag compares every pixel of two maps far from the caustics, one in the
// three-image region and one inside the caustic (five images), with the pixel-area mean of
// Binary.PointMag. The statistical error of a pixel is at most the Poisson
// σ = √(A/RaysPerPixel); the grid of rays does better than Poisson away from the caustics,
// so |ΔA| ≤ 4σ on every pixel is a loose test.
func TestRayShootMapPointMag(t *testing.T) {
	b := NewBinary(1.1, 0.2)
	cs := b.Caustics(256)
	for _, rc := range [][4]float64{{0.3, 0.7, 0.5, 0.9}, {0.16, 0.24, 0.12, 0.2}} {
		x0, x1, y0, y1 := rc[0], rc[1], rc[2], rc[3]
		const n, rpp = 24, 400
		dx, dy := (x1-x0)/n, (y1-y0)/n
		// Keep the caustic ≥ 5 pixels away (4×4 Gauss–Legendre on a pixel is then exact
		// to ~(pixel/distance)^8).
		dmin := math.Inf(1)
		for i := 0; i <= 10; i++ {
			for j := 0; j <= 10; j++ {
				dmin = math.Min(dmin, b.CausticDistance(x0+(x1-x0)*float64(i)/10, y0+(y1-y0)*float64(j)/10, cs))
			}
		}
		if dmin < 5*dx {
			t.Fatalf("test rectangle %v is %g from the caustic", rc, dmin)
		}
		m := b.RayShootMap(x0, x1, y0, y1, n, n, rpp, 2)
		maxZ, sumZ2, maxRel := 0.0, 0.0, 0.0
		for j := 0; j < n; j++ {
			for i := 0; i < n; i++ {
				want := testPixelMeanPointMag(b, x0+float64(i)*dx, x0+float64(i+1)*dx, y0+float64(j)*dy, y0+float64(j+1)*dy)
				sigma := math.Sqrt(want / rpp)
				z := (m.A[j*n+i] - want) / sigma
				maxZ = math.Max(maxZ, math.Abs(z))
				maxRel = math.Max(maxRel, math.Abs(m.A[j*n+i]-want)/want)
				sumZ2 += z * z
				if math.Abs(z) > 4 {
					t.Errorf("rectangle %v pixel (%d, %d): map %.5f, PointMag mean %.5f (%.1f σ)", rc, i, j, m.A[j*n+i], want, z)
				}
			}
		}
		t.Logf("rectangle %v (%d images, caustic ≥ %.3f away): %d pixels, %d rays per unit A: max |ΔA|/σ_Poisson = %.2f, rms %.2f, max relative %.2g",
			rc, len(b.Images(x0, y0)), dmin, n*n, rpp, maxZ, math.Sqrt(sumZ2/(n*n)), maxRel)
	}
}

// TestRayShootMapFar checks the normalisation on a source region far from the lens, where
// A ≈ 1 + 2/u⁴ ≈ 1.002: the mean of the map equals the mean of PointMag within 3 σ of the
// total ray count (σ = 1.25e-4, so the test sees A - 1).
func TestRayShootMapFar(t *testing.T) {
	b := NewBinary(0.9, 0.5)
	const n, rpp = 16, 2.5e5
	x0, x1, y0, y1 := 5.0, 5.5, -0.25, 0.25
	m := b.RayShootMap(x0, x1, y0, y1, n, n, rpp, 2)
	sum, want := 0.0, 0.0
	dx, dy := (x1-x0)/n, (y1-y0)/n
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			sum += m.A[j*n+i]
			want += testPixelMeanPointMag(b, x0+float64(i)*dx, x0+float64(i+1)*dx, y0+float64(j)*dy, y0+float64(j+1)*dy)
		}
	}
	sum /= n * n
	want /= n * n
	sigma := math.Sqrt(want / (rpp * n * n))
	t.Logf("mean magnification: map %.7f, PointMag %.7f (%.2f σ, σ = %.2g)", sum, want, (sum-want)/sigma, sigma)
	if math.Abs(sum-want) > 3*sigma {
		t.Errorf("mean magnification: map %.7f, PointMag %.7f, σ %.2g", sum, want, sigma)
	}
}

// TestRayShootMapWorkers checks that the map does not depend on the number of workers (the
// counts are integers, so the sums are exact).
func TestRayShootMapWorkers(t *testing.T) {
	b := NewBinary(1, 0.1)
	m1 := b.RayShootMap(-0.5, 0.5, -0.4, 0.4, 20, 16, 30, 1)
	m3 := b.RayShootMap(-0.5, 0.5, -0.4, 0.4, 20, 16, 30, 3)
	for i := range m1.A {
		if m1.A[i] != m3.A[i] {
			t.Fatalf("pixel %d: %v with 1 worker, %v with 3", i, m1.A[i], m3.A[i])
		}
	}
}

func TestMagMapAt(t *testing.T) {
	m := &MagMap{X0: 0, X1: 4, Y0: -1, Y1: 1, NX: 4, NY: 2, A: []float64{
		1, 2, 3, 4,
		5, 6, 7, 8,
	}}
	cases := []struct{ y1, y2, want float64 }{
		{0.5, -0.5, 1}, // pixel centre
		{2.5, 0.5, 7},  // pixel centre
		{1, 0, 3.5},    // between four centres: (1+2+5+6)/4
		{0.1, -0.9, 1}, // corner: constant within half a pixel
		{3.9, 0.95, 8}, // corner
		{2, -0.5, 2.5}, // between two centres
		{4, 1, 8},      // on the edge
		{0.25, 0.0, 3}, // x clamped to the first centre, y half-way: (1+5)/2
	}
	for _, c := range cases {
		if got := m.At(c.y1, c.y2); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("At(%g, %g) = %g, want %g", c.y1, c.y2, got, c.want)
		}
	}
	if !math.IsNaN(m.At(4.01, 0)) || !math.IsNaN(m.At(1, -1.01)) {
		t.Error("At outside the map is not NaN")
	}
	if got := m.DiskMean(2, 0, 0.9); math.Abs(got-4.5) > 1e-14 {
		t.Errorf("DiskMean over a symmetric block = %g, want 4.5", got)
	}
	if !math.IsNaN(m.DiskMean(0.5, 0, 0.6)) {
		t.Error("DiskMean of a disk crossing the edge is not NaN")
	}
}

// TestRayShootMapFiniteReference compares DiskMean of a dense local map with A_finite of
// testdata/binary_finite.csv (VBBinaryLensing at 1e-8) for rows with rho ≥ 0.01: a disk far
// from the caustic, two disks that the caustic crosses, one over a lens at A ≈ 160, and one
// just outside a caustic. The map covers the disk with pixels of 2.1 rho / 256; its error has
// a statistical part, at most Poisson's 1/√N for the N ≈ 1e7 rays in the disk (3e-4
// relative), and a systematic part from the pixels that the disk's edge cuts (second order
// in pixel/rho: 1e-4 for row 162, whose disk passes 0.01 rho from a fold, 2e-3 with 64
// pixels).
func TestRayShootMapFiniteReference(t *testing.T) {
	rows := testutil.RefRows(t, "binary_finite.csv")
	for _, i := range []int{2, 14, 28, 67, 162} {
		r := rows[i]
		b := NewBinary(testutil.Num(t, r, "s"), testutil.Num(t, r, "q"))
		y1, y2, rho := testutil.Num(t, r, "y1"), testutil.Num(t, r, "y2"), testutil.Num(t, r, "rho")
		want := testutil.Num(t, r, "A_finite")
		const n = 256
		half := 1.05 * rho
		// about 1e7 rays in the disk
		rpp := 1e7 / (want * math.Pi * (n / 2.1) * (n / 2.1))
		m := b.RayShootMap(y1-half, y1+half, y2-half, y2+half, n, n, rpp, 2)
		got := m.DiskMean(y1, y2, rho)
		nrays := got * rpp * math.Pi * rho * rho / ((2 * half / n) * (2 * half / n))
		sigma := want / math.Sqrt(nrays)
		t.Logf("row %d (%s, dist/rho %.2f): DiskMean %.6f, A_finite %.6f, rel diff %.2g (%.2f σ_Poisson, %.3g rays)",
			i, r["region"], testutil.Num(t, r, "dist_caustic")/rho, got, want, (got-want)/want, (got-want)/sigma, nrays)
		if !(math.Abs(got-want) <= 4*sigma) {
			t.Errorf("row %d: DiskMean %.6f vs A_finite %.6f (%.1f σ)", i, got, want, (got-want)/sigma)
		}
	}
}

func BenchmarkRayShootMap(b *testing.B) {
	bin := NewBinary(1, 0.1)
	for i := 0; i < b.N; i++ {
		bin.RayShootMap(-1, 1, -1, 1, 64, 64, 20, 0)
	}
}

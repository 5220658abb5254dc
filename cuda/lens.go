//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/lens"
)

// Binary-lens magnification on the device (kernels/lens.cu), the GPU twins of lens/. The
// frame is lens/'s (VBBinaryLensing's): lengths in Einstein radii of the total mass, origin
// at the centre of mass, lens 1 (mass 1/(1+q)) at -s q/(1+q), lens 2 (mass q/(1+q)) at
// s/(1+q). Everything is float64.

// RayShootCountsBuf runs inverse ray shooting for the binary b over the source rectangle
// [x0, x1] × [y0, y1] (reference frame, Einstein radii of the total mass) with nx × ny
// pixels and raysPerPixel rays per pixel area at magnification 1, on the device, and
// overwrites counts (ny, nx) with the number of rays that land in each pixel: pixel (i, j)
// is counts[j·nx + i]. The rays, the tiles that are shot and the per-ray arithmetic are
// those of lens.Binary.RayShootMap, so the counts equal the CPU's (see RayShootMap). It
// returns the number of 16 × 16-ray tiles shot. It panics on the arguments RayShootMap
// panics on and when counts does not hold nx·ny elements.
func RayShootCountsBuf(counts *Buffer[uint32], b lens.Binary, x0, x1, y0, y1 float64, nx, ny int, raysPerPixel float64) (int, error) {
	if int64(nx)*int64(ny) > math.MaxInt32 {
		panic(fmt.Sprintf("cuda: RayShootCountsBuf: %d × %d pixels: need nx·ny < 2^31", nx, ny))
	}
	// The lattice and the root square exactly as lens.Binary.RayShootMap builds them (it
	// panics on the arguments RayShootMap panics on).
	g := b.RayGrid(x0, x1, y0, y1, nx, ny, raysPerPixel)
	if lens.RayTile != 16 {
		panic("cuda: kernels/lens.cu shoots tiles of 16 × 16 rays, lens.RayTile is not 16")
	}
	if counts.Len() != nx*ny {
		panic(fmt.Sprintf("cuda: RayShootCountsBuf: counts %d, want nx·ny = %d", counts.Len(), nx*ny))
	}
	h, level, origin := g.H, g.Level, g.Origin
	return mlcuBinaryRayMap(counts, b.M1, b.M2, b.X1, b.X2, x0, x1, y0, y1, nx, ny, h, origin, level)
}

// RayShootMap is lens.Binary.RayShootMap on the device: the magnification map of b over
// [x0, x1] × [y0, y1] with nx × ny pixels, A = ray count / raysPerPixel (see
// RayShootCountsBuf and lens.MagMap for the definition). The rays form the same regular
// lattice, so the map equals the CPU's pixel for pixel (on amd64, where Go does not fuse
// multiply-adds; elsewhere a ray within rounding of a pixel edge may change pixel).
func RayShootMap(b lens.Binary, x0, x1, y0, y1 float64, nx, ny int, raysPerPixel float64) (*lens.MagMap, error) {
	counts, err := Alloc[uint32](nx * ny)
	if err != nil {
		return nil, err
	}
	defer counts.Free()
	if _, err := RayShootCountsBuf(counts, b, x0, x1, y0, y1, nx, ny, raysPerPixel); err != nil {
		return nil, err
	}
	c, err := counts.Host()
	if err != nil {
		return nil, err
	}
	m := &lens.MagMap{S: b.S, Q: b.Q, X0: x0, X1: x1, Y0: y0, Y1: y1, NX: nx, NY: ny,
		A: make([]float64, nx*ny), RaysPerPixel: raysPerPixel}
	inv := 1 / raysPerPixel
	for i, v := range c {
		m.A[i] = float64(v) * inv
	}
	return m, nil
}

// causticBoxPoints is lens/binary.go's phase sampling of the caustics behind the boxes.
const causticBoxPoints = 128

// causticBoxes appends to dst the three (x0, x1, y0, y1) boxes of lens/binary.go
// causticBoxes for b (one per caustic curve, widened by twice the longest polyline segment),
// unused boxes as (+Inf, -Inf, +Inf, -Inf), which no point is near.
func causticBoxes(dst []float64, b lens.Binary) []float64 {
	curves := b.Caustics(causticBoxPoints)
	if len(curves) > 3 {
		panic(fmt.Sprintf("cuda: %d caustic curves", len(curves)))
	}
	for _, c := range curves {
		x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		seg := 0.0
		for i, p := range c.Caustic {
			x0, x1 = math.Min(x0, real(p)), math.Max(x1, real(p))
			y0, y1 = math.Min(y0, imag(p)), math.Max(y1, imag(p))
			d := p - c.Caustic[(i+1)%len(c.Caustic)]
			seg = math.Max(seg, math.Hypot(real(d), imag(d)))
		}
		m := 2*seg + 1e-9
		dst = append(dst, x0-m, x1+m, y0-m, y1+m)
	}
	for k := len(curves); k < 3; k++ {
		dst = append(dst, math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1))
	}
	return dst
}

// FiniteEventParams packs the events into the (E, 7) rows (s, q, α, u0, t0, tE, ρ) and the
// (E, 3, 4) caustic boxes that FiniteLightCurvesBuf reads. It returns an error naming the
// first invalid event.
func FiniteEventParams(events []lens.Event) (params, boxes []float64, err error) {
	params = make([]float64, 0, 7*len(events))
	boxes = make([]float64, 0, 12*len(events))
	for i, e := range events {
		if err := e.Validate(); err != nil {
			return nil, nil, fmt.Errorf("event %d: %w", i, err)
		}
		params = append(params, e.S, e.Q, e.Alpha, e.U0, e.T0, e.TE, e.Rho)
		boxes = causticBoxes(boxes, lens.NewBinary(e.S, e.Q))
	}
	return params, boxes, nil
}

// ContourWork is the device scratch of FiniteContourLightCurvesBuf: a work list of up to
// Points() points and the boundary samples of the contour kernel's blocks (about 150 KB per
// block). It is not safe for concurrent use.
type ContourWork struct {
	list    *Buffer[int32]
	count   *Buffer[uint32]
	scratch *Buffer[float64]
	blocks  int
}

// contourBlocks is the contour kernel's grid: each block (one warp) integrates one point at a
// time, so 1024 blocks put about 8 warps on each of an H100's 132 SMs (150 MB of scratch);
// under emulation two blocks (every thread is an OS thread there).
func contourBlocks() int {
	if Emulated() {
		return 2
	}
	return 1024
}

// Points returns the number of points the scratch can serve.
func (w *ContourWork) Points() int {
	if w.list == nil {
		return 0
	}
	return w.list.Len()
}

// grow makes the scratch serve at least points points.
func (w *ContourWork) grow(points int) error {
	if points >= math.MaxInt32 {
		panic(fmt.Sprintf("cuda: ContourWork: %d points (at most 2^31-1)", points))
	}
	var err error
	if w.list == nil || w.list.Len() < points {
		w.list.Free()
		if w.list, err = Alloc[int32](max(points, 1)); err != nil {
			return err
		}
	}
	if w.count == nil {
		if w.count, err = Alloc[uint32](1); err != nil {
			return err
		}
	}
	if w.scratch == nil {
		w.blocks = contourBlocks()
		if w.scratch, err = Alloc[float64](mlcuBinaryContourScratchLen(w.blocks)); err != nil {
			return err
		}
	}
	return nil
}

// Free releases the scratch.
func (w *ContourWork) Free() {
	w.list.Free()
	w.count.Free()
	w.scratch.Free()
	w.list, w.count, w.scratch = nil, nil, nil
}

// FiniteContourLightCurvesBuf is FiniteLightCurvesBuf followed by contour integration on the
// device of the points that need it (lens/finite.go contourMag: the same image matching,
// connectors, error estimates and stopping rule, on uniformly sampled boundaries of 32 to
// 1024 points instead of adaptive bisection). status is 0 at every point whose out is
// final; it is 1 only at far-field points and at contours whose error estimate stayed above
// tol·A at 1024 samples (out holds the point-source value there): the caller finishes
// those with lens.Binary.FiniteMag. work must serve E·N points (ContourWork.grow). It panics
// on inconsistent sizes.
func FiniteContourLightCurvesBuf(out *Buffer[float64], status *Buffer[int32], params, boxes, ts *Buffer[float64], tol float64, work *ContourWork) error {
	ne := params.Len() / 7
	if params.Len()%7 != 0 || boxes.Len() != 12*ne || out.Len() != ne*ts.Len() || status.Len() != out.Len() || work.Points() < out.Len() {
		panic(fmt.Sprintf("cuda: FiniteContourLightCurvesBuf: params %d (want E·7), boxes %d (want E·12), times %d, out %d, status %d (want E·N), work for %d points",
			params.Len(), boxes.Len(), ts.Len(), out.Len(), status.Len(), work.Points()))
	}
	if tol <= 0 {
		tol = lens.DefaultTol
	}
	return mlcuBinaryFiniteLightCurvesContour(out, status, params, boxes, ts, ne, ts.Len(), tol,
		work.list, work.count, work.scratch, work.blocks)
}

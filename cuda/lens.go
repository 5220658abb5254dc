//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/mlcu/mlcu/lens"
)

// Binary-lens magnification on the device (kernels/lens.cu), the GPU twins of lens/. The
// frame is lens/'s (VBBinaryLensing's): lengths in Einstein radii of the total mass, origin
// at the centre of mass, lens 1 (mass 1/(1+q)) at -s q/(1+q), lens 2 (mass q/(1+q)) at
// s/(1+q). Everything is float64.

// BinaryPointMagBuf writes into out (n) the point-source magnification of the binary (s, q)
// at the source positions (y1[i], y2[i]) (n each): lens.Binary.PointMag, one device thread
// per position. It returns an error for (s, q) outside lens.ValidateBinary's domain and
// panics on mismatched lengths.
func BinaryPointMagBuf(out, y1, y2 *Buffer[float64], s, q float64) error {
	if y1.Len() != out.Len() || y2.Len() != out.Len() {
		panic(fmt.Sprintf("cuda: BinaryPointMagBuf: out %d, y1 %d, y2 %d", out.Len(), y1.Len(), y2.Len()))
	}
	if err := lens.ValidateBinary(s, q); err != nil {
		return err
	}
	return mlcuBinaryPointMag(out, y1, y2, out.Len(), s, q)
}

// BinaryPointMag is BinaryPointMagBuf on host slices.
func BinaryPointMag(y1, y2 []float64, s, q float64) ([]float64, error) {
	if len(y1) != len(y2) {
		panic(fmt.Sprintf("cuda: BinaryPointMag: y1 %d, y2 %d", len(y1), len(y2)))
	}
	if err := lens.ValidateBinary(s, q); err != nil {
		return nil, err
	}
	if len(y1) == 0 {
		return nil, nil
	}
	d1, err := FromHost(y1)
	if err != nil {
		return nil, err
	}
	defer d1.Free()
	d2, err := FromHost(y2)
	if err != nil {
		return nil, err
	}
	defer d2.Free()
	out, err := Alloc[float64](len(y1))
	if err != nil {
		return nil, err
	}
	defer out.Free()
	if err := BinaryPointMagBuf(out, d1, d2, s, q); err != nil {
		return nil, err
	}
	return out.Host()
}

// PointEventParams packs the events' (s, q, α, u0, t0, tE) into the (E, 6) rows that
// PointLightCurvesBuf reads. It returns an error naming the first invalid event; ρ is
// ignored (point source).
func PointEventParams(events []lens.Event) ([]float64, error) {
	p := make([]float64, 0, 6*len(events))
	for i, e := range events {
		e.Rho = 0
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		p = append(p, e.S, e.Q, e.Alpha, e.U0, e.T0, e.TE)
	}
	return p, nil
}

// PointLightCurvesBuf writes into out (E, N) the point-source light curves of E events at
// the N times ts (days, shared by every event): out[e·N + j] is lens.LightCurve(events[e],
// ts, ·, ·)[j] with ρ = 0. params (E, 6) holds rows (s, q, α [rad], u0, t0 [days], tE [days])
// as PointEventParams packs them (validated there: the kernel does not check). One device
// thread per (event, time); it panics on inconsistent sizes.
func PointLightCurvesBuf(out, params, ts *Buffer[float64]) error {
	if params.Len()%6 != 0 || out.Len() != params.Len()/6*ts.Len() {
		panic(fmt.Sprintf("cuda: PointLightCurvesBuf: params %d (want E·6), times %d, out %d (want E·N)", params.Len(), ts.Len(), out.Len()))
	}
	return mlcuBinaryPointLightCurves(out, params, ts, params.Len()/6, ts.Len())
}

// PointLightCurves returns the point-source light curves of the events at the times ts
// (days) as E rows of N magnifications (E = len(events), N = len(ts)); see
// PointLightCurvesBuf. Each event's ρ is ignored.
func PointLightCurves(events []lens.Event, ts []float64) ([][]float64, error) {
	p, err := PointEventParams(events)
	if err != nil {
		return nil, err
	}
	if len(events) == 0 || len(ts) == 0 {
		out := make([][]float64, len(events))
		for i := range out {
			out[i] = []float64{}
		}
		return out, nil
	}
	dp, err := FromHost(p)
	if err != nil {
		return nil, err
	}
	defer dp.Free()
	dt, err := FromHost(ts)
	if err != nil {
		return nil, err
	}
	defer dt.Free()
	out, err := Alloc[float64](len(events) * len(ts))
	if err != nil {
		return nil, err
	}
	defer out.Free()
	if err := PointLightCurvesBuf(out, dp, dt); err != nil {
		return nil, err
	}
	flat, err := out.Host()
	if err != nil {
		return nil, err
	}
	rows := make([][]float64, len(events))
	for i := range rows {
		rows[i] = flat[i*len(ts) : (i+1)*len(ts) : (i+1)*len(ts)]
	}
	return rows, nil
}

// BinaryPointMagManyBuf is BinaryPointMagBuf with one lens per source: out[i] is the
// magnification of the binary (s[i], q[i]) at (y1[i], y2[i]); all buffers have the same
// length n. The lenses are not validated here (see lens.ValidateBinary).
func BinaryPointMagManyBuf(out, s, q, y1, y2 *Buffer[float64]) error {
	n := out.Len()
	if s.Len() != n || q.Len() != n || y1.Len() != n || y2.Len() != n {
		panic(fmt.Sprintf("cuda: BinaryPointMagManyBuf: out %d, s %d, q %d, y1 %d, y2 %d", n, s.Len(), q.Len(), y1.Len(), y2.Len()))
	}
	return mlcuBinaryPointMagMany(out, s, q, y1, y2, n)
}

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

// FiniteLightCurvesBuf runs the device part of uniform finite-source light curves: for E
// events (params (E, 7), boxes (E, 3, 4) from FiniteEventParams) at the N times ts (days) it
// writes out (E, N) and status (E, N). Where status is 0, out is the magnification that
// lens.Binary.FiniteMag would return by its point-source or quadrupole path (the device
// applies the same test, relative accuracy goal tol, lens.DefaultTol when tol ≤ 0); where
// status is 1 the disk needs contour integration (or is in the far field) and out holds the
// point-source value: the caller finishes those points (FiniteLightCurves does, on the
// host). It panics on inconsistent sizes.
func FiniteLightCurvesBuf(out *Buffer[float64], status *Buffer[int32], params, boxes, ts *Buffer[float64], tol float64) error {
	ne := params.Len() / 7
	if params.Len()%7 != 0 || boxes.Len() != 12*ne || out.Len() != ne*ts.Len() || status.Len() != out.Len() {
		panic(fmt.Sprintf("cuda: FiniteLightCurvesBuf: params %d (want E·7), boxes %d (want E·12), times %d, out %d, status %d (want E·N)",
			params.Len(), boxes.Len(), ts.Len(), out.Len(), status.Len()))
	}
	if tol <= 0 {
		tol = lens.DefaultTol
	}
	return mlcuBinaryFiniteLightCurves(out, status, params, boxes, ts, ne, ts.Len(), tol)
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

// NewContourWork returns scratch for light curves of up to points = E·N points.
func NewContourWork(points int) (*ContourWork, error) {
	w := new(ContourWork)
	if err := w.grow(points); err != nil {
		w.Free()
		return nil, err
	}
	return w, nil
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
// those with lens.Binary.FiniteMag. work must serve E·N points (NewContourWork). It panics
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

// FiniteLightCurves returns the uniform finite-source light curves of the events at the
// times ts (days), E rows of N magnifications, with relative accuracy goal tol (as
// lens.LightCurve): the device computes every point that the point-source or quadrupole
// approximation serves and integrates the contours of the points near a caustic
// (FiniteContourLightCurvesBuf); the host (lens.Binary.FiniteMag, on GOMAXPROCS goroutines)
// finishes the points the device could not certify. hostPoints is the number of those.
func FiniteLightCurves(events []lens.Event, ts []float64, tol float64) (curves [][]float64, hostPoints int, err error) {
	params, boxes, err := FiniteEventParams(events)
	if err != nil {
		return nil, 0, err
	}
	ne, nt := len(events), len(ts)
	curves = make([][]float64, ne)
	if ne == 0 || nt == 0 {
		for i := range curves {
			curves[i] = []float64{}
		}
		return curves, 0, nil
	}
	var bufs []*Buffer[float64]
	defer func() {
		for _, b := range bufs {
			b.Free()
		}
	}()
	for _, h := range [][]float64{params, boxes, ts} {
		b, err := FromHost(h)
		if err != nil {
			return nil, 0, err
		}
		bufs = append(bufs, b)
	}
	out, err := Alloc[float64](ne * nt)
	if err != nil {
		return nil, 0, err
	}
	bufs = append(bufs, out)
	st, err := Alloc[int32](ne * nt)
	if err != nil {
		return nil, 0, err
	}
	defer st.Free()
	work, err := NewContourWork(ne * nt)
	if err != nil {
		return nil, 0, err
	}
	defer work.Free()
	if err := FiniteContourLightCurvesBuf(out, st, bufs[0], bufs[1], bufs[2], tol, work); err != nil {
		return nil, 0, err
	}
	a, err := out.Host()
	if err != nil {
		return nil, 0, err
	}
	flags, err := st.Host()
	if err != nil {
		return nil, 0, err
	}
	var todo []int
	for i, f := range flags {
		if f != 0 {
			todo = append(todo, i)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(todo) {
					return
				}
				i := todo[k]
				e := events[i/nt]
				y1, y2 := e.SourcePos(ts[i%nt])
				a[i] = lens.NewBinary(e.S, e.Q).FiniteMag(y1, y2, e.Rho, tol)
			}
		}()
	}
	wg.Wait()
	for i := range curves {
		curves[i] = a[i*nt : (i+1)*nt : (i+1)*nt]
	}
	return curves, len(todo), nil
}

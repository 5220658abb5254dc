//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/mlcu/mlcu/lens"
	"github.com/mlcu/mlcu/nn"
)

// The package's API that only its tests use: host-slice conveniences over the device
// buffers, the stand-alone light-curve and sampling entry points the parity tests compare
// with the CPU, and the generator's known-answer entry points. Commands use Trainer,
// ModelSampler, LightCurver and RayShootMap (and the device passes beneath them) instead.

// MustAlloc is Alloc that panics on error.
func MustAlloc[T Elem](n int) *Buffer[T] {
	b, err := Alloc[T](n)
	must(err)
	return b
}

// FromHost returns a new buffer holding a copy of h.
func FromHost[T Elem](h []T) (*Buffer[T], error) {
	b, err := Alloc[T](len(h))
	if err != nil {
		return nil, err
	}
	if err := b.Upload(h); err != nil {
		b.Free()
		return nil, err
	}
	return b, nil
}

// MustFromHost is FromHost that panics on error.
func MustFromHost[T Elem](h []T) *Buffer[T] {
	b, err := FromHost(h)
	must(err)
	return b
}

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

// NewContourWork returns scratch for light curves of up to points = E·N points.
func NewContourWork(points int) (*ContourWork, error) {
	w := new(ContourWork)
	if err := w.grow(points); err != nil {
		w.Free()
		return nil, err
	}
	return w, nil
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

// Fill sets every element of x to v.
func Fill(x *F32, v float32) error {
	return mlcuFillF32(x, x.n, v)
}

// contextTerms computes on the host and uploads each block's context term ctx·Wcᵀ + b0 for
// the E contexts ctx (E, C) (nn.MADEContext; a few hundred kFLOP per event).
func (fs *FlowSampler) contextTerms(ctx []float32, E int) error {
	s := fs.Shape
	f := fs.host
	n := s.NB * E * s.H
	if cap(fs.hCt) < n {
		fs.hCt = make([]float32, n)
	}
	fs.hCt = fs.hCt[:n]
	for b, m := range f.Made {
		nn.MADEContext(fs.hCt[b*E*s.H:(b+1)*E*s.H], ctx, f.P[b], m, E)
	}
	if fs.cterm == nil || fs.cterm.Len() < n {
		fs.cterm.Free()
		var err error
		if fs.cterm, err = Alloc[float32](n); err != nil {
			return err
		}
	}
	return fs.cterm.Upload(fs.hCt)
}

// SampleDevice draws S samples for each of the E contexts ctx (E, C) into out (E·S, D) on
// the device. uIn (E·S, D), when not nil, gives the base draws (the parity tests pass the
// CPU's); otherwise they are drawn with Philox key seed, row r of this call using the
// counters of global row row0 + r. uOut, when not nil, receives the base draws.
func (fs *FlowSampler) SampleDevice(out, uIn, uOut *Buffer[float32], ctx []float32, E, S int, seed uint64, row0 int64) error {
	if len(ctx) != E*fs.Shape.C {
		panic(fmt.Sprintf("cuda: FlowSampler.SampleDevice: len(ctx) = %d, want E·%d = %d", len(ctx), fs.Shape.C, E*fs.Shape.C))
	}
	if err := fs.contextTerms(ctx, E); err != nil {
		return err
	}
	return fs.launch(out, uIn, uOut, E, S, seed, row0)
}

// Sample draws S samples for each of the E contexts ctx (E, C) into out (E, S, D) on the
// host, base draws from Philox with key seed.
func (fs *FlowSampler) Sample(out, ctx []float32, E, S int, seed uint64) error {
	d, err := Alloc[float32](len(out))
	if err != nil {
		return err
	}
	defer d.Free()
	if err := fs.SampleDevice(d, nil, nil, ctx, E, S, seed, 0); err != nil {
		return err
	}
	return d.Download(out)
}

// LayerActs returns views of layer l's saved activations: gates (B, T, 3H) holding r, z, n,
// hn (B, T, H) and h (B, T, H), the fields of nn.GRULayerActs.
func (g *GRU) LayerActs(l int) (gates, hn, h *Buffer[float32]) {
	bth := g.Shape.B * g.Shape.T * g.Shape.H
	a := g.Acts.Slice(l*5*bth, (l+1)*5*bth)
	return a.Slice(0, 3*bth), a.Slice(3*bth, 4*bth), a.Slice(4*bth, 5*bth)
}

// Philox4x32 runs the Philox4x32-10 generator of the kernels (kernels/rng.cuh) on n counters
// ctr (n, 4) with key (k0, k1), returning (n, 4) words: the known-answer test's entry point.
func Philox4x32(ctr []uint32, k0, k1 uint32) ([]uint32, error) {
	n := len(ctr) / 4
	in, err := FromHost(ctr[:4*n])
	if err != nil {
		return nil, err
	}
	defer in.Free()
	out, err := Alloc[uint32](4 * n)
	if err != nil {
		return nil, err
	}
	defer out.Free()
	if err := mlcuPhilox4x32x10(out, in, n, k0, k1); err != nil {
		return nil, err
	}
	return out.Host()
}

// Uniform fills b with uniforms on [0, 1) (24 bits) from stream key: element i depends on
// (key, counterHi, i) only.
func Uniform(b *Buffer[float32], key uint64, counterHi uint32) error {
	return mlcuRngUniformF32(b, b.n, key, counterHi)
}

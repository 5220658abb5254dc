//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mlcu/mlcu/lens"
)

// LightCurver computes uniform finite-source light curves of batches of events on the device,
// the forward model of `mlcu simulate --device cuda` (it satisfies dataset.CurveBackend):
// FiniteContourLightCurvesBuf (point source, quadrupole, lens/'s contour decision and
// contour integration) and then, on the calling goroutine, lens.Binary.FiniteMag for the
// points whose contour the device could not certify.
// Unlike the tests' FiniteLightCurves (export_test.go) it keeps its device buffers from call to call and does not start
// goroutines of its own, so that the caller's workers share the host work (while one worker
// waits for the device, the others integrate contours). It is safe for concurrent use: each
// call in flight takes a buffer set of its own. Free it when done.
type LightCurver struct {
	batch      int
	mu         sync.Mutex
	free       []*curveBufs // buffer sets not in use
	all        []*curveBufs // every buffer set, for Free
	hostPoints atomic.Int64
	points     atomic.Int64
}

// curveBufs is one call's device buffers, grown when a call needs more.
type curveBufs struct {
	params, boxes, ts, out *Buffer[float64]
	status                 *Buffer[int32]
	work                   *ContourWork
	// Host copies, reused.
	a     []float64
	flags []int32
}

// NewLightCurver returns a LightCurver whose BatchSize is batch (≥ 1) events per call. It
// returns the error of Init when there is no device.
func NewLightCurver(batch int) (*LightCurver, error) {
	if batch < 1 {
		panic(fmt.Sprintf("cuda: NewLightCurver: batch = %d", batch))
	}
	if err := Init(); err != nil {
		return nil, err
	}
	return &LightCurver{batch: batch}, nil
}

// BatchSize returns the number of events per call the LightCurver was made for (a call may
// pass any number).
func (l *LightCurver) BatchSize() int { return l.batch }

// Points returns the number of magnifications computed so far, and how many of them the
// host finished (contours the device could not certify, far-field points).
func (l *LightCurver) Points() (total, host int64) { return l.points.Load(), l.hostPoints.Load() }

// LightCurves writes into out[k] (len(ts) values) the magnification of events[k] at the times
// ts (days), with relative accuracy goal tol (lens.DefaultTol when ≤ 0): FiniteLightCurves'
// values. Each value depends only on its event and time, not on the other events of the
// call. It returns an error naming the first invalid event, or the device's error.
func (l *LightCurver) LightCurves(events []lens.Event, ts []float64, tol float64, out [][]float64) error {
	if len(out) != len(events) {
		panic(fmt.Sprintf("cuda: LightCurver.LightCurves: %d events, %d output rows", len(events), len(out)))
	}
	for k := range out {
		if len(out[k]) < len(ts) {
			panic(fmt.Sprintf("cuda: LightCurver.LightCurves: output row %d has %d values for %d times", k, len(out[k]), len(ts)))
		}
	}
	params, boxes, err := FiniteEventParams(events)
	if err != nil {
		return err
	}
	ne, nt := len(events), len(ts)
	if ne == 0 || nt == 0 {
		return nil
	}
	if tol <= 0 {
		tol = lens.DefaultTol
	}
	b, err := l.get(ne, nt)
	if err != nil {
		return err
	}
	defer l.put(b)
	n := ne * nt
	dp, db, dt := b.params.Slice(0, 7*ne), b.boxes.Slice(0, 12*ne), b.ts.Slice(0, nt)
	do, ds := b.out.Slice(0, n), b.status.Slice(0, n)
	for _, up := range []struct {
		d *Buffer[float64]
		h []float64
	}{{dp, params}, {db, boxes}, {dt, ts}} {
		if err := up.d.Upload(up.h); err != nil {
			return err
		}
	}
	if err := FiniteContourLightCurvesBuf(do, ds, dp, db, dt, tol, b.work); err != nil {
		return err
	}
	a, flags := b.a[:n], b.flags[:n]
	if err := do.Download(a); err != nil {
		return err
	}
	if err := ds.Download(flags); err != nil {
		return err
	}
	host := 0
	for e := range ne {
		ev := events[e]
		bin := lens.NewBinary(ev.S, ev.Q)
		row := a[e*nt : (e+1)*nt]
		for j, f := range flags[e*nt : (e+1)*nt] {
			if f != 0 {
				y1, y2 := ev.SourcePos(ts[j])
				row[j] = bin.FiniteMag(y1, y2, ev.Rho, tol)
				host++
			}
		}
		copy(out[e], row)
	}
	l.points.Add(int64(n))
	l.hostPoints.Add(int64(host))
	return nil
}

// get takes a free buffer set, grown to hold ne events × nt times, or makes one.
func (l *LightCurver) get(ne, nt int) (*curveBufs, error) {
	l.mu.Lock()
	var b *curveBufs
	if k := len(l.free); k > 0 {
		b, l.free = l.free[k-1], l.free[:k-1]
	} else {
		b = new(curveBufs)
		l.all = append(l.all, b)
	}
	l.mu.Unlock()
	if err := b.grow(ne, nt); err != nil {
		l.put(b)
		return nil, err
	}
	return b, nil
}

func (l *LightCurver) put(b *curveBufs) {
	l.mu.Lock()
	l.free = append(l.free, b)
	l.mu.Unlock()
}

// grow makes the buffers hold at least ne events × nt times.
func (b *curveBufs) grow(ne, nt int) error {
	var err error
	grow64 := func(p **Buffer[float64], n int) {
		if err == nil && (*p == nil || (*p).Len() < n) {
			(*p).Free()
			*p, err = Alloc[float64](n)
		}
	}
	grow64(&b.params, 7*ne)
	grow64(&b.boxes, 12*ne)
	grow64(&b.ts, nt)
	grow64(&b.out, ne*nt)
	if err == nil && (b.status == nil || b.status.Len() < ne*nt) {
		b.status.Free()
		b.status, err = Alloc[int32](ne * nt)
	}
	if err == nil && b.work == nil {
		b.work = new(ContourWork)
	}
	if err == nil {
		err = b.work.grow(ne * nt)
	}
	if err != nil {
		return err
	}
	if len(b.a) < ne*nt {
		b.a, b.flags = make([]float64, ne*nt), make([]int32, ne*nt)
	}
	return nil
}

// Free releases the device buffers; no call may be in flight, and the LightCurver must not
// be used afterwards.
func (l *LightCurver) Free() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.all {
		b.params.Free()
		b.boxes.Free()
		b.ts.Free()
		b.out.Free()
		b.status.Free()
		if b.work != nil {
			b.work.Free()
		}
	}
	l.all, l.free = nil, nil
}

//go:build cuda || cudaemu

package cuda

import (
	"errors"
	"fmt"
	"testing"

	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/lens"
	"github.com/mlcu/mlcu/nn"
)

// TestConstructorsOutOfMemory makes each allocation of every constructor (and of the
// functions that allocate device memory and return an error) fail in turn, as a device out
// of memory would (allocFault): each must return the error, not panic, and free what it had
// allocated before it.
func TestConstructorsOutOfMemory(t *testing.T) {
	c := conformance.TrainModel()
	host, err := nn.NewModel[float32](c)
	must(err)
	host.Init(3)
	x, theta := conformance.Batch(c, 2, 1)
	events := []lens.Event{{S: 1, Q: 0.5, Alpha: 0.3, U0: 0.05, T0: 0, TE: 10, Rho: 0.01}}
	ts := []float64{-1, 0, 1}
	cases := []struct {
		name string
		run  func() (free func(), err error) // free releases what a successful run made
	}{
		{"NewModel", func() (func(), error) { m, err := NewModel(host); return freeOf(m, err, func() { m.Free() }) }},
		{"NewTrainer", func() (func(), error) {
			tr, err := NewTrainer(host, nn.NewAdam[float32](len(host.Params)))
			return freeOf(tr, err, func() { tr.Close() })
		}},
		{"NewModelSampler", func() (func(), error) { s, err := NewModelSampler(host); return freeOf(s, err, func() { s.Free() }) }},
		{"NewMAF", func() (func(), error) { m, err := NewMAF(host.Flow, 4); return freeOf(m, err, func() { m.Free() }) }},
		{"NewFlowSampler", func() (func(), error) {
			s, err := NewFlowSampler(host.Flow)
			return freeOf(s, err, func() { s.Free() })
		}},
		{"NewGRU", func() (func(), error) {
			g, err := NewGRU(nn.GRUShape{B: 2, T: 3, C: 2, H: 4, Layers: 2})
			return freeOf(g, err, func() { g.Free() })
		}},
		{"NewAdam", func() (func(), error) { a, err := NewAdam(10); return freeOf(a, err, func() { a.Free() }) }},
		{"NewContourWork", func() (func(), error) { w, err := NewContourWork(8); return freeOf(w, err, func() { w.Free() }) }},
		{"FromHost", func() (func(), error) {
			b, err := FromHost([]float32{1, 2})
			return freeOf(b, err, func() { b.Free() })
		}},
		{"Philox4x32", func() (func(), error) { _, err := Philox4x32(make([]uint32, 8), 1, 2); return nil, err }},
		{"GradNorm", func() (func(), error) {
			g, err := FromHost([]float32{3, 4})
			if err != nil {
				return nil, err
			}
			defer g.Free()
			_, err = GradNorm(g)
			return nil, err
		}},
		{"RayShootMap", func() (func(), error) {
			_, err := RayShootMap(lens.NewBinary(1, 0.5), -1, 1, -1, 1, 4, 4, 2)
			return nil, err
		}},
		{"PointLightCurves", func() (func(), error) { _, err := PointLightCurves(events, ts); return nil, err }},
		{"FiniteLightCurves", func() (func(), error) { _, _, err := FiniteLightCurves(events, ts, 0); return nil, err }},
		{"LightCurver.LightCurves", func() (func(), error) {
			l, err := NewLightCurver(1)
			if err != nil {
				return nil, err
			}
			defer l.Free()
			return nil, l.LightCurves(events, ts, 0, [][]float64{make([]float64, len(ts))})
		}},
		// The workspace of a batch size is allocated by the first pass with it.
		{"Trainer.Step", func() (func(), error) {
			allocs := allocFault.Swap(0) // the trainer itself is made without faults
			tr, err := NewTrainer(host, nn.NewAdam[float32](len(host.Params)))
			allocFault.Store(allocs)
			if err != nil {
				return nil, err
			}
			defer tr.Close()
			_, _, err = tr.Step(x, theta, 5, 1e-3)
			return nil, err
		}},
		{"ModelSampler.Sample", func() (func(), error) {
			allocs := allocFault.Swap(0)
			s, err := NewModelSampler(host)
			allocFault.Store(allocs)
			if err != nil {
				return nil, err
			}
			defer s.Free()
			return nil, s.Sample(make([]float32, 2*c.D()), x[:c.Featurizer.L], 2, 1)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer allocFault.Store(0)
			base := trackedBytes()
			for k := 1; ; k++ {
				allocFault.Store(int64(k))
				free, err := runNoPanic(tc.run)
				fired := allocFault.Load() == 0
				allocFault.Store(0)
				if !fired {
					// Fewer than k allocations: the run must have succeeded.
					if err != nil {
						t.Fatalf("without a failed allocation: %v", err)
					}
					if free != nil {
						free()
					}
					t.Logf("%d allocations, each failure returned as an error", k-1)
					break
				}
				var ce *Error
				if !errors.As(err, &ce) || ce.Code != 2 || ce.Func != "mlcu_malloc" {
					t.Fatalf("allocation %d failed: got error %v, want the malloc's out-of-memory error", k, err)
				}
				if free != nil {
					t.Fatalf("allocation %d failed: error %v, but a result to free", k, err)
				}
				if b := trackedBytes(); b != base {
					t.Fatalf("allocation %d failed: %d bytes of device memory left allocated", k, b-base)
				}
			}
		})
	}
}

// freeOf returns free when the constructor returned err == nil and a result v, and nil with
// the error otherwise (a failed constructor must return a nil result).
func freeOf[T any](v *T, err error, free func()) (func(), error) {
	if err != nil {
		if v != nil {
			return func() {}, err
		}
		return nil, err
	}
	return free, nil
}

// runNoPanic runs f and turns a panic into an error the caller's checks reject.
func runNoPanic(f func() (func(), error)) (free func(), err error) {
	defer func() {
		if r := recover(); r != nil {
			free, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return f()
}

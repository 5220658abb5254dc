//go:build cuda || cudaemu

package cuda

import (
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

// TestMAFTrainingParity runs the flow's density pass and its backward on the device and on
// the CPU (nn.MAFLogProb, nn.MAFBackward; float32 both) with the same parameters, θ,
// contexts and dlogp, gradients added into buffers pre-filled with random values.
//
// Tolerances: log p to atol 1e-4 + rtol 1e-4 (a sum of NB log-determinants and the base's
// log-density, each a float32 result of sums of H-term products computed in a different
// order); gradients to atol 2e-4 + rtol 2e-4 (sums over the B rows on top; the float32
// CPU path's own error against float64 is of the same order, see the logged maxima).
func TestMAFTrainingParity(t *testing.T) {
	cases := []struct {
		name string
		s    nn.MAFShape
		B, W int // rows, workspace rows
	}{
		{"odd", nn.MAFShape{D: 3, C: 4, H: 8, L: 2, NB: 3, K: 2, OrderSeed: 5}, 13, 13},
		{"batch1-deep", nn.MAFShape{D: 4, C: 3, H: 9, L: 3, NB: 2, K: 3, OrderSeed: 6}, 1, 5},
		{"no-context", nn.MAFShape{D: 7, C: 0, H: 14, L: 1, NB: 2, K: 8, OrderSeed: 7}, 33, 40},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, B := c.s, c.B
			f, _ := testFlow(s, 17)
			src := rng.New(8, 9)
			theta := to32(randomSlice(B*s.D, src))
			ctx := to32(randomSlice(B*s.C, src))
			dlogp := to32(randomSlice(B, src))
			g0 := to32(randomSlice(s.NumParams(), src))
			dth0 := to32(randomSlice(B*s.D, src))
			dctx0 := to32(randomSlice(B*s.C, src))

			ws := nn.NewMAFWork(f, B)
			logp := make([]float32, B)
			nn.MAFLogProb(logp, ws, theta, ctx, f, B)
			grads, dth, dctx := append([]float32(nil), g0...), append([]float32(nil), dth0...), append([]float32(nil), dctx0...)
			var dctxArg []float32
			if s.C > 0 {
				dctxArg = dctx
			}
			nn.MAFBackward(grads, dth, dctxArg, dlogp, ws, ctx, f, B)

			m, err := NewMAF(f, c.W)
			must(err)
			defer m.Free()
			params := onDevice(t, f.Params)
			dTheta := onDevice(t, theta)
			var dCtx *F32
			if s.C > 0 {
				dCtx = onDevice(t, ctx)
			}
			gLogp := newGuardBuf(t, make([]float32, B))
			must(m.LogProb(gLogp.View(), params, dTheta, dCtx, B))
			gGrads, gDth := newGuardBuf(t, g0), newGuardBuf(t, dth0)
			var gDctx *guardBuf
			var dctxView *F32
			if s.C > 0 {
				gDctx = newGuardBuf(t, dctx0)
				dctxView = gDctx.View()
			}
			must(m.Backward(gGrads.View(), gDth.View(), dctxView, onDevice(t, dlogp), params, dCtx, B))
			m1 := cmpVec(t, "logp", gLogp.Host(t, "logp"), logp, 1e-4, 1e-4)
			m2 := cmpVec(t, "dparams", gGrads.Host(t, "dparams"), grads, 2e-4, 2e-4)
			m3 := cmpVec(t, "dtheta", gDth.Host(t, "dtheta"), dth, 2e-4, 2e-4)
			m4 := 0.0
			if s.C > 0 {
				m4 = cmpVec(t, "dctx", gDctx.Host(t, "dctx"), dctx, 2e-4, 2e-4)
			}
			t.Logf("max |diff|: logp %.2g, dparams %.2g, dtheta %.2g, dctx %.2g", m1, m2, m3, m4)
		})
	}
}

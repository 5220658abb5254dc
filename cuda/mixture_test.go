//go:build cuda || cudaemu

package cuda

import (
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
)

// TestMixtureParity compares the base density's kernels with nn.MixtureLogProb and
// nn.MixtureBackward (float32 CPU op). Both do the scalar arithmetic in float64 and round to
// float32 at the end, so the values agree to float32 rounding of sums of up to B terms:
// atol 1e-5 + rtol 1e-5 (measured differences are printed). Gradients are added into
// buffers pre-filled with random values.
func TestMixtureParity(t *testing.T) {
	for _, c := range []struct{ B, D, K int }{{1, 1, 1}, {3, 7, 8}, {37, 3, 5}, {300, 2, 3}} {
		B, D, K := c.B, c.D, c.K
		src := rng.New(uint64(B), uint64(D*K))
		params := to32(randomSlice(3*D*K, src))
		u := to32(randomSlice(B*D, src))
		dlogp := to32(randomSlice(B, src))
		du0 := to32(randomSlice(B*D, src))
		dp0 := to32(randomSlice(3*D*K, src))

		p := nn.NewMixtureParams(nn.MixtureShape{D: D, K: K}, append([]float32(nil), params...))
		logp, resp := make([]float32, B), make([]float32, B*D*K)
		nn.MixtureLogProb(logp, resp, u, p, B, D, K)
		du, dpf := append([]float32(nil), du0...), append([]float32(nil), dp0...)
		nn.MixtureBackward(du, nn.NewMixtureParams(nn.MixtureShape{D: D, K: K}, dpf), dlogp, resp, u, p, B, D, K)

		dParams, dU := onDevice(t, params), onDevice(t, u)
		dLogp, dResp := newGuardBuf(t, make([]float32, B)), newGuardBuf(t, make([]float32, B*D*K))
		must(MixtureLogProb(dLogp.View(), dResp.View(), dU, dParams, B, D, K))
		gotLogp, gotResp := dLogp.Host(t, "logp"), dResp.Host(t, "resp")
		dDu, dDp := newGuardBuf(t, du0), newGuardBuf(t, dp0)
		must(MixtureBackward(dDu.View(), dDp.View(), onDevice(t, dlogp), dResp.View(), dU, dParams, B, D, K))
		m1 := cmpVec(t, "logp", gotLogp, logp, 1e-5, 1e-5)
		m2 := cmpVec(t, "resp", gotResp, resp, 1e-5, 1e-5)
		m3 := cmpVec(t, "du", dDu.Host(t, "du"), du, 1e-5, 1e-5)
		m4 := cmpVec(t, "dparams", dDp.Host(t, "dparams"), dpf, 1e-5, 1e-5)
		t.Logf("B=%d D=%d K=%d: max |diff| logp %.2g resp %.2g du %.2g dparams %.2g", B, D, K, m1, m2, m3, m4)
	}
}

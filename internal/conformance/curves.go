package conformance

import (
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/internal/testutil"
	"github.com/mlcu/mlcu/lens"
)

// curveEvents are the reference events (testdata/lightcurve_params.csv) of the Curves
// suite: a prior draw (2), caustic crossings at ρ ≈ 1.5e-4 (8), 1.2e-4 with four crossings
// (17) and 3e-3 (28), a cusp approach (15).
var curveEvents = []int{2, 8, 15, 17, 28}

// curveStride keeps every curveStride-th of the reference curves' 7,200 times.
const curveStride = 13

// Curves checks a dataset.CurveBackend:
//
//   - its light curves of reference events (caustic crossings included) agree with
//     VBBinaryLensing's (testdata/lightcurves.csv.gz, computed at Tol = RelTol = 1e-8) to
//     relative error 1e-3 at every point at tolerance lens.DefaultTol — the accuracy
//     contract of lens.LightCurve (TestLightCurveReference);
//   - each event's curve is computed from that event alone: alone in a call or in a batch
//     with others, the values are the same bits; the values past len(ts) in out are left
//     alone;
//   - calls from several goroutines at once give the same bits as one call;
//   - BatchSize is at least 1.
func Curves(t *testing.T, b dataset.CurveBackend) {
	params := testutil.RefColumns(t, "lightcurve_params.csv")
	ref := testutil.RefColumns(t, "lightcurves.csv.gz")
	const perCurve = 7200
	var evs []lens.Event
	for _, id := range curveEvents {
		evs = append(evs, lens.Event{S: params["s"][id], Q: params["q"][id], Alpha: params["alpha"][id],
			U0: params["u0"][id], T0: params["t0"][id], TE: params["tE"][id], Rho: params["rho"][id]})
	}
	var ts []float64
	for i := 0; i < perCurve; i += curveStride {
		ts = append(ts, ref["t"][i])
	}
	const tail = 2
	rows := func(n int) [][]float64 {
		out := make([][]float64, n)
		for i := range out {
			out[i] = make([]float64, len(ts)+tail)
			for j := range out[i] {
				out[i][j] = math.NaN()
			}
		}
		return out
	}
	require.GreaterOrEqual(t, b.BatchSize(), 1, "BatchSize")

	all := rows(len(evs))
	require.NoError(t, b.LightCurves(evs, ts, lens.DefaultTol, all))

	t.Run("reference curves", func(t *testing.T) {
		for e, id := range curveEvents {
			for j := range ts {
				want := ref["A"][id*perCurve+j*curveStride]
				got := all[e][j]
				if !(math.Abs(got-want) <= 1e-3*want) {
					require.Failf(t, "light curve differs from VBBinaryLensing's",
						"event %d at t = %.2f: A = %.9g, want %.9g (relative error %.3g > 1e-3)", id, ts[j], got, want, math.Abs(got-want)/want)
				}
			}
			for j := len(ts); j < len(ts)+tail; j++ {
				require.True(t, math.IsNaN(all[e][j]), "event %d: out[%d] past the times was written", id, j)
			}
		}
	})

	t.Run("each event alone", func(t *testing.T) {
		for e := range evs {
			one := rows(1)
			require.NoError(t, b.LightCurves(evs[e:e+1], ts, lens.DefaultTol, one))
			requireSameCurve(t, curveEvents[e], "alone against in a batch", all[e], one[0])
		}
	})

	t.Run("concurrent calls", func(t *testing.T) {
		const G = 4
		outs := make([][][]float64, G)
		errs := make([]error, G)
		var wg sync.WaitGroup
		for g := range G {
			outs[g] = rows(len(evs))
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[g] = b.LightCurves(evs, ts, lens.DefaultTol, outs[g])
			}()
		}
		wg.Wait()
		for g := range G {
			require.NoError(t, errs[g])
			for e := range evs {
				requireSameCurve(t, curveEvents[e], "concurrent against serial", all[e], outs[g][e])
			}
		}
	})
}

func requireSameCurve(t *testing.T, id int, what string, want, got []float64) {
	t.Helper()
	for j := range want {
		if math.Float64bits(want[j]) != math.Float64bits(got[j]) {
			require.Failf(t, what, "event %d, time %d: %v, want %v", id, j, got[j], want[j])
		}
	}
}

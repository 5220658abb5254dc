//go:build cuda || cudaemu

package cuda

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
	"github.com/mlcu/mlcu/lens"
)

// TestLightCurver runs the four reference events of TestFiniteLightCurves (a smooth prior
// draw, two caustic crossings, a cusp approach) at 554 times (odd) through a LightCurver
// made for batches of 2, so that calls pass more events than the batch size and fewer, and
// its buffers are reused at other sizes. Checks:
//   - one call with all four events equals FiniteLightCurves bit for bit (the same kernel
//     and the same host code, which TestFiniteLightCurves checks against the CPU op), and
//     lens.LightCurve within tol·A (the solver's goal; the max difference is logged);
//   - each event alone, four calls in flight at once, and a single event at the first 101
//     times (a smaller call after a larger one), give the same bits: a value depends on its
//     event and time only, which is what makes a simulated dataset independent of batching;
//   - output rows longer than the times keep their tails (NaN sentinels);
//   - Points counts every value and the host's, the same as FiniteLightCurves' count;
//   - an invalid event is an error naming it.
func TestLightCurver(t *testing.T) {
	pc := testutil.RefColumns(t, "lightcurve_params.csv")
	var evs []lens.Event
	for _, id := range []int{2, 8, 15, 28} {
		evs = append(evs, lens.Event{S: pc["s"][id], Q: pc["q"][id], Alpha: pc["alpha"][id], U0: pc["u0"][id],
			T0: pc["t0"][id], TE: pc["tE"][id], Rho: pc["rho"][id]})
	}
	var ts []float64
	for i := 0; i < 7200; i += 13 {
		ts = append(ts, float64(i)/100)
	}
	ne, nt := len(evs), len(ts)
	const tol = lens.DefaultTol
	want, wantHost, err := FiniteLightCurves(evs, ts, tol)
	must(err)

	lc, err := NewLightCurver(2)
	must(err)
	defer lc.Free()
	if lc.BatchSize() != 2 {
		t.Fatalf("BatchSize %d, want 2", lc.BatchSize())
	}
	// Rows with a tail of 3 sentinels past the times.
	const tail = 3
	newRows := func(n, m int) [][]float64 {
		rows := make([][]float64, n)
		for i := range rows {
			rows[i] = make([]float64, m+tail)
			for j := range rows[i] {
				rows[i][j] = math.NaN()
			}
		}
		return rows
	}
	checkTails := func(what string, rows [][]float64, m int) {
		t.Helper()
		for i, r := range rows {
			for j := m; j < len(r); j++ {
				if !math.IsNaN(r[j]) {
					t.Fatalf("%s: row %d: the tail element %d was overwritten (%v)", what, i, j, r[j])
				}
			}
		}
	}
	all := newRows(ne, nt)
	must(lc.LightCurves(evs, ts, tol, all))
	checkTails("all events", all, nt)
	if tot, host := lc.Points(); tot != int64(ne*nt) || host != int64(wantHost) || host == 0 {
		t.Errorf("Points = %d, %d; want %d values, %d on the host (FiniteLightCurves)", tot, host, ne*nt, wantHost)
	}
	maxLC := 0.0
	for e, ev := range evs {
		ref := lens.LightCurve(ev, ts, tol, nil)
		for j := range nt {
			if math.Float64bits(all[e][j]) != math.Float64bits(want[e][j]) {
				t.Fatalf("event %d t %v: LightCurver %v, FiniteLightCurves %v", e, ts[j], all[e][j], want[e][j])
			}
			d := math.Abs(all[e][j] - ref[j])
			maxLC = math.Max(maxLC, d/ref[j])
			if !(d <= tol*ref[j]) {
				t.Fatalf("event %d t %v: LightCurver %.12g, lens.LightCurve %.12g", e, ts[j], all[e][j], ref[j])
			}
		}
	}
	t.Logf("%d events × %d times, %d on the host: max relative difference vs lens.LightCurve %.2e (tolerance %g)", ne, nt, wantHost, maxLC, tol)

	// One event per call, all calls at once.
	alone := newRows(ne, nt)
	var wg sync.WaitGroup
	errs := make([]error, ne)
	for e := range ne {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[e] = lc.LightCurves(evs[e:e+1], ts, tol, alone[e:e+1])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(err)
	}
	checkTails("one event per call", alone, nt)
	// A smaller call after the larger ones, on reused buffers.
	const m = 101
	part := newRows(1, m)
	must(lc.LightCurves(evs[1:2], ts[:m], tol, part))
	checkTails("first 101 times", part, m)
	for e := range ne {
		for j := range nt {
			if math.Float64bits(alone[e][j]) != math.Float64bits(all[e][j]) {
				t.Fatalf("event %d t %v: alone %v, in a batch of %d %v", e, ts[j], alone[e][j], ne, all[e][j])
			}
			if e == 1 && j < m && math.Float64bits(part[0][j]) != math.Float64bits(all[e][j]) {
				t.Fatalf("event 1 t %v: at %d times %v, at %d times %v", ts[j], m, part[0][j], nt, all[e][j])
			}
		}
	}
	if tot, _ := lc.Points(); tot != int64(2*ne*nt+m) {
		t.Errorf("Points total %d after three rounds, want %d", tot, 2*ne*nt+m)
	}

	bad := []lens.Event{evs[0], {S: 1, Q: 0.1, TE: -1, Rho: 1e-3}}
	if err := lc.LightCurves(bad, ts, tol, newRows(2, nt)); err == nil || !strings.Contains(err.Error(), "event 1") {
		t.Errorf("invalid event: error %v, want one naming event 1", err)
	}
	if err := lc.LightCurves(nil, ts, tol, nil); err != nil {
		t.Errorf("no events: %v", err)
	}
}

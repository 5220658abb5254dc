package lens

import (
	"math"
	"sort"
	"strconv"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// refEvents reads testdata/lightcurve_params.csv (30 events of the reference README).
func refEvents(t testing.TB) []Event {
	rows := testutil.RefRows(t, "lightcurve_params.csv")
	evs := make([]Event, len(rows))
	for i, r := range rows {
		if id, _ := strconv.Atoi(r["id"]); id != i {
			t.Fatalf("lightcurve_params.csv: row %d has id %d", i, id)
		}
		evs[i] = Event{S: testutil.Num(t, r, "s"), Q: testutil.Num(t, r, "q"), Alpha: testutil.Num(t, r, "alpha"),
			U0: testutil.Num(t, r, "u0"), T0: testutil.Num(t, r, "t0"), TE: testutil.Num(t, r, "tE"), Rho: testutil.Num(t, r, "rho")}
	}
	return evs
}

// TestLightCurveReference computes the 30 reference light curves (7,200 points each,
// t = i/100 d) at the default tolerance and checks every point against
// testdata/lightcurves.csv.gz (VBBinaryLensing at Tol = RelTol = 1e-8): contract
// relative error ≤ 1e-3 at every point.
func TestLightCurveReference(t *testing.T) {
	evs := refEvents(t)
	rows := testutil.RefRows(t, "lightcurves.csv.gz")
	ts := RomanTimes(0, 72, RomanCadence)
	if len(rows) != len(evs)*len(ts) {
		t.Fatalf("%d light-curve rows, want %d", len(rows), len(evs)*len(ts))
	}
	worst := 0.0
	var a, all []float64
	for id, e := range evs {
		a = LightCurve(e, ts, DefaultTol, a)
		curveWorst, at := 0.0, 0
		for i := range ts {
			r := rows[id*len(ts)+i]
			ref := testutil.Num(t, r, "A")
			if math.Abs(testutil.Num(t, r, "t")-ts[i]) > 1e-9 {
				t.Fatalf("curve %d row %d: t = %s, want %.2f", id, i, r["t"], ts[i])
			}
			e := math.Abs(a[i]-ref) / ref
			all = append(all, e)
			if !(e <= curveWorst) {
				curveWorst, at = e, i
			}
		}
		if curveWorst > 1e-3 {
			t.Errorf("curve %d: relative error %.3g at t = %.2f", id, curveWorst, ts[at])
		}
		worst = math.Max(worst, curveWorst)
	}
	sort.Float64s(all)
	n := len(all)
	t.Logf("%d curves, %d points: relative error median %.2e, 99%% %.2e, 99.9%% %.2e, max %.3g",
		len(evs), n, all[n/2], all[n*99/100], all[n*999/1000], worst)
}

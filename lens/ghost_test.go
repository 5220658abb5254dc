package lens

import (
	"math"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// TestNearCausticDetected checks FiniteMag's choice of method on every three-image row of
// testdata/binary_point.csv closer than 2e-3 to a caustic (dist_caustic from the reference's
// traced and refined caustic): a disk of radius dist_caustic, which touches the caustic,
// must be sent to contour integration at every tolerance from 1e-2 to 1e-6. It also logs how
// far the ghost estimate alone can overshoot on rows the quadrupole test does not flag.
func TestNearCausticDetected(t *testing.T) {
	worst, rows := 0.0, 0
	for _, r := range testutil.RefRows(t, "binary_point.csv") {
		d := testutil.Num(t, r, "dist_caustic")
		if r["n_images"] != "3" || d > 2e-3 {
			continue
		}
		rows++
		b := NewBinary(testutil.Num(t, r, "s"), testutil.Num(t, r, "q"))
		var st solverState
		var imgs [5]Image
		y := complex(testutil.Num(t, r, "y1"), testutil.Num(t, r, "y2"))
		n := b.images(y, &imgs, &st)
		gd := st.ghostDistance(&b, y)
		a0, _, qerr := b.quadrupole(imgs[:n], d)
		for _, tol := range []float64{1e-2, 1e-3, 1e-4, 1e-5, 1e-6} {
			if !needsContour(a0, qerr, ghostLazy{&st, &b, y}, d, tol) {
				t.Errorf("tol %g: disk touching the caustic at s=%s q=%s y=(%s, %s) not sent to contour (ghost %.3g, dist %.3g)",
					tol, r["s"], r["q"], r["y1"], r["y2"], gd, d)
			}
		}
		if quadSafety*qerr < 1e-2*a0 && gd > 0 {
			worst = math.Max(worst, gd/d)
		}
	}
	t.Logf("%d rows; ghost estimate / distance on rows the quadrupole test misses: max %.3g (ghostSafety %g)", rows, worst, ghostSafety)
	if rows < 200 {
		t.Fatalf("only %d rows", rows)
	}
}

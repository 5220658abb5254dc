package lens

import (
	"math"
	"sort"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// TestPointMagReference checks the point-source binary magnification against the
// quad-precision values A_point_hp of testdata/binary_point.csv. Contract:
// relative error ≤ 1e-6 on ≥ 99.9% of rows and ≤ 1e-4 on every row.
func TestPointMagReference(t *testing.T) {
	rows := testutil.RefRows(t, "binary_point.csv")
	var errs []float64
	worst, worstRow := 0.0, -1
	imgMismatch := 0
	for i, r := range rows {
		b := NewBinary(testutil.Num(t, r, "s"), testutil.Num(t, r, "q"))
		y1, y2 := testutil.Num(t, r, "y1"), testutil.Num(t, r, "y2")
		ref := testutil.Num(t, r, "A_point_hp")
		a := b.PointMag(y1, y2)
		e := math.Abs(a-ref) / ref
		if math.IsNaN(e) {
			e = math.Inf(1)
		}
		errs = append(errs, e)
		if e > worst {
			worst, worstRow = e, i
		}
		if n := len(b.Images(y1, y2)); float64(n) != testutil.Num(t, r, "n_images") {
			imgMismatch++
		}
	}
	sort.Float64s(errs)
	n := len(errs)
	p999 := errs[int(0.999*float64(n))-1]
	t.Logf("rows %d: median rel err %.2e, 99%% %.2e, 99.9%% %.2e, max %.2e (row %d), image-count mismatches %d",
		n, errs[n/2], errs[n*99/100], p999, worst, worstRow, imgMismatch)
	if p999 > 1e-6 {
		t.Errorf("99.9th percentile relative error %.3g > 1e-6", p999)
	}
	if worst > 1e-4 {
		t.Errorf("max relative error %.3g > 1e-4 (row %d: %v)", worst, worstRow, rows[worstRow])
	}
	if imgMismatch != 0 {
		t.Errorf("%d rows with the wrong number of images", imgMismatch)
	}
}

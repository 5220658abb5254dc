package lens

import (
	"strconv"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// readFiniteRows returns (s, q, y1, y2, rho, A_finite, dist_caustic) for every row of
// testdata/binary_finite.csv, for the external benchmarks.
func readFiniteRows(tb testing.TB) [][7]float64 {
	var out [][7]float64
	for _, r := range testutil.RefRows(tb, "binary_finite.csv") {
		var v [7]float64
		for i, k := range []string{"s", "q", "y1", "y2", "rho", "A_finite", "dist_caustic"} {
			f, err := strconv.ParseFloat(r[k], 64)
			if err != nil {
				tb.Fatal(err)
			}
			v[i] = f
		}
		out = append(out, v)
	}
	return out
}

// ReadFiniteRows exposes readFiniteRows to package lens_test.
var ReadFiniteRows = readFiniteRows

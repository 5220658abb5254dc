package lens

import (
	"fmt"
	"math"
	"sort"
	"testing"
)

func TestZZTols(t *testing.T) {
	rows := readFiniteRows(t)
	for _, tol := range []float64{1e-4} {
		var ns []int
		var errs []float64
		for _, r := range rows {
			if r[6] >= r[4] {
				continue
			}
			b := NewBinary(r[0], r[1])
			var info finiteInfo
			a, _ := b.finiteMag(complex(r[2], r[3]), r[4], tol, nil, &info)
			ns = append(ns, info.samples)
			errs = append(errs, math.Abs(a-r[5])/r[5])
		}
		sort.Ints(ns)
		sort.Float64s(errs)
		n := len(ns)
		tot := 0
		for _, x := range ns {
			tot += x
		}
		fmt.Println(tol, n, "samples mean", tot/n, "med", ns[n/2], "p90", ns[n*9/10], "err med", errs[n/2], "p99", errs[n*99/100], "p99.5", errs[n*995/1000], "max", errs[n-1])
	}
}

package infer

import (
	"bytes"
	"math"
	"testing"
)

// FuzzReadLightCurve checks that ReadLightCurve never panics and that what it accepts is a
// light curve LightCurveInput may be given: equal lengths, finite values, positive errors,
// strictly increasing times.
func FuzzReadLightCurve(f *testing.F) {
	for _, s := range []string{"t,f,e\n1,2,3\n2,3,4\n", "1 2 3 # c\n", "1;2;0\n", "x y z\n1e308 1 1\n", "1 2 3\n1 2 3\n", "NaN 1 1\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		lc, err := ReadLightCurve(bytes.NewReader(b), "fuzz.txt")
		if err != nil {
			return
		}
		if len(lc.T) == 0 || len(lc.Flux) != len(lc.T) || len(lc.Err) != len(lc.T) {
			t.Fatalf("accepted lengths %d, %d, %d", len(lc.T), len(lc.Flux), len(lc.Err))
		}
		for i := range lc.T {
			for _, v := range []float64{lc.T[i], lc.Flux[i], lc.Err[i]} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("row %d: non-finite value accepted", i)
				}
			}
			if !(lc.Err[i] > 0) || (i > 0 && !(lc.T[i] > lc.T[i-1])) {
				t.Fatalf("row %d: error %g or time order accepted", i, lc.Err[i])
			}
		}
		_, _ = LightCurveInput(lc) // must not panic either
		_, _, _ = ProposalInput(lc, nil)
	})
}

package cli

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// FuzzReadPoints checks that ReadPoints never panics and that what it accepts is
// consistent: one parsed value per row, every value finite, s > 0, q > 0, rho ≥ 0, and
// rows as wide as the header. Accepted tables must also survive writeMagnified and read
// back with the same values.
func FuzzReadPoints(f *testing.F) {
	for _, s := range []string{
		"s,q,y1,y2\n1,0.1,0.2,0.3\n",
		"# c\ny2,rho,s,q,y1,x\n0.1,,1,0.5,0.3,\"a,b\"\n0,0.001,2,1e-6,-1,z\n",
		"s,q,y1,y2,rho\n1,0.1,0,0,-1\n",
		"S,Q,Y1,Y2\n1,1,NaN,0\n",
		"\ufeffs,q,y1,y2\n1e308,1e-308,1e10,-1e10\n",
		"s,q,y1,y2\n\"1\",0.1,0,0\n   \n",
		"",
		"s,s,q,y1,y2\n",
		"s,q,y1,y2\n1,0.1,\"0\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPoints(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		n := len(p.Rows)
		if n == 0 || len(p.Lines) != n || len(p.S) != n || len(p.Q) != n || len(p.Y1) != n || len(p.Y2) != n || len(p.Rho) != n {
			t.Fatalf("inconsistent table: %d rows", n)
		}
		for i := 0; i < n; i++ {
			if len(p.Rows[i]) != len(p.Header) {
				t.Fatalf("row %d has %d fields, header %d", i, len(p.Rows[i]), len(p.Header))
			}
			for _, v := range []float64{p.S[i], p.Q[i], p.Y1[i], p.Y2[i], p.Rho[i]} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("row %d: non-finite value accepted", i)
				}
			}
			if !(p.S[i] > 0) || !(p.Q[i] > 0) || p.Rho[i] < 0 {
				t.Fatalf("row %d: s=%v q=%v rho=%v accepted", i, p.S[i], p.Q[i], p.Rho[i])
			}
		}
		var buf bytes.Buffer
		if err := writeMagnified(&buf, p, make([]float64, n)); err != nil {
			t.Fatalf("writeMagnified: %v", err)
		}
		p2, err := ReadPoints(&buf, "again.csv")
		if err != nil {
			// The header may name A (rejected by magnify, not by ReadPoints) or contain a
			// field that encoding/csv writes differently (e.g. a leading '#'); only a
			// change of the parsed values is a failure.
			return
		}
		if len(p2.Rows) != n {
			t.Fatalf("round trip: %d rows, want %d", len(p2.Rows), n)
		}
		for i := 0; i < n; i++ {
			if p2.S[i] != p.S[i] || p2.Q[i] != p.Q[i] || p2.Y1[i] != p.Y1[i] || p2.Y2[i] != p.Y2[i] || p2.Rho[i] != p.Rho[i] {
				t.Fatalf("round trip changed row %d", i)
			}
		}
	})
}

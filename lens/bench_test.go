package lens_test

import (
	"math"
	"testing"

	"github.com/mlcu/mlcu/bench"
	"github.com/mlcu/mlcu/lens"
)

// BenchmarkPointMag times the point-source binary magnification per source position, for
// positions along the light curves of prior events (bench.Events).
func BenchmarkPointMag(b *testing.B) {
	evs := bench.Events(16, bench.DefaultSeed)
	type pt struct {
		bl     lens.Binary
		y1, y2 float64
	}
	var pts []pt
	for _, e := range evs {
		bl := lens.NewBinary(e.S, e.Q)
		for t := 0.0; t < 72; t += 0.5 {
			y1, y2 := e.SourcePos(t)
			pts = append(pts, pt{bl, y1, y2})
		}
	}
	b.ResetTimer()
	sum := 0.0
	for i := 0; i < b.N; i++ {
		p := &pts[i%len(pts)]
		sum += p.bl.PointMag(p.y1, p.y2)
	}
	if math.IsNaN(sum) {
		b.Fatal("NaN")
	}
}

// BenchmarkFiniteMagCaustic times FiniteMag at the default tolerance for sources whose disk
// crosses the caustic: the rows of testdata/binary_finite.csv with dist_caustic < rho.
func BenchmarkFiniteMagCaustic(b *testing.B) {
	type pt struct {
		bl          lens.Binary
		y1, y2, rho float64
	}
	var pts []pt
	for _, r := range lens.ReadFiniteRows(b) {
		if r[6] < r[4] { // dist_caustic < rho
			pts = append(pts, pt{lens.NewBinary(r[0], r[1]), r[2], r[3], r[4]})
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := &pts[i%len(pts)]
		p.bl.FiniteMag(p.y1, p.y2, p.rho, lens.DefaultTol)
	}
}

// BenchmarkLightCurve times one 7,200-point finite-source light curve (t = 0 … 71.99 d) at
// the default tolerance, cycling through 20 prior events (bench.Events, seed 1).
func BenchmarkLightCurve(b *testing.B) {
	evs := bench.Events(20, bench.DefaultSeed)
	ts := bench.Times()
	out := make([]float64, len(ts))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lens.LightCurve(evs[i%len(evs)], ts, lens.DefaultTol, out)
	}
}

package infer_test

import (
	"fmt"
	"math"
	"strings"

	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"
)

// A light curve read from text (time [d], flux, error) becomes the model's input: 7,200
// fluxes on the 0.01-d grid from the first time, divided by the baseline. Here a point-lens
// event with u0 = 0.3 peaks at A = 2.09/√(0.09·4.09) = 3.445; the baseline, the median of
// the faintest 20% of the window's points (near t = 1065 d, A ≈ 1.0099), is a little above
// the source's flux, so x peaks at 3.445/1.0099 = 3.41.
func ExampleLightCurveInput() {
	var text strings.Builder
	text.WriteString("# HJD-2450000  flux  error\n")
	for i := range 1600 { // 80 days every 0.05 d, a point-lens bump at t = 1030 d on a baseline of 500
		t := 1000 + 0.05*float64(i)
		u2 := 0.09 + math.Pow((t-1030)/10, 2)
		a := (u2 + 2) / math.Sqrt(u2*(u2+4))
		fmt.Fprintf(&text, "%.2f %.3f %.3f\n", t, 500*a, math.Sqrt(500*a))
	}
	lc, err := infer.ReadLightCurve(strings.NewReader(text.String()), "event.txt")
	if err != nil {
		fmt.Println(err)
		return
	}
	x, err := infer.LightCurveInput(lc)
	if err != nil {
		fmt.Println(err)
		return
	}
	peak := 0
	for j := range x {
		if x[j] > x[peak] {
			peak = j
		}
	}
	fmt.Printf("%d points, window from t = %g d\n", len(x), lc.T[0])
	fmt.Printf("x at the start %.3f, peak %.3f at t = %g d\n", x[0], x[peak], lc.T[0]+float64(peak)*event.Cadence)
	// Output:
	// 7200 points, window from t = 1000 d
	// x at the start 1.007, peak 3.410 at t = 1030 d
}

// Posterior samples summarised by their median and central intervals.
func ExampleSamples_Summary() {
	s := &infer.Samples{Names: []string{"s", "q"}}
	for i := range 1001 {
		s.Values = append(s.Values, 1+float64(i)/1000, math.Pow(10, -3+3*float64(i)/1000))
	}
	for _, m := range s.Summary() {
		fmt.Printf("%s: median %.4g, 68%% [%.4g, %.4g], 95%% [%.4g, %.4g]\n", m.Name, m.Median, m.Lo68, m.Hi68, m.Lo95, m.Hi95)
	}
	// Output:
	// s: median 1.5, 68% [1.16, 1.84], 95% [1.025, 1.975]
	// q: median 0.03162, 68% [0.00302, 0.3311], 95% [0.001189, 0.8414]
}

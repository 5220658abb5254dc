package nn

import (
	"math"
	"testing"
)

func TestCosineLR(t *testing.T) {
	const lrMax, lrMin = 1e-3, 1e-6
	for _, tc := range []struct {
		step, total, warmup int
		want                float64
	}{
		{0, 1000, 0, lrMax},                                      // start of the decay
		{500, 1000, 0, (lrMax + lrMin) / 2},                      // cos(π/2) = 0: the midpoint
		{1000, 1000, 0, lrMin},                                   // end
		{5000, 1000, 0, lrMin},                                   // past the end
		{250, 1000, 0, lrMin + (lrMax-lrMin)*(1+math.Sqrt2/2)/2}, // cos(π/4)
		{0, 1000, 100, lrMax / 100},                              // first warmup step
		{49, 1000, 100, lrMax / 2},                               // warmup is linear
		{99, 1000, 100, lrMax},                                   // last warmup step
		{100, 1000, 100, lrMax},                                  // decay starts at the end of the warmup
		{550, 1000, 100, (lrMax + lrMin) / 2},                    // midpoint of the decay
		{1000, 1000, 100, lrMin},                                 // end
	} {
		got := CosineLR(tc.step, tc.total, lrMax, lrMin, tc.warmup)
		if math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("CosineLR(%d, %d, warmup %d) = %.17g, want %.17g", tc.step, tc.total, tc.warmup, got, tc.want)
		}
	}
	// Monotone non-increasing after the warmup.
	prev := math.Inf(1)
	for s := 10; s <= 200; s++ {
		lr := CosineLR(s, 200, lrMax, lrMin, 10)
		if lr > prev {
			t.Fatalf("lr rises at step %d: %v > %v", s, lr, prev)
		}
		prev = lr
	}
}

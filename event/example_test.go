package event_test

import (
	"fmt"
	"math"

	"github.com/mlcu/mlcu/event"
)

func ExampleCropOffset() {
	// An event 12.3456 days after the window's start: the window starts at stored sample
	// 5965 and the event is labelled with t0 rounded to the 0.01-day cadence.
	k, t0q := event.CropOffset(12.3456)
	fmt.Printf("k = %d, t0 = %.2f d, window = stored samples [%d, %d)\n", k, t0q, k, k+event.WindowPoints)
	// Output: k = 5965, t0 = 12.35 d, window = stored samples [5965, 13165)
}

func ExampleNewStandardizer() {
	// The default prior's ranges map to [-1, 1]: s = 5 and ρ = 1e-2 are upper ends, q = 1e-3
	// a lower end, tE = 10 d the middle of log10 tE in [0, 2].
	st := event.NewStandardizer(event.DefaultPrior())
	pp := event.Params{S: 5, Q: 1e-3, Alpha: math.Pi / 2, U0: 1.5, T0: 18, TE: 10, Rho: 1e-2, Fs: 1}
	y := st.Forward(pp)
	for i, name := range st.Names() {
		fmt.Printf("%-9s %+.2f\n", name, y[i])
	}
	fmt.Printf("back: s = %.6g, q = %.6g, tE = %.6g\n", st.Inverse(y).S, st.Inverse(y).Q, st.Inverse(y).TE)
	// Output:
	// log10 s   +1.00
	// log10 q   -1.00
	// alpha     -0.50
	// u0        +0.50
	// t0        -0.50
	// log10 tE  +0.00
	// log10 rho +1.00
	// back: s = 5, q = 0.001, tE = 10
}

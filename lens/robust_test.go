package lens

import (
	"flag"
	"math"
	"math/rand"
	"testing"
)

var long = flag.Bool("long", false, "run the full-size robustness tests (1e6 prior draws)")

// TestSumRule checks image finding at the edges of the supported domain with the identity
// of the five-image region, Σ 1/det J = 1 (Witt & Mao 1995): a missed, spurious or
// misplaced image breaks it. Sources are drawn log-uniformly in distance (1e-4 to 100)
// around either lens or the centre of mass.
func TestSumRule(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, sq := range [][2]float64{
		{0.1, 1e-6}, {0.1, 1}, {10, 1}, {1, 1e-6}, {1, 1}, {0.5, 1e3}, {0.5, 1e-3},
		{MinS, 1}, {1, MinQ}, {2, MaxQ}, {0.3, 1e-9},
	} {
		b := NewBinary(sq[0], sq[1])
		worst, n5 := 0.0, 0
		for i := 0; i < 5000; i++ {
			r := math.Pow(10, rng.Float64()*6-4)
			ph := rng.Float64() * 2 * math.Pi
			c := []float64{0, b.X1, b.X2}[rng.Intn(3)]
			y1, y2 := c+r*math.Cos(ph), r*math.Sin(ph)
			ims := b.Images(y1, y2)
			if len(ims) != 5 {
				continue
			}
			n5++
			sum, a := 0.0, 0.0
			for _, im := range ims {
				sum += 1 / im.DetJ
				a += math.Abs(1 / im.DetJ)
			}
			if e := math.Abs(sum-1) / a; !(e <= worst) {
				worst = e
			}
		}
		// Rounding: each 1/J carries ~1e-16·|z|·|h''|/|J|² relative; 1e-9 leaves room for
		// sources within 1e-4 of a lens.
		if worst > 1e-9 {
			t.Errorf("s=%g q=%g: five-image sum rule violated by %.3g (relative to A) over %d sources", sq[0], sq[1], worst, n5)
		}
	}
}

// TestPriorDraws draws events from the robustness prior (log s ~ U(log 0.2, log 5),
// log q ~ U(-6, 0), α ~ U(0, 2π), u0 ~ U(0, 2), log ρ ~ U(-4, -2)) and a time τ ~ U(-2, 2)
// along each trajectory, and requires FiniteMag at the default tolerance to be finite and at
// least 1 - 1e-9 (a binary lens never demagnifies below 1). 2e4 draws by default, 1e6 with
// -long.
func TestPriorDraws(t *testing.T) {
	n := 20000
	if *long {
		n = 1000000
	}
	rng := rand.New(rand.NewSource(7))
	methods := map[string]int{}
	for i := 0; i < n; i++ {
		e := Event{
			S:     math.Pow(10, math.Log10(0.2)+rng.Float64()*math.Log10(25)),
			Q:     math.Pow(10, -6*rng.Float64()),
			Alpha: 2 * math.Pi * rng.Float64(),
			U0:    2 * rng.Float64(),
			TE:    1,
			Rho:   math.Pow(10, -4+2*rng.Float64()),
		}
		y1, y2 := e.SourcePos(4*rng.Float64() - 2)
		b := NewBinary(e.S, e.Q)
		a, _, m := b.FiniteMagErr(y1, y2, e.Rho, DefaultTol)
		methods[m]++
		if math.IsNaN(a) || math.IsInf(a, 0) || a < 1-1e-9 {
			t.Fatalf("draw %d: %+v at y=(%v, %v): A = %v (%s)", i, e, y1, y2, a, m)
		}
	}
	t.Logf("%d draws: %v", n, methods)
}

// TestOutsideDomain checks that the validators reject what the solver does not support and
// that far sources take the single-lens limit instead of overflowing.
func TestOutsideDomain(t *testing.T) {
	for _, sq := range [][2]float64{{0, 1}, {1, 0}, {1e300, 1}, {1, 1e-12}, {math.NaN(), 1}, {1, math.Inf(1)}} {
		if ValidateBinary(sq[0], sq[1]) == nil {
			t.Errorf("ValidateBinary(%v, %v) accepted", sq[0], sq[1])
		}
	}
	for _, r := range []float64{-1, 1e-12, 11, math.NaN()} {
		if ValidateRho(r) == nil {
			t.Errorf("ValidateRho(%v) accepted", r)
		}
	}
	b := NewBinary(1, 1)
	for _, y := range []float64{1e5, 1e150} {
		want := PointLensMag(math.Sqrt2 * y)
		if a := b.PointMag(y, y); a != want {
			t.Errorf("PointMag(%g, %g) = %v, want the single-lens %v", y, y, a, want)
		}
		if a := b.FiniteMag(y, y, 1e-3, DefaultTol); !(math.Abs(a-1) < 1e-15) {
			t.Errorf("FiniteMag(%g, %g) = %v, want 1", y, y, a)
		}
	}
}

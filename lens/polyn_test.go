package lens

import (
	"math"
	"math/cmplx"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// testPolyFromRoots returns the coefficients (low to high) of lead·Π(z - r_i).
func testPolyFromRoots(lead complex128, roots []complex128) []complex128 {
	c := []complex128{lead}
	for _, r := range roots {
		next := make([]complex128, len(c)+1)
		for i, ci := range c {
			next[i+1] += ci
			next[i] -= r * ci
		}
		c = next
	}
	return c
}

// testMatchRoots returns the largest error of got against want, each root measured relative
// to max(|want_i|, floor), after pairing by the best permutation.
func testMatchRoots(got, want []complex128, floor float64) float64 {
	n := len(want)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := math.Inf(1)
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			e := 0.0
			for i := range want {
				e = math.Max(e, cmplx.Abs(got[perm[i]]-want[i])/math.Max(cmplx.Abs(want[i]), floor))
			}
			best = math.Min(best, e)
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			rec(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	rec(0)
	return best
}

func TestPolyRootsN(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	randRoot := func() complex128 { return complex(rng.NormFloat64(), rng.NormFloat64()) }
	type tc struct {
		name  string
		lead  complex128
		roots []complex128
		floor float64 // absolute floor of the error scale
		tol   float64 // relative tolerance (see each case's comment)
	}
	var cases []tc
	// Random well-separated roots, every degree: eps-level.
	for d := 1; d <= maxPolyDegree; d++ {
		for rep := 0; rep < 20; rep++ {
			rs := make([]complex128, d)
			for i := range rs {
				rs[i] = randRoot()
			}
			cases = append(cases, tc{"random", randRoot(), rs, 1, 1e-11})
		}
	}
	// Roots of unity of degree 8 (a symmetric, real polynomial z^8 - 1).
	var unity []complex128
	for k := 0; k < 8; k++ {
		unity = append(unity, cmplx.Rect(1, 2*math.Pi*float64(k)/8))
	}
	cases = append(cases,
		tc{"unity8", 1, unity, 1, 1e-14},
		// Moduli over 12 decades: each root is well conditioned relative to its own size.
		tc{"magnitudes", 1, []complex128{1e-6, complex(0, 1e-3), -1, complex(1e3, 1e3), 1e6}, 0, 1e-13},
		tc{"magnitudes8", 2i, []complex128{3e-8, 1e-5i, -2e-3, 0.5 + 0.5i, 7, -40i, 3e3, 1e5}, 0, 1e-13},
		// A pair at distance 1e-6: error ~ eps·scale/δ ≈ 1e-10.
		tc{"closepair", 1, []complex128{1, 1 + 1e-6, -0.5 + 1i, 2i, -3}, 1, 1e-8},
		// A pair at distance 1e-6 among roots of size 1e-3 and 1e3.
		tc{"closepair-scales", 1, []complex128{1e-3, 1e-3 + 1e-9i, 1, 1e3}, 1e-3, 1e-6},
		// A double root: error ~ √eps.
		tc{"double", 1, []complex128{0.3 + 0.1i, 0.3 + 0.1i, -1, 2}, 1, 1e-7},
		// Wilkinson-like 1..8 (ill-conditioned, cond ~ 1e5).
		tc{"wilkinson8", 1, []complex128{1, 2, 3, 4, 5, 6, 7, 8}, 1, 1e-10},
		// Exact zero roots are divided out.
		tc{"zeros", 1, []complex128{0, 0, 1 + 1i, -2}, 1, 1e-14},
	)
	worst := map[string]float64{}
	for _, c := range cases {
		coeffs := testPolyFromRoots(c.lead, c.roots)
		got := make([]complex128, len(c.roots))
		ok := polyRootsN(coeffs, got)
		e := testMatchRoots(got, c.roots, c.floor)
		worst[c.name] = math.Max(worst[c.name], e)
		if !ok && c.name != "double" {
			t.Errorf("%s %v: not converged", c.name, c.roots)
		}
		if !(e <= c.tol) {
			t.Errorf("%s: roots %v\n got %v\n error %.2g > %.2g", c.name, c.roots, got, e, c.tol)
		}
	}
	for _, name := range []string{"random", "unity8", "magnitudes", "magnitudes8", "closepair", "closepair-scales", "double", "wilkinson8", "zeros"} {
		t.Logf("%-16s max relative root error %.2g", name, worst[name])
	}
}

// TestPolyRootsNWarm checks the warm start (used by the caustic tracker): from the roots of a
// nearby polynomial, and from bad guesses (it must fall back to a cold start).
func TestPolyRootsNWarm(t *testing.T) {
	want := []complex128{1, -2i, 0.5 + 0.5i, -3}
	c := testPolyFromRoots(1, want)
	r := []complex128{1.01, -2.01i, 0.49 + 0.5i, -3.02}
	if !polyRootsNWarm(c, r, true) {
		t.Error("warm start did not converge")
	}
	if e := testMatchRoots(r, want, 1); e > 1e-14 {
		t.Errorf("warm start: error %.2g", e)
	}
	r = []complex128{1, 1, 1, 1} // coincident guesses
	polyRootsNWarm(c, r, true)
	if e := testMatchRoots(r, want, 1); e > 1e-14 {
		t.Errorf("coincident warm guesses: error %.2g", e)
	}
}

// TestPolyRootsNQuintic compares polyRootsN with polyRoots5 on the binary-lens quintics of
// reference sources (the same polynomial, an independent code path).
func TestPolyRootsNQuintic(t *testing.T) {
	rows := testutil.RefRows(t, "binary_point.csv")
	worst := 0.0
	for i := 0; i < len(rows); i += 30 {
		r := rows[i]
		b := NewBinary(testutil.Num(t, r, "s"), testutil.Num(t, r, "q"))
		y := complex(testutil.Num(t, r, "y1"), testutil.Num(t, r, "y2"))
		f := b.frameFor(y)
		var c [6]complex128
		f.quintic(y-complex(f.Shift, 0), &c)
		var r5 [5]complex128
		polyRoots5(&c, &r5, false)
		rn := make([]complex128, 5)
		polyRootsN(c[:], rn)
		// Roots near the lighter lens have moduli ~√q; measure against 1e-3.
		e := testMatchRoots(rn, r5[:], 1e-3)
		worst = math.Max(worst, e)
		if e > 1e-8 {
			t.Errorf("row %d: polyRootsN %v vs polyRoots5 %v (%.2g)", i, rn, r5, e)
		}
	}
	t.Logf("max difference from polyRoots5 on %d quintics: %.2g", len(rows)/30, worst)
}

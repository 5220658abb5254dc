package rng

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The first raw outputs for (seed, stream) = (1, 2): the values math/rand/v2's own TestPCG
// pins (src/math/rand/v2/pcg_test.go). A change here would change every dataset and
// benchmark event set.
var golden12 = []uint64{0xc4f5a58656eef510, 0x9dcec3ad077dec6c, 0xc8d04605312f8088}

func TestGolden(t *testing.T) {
	s := New(1, 2)
	for i, want := range golden12 {
		if got := s.Uint64(); got != want {
			t.Errorf("output %d = %#x, want %#x", i, got, want)
		}
	}
	// The variates are the documented functions of the raw outputs.
	a, b := New(7, 9), New(7, 9)
	if got, want := a.Uniform(), float64(b.Uint64()>>11)/(1<<53); got != want {
		t.Errorf("Uniform = %v, want %v", got, want)
	}
	if got, want := a.UniformOpen(), (float64(b.Uint64()>>12)+0.5)/(1<<52); got != want {
		t.Errorf("UniformOpen = %v, want %v", got, want)
	}
	u1, u2 := 1-float64(b.Uint64()>>11)/(1<<53), float64(b.Uint64()>>11)/(1<<53)
	if got, want := a.Normal(), math.Sqrt(-2*math.Log(u1))*math.Cos(2*math.Pi*u2); got != want {
		t.Errorf("Normal = %v, want %v", got, want)
	}
}

func TestDeterministic(t *testing.T) {
	a, b, c, d := New(42, 3), New(42, 3), New(42, 4), New(43, 3)
	same, diffStream, diffSeed := true, 0, 0
	for range 1000 {
		x, y, z, w := a.Uint64(), b.Uint64(), c.Uint64(), d.Uint64()
		same = same && x == y
		if x == z {
			diffStream++
		}
		if x == w {
			diffSeed++
		}
	}
	if !same {
		t.Error("the same (seed, stream) gave different outputs")
	}
	if diffStream > 0 || diffSeed > 0 {
		t.Errorf("%d outputs equal for another stream, %d for another seed", diffStream, diffSeed)
	}
	// A *Source is a math/rand/v2 Source.
	var _ rand.Source = New(0, 0)
}

// The numbers of raw outputs each method consumes, as documented.
func TestConsumption(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(*Source)
		raw  int
	}{
		{"Uniform", func(s *Source) { s.Uniform() }, 1},
		{"UniformOpen", func(s *Source) { s.UniformOpen() }, 1},
		{"Between", func(s *Source) { s.Between(2, 3) }, 1},
		{"Normal", func(s *Source) { s.Normal() }, 2},
		{"NormalPair", func(s *Source) { s.NormalPair() }, 2},
		{"IntN", func(s *Source) { s.IntN(1000) }, 1},
	} {
		a, b := New(5, 6), New(5, 6)
		tc.f(a)
		for range tc.raw {
			b.Uint64()
		}
		if a.Uint64() != b.Uint64() {
			t.Errorf("%s does not consume exactly %d raw outputs", tc.name, tc.raw)
		}
	}
}

// meanVar returns the sample mean and (biased) variance of n draws of f.
func meanVar(n int, f func() float64) (mean, variance float64) {
	var s, s2 float64
	for range n {
		x := f()
		s += x
		s2 += x * x
	}
	mean = s / float64(n)
	return mean, s2/float64(n) - mean*mean
}

// Tolerances are 5 standard errors of the estimate (a two-sided 5σ band: a correct
// generator fails with probability 6e-7 per check; the seeds are fixed in any case).
const nSigma = 5

func TestUniformMoments(t *testing.T) {
	const n = 100000
	s := New(11, 0)
	lo, hi := 1.0, 0.0
	m, v := meanVar(n, func() float64 {
		u := s.Uniform()
		lo, hi = math.Min(lo, u), math.Max(hi, u)
		return u
	})
	if lo < 0 || hi >= 1 {
		t.Errorf("Uniform outside [0, 1): min %v, max %v", lo, hi)
	}
	// U(0,1): mean 1/2, variance 1/12; SE(mean) = √(1/12n), SE(var) = √((1/80 − 1/144)/n).
	seM, seV := math.Sqrt(1.0/12/n), math.Sqrt((1.0/80-1.0/144)/n)
	t.Logf("Uniform: mean %.5f (want 0.5 ± %.1e), variance %.5f (want %.5f ± %.1e)", m, seM, v, 1.0/12, seV)
	if math.Abs(m-0.5) > nSigma*seM || math.Abs(v-1.0/12) > nSigma*seV {
		t.Errorf("Uniform: mean %v, variance %v", m, v)
	}

	lo, hi = 1, 0
	m, _ = meanVar(n, func() float64 {
		u := s.UniformOpen()
		lo, hi = math.Min(lo, u), math.Max(hi, u)
		return u
	})
	if lo <= 0 || hi >= 1 || math.Abs(m-0.5) > nSigma*seM {
		t.Errorf("UniformOpen: min %v, max %v, mean %v", lo, hi, m)
	}

	m, _ = meanVar(n, func() float64 {
		x := s.Between(-3, 5)
		if x < -3 || x >= 5 {
			t.Fatalf("Between(-3, 5) = %v", x)
		}
		return x
	})
	if math.Abs(m-1) > nSigma*8*seM {
		t.Errorf("Between(-3, 5): mean %v, want 1", m)
	}
}

func TestNormalMoments(t *testing.T) {
	const n = 100000
	s := New(12, 0)
	// N(0,1): SE(mean) = 1/√n, SE(var) = √(2/n), SE(fourth moment − 3) ≈ √(96/n).
	seM, seV := 1/math.Sqrt(n), math.Sqrt(2.0/n)
	m, v := meanVar(n, s.Normal)
	t.Logf("Normal: mean %+.5f (± %.1e), variance %.5f (1 ± %.1e)", m, seM, v, seV)
	if math.Abs(m) > nSigma*seM || math.Abs(v-1) > nSigma*seV {
		t.Errorf("Normal: mean %v, variance %v", m, v)
	}
	var s1, s2, s12, k4 float64
	for range n {
		z1, z2 := s.NormalPair()
		s1 += z1
		s2 += z2
		s12 += z1 * z2
		k4 += z2 * z2 * z2 * z2
	}
	m1, m2, c, kurt := s1/n, s2/n, s12/n, k4/n
	t.Logf("NormalPair: means %+.5f %+.5f, E[z1 z2] %+.5f, E[z2⁴] %.4f", m1, m2, c, kurt)
	// E[z1 z2] = 0 with SE 1/√n; E[z⁴] = 3 with SE √(96/n).
	if math.Abs(m1) > nSigma*seM || math.Abs(m2) > nSigma*seM || math.Abs(c) > nSigma*seM ||
		math.Abs(kurt-3) > nSigma*math.Sqrt(96.0/n) {
		t.Errorf("NormalPair: means %v %v, E[z1 z2] %v, E[z2⁴] %v", m1, m2, c, kurt)
	}
}

func TestIntN(t *testing.T) {
	const n, k = 100000, 10
	s := New(13, 0)
	var counts [k]int
	for range n {
		counts[s.IntN(k)]++
	}
	chi2 := 0.0
	for _, c := range counts {
		d := float64(c) - n/k
		chi2 += d * d / (n / k)
	}
	// χ² with 9 degrees of freedom: P(χ² > 27.88) = 1e-3.
	t.Logf("IntN(10): χ² = %.2f (9 dof)", chi2)
	if chi2 > 27.88 {
		t.Errorf("IntN(10) counts %v: χ² = %.2f > 27.88", counts, chi2)
	}
	if got := s.IntN(1); got != 0 {
		t.Errorf("IntN(1) = %d", got)
	}
	perm := []int{0, 1, 2, 3, 4, 5}
	s.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	seen := 0
	for _, p := range perm {
		seen |= 1 << p
	}
	if seen != 1<<6-1 {
		t.Errorf("Shuffle lost elements: %v", perm)
	}
	defer func() {
		if recover() == nil {
			t.Error("IntN(0) did not panic")
		}
	}()
	s.IntN(0)
}

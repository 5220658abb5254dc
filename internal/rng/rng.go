package rng

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// Source is a deterministic stream of random variates. Create one with New.
type Source struct {
	pcg rand.PCG
}

// New returns a Source seeded with the two 64-bit words (seed, stream), which become the
// high and low words of PCG's 128-bit state. Distinct pairs give distinct sequences; pairs
// that differ in one word only (for example New(seed, i) for i = 0, 1, 2, …) start at
// unrelated points of the generator's 2¹²⁸-long cycle.
func New(seed, stream uint64) *Source {
	s := new(Source)
	s.pcg.Seed(seed, stream)
	return s
}

// Uint64 returns the generator's next raw 64-bit output (one raw output). It makes *Source
// a math/rand/v2.Source.
func (s *Source) Uint64() uint64 { return s.pcg.Uint64() }

// Uniform returns a uniform variate on [0, 1) with 53 random bits: the top 53 bits of one
// raw output times 2⁻⁵³. It consumes one raw output.
func (s *Source) Uniform() float64 { return float64(s.pcg.Uint64()>>11) * 0x1p-53 }

// UniformOpen returns a uniform variate on the open interval (0, 1): (k + ½)·2⁻⁵² for the top
// 52 bits k of one raw output, so it is never 0 or 1 and is symmetric about ½ (the smallest
// value is 2⁻⁵³, the largest 1 − 2⁻⁵³). Use it where an endpoint would be mapped to an
// infinity, as by an inverse CDF. It consumes one raw output.
func (s *Source) UniformOpen() float64 {
	return (float64(s.pcg.Uint64()>>12) + 0.5) * 0x1p-52
}

// Between returns a + (b − a)·Uniform(), a uniform variate on [a, b) (rounding may give b
// itself when b − a is not exact). It consumes one raw output.
func (s *Source) Between(a, b float64) float64 { return a + (b-a)*s.Uniform() }

// Normal returns a standard normal variate by the Box–Muller transform of two uniforms,
// u1 = 1 − Uniform() in (0, 1] and u2 = Uniform():
//
//	z = √(−2 ln u1) · cos(2π u2)
//
// The second variate of the pair, √(−2 ln u1)·sin(2π u2), is discarded (see NormalPair), so
// that every call consumes exactly two raw outputs. |z| ≤ √(106 ln 2) ≈ 8.57.
func (s *Source) Normal() float64 {
	u1 := 1 - s.Uniform()
	u2 := s.Uniform()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// NormalPair returns both standard normal variates of one Box–Muller transform, from the
// same two raw outputs as Normal: z1 is the value Normal would return and z2 =
// √(−2 ln u1)·sin(2π u2) is independent of it. It consumes two raw outputs.
func (s *Source) NormalPair() (z1, z2 float64) {
	u1 := 1 - s.Uniform()
	u2 := s.Uniform()
	r := math.Sqrt(-2 * math.Log(u1))
	sn, cs := math.Sincos(2 * math.Pi * u2)
	return r * cs, r * sn
}

// IntN returns a uniform integer in [0, n) by Lemire's multiply-and-reject method (unbiased).
// It consumes one raw output, and another with probability below n/2⁶⁴. It panics when
// n ≤ 0.
func (s *Source) IntN(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("rng: IntN(%d): n must be positive", n))
	}
	un := uint64(n)
	hi, lo := bits.Mul64(s.pcg.Uint64(), un)
	if lo < un {
		thresh := -un % un // 2⁶⁴ mod n
		for lo < thresh {
			hi, lo = bits.Mul64(s.pcg.Uint64(), un)
		}
	}
	return int(hi)
}

// Shuffle permutes n elements by the Fisher–Yates algorithm, calling swap(i, j) to exchange
// elements i and j; it draws IntN(i+1) for i = n−1 down to 1. It panics when n < 0.
func (s *Source) Shuffle(n int, swap func(i, j int)) {
	if n < 0 {
		panic(fmt.Sprintf("rng: Shuffle(%d): n must not be negative", n))
	}
	for i := n - 1; i > 0; i-- {
		swap(i, s.IntN(i+1))
	}
}

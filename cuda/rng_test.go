//go:build cuda || cudaemu

package cuda

import (
	"math"
	"testing"
)

// TestPhiloxKnownAnswers checks the generator against the known-answer vectors of Random123
// (kat_vectors, philox4x32 with 10 rounds): counter, key → output.
func TestPhiloxKnownAnswers(t *testing.T) {
	cases := []struct{ ctr, key, want []uint32 }{
		{[]uint32{0, 0, 0, 0}, []uint32{0, 0}, []uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, []uint32{0xffffffff, 0xffffffff},
			[]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, []uint32{0xa4093822, 0x299f31d0},
			[]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		got, err := Philox4x32(c.ctr, c.key[0], c.key[1])
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if got[i] != c.want[i] {
				t.Errorf("philox(%08x, key %08x): word %d = %08x, want %08x", c.ctr, c.key, i, got[i], c.want[i])
			}
		}
	}
}

// TestUniformMoments checks the device uniforms' mean and variance (1/2, 1/12) within 5
// standard errors, and that a different key gives a different stream.
func TestUniformMoments(t *testing.T) {
	const n = 100003 // not a multiple of 4 or of the block size
	b := MustAlloc[float32](n)
	defer b.Free()
	must(Uniform(b, 42, 0))
	u, err := b.Host()
	must(err)
	var s, s2 float64
	for _, v := range u {
		if v < 0 || v >= 1 {
			t.Fatalf("uniform %v outside [0, 1)", v)
		}
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	mean := s / n
	vr := s2/n - mean*mean
	if math.Abs(mean-0.5) > 5*math.Sqrt(1.0/12/n) {
		t.Errorf("mean %v, want 0.5", mean)
	}
	if math.Abs(vr-1.0/12) > 5*math.Sqrt(1.0/180/n) {
		t.Errorf("variance %v, want 1/12", vr)
	}
	must(Uniform(b, 43, 0))
	u2, _ := b.Host()
	same := 0
	for i := range u {
		if u[i] == u2[i] {
			same++
		}
	}
	if same > 100 {
		t.Errorf("keys 42 and 43 agree on %d of %d values", same, n)
	}
}

package npy

import (
	"bytes"
	"testing"
)

// FuzzRead checks that Read never panics on arbitrary bytes, and that whatever it accepts
// writes back to a file that reads as the same array.
func FuzzRead(f *testing.F) {
	for _, h := range []string{goldenF8, goldenI8} {
		b, _ := hexDecode(h)
		f.Add(b)
	}
	f.Add([]byte(Magic + "\x01\x00\x10\x00{'shape': (3,)}"))
	f.Add([]byte(Magic + "\x02\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, shape, err := Read[float64](bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Write(&buf, a, shape...); err != nil {
			t.Fatalf("accepted array of shape %v does not write back: %v", shape, err)
		}
		b, shape2, err := Read[float64](&buf)
		if err != nil || len(b) != len(a) || len(shape2) != len(shape) {
			t.Fatalf("round trip: %v, %d vs %d elements", err, len(b), len(a))
		}
		if !bytes.Equal(float64Bytes(a), float64Bytes(b)) {
			t.Fatal("round trip changed the data")
		}
	})
}

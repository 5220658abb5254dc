package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Parse and Read: they must not panic, must agree, and
// whatever they accept must survive a Write/Parse round trip.
func FuzzRead(f *testing.F) {
	for _, name := range []string{"fixture.safetensors", "empty.safetensors"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4)))
	f.Add(file(`{"__metadata__":{"k":"v"}}`, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		tensors, meta, err := Parse(b)
		_, _, rerr := Read(bytes.NewReader(b))
		if (err == nil) != (rerr == nil) {
			t.Fatalf("Parse err %v, Read err %v", err, rerr)
		}
		if err != nil {
			return
		}
		list := make([]Tensor, 0, len(tensors))
		for _, t := range tensors {
			list = append(list, t)
		}
		enc, err := Encode(list, meta)
		if err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
		again, _, err := Parse(enc)
		if err != nil {
			t.Fatalf("parsing a re-encoded file: %v", err)
		}
		for name, x := range tensors {
			if y := again[name]; !bytes.Equal(x.Data, y.Data) || x.DType != y.DType {
				t.Fatalf("tensor %q changed in the round trip", name)
			}
		}
	})
}

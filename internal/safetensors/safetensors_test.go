package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixtureTensors restates the tensors of testdata/gen_fixture.py.
func fixtureTensors() []Tensor {
	return []Tensor{
		FromFloat32("weight", []int{2, 3}, []float32{-0.625, -0.375, -0.125, 0.125, 0.375, 0.625}),
		FromFloat32("bias", []int{3}, []float32{0.1, -1e-30, 3.4e38}),
		FromFloat32("scalar", []int{}, []float32{2}),
		FromFloat32("empty", []int{0, 3}, nil),
		FromFloat64("moment", []int{3}, []float64{1.0 / 3.0, math.Copysign(0, -1), 1e300}),
		FromInt64("step", []int{2}, []int64{7, -2}),
		{Name: "mask", DType: "U8", Shape: []int{3}, Data: []byte{1, 0, 255}},
	}
}

var fixtureMetadata = map[string]string{"note": "µ \"quoted\"\ttab\nline\x01"}

// TestMatchesReference checks Write byte for byte against files written by the reference
// implementation (testdata/gen_fixture.py, safetensors 0.8.0).
func TestMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		file     string
		tensors  []Tensor
		metadata map[string]string
	}{
		{"fixture.safetensors", fixtureTensors(), fixtureMetadata},
		{"empty.safetensors", nil, nil},
	} {
		want, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(tc.tensors, tc.metadata)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Write differs from the reference:\n got %q\nwant %q", tc.file, got, want)
		}
	}
}

// TestReadReference reads the reference file and compares every tensor with the values the
// generator wrote.
func TestReadReference(t *testing.T) {
	got, meta, err := ReadFile(filepath.Join("testdata", "fixture.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	checkTensors(t, got, fixtureTensors())
	if !reflect.DeepEqual(meta, fixtureMetadata) {
		t.Errorf("metadata %q, want %q", meta, fixtureMetadata)
	}
	w, _ := got["weight"].Float32()
	if w[5] != 0.625 {
		t.Errorf("weight[5] = %v, want 0.625", w[5])
	}
	m, _ := got["moment"].Float64()
	if !math.Signbit(m[1]) || m[2] != 1e300 {
		t.Errorf("moment = %v, want [1/3 -0 1e300]", m)
	}
	s, _ := got["step"].Int64()
	if s[0] != 7 || s[1] != -2 {
		t.Errorf("step = %v", s)
	}
	if _, err := got["step"].Float32(); err == nil || !strings.Contains(err.Error(), `"step" has dtype I64`) {
		t.Errorf("Float32 of an I64 tensor: err = %v", err)
	}
}

func checkTensors(t *testing.T, got map[string]Tensor, want []Tensor) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d tensors, want %d", len(got), len(want))
	}
	for _, w := range want {
		g, ok := got[w.Name]
		if !ok {
			t.Errorf("tensor %q missing", w.Name)
			continue
		}
		if g.Name != w.Name || g.DType != w.DType || !reflect.DeepEqual(append([]int{}, g.Shape...), append([]int{}, w.Shape...)) || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("tensor %q = %s %v %x, want %s %v %x", w.Name, g.DType, g.Shape, g.Data, w.DType, w.Shape, w.Data)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	tensors := fixtureTensors()
	meta := map[string]string{"b": "2", "a": "1", "format": "pt"}
	b, err := Encode(tensors, meta)
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(b); (8+n)%8 != 0 {
		t.Errorf("header length %d not padded to 8", n)
	}
	// Through the reader path and the slice path.
	got, gotMeta, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	checkTensors(t, got, tensors)
	if !reflect.DeepEqual(gotMeta, meta) {
		t.Errorf("metadata %v, want %v", gotMeta, meta)
	}
	got, _, err = Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	checkTensors(t, got, tensors)
	// Deterministic: the input order and repeated encodings do not matter.
	rev := append([]Tensor(nil), tensors...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b2, _ := Encode(rev, meta)
	if !bytes.Equal(b, b2) {
		t.Error("output depends on the order of the tensors")
	}
	// WriteFile then ReadFile.
	path := filepath.Join(t.TempDir(), "x.safetensors")
	if err := WriteFile(path, tensors, meta); err != nil {
		t.Fatal(err)
	}
	got, _, err = ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkTensors(t, got, tensors)
}

func TestWriteRejects(t *testing.T) {
	f := FromFloat32("a", []int{2}, []float32{1, 2})
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"shape", []Tensor{FromFloat32("a", []int{3}, []float32{1, 2})}, nil, `"a": shape [3] of F32 needs 12 bytes, data has 8`},
		{"negative", []Tensor{{Name: "a", DType: "F32", Shape: []int{-1}}}, nil, "negative dimension"},
		{"dtype", []Tensor{{Name: "a", DType: "F128", Shape: []int{}}}, nil, `unknown dtype "F128"`},
		{"duplicate", []Tensor{f, f}, nil, `duplicate tensor name "a"`},
		{"reserved", []Tensor{{Name: MetadataKey, DType: "U8", Shape: []int{0}}}, nil, "reserved"},
		{"empty name", []Tensor{{DType: "U8", Shape: []int{0}}}, nil, "empty tensor name"},
		{"utf8", nil, map[string]string{"k": "\xff"}, "not UTF-8"},
	} {
		var b bytes.Buffer
		err := Write(&b, tc.tensors, tc.meta)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
		if b.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", tc.name, b.Len())
		}
	}
}

// file builds a file from a raw header and buffer.
func file(header string, buf []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), buf...)
}

func TestReadRejects(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "fixture.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	hugeLen := binary.LittleEndian.AppendUint64(nil, MaxHeaderSize+1)
	longLen := binary.LittleEndian.AppendUint64(nil, 1000)
	const a = `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`
	buf8 := make([]byte, 8)
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "shorter than the 8-byte header length"},
		{"header too large", append(hugeLen, '{', '}'), "exceeds the limit"},
		{"header past end", append(longLen, '{', '}'), "runs past the end"},
		{"truncated buffer", good[:len(good)-1], "truncated"},
		{"trailing bytes", append(append([]byte{}, good...), 0), "trailing bytes"},
		{"not json", file("xx", nil), "does not start with '{'"},
		{"bad json", file(`{"a":`, nil), "header"},
		{"not utf8", file("{\"\xff\":1}", nil), "UTF-8"},
		{"json after object", file(`{} {}`, nil), "data after the JSON object"},
		{"duplicate key", file(`{`+a+`,`+a+`}`, buf8), `duplicate key "a"`},
		{"unknown dtype", file(`{"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}}`, buf8), `"a": unknown dtype "F7"`},
		{"negative shape", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, buf8), `"a": bad header entry`},
		{"missing field", file(`{"a":{"dtype":"F32","shape":[2]}}`, buf8), `"a": header entry needs`},
		{"unknown field", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}`, buf8), `"a": bad header entry`},
		{"three offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,9]}}`, buf8), `"a": data_offsets has 3 values`},
		{"reversed offsets", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, buf8), `"a": data_offsets [8,0] end before`},
		{"size mismatch", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, buf8), `"a": shape [3] of F32 needs 12 bytes`},
		{"shape overflow", file(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, buf8), `"a": shape`},
		{"offset huge", file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551614,18446744073709551615]}}`, buf8), `"a": data_offsets`},
		{"gap", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8), `"a": data_offsets [4,8] leave a gap`},
		{"overlap", file(`{`+a+`,"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8), "overlap"},
		{"beyond buffer", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, buf8), "truncated"},
		{"metadata not strings", file(`{"__metadata__":{"k":1}}`, nil), "__metadata__ is not an object of strings"},
		{"metadata null", file(`{"__metadata__":null}`, nil), "__metadata__"},
		{"empty name", file(`{"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil), "empty tensor name"},
	} {
		_, _, err := Parse(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Parse err = %v, want it to mention %q", tc.name, err, tc.want)
		}
		if _, _, err := Read(bytes.NewReader(tc.b)); err == nil {
			t.Errorf("%s: Read accepted it", tc.name)
		}
	}
}

// TestReadTruncatedEverywhere cuts the reference file at every length: all must fail.
func TestReadTruncatedEverywhere(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "fixture.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(good); n++ {
		if _, _, err := Parse(good[:n]); err == nil {
			t.Fatalf("Parse accepted the file cut at %d of %d bytes", n, len(good))
		}
		if _, _, err := Read(bytes.NewReader(good[:n])); err == nil {
			t.Fatalf("Read accepted the file cut at %d of %d bytes", n, len(good))
		}
	}
}

// TestReadHugeClaim: a header that claims a large buffer must fail on a short stream
// without allocating the claimed size up front.
func TestReadHugeClaim(t *testing.T) {
	b := file(`{"a":{"dtype":"U8","shape":[1099511627776],"data_offsets":[0,1099511627776]}}`, []byte{1})
	if _, _, err := Read(bytes.NewReader(b)); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("err = %v, want truncated", err)
	}
}

func TestZeroSizedNeighbours(t *testing.T) {
	// Zero-sized tensors may sit at the same offset as a neighbour (as the reference writes).
	b := file(`{"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"f":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, make([]byte, 4))
	got, _, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("read %d tensors, want 3", len(got))
	}
}

// TestReadAllDTypes: every dtype of the reference (Sub-byte ones aside) reads and writes,
// including C64 and the F8 types that github.com/nlpodyssey/safetensors rejects (doc.go).
func TestReadAllDTypes(t *testing.T) {
	for _, d := range dtypes {
		in := []Tensor{{Name: "x", DType: d.name, Shape: []int{2}, Data: bytes.Repeat([]byte{7}, 2*d.size)}}
		b, err := Encode(in, nil)
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		got, _, err := Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		checkTensors(t, got, in)
	}
}

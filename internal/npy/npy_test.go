package npy

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The golden files below are the bytes numpy 2.4.6 np.save writes for
// np.arange(6, dtype='<f8').reshape(2, 3), np.array([1.5, -2], dtype='<f4') and
// np.array(7, dtype='<i8').
const (
	goldenF8 = "934e554d5059010076007b276465736372273a20273c6638272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c2033292c207d202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000000000000000000000000000f03f0000000000000040000000000000084000000000000010400000000000001440"
	goldenF4 = "934e554d5059010076007b276465736372273a20273c6634272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028322c292c207d2020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0000c03f000000c0"
	goldenI8 = "934e554d5059010076007b276465736372273a20273c6938272c2027666f727472616e5f6f72646572273a2046616c73652c20277368617065273a2028292c207d20202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020202020200a0700000000000000"
)

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

// float64Bytes returns the little-endian bytes of v.
func float64Bytes(v []float64) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.LittleEndian, v)
	return buf.Bytes()
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hexDecode(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteMatchesNumpy(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []float64{0, 1, 2, 3, 4, 5}, 2, 3); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), mustHex(t, goldenF8)) {
		t.Errorf("f8 (2,3):\n got %x\nwant %s", buf.Bytes(), goldenF8)
	}
	buf.Reset()
	if err := Write(&buf, []float32{1.5, -2}, 2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), mustHex(t, goldenF4)) {
		t.Errorf("f4 (2,):\n got %x\nwant %s", buf.Bytes(), goldenF4)
	}
	buf.Reset()
	if err := Write(&buf, []int64{7}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), mustHex(t, goldenI8)) {
		t.Errorf("i8 ():\n got %x\nwant %s", buf.Bytes(), goldenI8)
	}
}

func TestReadNumpyGolden(t *testing.T) {
	d, shape, err := Read[float64](bytes.NewReader(mustHex(t, goldenF8)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(shape, []int{2, 3}) || !reflect.DeepEqual(d, []float64{0, 1, 2, 3, 4, 5}) {
		t.Errorf("got %v %v", shape, d)
	}
	f, shape, err := Read[float32](bytes.NewReader(mustHex(t, goldenF4)))
	if err != nil || !reflect.DeepEqual(shape, []int{2}) || !reflect.DeepEqual(f, []float32{1.5, -2}) {
		t.Errorf("got %v %v %v", shape, f, err)
	}
}

// TestHeaderSpec checks the preamble against the format 1.0 rules for many shapes: magic,
// version, little-endian header length, total length a multiple of 64, the dict literal
// followed by spaces only and a final '\n'.
func TestHeaderSpec(t *testing.T) {
	shapes := [][]int{{}, {0}, {1}, {7}, {3, 4}, {123456789, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	for _, shape := range shapes {
		h, err := Header("<f8", shape)
		if err != nil {
			t.Fatal(err)
		}
		if string(h[:6]) != Magic || h[6] != 1 || h[7] != 0 {
			t.Errorf("%v: bad magic/version % x", shape, h[:8])
		}
		hlen := int(binary.LittleEndian.Uint16(h[8:10]))
		if 10+hlen != len(h) {
			t.Errorf("%v: header length field %d, preamble %d bytes", shape, hlen, len(h))
		}
		if len(h)%Align != 0 {
			t.Errorf("%v: preamble of %d bytes is not a multiple of %d", shape, len(h), Align)
		}
		if h[len(h)-1] != '\n' {
			t.Errorf("%v: header does not end in newline", shape)
		}
		dict := string(h[10 : len(h)-1])
		trimmed := strings.TrimRight(dict, " ")
		if !strings.HasPrefix(trimmed, "{'descr': '<f8', 'fortran_order': False, 'shape': (") ||
			!strings.HasSuffix(trimmed, "), }") {
			t.Errorf("%v: dict %q", shape, trimmed)
		}
		if strings.ContainsAny(dict, "\n\t") {
			t.Errorf("%v: dict has a newline or tab before the end", shape)
		}
	}
	if _, err := Header("<f8", []int{-1}); err == nil {
		t.Error("negative dimension accepted")
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	data := []float64{math.Pi, -0, math.Inf(1), math.SmallestNonzeroFloat64, 1e300, 2, 3, 4, 5, 6, 7, 8}
	for _, shape := range [][]int{{12}, {3, 4}, {2, 3, 2}} {
		path := filepath.Join(dir, "a.npy")
		if err := WriteFile(path, data, shape...); err != nil {
			t.Fatal(err)
		}
		got, gotShape, err := ReadFile[float64](path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotShape, shape) {
			t.Errorf("shape %v, want %v", gotShape, shape)
		}
		for i := range data {
			if math.Float64bits(got[i]) != math.Float64bits(data[i]) {
				t.Errorf("element %d: %v, want %v", i, got[i], data[i])
			}
		}
	}
	var buf bytes.Buffer
	if err := Write(&buf, []int32{1, -2, 3}, 3); err != nil {
		t.Fatal(err)
	}
	ints, _, err := Read[int32](&buf)
	if err != nil || !reflect.DeepEqual(ints, []int32{1, -2, 3}) {
		t.Errorf("int32 round trip: %v %v", ints, err)
	}
}

func TestErrors(t *testing.T) {
	if err := Write(new(bytes.Buffer), []float64{1, 2}, 3); err == nil {
		t.Error("shape/data mismatch accepted")
	}
	if _, _, err := Read[float32](bytes.NewReader(mustHex(t, goldenF8))); err == nil {
		t.Error("reading <f8 as float32 accepted")
	}
	if _, _, err := Read[float64](strings.NewReader("not an npy file")); err == nil {
		t.Error("bad magic accepted")
	}
	trunc := mustHex(t, goldenF8)
	if _, _, err := Read[float64](bytes.NewReader(trunc[:len(trunc)-3])); err == nil {
		t.Error("truncated data accepted")
	}
}

// TestReadHeader: the preamble of numpy's own file (goldenF8) gives its descr, shape and the
// data offset, 128 bytes (a multiple of Align), without reading the data.
func TestReadHeader(t *testing.T) {
	b := mustHex(t, goldenF8)
	r := bytes.NewReader(b)
	h, err := ReadHeader(r)
	if err != nil {
		t.Fatal(err)
	}
	if h.Descr != "<f8" || !reflect.DeepEqual(h.Shape, []int{2, 3}) || h.DataOff != 128 || h.Elements() != 6 {
		t.Errorf("header %+v, want <f8 [2 3] at offset 128", h)
	}
	if rest := r.Len(); rest != 6*8 {
		t.Errorf("%d bytes left after the header, want 48", rest)
	}
	if _, err := ReadHeader(bytes.NewReader(b[:20])); err == nil {
		t.Error("truncated header accepted")
	}
}

// preamble builds a .npy preamble of the given major version around dict (no padding).
func preamble(major byte, dict string) []byte {
	b := append([]byte(Magic), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(dict)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(dict)))
	}
	return append(b, dict...)
}

// TestReadHeaderVariants pins the reader behaviours that made codeberg.org/sbinet/npyio
// v0.14.0 unfit as a replacement (see doc.go): a dict without the trailing ", " must give the
// full shape, format 3.0 must read, Fortran order and negative dimensions must be rejected,
// and malformed dicts must fail with an error, not a panic.
func TestReadHeaderVariants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		b     []byte
		shape []int // nil: must fail
	}{
		{"no trailer", preamble(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)}\n"), []int{2, 3}},
		{"version 2.0", preamble(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }\n"), []int{4}},
		{"version 3.0", preamble(3, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }\n"), []int{4}},
		{"fortran order", preamble(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (1, 1), }\n"), nil},
		{"negative dim", preamble(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }\n"), nil},
		{"no newline", preamble(1, "{'shape': (3,)}"), nil},
		{"version 4.0", preamble(4, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }\n"), nil},
	} {
		h, err := ReadHeader(bytes.NewReader(tc.b))
		switch {
		case tc.shape == nil && err == nil:
			t.Errorf("%s: accepted, shape %v", tc.name, h.Shape)
		case tc.shape != nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.shape != nil && (!reflect.DeepEqual(h.Shape, tc.shape) || h.DataOff != int64(len(tc.b))):
			t.Errorf("%s: shape %v at %d, want %v at %d", tc.name, h.Shape, h.DataOff, tc.shape, len(tc.b))
		}
	}
	// npyio panics (slice bounds) on a '}' before the keys; here it must just return.
	ReadHeader(bytes.NewReader(preamble(1, "{}'descr': '<f8', 'fortran_order': False, 'shape': (3,), }\n")))
}

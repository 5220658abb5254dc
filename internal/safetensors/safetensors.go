package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mlcu/mlcu/internal/atomicfile"
)

// MaxHeaderSize is the largest header, in bytes, that Read accepts (the reference
// implementation's limit).
const MaxHeaderSize = 100_000_000

// MetadataKey is the reserved header key that holds the string-to-string metadata; no
// tensor may have this name.
const MetadataKey = "__metadata__"

// Tensor is one named tensor: its dtype (a safetensors dtype name such as "F32"), its shape
// (an empty shape is a scalar) and its raw little-endian, C-ordered bytes.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// dtypes lists the supported dtypes in the reference implementation's enum order, which
// fixes the order of tensors in a written file (descending), with their sizes in bytes.
// Sub-byte dtypes (F4, F6_*) are not supported.
var dtypes = []struct {
	name string
	size int
}{
	{"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
	{"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2},
	{"I32", 4}, {"U32", 4}, {"F32", 4}, {"C64", 8}, {"F64", 8}, {"I64", 8}, {"U64", 8},
}

// dtypeInfo returns the rank of dtype in the reference order and its size in bytes; ok is
// false for an unknown dtype.
func dtypeInfo(dtype string) (rank, size int, ok bool) {
	for i, d := range dtypes {
		if d.name == dtype {
			return i, d.size, true
		}
	}
	return 0, 0, false
}

// DTypeSize returns the size in bytes of one element of dtype, and false for a dtype this
// package does not know.
func DTypeSize(dtype string) (int, bool) {
	_, size, ok := dtypeInfo(dtype)
	return size, ok
}

// numBytes returns the byte length of a tensor of the given shape and element size, with
// an error on negative dimensions or overflow.
func numBytes(shape []int, size int) (int, error) {
	n := uint64(size)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, fmt.Errorf("shape %v too large", shape)
		}
		n = lo
	}
	return int(n), nil
}

// NumElements returns the number of elements of shape (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Write writes tensors and metadata (which may be nil) to w in the safetensors format. It
// returns an error, before writing anything, for an unknown dtype, a negative dimension, data
// whose length does not match shape × dtype size, an empty, duplicate, reserved or non-UTF-8
// name, or non-UTF-8 metadata.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, err := encodeHeader(tensors, metadata)
	if err != nil {
		return err
	}
	var pre [8]byte
	binary.LittleEndian.PutUint64(pre[:], uint64(len(header)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	for _, t := range sortedForWrite(tensors) {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// Encode returns the bytes Write would write.
func Encode(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, tensors, metadata); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteFile writes tensors and metadata to path atomically (internal/atomicfile): on error
// path is left as it was. Errors name the path.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	if err := atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		return Write(w, tensors, metadata)
	}); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// sortedForWrite returns the tensors in the reference implementation's order: dtype rank
// descending (largest alignment first), then name.
func sortedForWrite(tensors []Tensor) []Tensor {
	s := slices.Clone(tensors)
	sort.SliceStable(s, func(i, j int) bool {
		ri, _, _ := dtypeInfo(s[i].DType)
		rj, _, _ := dtypeInfo(s[j].DType)
		if ri != rj {
			return ri > rj
		}
		return s[i].Name < s[j].Name
	})
	return s
}

func encodeHeader(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	seen := make(map[string]bool, len(tensors))
	for _, t := range tensors {
		switch {
		case t.Name == "":
			return nil, errors.New("safetensors: empty tensor name")
		case t.Name == MetadataKey:
			return nil, fmt.Errorf("safetensors: tensor name %q is reserved", t.Name)
		case !utf8.ValidString(t.Name):
			return nil, fmt.Errorf("safetensors: tensor name %q is not UTF-8", t.Name)
		case seen[t.Name]:
			return nil, fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		seen[t.Name] = true
		_, size, ok := dtypeInfo(t.DType)
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		n, err := numBytes(t.Shape, size)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %v", t.Name, err)
		}
		if n != len(t.Data) {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v of %s needs %d bytes, data has %d",
				t.Name, t.Shape, t.DType, n, len(t.Data))
		}
	}
	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k, v := range metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return nil, fmt.Errorf("safetensors: metadata %q is not UTF-8", k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writeString(&h, MetadataKey)
		h.WriteString(":{")
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeString(&h, k)
			h.WriteByte(':')
			writeString(&h, metadata[k])
		}
		h.WriteByte('}')
	}
	off := 0
	for i, t := range sortedForWrite(tensors) {
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		writeString(&h, t.Name)
		fmt.Fprintf(&h, `:{"dtype":"%s","shape":[`, t.DType)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			fmt.Fprint(&h, d)
		}
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, off+len(t.Data))
		off += len(t.Data)
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	return h.Bytes(), nil
}

// writeString writes s as a JSON string the way serde_json does: only '"', '\\' and control
// characters are escaped (\b \t \n \f \r, else \u00xx with lowercase hex); everything else,
// non-ASCII included, is written as is.
func writeString(b *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\b':
			b.WriteString(`\b`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\f':
			b.WriteString(`\f`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}

// Read reads a whole safetensors file from r and validates it (see Parse). It reads no
// further than the end the header announces, and rejects trailing bytes.
func Read(r io.Reader) (map[string]Tensor, map[string]string, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading header length: %w", truncated(err))
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n > MaxHeaderSize {
		return nil, nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	header, err := readN(r, int(n))
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading header of %d bytes: %w", n, truncated(err))
	}
	entries, metadata, err := parseHeader(header)
	if err != nil {
		return nil, nil, err
	}
	size := 0
	if len(entries) > 0 {
		size = entries[len(entries)-1].end
	}
	buf, err := readN(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: reading data buffer of %d bytes: %w", size, truncated(err))
	}
	var one [1]byte
	if k, _ := io.ReadFull(r, one[:]); k != 0 {
		return nil, nil, fmt.Errorf("safetensors: trailing bytes after the %d-byte data buffer", size)
	}
	return collect(entries, buf), metadata, nil
}

// ReadFile reads and validates the safetensors file at path; errors name the path.
func ReadFile(path string) (map[string]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	t, m, err := Parse(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, m, nil
}

// Parse validates the safetensors file held in b and returns its tensors by name and its
// metadata (nil when the header has none). The tensors' Data alias b.
func Parse(b []byte) (map[string]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, fmt.Errorf("safetensors: file of %d bytes is shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeaderSize {
		return nil, nil, fmt.Errorf("safetensors: header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(len(b)-8) {
		return nil, nil, fmt.Errorf("safetensors: header length %d runs past the end of the %d-byte file (truncated?)", n, len(b))
	}
	entries, metadata, err := parseHeader(b[8 : 8+n])
	if err != nil {
		return nil, nil, err
	}
	buf := b[8+n:]
	size := 0
	if len(entries) > 0 {
		size = entries[len(entries)-1].end
	}
	if size > len(buf) {
		return nil, nil, fmt.Errorf("safetensors: tensors need a %d-byte data buffer, file holds %d bytes (truncated?)", size, len(buf))
	}
	if size < len(buf) {
		return nil, nil, fmt.Errorf("safetensors: %d trailing bytes after the %d-byte data buffer", len(buf)-size, size)
	}
	return collect(entries, buf), metadata, nil
}

// entry is one tensor of a parsed header.
type entry struct {
	name       string
	dtype      string
	shape      []int
	begin, end int
}

func collect(entries []entry, buf []byte) map[string]Tensor {
	m := make(map[string]Tensor, len(entries))
	for _, e := range entries {
		m[e.name] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, Data: buf[e.begin:e.end:e.end]}
	}
	return m
}

// tensorInfo is a header entry as JSON; pointers tell missing fields from empty ones.
type tensorInfo struct {
	DType       *string   `json:"dtype"`
	Shape       *[]uint64 `json:"shape"`
	DataOffsets *[]uint64 `json:"data_offsets"`
}

// parseHeader decodes and validates a header, returning the tensors sorted by offset.
func parseHeader(h []byte) ([]entry, map[string]string, error) {
	if !utf8.Valid(h) {
		return nil, nil, errors.New("safetensors: header is not valid UTF-8")
	}
	if len(h) == 0 || h[0] != '{' {
		return nil, nil, errors.New("safetensors: header does not start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("safetensors: header: %v", err)
	}
	var entries []entry
	var metadata map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: header: %v", err)
		}
		name := tok.(string) // object keys are always strings
		if name == "" {
			return nil, nil, errors.New("safetensors: header: empty tensor name")
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("safetensors: header: duplicate key %q", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("safetensors: header: value of %q: %v", name, err)
		}
		if name == MetadataKey {
			if err := decodeStrict(raw, &metadata); err != nil || metadata == nil {
				return nil, nil, fmt.Errorf("safetensors: header: %s is not an object of strings", MetadataKey)
			}
			continue
		}
		e, err := parseEntry(name, raw)
		if err != nil {
			return nil, nil, err
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("safetensors: header: %v", err)
	}
	if rest := h[dec.InputOffset():]; strings.TrimLeft(string(rest), " \t\r\n") != "" {
		return nil, nil, errors.New("safetensors: header: data after the JSON object")
	}
	// Tensors must tile [0, end) exactly: sorted by (begin, end), each begins where the
	// previous one ended. Zero-sized tensors may share an offset with their neighbour.
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].begin != entries[j].begin {
			return entries[i].begin < entries[j].begin
		}
		return entries[i].end < entries[j].end
	})
	pos := 0
	for i, e := range entries {
		switch {
		case e.begin > pos:
			return nil, nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d,%d] leave a gap after offset %d", e.name, e.begin, e.end, pos)
		case e.begin < pos:
			return nil, nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d,%d] overlap tensor %q", e.name, e.begin, e.end, entries[i-1].name)
		}
		pos = e.end
	}
	return entries, metadata, nil
}

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func parseEntry(name string, raw []byte) (entry, error) {
	fail := func(format string, args ...any) (entry, error) {
		return entry{}, fmt.Errorf("safetensors: tensor %q: "+format, append([]any{name}, args...)...)
	}
	var info tensorInfo
	if err := decodeStrict(raw, &info); err != nil {
		return fail("bad header entry: %v", err)
	}
	if info.DType == nil || info.Shape == nil || info.DataOffsets == nil {
		return fail("header entry needs dtype, shape and data_offsets")
	}
	_, size, ok := dtypeInfo(*info.DType)
	if !ok {
		return fail("unknown dtype %q", *info.DType)
	}
	shape := make([]int, len(*info.Shape))
	for i, d := range *info.Shape {
		if d > math.MaxInt {
			return fail("dimension %d too large", d)
		}
		shape[i] = int(d)
	}
	n, err := numBytes(shape, size)
	if err != nil {
		return fail("%v", err)
	}
	off := *info.DataOffsets
	if len(off) != 2 {
		return fail("data_offsets has %d values, want 2", len(off))
	}
	if off[0] > off[1] {
		return fail("data_offsets [%d,%d] end before they begin", off[0], off[1])
	}
	if off[1] > math.MaxInt {
		return fail("data_offsets [%d,%d] out of range", off[0], off[1])
	}
	if off[1]-off[0] != uint64(n) {
		return fail("shape %v of %s needs %d bytes, data_offsets [%d,%d] span %d",
			shape, *info.DType, n, off[0], off[1], off[1]-off[0])
	}
	return entry{name: name, dtype: *info.DType, shape: shape, begin: int(off[0]), end: int(off[1])}, nil
}

// readN reads exactly n bytes, growing the buffer as data arrives so that a corrupt length
// cannot force a huge allocation up front.
func readN(r io.Reader, n int) ([]byte, error) {
	const chunk = 1 << 20
	if n <= chunk {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	var buf bytes.Buffer
	k, err := io.Copy(&buf, io.LimitReader(r, int64(n)))
	if err != nil {
		return nil, err
	}
	if k < int64(n) {
		return nil, io.ErrUnexpectedEOF
	}
	return buf.Bytes(), nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("unexpected end of file (truncated?)")
	}
	return err
}

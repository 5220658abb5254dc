package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/mlcu/mlcu/internal/atomicfile"
)

// Magic is the first six bytes of every .npy file.
const Magic = "\x93NUMPY"

// Align is the alignment, in bytes, of the start of the array data.
const Align = 64

// growthAxisMaxDigits is numpy's GROWTH_AXIS_MAX_DIGITS.
const growthAxisMaxDigits = 21

// Elem is the set of element types this package reads and writes.
type Elem interface {
	~float64 | ~float32 | ~int64 | ~int32
}

// descr returns the NumPy type descriptor of T.
func descr[T Elem]() string {
	var z T
	switch any(z).(type) {
	case float64:
		return "<f8"
	case float32:
		return "<f4"
	case int64:
		return "<i8"
	default:
		return "<i4"
	}
}

// Header returns the complete version-1.0 preamble (magic, version, header length and the
// padded header dict) for a C-ordered array of the given NumPy descr and shape. Its length
// is a multiple of Align.
func Header(descr string, shape []int) ([]byte, error) {
	var sb strings.Builder
	sb.WriteString("(")
	for i, n := range shape {
		if n < 0 {
			return nil, fmt.Errorf("npy: negative dimension %d in shape %v", n, shape)
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(n))
	}
	if len(shape) == 1 {
		sb.WriteString(",")
	}
	sb.WriteString(")")
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sb.String())
	// Like numpy.save (numpy/lib/format.py, GROWTH_AXIS_MAX_DIGITS), leave room for the
	// first axis to grow to 21 digits, so that the bytes match what numpy writes.
	grow := 0
	if len(shape) > 0 {
		grow = max(0, growthAxisMaxDigits-len(strconv.Itoa(shape[0])))
	}
	pre := len(Magic) + 2 + 2
	total := (pre + len(dict) + grow + 1 + Align - 1) / Align * Align
	hlen := total - pre
	if hlen > math.MaxUint16 {
		return nil, fmt.Errorf("npy: header of %d bytes too long for format 1.0", hlen)
	}
	buf := make([]byte, 0, total)
	buf = append(buf, Magic...)
	buf = append(buf, 1, 0)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(hlen))
	buf = append(buf, dict...)
	for len(buf) < total-1 {
		buf = append(buf, ' ')
	}
	return append(buf, '\n'), nil
}

// Write writes data as a C-ordered array of the given shape in .npy format 1.0. The
// product of shape must equal len(data); an empty shape is a 0-d array of one element.
func Write[T Elem](w io.Writer, data []T, shape ...int) error {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("npy: shape %v holds %d elements, data has %d", shape, n, len(data))
	}
	h, err := Header(descr[T](), shape)
	if err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := binary.Write(bw, binary.LittleEndian, data); err != nil {
		return err
	}
	return bw.Flush()
}

// WriteFile writes data to path as Write does, through a temporary file renamed into place,
// so that no partial file is left on error.
func WriteFile[T Elem](path string, data []T, shape ...int) error {
	return atomicfile.WriteFile(path, 0o644, func(w io.Writer) error {
		return Write(w, data, shape...)
	})
}

var (
	reDescr   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	reFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	reShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// readChunk is the number of elements Read reads at a time.
const readChunk = 1 << 16

// maxHeader bounds the header length accepted on read.
const maxHeader = 1 << 20

// HeaderInfo describes a .npy file's header: the NumPy type descriptor, the shape, and the
// length in bytes of the whole preamble (magic, version, header length, header dict), which
// is the offset of the first data byte.
type HeaderInfo struct {
	Descr   string
	Shape   []int
	DataOff int64
}

// Elements returns the number of elements the shape holds.
func (h HeaderInfo) Elements() int {
	n := 1
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

// ReadHeader reads the preamble of a .npy file (format 1.0, 2.0 or 3.0) from r and leaves r
// at the first data byte. It accepts C-ordered arrays only, whose number of elements fits in
// an int.
func ReadHeader(r io.Reader) (HeaderInfo, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return HeaderInfo{}, fmt.Errorf("npy: reading magic: %w", err)
	}
	if string(pre[:6]) != Magic {
		return HeaderInfo{}, errors.New("npy: not a .npy file (bad magic)")
	}
	var hlen, off int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return HeaderInfo{}, fmt.Errorf("npy: reading header length: %w", err)
		}
		hlen, off = int(binary.LittleEndian.Uint16(b[:])), 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return HeaderInfo{}, fmt.Errorf("npy: reading header length: %w", err)
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[:])), 12
	default:
		return HeaderInfo{}, fmt.Errorf("npy: unsupported format version %d.%d", pre[6], pre[7])
	}
	if hlen > maxHeader {
		return HeaderInfo{}, fmt.Errorf("npy: header length %d too large", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return HeaderInfo{}, fmt.Errorf("npy: reading header: %w", err)
	}
	h := string(hb)
	m := reDescr.FindStringSubmatch(h)
	if m == nil {
		return HeaderInfo{}, errors.New("npy: header has no 'descr'")
	}
	info := HeaderInfo{Descr: m[1], DataOff: int64(off + hlen)}
	if m := reFortran.FindStringSubmatch(h); m == nil || m[1] != "False" {
		return HeaderInfo{}, errors.New("npy: only C-ordered arrays (fortran_order False) are supported")
	}
	m = reShape.FindStringSubmatch(h)
	if m == nil {
		return HeaderInfo{}, errors.New("npy: header has no 'shape'")
	}
	n := 1
	for _, f := range strings.Split(m[1], ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := strconv.Atoi(strings.TrimSuffix(f, "L"))
		if err != nil || d < 0 {
			return HeaderInfo{}, fmt.Errorf("npy: bad shape (%s)", m[1])
		}
		if d > 0 && n > math.MaxInt/d {
			return HeaderInfo{}, fmt.Errorf("npy: shape (%s) too large", m[1])
		}
		n *= d
		info.Shape = append(info.Shape, d)
	}
	return info, nil
}

// Read reads a .npy array of element type T (format 1.0 or 2.0, C order, the descr of T)
// and returns its data and shape.
func Read[T Elem](r io.Reader) (data []T, shape []int, err error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, nil, err
	}
	if want := descr[T](); h.Descr != want {
		return nil, nil, fmt.Errorf("npy: array has dtype %q, want %q", h.Descr, want)
	}
	shape = h.Shape
	n := h.Elements()
	if n > math.MaxInt32 {
		return nil, nil, fmt.Errorf("npy: shape %v too large to read into memory", shape)
	}
	// Read in chunks, so that a header that promises more data than the file holds fails
	// at the end of the file instead of allocating the whole promised array first.
	data = make([]T, 0, min(n, readChunk))
	for len(data) < n {
		k := min(n-len(data), readChunk)
		chunk := make([]T, k)
		if err := binary.Read(r, binary.LittleEndian, chunk); err != nil {
			return nil, nil, fmt.Errorf("npy: reading %d elements: %w", n, err)
		}
		data = append(data, chunk...)
	}
	return data, shape, nil
}

// ReadFile reads the .npy file at path; see Read.
func ReadFile[T Elem](path string) ([]T, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, shape, err := Read[T](bufio.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, shape, nil
}

// Package npy reads and writes NumPy .npy files (format version 1.0, and 2.0 on read) so
// that arrays written by mlcu load with numpy.load and arrays written by numpy load here.
//
// Only little-endian, C-ordered arrays of float64 ('<f8'), float32 ('<f4'), int64 ('<i8')
// and int32 ('<i4') are supported. The format is specified in
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html: the magic string
// "\x93NUMPY", a major and minor version byte, a little-endian header length (uint16 in
// version 1.0, uint32 in 2.0), then an ASCII Python dict literal with the keys 'descr',
// 'fortran_order' and 'shape', padded with spaces and terminated by '\n' so that the data
// that follows starts at a multiple of 64 bytes, then the raw array data.
package npy

// Why this package is hand-written rather than a thin adapter over codeberg.org/sbinet/npyio
// (evaluated at v0.14.0; each point was checked by running the library):
//
//   - Write/Header: npyio always writes format 2.0 and pads the header to no fixed
//     alignment (a (6,) float64 array gets a 76-byte preamble). numpy writes 1.0 and pads to
//     64 bytes, leaving room for the first axis to grow to 21 digits. TestWriteMatchesNumpy
//     compares bytes with numpy's, and train's shard writer streams the data after Header, so
//     the writer cannot go through npyio. npyio also takes its shape from the Go value, not
//     from a separate shape argument.
//   - ReadHeader: npyio's Reader does not report the data offset (HeaderInfo.DataOff, which
//     train reads shards by), and it rejects format 3.0.
//   - Read: npyio's header parser panics on malformed dicts (a slice out of bounds when the
//     dict has no '\n', or a '}' before the keys), and it allocates a header length of up to
//     4 GiB and the whole claimed array before reading. It silently misreads some input:
//     shape (2, 3) without the trailing ", " comes out as [2], fortran_order True data is
//     returned in column order, and a negative dimension gives an empty array with no
//     error. Its errors do not say what is wrong ("npy: types don't match", a bare "EOF").
//     TestReadHeaderVariants and FuzzRead pin these cases.
//
// The rest is a few lines of encoding/binary, so a wrapper around the library would add a
// dependency and save no code.

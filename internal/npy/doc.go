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

package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"
)

// FromFloat32 returns a tensor of dtype F32 holding a little-endian copy of data. It does
// not check shape against len(data); Write does.
func FromFloat32(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 0, 4*len(data))
	for _, v := range data {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return Tensor{Name: name, DType: "F32", Shape: shape, Data: b}
}

// FromFloat64 returns a tensor of dtype F64 holding a little-endian copy of data.
func FromFloat64(name string, shape []int, data []float64) Tensor {
	b := make([]byte, 0, 8*len(data))
	for _, v := range data {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return Tensor{Name: name, DType: "F64", Shape: shape, Data: b}
}

// FromInt64 returns a tensor of dtype I64 holding a little-endian copy of data.
func FromInt64(name string, shape []int, data []int64) Tensor {
	b := make([]byte, 0, 8*len(data))
	for _, v := range data {
		b = binary.LittleEndian.AppendUint64(b, uint64(v))
	}
	return Tensor{Name: name, DType: "I64", Shape: shape, Data: b}
}

func (t Tensor) check(dtype string, size int) error {
	if t.DType != dtype {
		return fmt.Errorf("safetensors: tensor %q has dtype %s, want %s", t.Name, t.DType, dtype)
	}
	if len(t.Data)%size != 0 {
		return fmt.Errorf("safetensors: tensor %q: %d bytes is not a whole number of %s elements", t.Name, len(t.Data), dtype)
	}
	return nil
}

// Float32 returns the elements of an F32 tensor; it fails for any other dtype.
func (t Tensor) Float32() ([]float32, error) {
	if err := t.check("F32", 4); err != nil {
		return nil, err
	}
	out := make([]float32, len(t.Data)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Float64 returns the elements of an F64 tensor; it fails for any other dtype.
func (t Tensor) Float64() ([]float64, error) {
	if err := t.check("F64", 8); err != nil {
		return nil, err
	}
	out := make([]float64, len(t.Data)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

// Int64 returns the elements of an I64 tensor; it fails for any other dtype.
func (t Tensor) Int64() ([]int64, error) {
	if err := t.check("I64", 8); err != nil {
		return nil, err
	}
	out := make([]int64, len(t.Data)/8)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return out, nil
}

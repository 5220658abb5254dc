//go:build cuda || cudaemu

package cuda

/*
#cgo CFLAGS: -I${SRCDIR}/../kernels
#cgo cudaemu,!mlcu_asan,!mlcu_tsan LDFLAGS: ${SRCDIR}/../build/cudaemu/libmlcu_cudaemu.a -lstdc++ -lm -lpthread
#cgo cudaemu,mlcu_asan LDFLAGS: ${SRCDIR}/../build/cudaemu-asan/libmlcu_cudaemu.a -fsanitize=address,undefined -lstdc++ -lm -lpthread
#cgo cudaemu,mlcu_tsan LDFLAGS: ${SRCDIR}/../build/cudaemu-tsan/libmlcu_cudaemu.a -fsanitize=thread -lstdc++ -lm -lpthread
#cgo cuda LDFLAGS: ${SRCDIR}/../build/cuda/libmlcu_cuda.a -L/usr/local/cuda/lib64 -L/usr/lib/x86_64-linux-gnu -lcudart_static -ldl -lrt -lpthread -lstdc++ -lm
#include <stdlib.h>
#include "mlcu_cuda.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// Available reports whether this binary was built with a CUDA library (real or emulated).
func Available() bool { return true }

// Emulated reports whether the library is the emulation build (kernels on host threads).
func Emulated() bool { return C.mlcu_is_emulation() != 0 }

// Error is a CUDA error code returned by the C ABI, with the operation that returned it.
type Error struct {
	Op   string
	Code int
}

func (e *Error) Error() string {
	return fmt.Sprintf("cuda: %s: %s (error %d)", e.Op, C.GoString(C.mlcu_error_string(C.int(e.Code))), e.Code)
}

// check turns an ABI return code into an error; while profiling (StartProfile) it also
// times the call.
func check(op string, code C.int) error {
	if profiling.Load() {
		profileOp(op)
	}
	if code == 0 {
		return nil
	}
	return &Error{Op: op, Code: int(code)}
}

// must panics on a non-nil error: for ABI calls whose only failures are programming errors
// or a lost device, the way nn's ops panic on bad sizes.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Device describes one CUDA device as the runtime sees it.
type Device struct {
	Index      int
	Name       string
	TotalMem   uint64 // bytes
	CCMajor    int    // compute capability
	CCMinor    int
	SMs        int
	SmemOptin  uint64 // bytes of shared memory one block may use
	RuntimeVer int    // CUDA runtime version (1000·major + 10·minor; 0 in emulation)
	DriverVer  int    // the driver's CUDA version (0 in emulation)
}

// Devices lists the devices the CUDA runtime sees. On a machine without a GPU or driver it
// returns the runtime's error (for example "no CUDA-capable device is detected").
func Devices() ([]Device, error) {
	var n C.int
	if err := check("device count", C.mlcu_device_count(&n)); err != nil {
		return nil, err
	}
	var rt, drv C.int
	_ = C.mlcu_runtime_version(&rt, &drv)
	out := make([]Device, 0, int(n))
	for i := 0; i < int(n); i++ {
		var info C.mlcu_device_info_t
		if err := check("device info", C.mlcu_device_info(C.int(i), &info)); err != nil {
			return nil, err
		}
		out = append(out, Device{
			Index: i, Name: C.GoString(&info.name[0]), TotalMem: uint64(info.total_mem),
			CCMajor: int(info.cc_major), CCMinor: int(info.cc_minor), SMs: int(info.multiprocessors),
			SmemOptin: uint64(info.smem_per_block_optin), RuntimeVer: int(rt), DriverVer: int(drv),
		})
	}
	return out, nil
}

var (
	initOnce sync.Once
	initErr  error
)

// Init selects device 0 once and returns the error that made it fail, if any. Every
// allocation calls it.
func Init() error {
	initOnce.Do(func() {
		var n C.int
		if initErr = check("device count", C.mlcu_device_count(&n)); initErr != nil {
			return
		}
		if n == 0 {
			initErr = &Error{Op: "device count", Code: 100}
			return
		}
		initErr = check("set device", C.mlcu_set_device(0))
	})
	return initErr
}

// Synchronize waits for every launched kernel and returns the first error of one.
func Synchronize() error { return check("synchronize", C.mlcu_synchronize()) }

// Elem is an element type a device buffer may hold.
type Elem interface {
	~float32 | ~float64 | ~int32 | ~uint32 | ~uint64
}

// Buffer is n elements of T in device memory. Free it when done (buffers hold device
// memory the Go garbage collector does not see).
type Buffer[T Elem] struct {
	ptr unsafe.Pointer
	n   int
}

// Alloc returns a buffer of n elements (contents undefined).
func Alloc[T Elem](n int) (*Buffer[T], error) {
	if n < 0 {
		panic(fmt.Sprintf("cuda: Alloc: n = %d", n))
	}
	if err := Init(); err != nil {
		return nil, err
	}
	var zero T
	b := &Buffer[T]{n: n}
	if err := check("malloc", C.mlcu_malloc(&b.ptr, C.size_t(n)*C.size_t(unsafe.Sizeof(zero)))); err != nil {
		return nil, err
	}
	trackAlloc(b.ptr, n*int(unsafe.Sizeof(zero)))
	return b, nil
}

// MustAlloc is Alloc that panics on error.
func MustAlloc[T Elem](n int) *Buffer[T] {
	b, err := Alloc[T](n)
	must(err)
	return b
}

// FromHost returns a new buffer holding a copy of h.
func FromHost[T Elem](h []T) (*Buffer[T], error) {
	b, err := Alloc[T](len(h))
	if err != nil {
		return nil, err
	}
	if err := b.Upload(h); err != nil {
		b.Free()
		return nil, err
	}
	return b, nil
}

// MustFromHost is FromHost that panics on error.
func MustFromHost[T Elem](h []T) *Buffer[T] {
	b, err := FromHost(h)
	must(err)
	return b
}

// Len returns the number of elements.
func (b *Buffer[T]) Len() int { return b.n }

// Free releases the device memory; the buffer must not be used afterwards.
func (b *Buffer[T]) Free() {
	if b != nil && b.ptr != nil {
		trackFree(b.ptr)
		C.mlcu_free(b.ptr)
		b.ptr = nil
		b.n = 0
	}
}

func (b *Buffer[T]) elemSize() C.size_t {
	var zero T
	return C.size_t(unsafe.Sizeof(zero))
}

// Upload copies h into the first len(h) elements.
func (b *Buffer[T]) Upload(h []T) error {
	if len(h) > b.n {
		panic(fmt.Sprintf("cuda: Upload: %d elements into a buffer of %d", len(h), b.n))
	}
	if len(h) == 0 {
		return nil
	}
	return check("copy to device", C.mlcu_memcpy_htod(b.ptr, unsafe.Pointer(&h[0]), C.size_t(len(h))*b.elemSize()))
}

// Download copies the first len(h) elements into h (it waits for the kernels before it).
func (b *Buffer[T]) Download(h []T) error {
	if len(h) > b.n {
		panic(fmt.Sprintf("cuda: Download: %d elements from a buffer of %d", len(h), b.n))
	}
	if len(h) == 0 {
		return nil
	}
	return check("copy to host", C.mlcu_memcpy_dtoh(unsafe.Pointer(&h[0]), b.ptr, C.size_t(len(h))*b.elemSize()))
}

// Host returns a new slice with the buffer's contents.
func (b *Buffer[T]) Host() ([]T, error) {
	h := make([]T, b.n)
	return h, b.Download(h)
}

// Zero sets every element's bytes to 0.
func (b *Buffer[T]) Zero() error {
	return check("memset", C.mlcu_memset(b.ptr, 0, C.size_t(b.n)*b.elemSize()))
}

// CopyFrom copies src's elements into b (same length).
func (b *Buffer[T]) CopyFrom(src *Buffer[T]) error {
	if src.n != b.n {
		panic(fmt.Sprintf("cuda: CopyFrom: %d elements into %d", src.n, b.n))
	}
	return check("copy on device", C.mlcu_memcpy_dtod(b.ptr, src.ptr, C.size_t(b.n)*b.elemSize()))
}

// Slice returns a view of elements [lo, hi) sharing b's memory (do not Free a view).
func (b *Buffer[T]) Slice(lo, hi int) *Buffer[T] {
	if lo < 0 || hi < lo || hi > b.n {
		panic(fmt.Sprintf("cuda: Slice [%d, %d) of a buffer of %d", lo, hi, b.n))
	}
	return &Buffer[T]{ptr: unsafe.Add(b.ptr, uintptr(lo)*uintptr(b.elemSize())), n: hi - lo}
}

// ptrF32 etc. give the C pointer of a buffer for an ABI call (nil buffer → NULL).
func ptrF32(b *Buffer[float32]) *C.float {
	if b == nil {
		return nil
	}
	return (*C.float)(b.ptr)
}

func ptrF64(b *Buffer[float64]) *C.double {
	if b == nil {
		return nil
	}
	return (*C.double)(b.ptr)
}

func ptrU32(b *Buffer[uint32]) *C.uint32_t {
	if b == nil {
		return nil
	}
	return (*C.uint32_t)(b.ptr)
}

func ptrI32(b *Buffer[int32]) *C.int32_t {
	if b == nil {
		return nil
	}
	return (*C.int32_t)(b.ptr)
}

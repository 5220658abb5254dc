//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Available reports whether this binary was built with a CUDA library (real or emulated).
func Available() bool { return true }

// Emulated reports whether the library is the emulation build (kernels on host threads).
func Emulated() bool { return mlcuIsEmulation() }

// must panics on a non-nil error: for ABI calls whose only failures are programming errors
// or a lost device, the way nn's ops panic on bad sizes.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Devices lists the devices the CUDA runtime sees. On a machine without a GPU or driver it
// returns the runtime's error (for example "no CUDA-capable device is detected").
func Devices() ([]Device, error) {
	n, err := mlcuDeviceCount()
	if err != nil {
		return nil, err
	}
	rt, drv, _ := mlcuRuntimeVersion() // versions are informational: 0 when unknown
	out := make([]Device, 0, n)
	for i := range n {
		d, err := mlcuDeviceInfo(i)
		if err != nil {
			return nil, err
		}
		d.RuntimeVer, d.DriverVer = rt, drv
		out = append(out, d)
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
		var n int
		if n, initErr = mlcuDeviceCount(); initErr != nil {
			return
		}
		if n == 0 { // cudaErrorNoDevice
			initErr = &Error{Op: "device count", Func: "mlcu_device_count", Code: 100}
			return
		}
		initErr = mlcuSetDevice(0)
	})
	return initErr
}

// Synchronize waits for every launched kernel and returns the first error of one.
func Synchronize() error { return mlcuSynchronize() }

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
	if allocFault.Load() > 0 && allocFault.Add(-1) == 0 {
		return nil, &Error{Op: "malloc", Func: "mlcu_malloc", Code: 2} // cudaErrorMemoryAllocation
	}
	var zero T
	bytes := n * int(unsafe.Sizeof(zero))
	if bytes == 0 {
		// cudaMalloc(0) gives a null pointer, which Free skips: such a buffer holds nothing to
		// free or to track (tracked, the leak check reported it on a GPU; the emulation's
		// malloc gives a real pointer, so only a GPU showed it).
		return &Buffer[T]{}, nil
	}
	p, err := mlcuMalloc(bytes)
	if err != nil {
		return nil, err
	}
	trackAlloc(p, bytes)
	return &Buffer[T]{ptr: p, n: n}, nil
}

// allocFault, when k > 0, makes the k-th Alloc from now fail as out of device memory
// (cudaErrorMemoryAllocation) and is 0 again after it: the tests' way to reach every
// allocation's error path (TestConstructorsOutOfMemory).
var allocFault atomic.Int64

// Len returns the number of elements.
func (b *Buffer[T]) Len() int { return b.n }

// Free releases the device memory; the buffer must not be used afterwards.
func (b *Buffer[T]) Free() {
	if b != nil && b.ptr != nil {
		trackFree(b.ptr)
		_ = mlcuFree(b.ptr) // a failed free leaves nothing to do: the buffer is gone either way
		b.ptr = nil
		b.n = 0
	}
}

func (b *Buffer[T]) elemSize() int {
	var zero T
	return int(unsafe.Sizeof(zero))
}

// Upload copies h into the first len(h) elements.
func (b *Buffer[T]) Upload(h []T) error {
	if len(h) > b.n {
		panic(fmt.Sprintf("cuda: Upload: %d elements into a buffer of %d", len(h), b.n))
	}
	if len(h) == 0 {
		return nil
	}
	return mlcuMemcpyHtoD(b.ptr, unsafe.Pointer(&h[0]), len(h)*b.elemSize())
}

// Download copies the first len(h) elements into h (it waits for the kernels before it).
func (b *Buffer[T]) Download(h []T) error {
	if len(h) > b.n {
		panic(fmt.Sprintf("cuda: Download: %d elements from a buffer of %d", len(h), b.n))
	}
	if len(h) == 0 {
		return nil
	}
	return mlcuMemcpyDtoH(unsafe.Pointer(&h[0]), b.ptr, len(h)*b.elemSize())
}

// Host returns a new slice with the buffer's contents.
func (b *Buffer[T]) Host() ([]T, error) {
	h := make([]T, b.n)
	return h, b.Download(h)
}

// Zero sets every element's bytes to 0.
func (b *Buffer[T]) Zero() error {
	return mlcuMemset(b.ptr, 0, b.n*b.elemSize())
}

// CopyFrom copies src's elements into b (same length).
func (b *Buffer[T]) CopyFrom(src *Buffer[T]) error {
	if src.n != b.n {
		panic(fmt.Sprintf("cuda: CopyFrom: %d elements into %d", src.n, b.n))
	}
	return mlcuMemcpyDtoD(b.ptr, src.ptr, b.n*b.elemSize())
}

// Slice returns a view of elements [lo, hi) sharing b's memory (do not Free a view).
func (b *Buffer[T]) Slice(lo, hi int) *Buffer[T] {
	if lo < 0 || hi < lo || hi > b.n {
		panic(fmt.Sprintf("cuda: Slice [%d, %d) of a buffer of %d", lo, hi, b.n))
	}
	return &Buffer[T]{ptr: unsafe.Add(b.ptr, uintptr(lo)*uintptr(b.elemSize())), n: hi - lo}
}

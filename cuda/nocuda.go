//go:build !cuda && !cudaemu

package cuda

import "errors"

// ErrNotBuilt is returned by every entry point of a binary built without -tags cuda or
// -tags cudaemu.
var ErrNotBuilt = errors.New("cuda: this mlcu was built without CUDA (build with `make cuda`)")

// Available reports whether this binary was built with a CUDA library (real or emulated).
func Available() bool { return false }

// Emulated reports whether the library is the emulation build.
func Emulated() bool { return false }

// Device describes one CUDA device as the runtime sees it.
type Device struct {
	Index      int
	Name       string
	TotalMem   uint64
	CCMajor    int
	CCMinor    int
	SMs        int
	SmemOptin  uint64
	RuntimeVer int
	DriverVer  int
}

// Devices returns ErrNotBuilt.
func Devices() ([]Device, error) { return nil, ErrNotBuilt }

// Init returns ErrNotBuilt.
func Init() error { return ErrNotBuilt }

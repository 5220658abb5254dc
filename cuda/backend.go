package cuda

import "errors"

// ErrNotBuilt is returned by every entry point of a binary built without -tags cuda or
// -tags cudaemu.
var ErrNotBuilt = errors.New("cuda: this mlcu was built without CUDA (build with `make cuda`)")

// BuildName names the CUDA library this binary was built with: "cuda" (-tags cuda, nvcc),
// "cudaemu" (-tags cudaemu, kernels on host threads) or "none".
func BuildName() string {
	switch {
	case !Available():
		return "none"
	case Emulated():
		return "cudaemu"
	default:
		return "cuda"
	}
}

// Choice is the backend a command runs on and why.
type Choice struct {
	CUDA   bool   // run the CUDA kernels (real or emulated)
	Reason string // one line for the user
}

// Choose resolves --device: "cpu"; "cuda" (an error when this build has no CUDA library or
// the runtime finds no device); "auto" takes CUDA when the binary was built with -tags cuda
// and the runtime finds a device, else the CPU. Auto never picks the emulation build's
// emulated device, which exists for tests (ask for it with "cuda").
func Choose(device string) (Choice, error) {
	switch device {
	case "cpu":
		return Choice{Reason: "cpu: asked for with --device cpu"}, nil
	case "cuda":
		if !Available() {
			return Choice{}, ErrNotBuilt
		}
		if err := Init(); err != nil {
			return Choice{}, err
		}
		return Choice{CUDA: true, Reason: "cuda: asked for with --device cuda (" + deviceName() + ")"}, nil
	case "auto":
		switch {
		case !Available():
			return Choice{Reason: "cpu: this mlcu was built without CUDA (`make cuda` builds it with CUDA)"}, nil
		case Emulated():
			return Choice{Reason: "cpu: this is the emulation build (-tags cudaemu); --device cuda runs the emulated kernels"}, nil
		}
		if err := Init(); err != nil {
			return Choice{Reason: "cpu: built with CUDA but no usable GPU (" + err.Error() + ")"}, nil
		}
		return Choice{CUDA: true, Reason: "cuda: built with CUDA and a GPU is present (" + deviceName() + ")"}, nil
	}
	return Choice{}, &DeviceFlagError{Value: device}
}

// DeviceFlagError is Choose's error for a --device value other than auto, cpu or cuda.
type DeviceFlagError struct{ Value string }

func (e *DeviceFlagError) Error() string {
	return "--device " + e.Value + ": want auto, cpu or cuda"
}

func deviceName() string {
	ds, err := Devices()
	if err != nil || len(ds) == 0 {
		return "device 0"
	}
	return ds[0].Name
}

//go:build !(cgo && linux)

package cuda

import "errors"

// NVMLDevices needs cgo on Linux (go-nvml loads libnvidia-ml.so.1 through dlopen).
func NVMLDevices() (gpus []GPU, driver string, cudaVer int, err error) {
	return nil, "", 0, errors.New("nvml: this mlcu was built without cgo (or not for Linux): cannot query the driver")
}

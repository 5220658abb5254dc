//go:build !(cgo && linux)

package cuda

import "errors"

// GPU is one NVIDIA GPU as the driver's management library (NVML) describes it.
type GPU struct {
	Index    int
	Name     string
	TotalMem uint64
	CCMajor  int
	CCMinor  int
}

// NVMLDevices needs cgo on Linux (go-nvml loads libnvidia-ml.so.1 through dlopen).
func NVMLDevices() (gpus []GPU, driver string, cudaVer int, err error) {
	return nil, "", 0, errors.New("nvml: this mlcu was built without cgo (or not for Linux): cannot query the driver")
}

//go:build cgo && linux

package cuda

import (
	"fmt"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// NVMLDevices lists the GPUs through NVML (github.com/NVIDIA/go-nvml, which loads
// libnvidia-ml.so.1 at run time), with the driver's version and the CUDA version it
// supports. It needs no CUDA build and no toolkit, only the driver; without one it returns
// NVML's error (for example "ERROR_LIBRARY_NOT_FOUND").
func NVMLDevices() (gpus []GPU, driver string, cudaVer int, err error) {
	if r := nvml.Init(); r != nvml.SUCCESS {
		return nil, "", 0, fmt.Errorf("nvml: %s", nvml.ErrorString(r))
	}
	defer nvml.Shutdown()
	driver, _ = nvml.SystemGetDriverVersion()
	cudaVer, _ = nvml.SystemGetCudaDriverVersion()
	n, r := nvml.DeviceGetCount()
	if r != nvml.SUCCESS {
		return nil, driver, cudaVer, fmt.Errorf("nvml: device count: %s", nvml.ErrorString(r))
	}
	for i := range n {
		d, r := nvml.DeviceGetHandleByIndex(i)
		if r != nvml.SUCCESS {
			return gpus, driver, cudaVer, fmt.Errorf("nvml: device %d: %s", i, nvml.ErrorString(r))
		}
		g := GPU{Index: i}
		g.Name, _ = d.GetName()
		if mem, r := d.GetMemoryInfo(); r == nvml.SUCCESS {
			g.TotalMem = mem.Total
		}
		g.CCMajor, g.CCMinor, _ = d.GetCudaComputeCapability()
		gpus = append(gpus, g)
	}
	return gpus, driver, cudaVer, nil
}

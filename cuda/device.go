package cuda

// The types both builds share (with and without CUDA, with and without cgo), defined once.

// Device describes one CUDA device as the runtime sees it (Devices; the build without CUDA
// has none).
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

// GPU is one NVIDIA GPU as the driver's management library (NVML) describes it
// (NVMLDevices; needs cgo on Linux, not a CUDA build).
type GPU struct {
	Index    int
	Name     string
	TotalMem uint64 // bytes
	CCMajor  int    // compute capability
	CCMinor  int
}

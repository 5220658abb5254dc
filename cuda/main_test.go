//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestMain runs the package's tests on the device the backend would use. A cuda-tagged test
// binary on a machine without a GPU has nothing to test: it says so and passes. The
// emulation build always has its one emulated device.
func TestMain(m *testing.M) {
	if err := Init(); err != nil {
		fmt.Fprintf(os.Stderr, "cuda tests: no device (%v): nothing to test\n", err)
		os.Exit(0)
	}
	if ds, err := Devices(); err == nil && len(ds) > 0 {
		fmt.Fprintf(os.Stderr, "cuda tests on %s (sm_%d%d, emulated: %v", ds[0].Name, ds[0].CCMajor, ds[0].CCMinor, Emulated())
		if Emulated() {
			fmt.Fprintf(os.Stderr, "; FMA contraction %v, CUDA's math errors %v", emulationFMA(), emulationGPUMath())
		}
		fmt.Fprintln(os.Stderr, ")")
	}
	// Every test must free the device memory it allocates (directly or through the package's
	// types): a buffer still live after the run is a leak, reported with where it was made.
	trackAllocations(true)
	code := m.Run()
	if live := liveAllocations(); len(live) > 0 {
		fmt.Fprintf(os.Stderr, "cuda tests: device memory never freed:\n%s\n", strings.Join(live, "\n"))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

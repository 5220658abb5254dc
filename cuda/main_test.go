//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// requireGPUEnv names the environment switch that makes the tests fail, not pass with
// nothing to test, when no GPU initialises: the GPU check (scripts/run-gpu-check.sh) sets it
// to 1, so that a GPU machine whose device or driver does not work fails the check.
const requireGPUEnv = "MLCU_REQUIRE_GPU"

// TestMain runs the package's tests on the device the backend would use. A cuda-tagged test
// binary on a machine without a GPU has nothing to test: it says so and passes, unless
// MLCU_REQUIRE_GPU=1, when it fails (as does the emulation build, whose one emulated device
// is no GPU).
func TestMain(m *testing.M) {
	requireGPU := os.Getenv(requireGPUEnv) == "1"
	if err := Init(); err != nil {
		if requireGPU {
			fmt.Fprintf(os.Stderr, "cuda tests: FAIL: no device (%v), and %s=1 requires a GPU\n", err, requireGPUEnv)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "cuda tests: no device (%v): nothing to test\n", err)
		os.Exit(0)
	}
	if requireGPU && Emulated() {
		fmt.Fprintf(os.Stderr, "cuda tests: FAIL: %s=1 requires a GPU, and this is the emulation build (-tags cudaemu)\n", requireGPUEnv)
		os.Exit(1)
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

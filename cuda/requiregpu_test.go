//go:build cuda || cudaemu

package cuda

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRequireGPUSwitch runs this test binary again, testing nothing, with
// MLCU_REQUIRE_GPU=1: it must fail in the emulation build (no GPU) and pass on a GPU (this
// test runs only where a device initialised).
func TestRequireGPUSwitch(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), requireGPUEnv+"=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case Emulated():
		if !errors.As(err, &ee) || !strings.Contains(string(out), "requires a GPU") {
			t.Fatalf("emulation build with %s=1: err %v, output:\n%s\nwant a failure that says a GPU is required", requireGPUEnv, err, out)
		}
	case err != nil:
		t.Fatalf("on a GPU with %s=1: %v, output:\n%s", requireGPUEnv, err, out)
	}
}

// The script test runs in the builds without the cuda tag: the cuda-tagged test binary is
// the one the GPU bundle carries, and there is no source tree (no scripts/) beside it.
//go:build !cuda

package cuda

import (
	"os/exec"
	"testing"
)

// TestGPUCheckScript runs scripts/test-run-gpu-check.sh: the GPU check's verdicts on canned
// test logs and datasets, and on a fake bundle (no GPU needed). A check that tested nothing,
// or whose device dataset differs from the CPU's, must fail.
func TestGPUCheckScript(t *testing.T) {
	for _, tool := range []string{"bash", "timeout", "cmp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
	}
	out, err := exec.Command("bash", "../scripts/test-run-gpu-check.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/test-run-gpu-check.sh: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

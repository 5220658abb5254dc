package cuda

import (
	"errors"
	"strings"
	"testing"
)

// TestChoose checks --device resolution in every build: cpu is always the CPU; an unknown
// value is refused; auto never picks the emulation; cuda is refused without a CUDA library
// and runs the emulated kernels in the emulation build.
func TestChoose(t *testing.T) {
	if ch, err := Choose("cpu"); err != nil || ch.CUDA {
		t.Errorf("cpu: %+v, %v", ch, err)
	}
	var bad *DeviceFlagError
	if _, err := Choose("gpu"); !errors.As(err, &bad) || !strings.Contains(err.Error(), "--device gpu") {
		t.Errorf("gpu: %v", err)
	}
	ch, err := Choose("auto")
	if err != nil || ch.Reason == "" {
		t.Errorf("auto: %+v, %v", ch, err)
	}
	if (!Available() || Emulated()) && ch.CUDA {
		t.Errorf("auto picked CUDA in build %s", BuildName())
	}
	ch, err = Choose("cuda")
	switch {
	case !Available():
		if !errors.Is(err, ErrNotBuilt) {
			t.Errorf("cuda without a CUDA build: %+v, %v", ch, err)
		}
	case Emulated():
		if err != nil || !ch.CUDA {
			t.Errorf("cuda in the emulation build: %+v, %v", ch, err)
		}
	}
}

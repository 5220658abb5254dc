package cuda

import (
	"strings"
	"testing"
	"time"
)

// TestWriteProfile: one line per operation with its calls, milliseconds and share, then the
// total.
func TestWriteProfile(t *testing.T) {
	var sb strings.Builder
	WriteProfile(&sb, []OpTime{{"sgemm", 10, 3 * time.Millisecond}, {"adam", 1, time.Millisecond}}, "  ")
	want := "" +
		"  sgemm                        10 calls      3.000 ms  75.0%\n" +
		"  adam                          1 calls      1.000 ms  25.0%\n" +
		"  total                                      4.000 ms\n"
	if sb.String() != want {
		t.Errorf("got\n%s\nwant\n%s", sb.String(), want)
	}
}

package cuda

import (
	"fmt"
	"io"
	"time"
)

// OpTime is the time one kind of device operation took while profiling (StartProfile):
// Calls calls of the ABI operation named Op (as in its errors: "sgemm", "batchnorm
// forward", ...), Total their wall time, each call's launch and execution with the device
// synchronised after it.
type OpTime struct {
	Op    string
	Calls int
	Total time.Duration
}

// WriteProfile writes ops as a table (one line per operation: calls, milliseconds, share
// of the total), each line indented by indent, and a total line.
func WriteProfile(w io.Writer, ops []OpTime, indent string) {
	var total time.Duration
	for _, o := range ops {
		total += o.Total
	}
	for _, o := range ops {
		share := 0.0
		if total > 0 {
			share = 100 * float64(o.Total) / float64(total)
		}
		fmt.Fprintf(w, "%s%-24s %6d calls %10.3f ms %5.1f%%\n", indent, o.Op, o.Calls, float64(o.Total)/1e6, share)
	}
	fmt.Fprintf(w, "%s%-24s %6s       %10.3f ms\n", indent, "total", "", float64(total)/1e6)
}

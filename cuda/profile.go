//go:build cuda || cudaemu

package cuda

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// profiling is on between StartProfile and StopProfile: call then times every ABI call.
var profiling atomic.Bool

// prof holds the per-operation totals while profiling; last is when the previous timed call
// ended (the device idle since).
var prof struct {
	sync.Mutex
	last  time.Time
	ops   map[string]*OpTime
	scope string // the layer whose calls are being timed ("" outside one)
}

// profileScope names the layer (conv1d forward, maf backward, ...) whose ABI calls follow,
// until the returned function is called: while profiling, a call inside a scope is recorded
// as "scope: op" (sgemm of the convolutions apart from sgemm of the flow). Scopes do not
// nest: the outermost one names the calls.
func profileScope(name string) (end func()) {
	if !profiling.Load() {
		return func() {}
	}
	prof.Lock()
	defer prof.Unlock()
	if prof.scope != "" {
		return func() {}
	}
	prof.scope = name
	return func() {
		prof.Lock()
		prof.scope = ""
		prof.Unlock()
	}
}

// StartProfile turns per-operation timing on, with empty totals. From then on every ABI
// call waits for the device before it returns, and the time since the previous call ended
// is added to its operation: a breakdown of where a sequence of device work goes (kernels
// no longer overlap the host's launches, so the sum is somewhat above the unprofiled
// time). Throughput figures are to be measured without it. Profiling is process-wide.
func StartProfile() error {
	if err := Init(); err != nil {
		return err
	}
	if err := Synchronize(); err != nil {
		return err
	}
	prof.Lock()
	prof.ops = map[string]*OpTime{}
	prof.scope = ""
	prof.last = time.Now()
	prof.Unlock()
	profiling.Store(true)
	return nil
}

// StopProfile turns the timing off and returns the totals per operation, largest first.
func StopProfile() []OpTime {
	profiling.Store(false)
	prof.Lock()
	defer prof.Unlock()
	out := make([]OpTime, 0, len(prof.ops))
	for _, o := range prof.ops {
		out = append(out, *o)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Op < out[j].Op
	})
	prof.ops = nil
	return out
}

// profileOp waits for the device and adds the time since the previous timed call to op.
func profileOp(op string) {
	profileSync()
	now := time.Now()
	prof.Lock()
	defer prof.Unlock()
	if prof.ops == nil {
		return
	}
	if prof.scope != "" {
		op = prof.scope + ": " + op
	}
	o := prof.ops[op]
	if o == nil {
		o = &OpTime{Op: op}
		prof.ops[op] = o
	}
	o.Calls++
	o.Total += now.Sub(prof.last)
	prof.last = now
}

//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// allocTracker records the live device allocations with the call stack that made each,
// when on (the package's tests turn it on to find buffers that are never freed: device
// memory the Go garbage collector does not see is lost for the life of the process).
var allocTracker struct {
	sync.Mutex
	on        bool
	live      map[unsafe.Pointer]trackedAlloc
	liveBytes int // sum of live's bytes
}

type trackedAlloc struct {
	bytes int
	stack []uintptr
}

// trackAllocations turns the tracker on or off (off forgets what it holds).
func trackAllocations(on bool) {
	allocTracker.Lock()
	defer allocTracker.Unlock()
	allocTracker.on = on
	allocTracker.live = nil
	allocTracker.liveBytes = 0
	if on {
		allocTracker.live = map[unsafe.Pointer]trackedAlloc{}
	}
}

func trackAlloc(p unsafe.Pointer, bytes int) {
	allocTracker.Lock()
	defer allocTracker.Unlock()
	if !allocTracker.on {
		return
	}
	pc := make([]uintptr, 16)
	n := runtime.Callers(3, pc)
	allocTracker.live[p] = trackedAlloc{bytes: bytes, stack: pc[:n]}
	allocTracker.liveBytes += bytes
}

func trackFree(p unsafe.Pointer) {
	allocTracker.Lock()
	defer allocTracker.Unlock()
	if allocTracker.on {
		if a, ok := allocTracker.live[p]; ok {
			allocTracker.liveBytes -= a.bytes
			delete(allocTracker.live, p)
		}
	}
}

// trackedBytes returns the bytes of the tracked allocations not yet freed.
func trackedBytes() int {
	allocTracker.Lock()
	defer allocTracker.Unlock()
	return allocTracker.liveBytes
}

// liveAllocations describes the tracked allocations not yet freed, one per distinct call
// stack (with the count and bytes), largest first.
func liveAllocations() []string {
	allocTracker.Lock()
	defer allocTracker.Unlock()
	type group struct {
		n, bytes int
		where    string
	}
	groups := map[string]*group{}
	for _, a := range allocTracker.live {
		var sb strings.Builder
		frames := runtime.CallersFrames(a.stack)
		for {
			f, more := frames.Next()
			if !strings.HasPrefix(f.Function, "runtime.") && !strings.HasPrefix(f.Function, "testing.") {
				fmt.Fprintf(&sb, "\n\t%s (%s:%d)", f.Function, f.File, f.Line)
			}
			if !more {
				break
			}
		}
		g := groups[sb.String()]
		if g == nil {
			g = &group{where: sb.String()}
			groups[g.where] = g
		}
		g.n++
		g.bytes += a.bytes
	}
	list := make([]*group, 0, len(groups))
	for _, g := range groups {
		list = append(list, g)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].bytes > list[j].bytes })
	out := make([]string, len(list))
	for i, g := range list {
		out[i] = fmt.Sprintf("%d buffer(s), %d bytes, allocated at:%s", g.n, g.bytes, g.where)
	}
	return out
}

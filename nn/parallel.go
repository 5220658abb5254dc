package nn

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Data parallelism inside the ops: an op that loops over independent pieces (the samples
// of a convolution, the channels of a batch norm, the elements of a ReLU) hands the loop
// to parallelFor, which splits it into contiguous chunks over Workers() goroutines. Every
// op keeps its result independent of the scheduling and of the worker count: each piece is
// computed by the same code whichever goroutine runs it, and where pieces are summed (the
// weight gradient of a convolution) they are summed over a split that depends on the batch
// size only, in a fixed order (see Conv1dBackward). Results are therefore bitwise equal
// for any Workers().

// minParallelWork is the least work (roughly, multiply-adds or elements touched) for which
// parallelFor starts goroutines: below it, starting them costs more than they save.
var minParallelWork = 1 << 15 // a variable so that tests can force the parallel paths

var workers atomic.Int64 // 0: runtime.GOMAXPROCS(0)

// Workers returns the number of goroutines an op splits its work over: runtime.GOMAXPROCS(0)
// unless SetWorkers set another number.
func Workers() int {
	if k := workers.Load(); k > 0 {
		return int(k)
	}
	return runtime.GOMAXPROCS(0)
}

// SetWorkers sets the number of goroutines an op splits its work over (k ≥ 1), or restores
// the default, runtime.GOMAXPROCS(0), when k ≤ 0. It returns the previous setting (0 for the
// default), so that a test can restore it. Results do not depend on it.
func SetWorkers(k int) int {
	return int(workers.Swap(int64(max(k, 0))))
}

// parallelFor calls fn(lo, hi) on contiguous chunks covering [0, n), one per worker, and
// returns when all have returned; the calling goroutine runs the first chunk. work is the
// total cost of the loop in rough units (multiply-adds or elements); when it is below
// minParallelWork, or there is one worker or one piece, fn(0, n) runs on the calling
// goroutine. fn must write only what belongs to its own range.
func parallelFor(n, work int, fn func(lo, hi int)) {
	w := min(Workers(), n)
	if w <= 1 || work < minParallelWork {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < w; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i*n/w, (i+1)*n/w)
		}()
	}
	fn(0, n/w)
	wg.Wait()
}

// scratchPools recycle the ops' temporary buffers (per-worker column gradients, partial
// weight gradients), one pool per element size, so that the hot path does not allocate.
var scratchPools [2]sync.Pool

// getScratch returns a buffer of length n with unspecified contents; give it back with
// putScratch.
func getScratch[T Float](n int) *[]T {
	pool := &scratchPools[unsafe.Sizeof(T(0))/8]
	if p, ok := pool.Get().(*[]T); ok {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
	}
	s := make([]T, n)
	return &s
}

// putScratch gives a buffer from getScratch back to the pool.
func putScratch[T Float](p *[]T) { scratchPools[unsafe.Sizeof(T(0))/8].Put(p) }

// forParts splits [0, n) into parts contiguous ranges [p·n/parts, (p+1)·n/parts) and calls
// fn(p, lo, hi) on each, the workers taking whole parts (parallelFor over the parts; work
// as there). Unlike parallelFor's chunks, the ranges depend on n and parts only, so an op
// whose result depends on how its range is cut (a sum over it, or a matrix product whose
// BLAS kernel may vary with the number of rows) stays independent of the worker count.
func forParts(n, parts, work int, fn func(p, lo, hi int)) {
	parts = min(parts, n)
	parallelFor(parts, work, func(plo, phi int) {
		for p := plo; p < phi; p++ {
			fn(p, p*n/parts, (p+1)*n/parts)
		}
	})
}

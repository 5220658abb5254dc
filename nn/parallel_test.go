package nn

import (
	"math"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"testing"
)

// TestMain runs the package's tests with MLCU_NN_WORKERS=k workers (SetWorkers(k)) when
// that variable is set, and then with no least work for parallelism, so that every op
// takes its parallel path even on the tests' tiny shapes:
//
//	MLCU_NN_WORKERS=1 go test ./nn && MLCU_NN_WORKERS=3 go test ./nn
func TestMain(m *testing.M) {
	if s := os.Getenv("MLCU_NN_WORKERS"); s != "" {
		k, err := strconv.Atoi(s)
		if err != nil || k < 1 {
			panic("MLCU_NN_WORKERS = " + s + ": want a positive integer")
		}
		SetWorkers(k)
		minParallelWork = 0
	}
	os.Exit(m.Run())
}

// withWorkers runs f with k workers and no least work for parallelism, then restores both.
func withWorkers(k int, f func()) {
	prev, prevMin := SetWorkers(k), minParallelWork
	minParallelWork = 0
	defer func() { SetWorkers(prev); minParallelWork = prevMin }()
	f()
}

func TestParallelForCovers(t *testing.T) {
	for _, k := range []int{1, 2, 3, 7} {
		for _, n := range []int{0, 1, 2, 5, 64} {
			withWorkers(k, func() {
				hits := make([]int, n)
				parallelFor(n, n, func(lo, hi int) {
					if lo >= hi {
						t.Errorf("k %d, n %d: empty chunk [%d, %d)", k, n, lo, hi)
					}
					for i := lo; i < hi; i++ {
						hits[i]++ // chunks are disjoint: no race
					}
				})
				for i, h := range hits {
					if h != 1 {
						t.Fatalf("k %d, n %d: index %d run %d times", k, n, i, h)
					}
				}
			})
		}
	}
}

func TestSetWorkers(t *testing.T) {
	prev := SetWorkers(5)
	defer SetWorkers(prev)
	if Workers() != 5 {
		t.Fatalf("Workers() = %d after SetWorkers(5)", Workers())
	}
	if got := SetWorkers(0); got != 5 {
		t.Fatalf("SetWorkers returned %d, want 5", got)
	}
	if Workers() < 1 {
		t.Fatalf("default Workers() = %d", Workers())
	}
}

// TestConv1dWorkersBitwise checks that the convolution's forward and backward passes give
// the same bits for 1 worker (twice), 2 and 3 workers: the weight-gradient reduction is
// split by batch size, not by worker. B = 1 and 3 take the column-strip path of the
// forward pass, which is also checked against the direct sum.
func TestConv1dWorkersBitwise(t *testing.T) {
	for _, sh := range []struct{ B, L int }{{11, 37}, {1, 300}, {3, 200}, {1, 40}} {
		const C, OC, K = 5, 70, 3
		B, L := sh.B, sh.L
		rng := rand.New(rand.NewSource(3))
		r32 := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		inp, w, bias, dout := r32(B*C*L), r32(OC*C*K), r32(OC), r32(B*OC*L)
		run := func(k int) [][]float32 {
			out, col := make([]float32, B*OC*L), make([]float32, B*C*K*L)
			dinp, dw, db := make([]float32, B*C*L), make([]float32, OC*C*K), make([]float32, OC)
			withWorkers(k, func() {
				Conv1dForward(out, col, inp, w, bias, B, C, L, OC, K)
				Conv1dBackward(dinp, dw, db, make([]float32, C*K*L), dout, col, w, B, C, L, OC, K)
			})
			return [][]float32{out, dinp, dw, db}
		}
		want := run(1)
		for _, k := range []int{1, 2, 3} {
			for i, got := range run(k) {
				if !slices.Equal(got, want[i]) {
					t.Errorf("B %d, L %d, workers %d: tensor %d differs from 1 worker", B, L, k, i)
				}
			}
		}
		// The forward pass against the direct sum, in float64.
		in64, w64, b64 := make([]float64, len(inp)), make([]float64, len(w)), make([]float64, len(bias))
		for i, v := range inp {
			in64[i] = float64(v)
		}
		for i, v := range w {
			w64[i] = float64(v)
		}
		for i, v := range bias {
			b64[i] = float64(v)
		}
		out, direct := make([]float64, B*OC*L), make([]float64, B*OC*L)
		withWorkers(3, func() { Conv1dForward(out, make([]float64, B*C*K*L), in64, w64, b64, B, C, L, OC, K) })
		conv1dDirect(direct, in64, w64, b64, B, C, L, OC, K)
		for i := range out {
			if math.Abs(out[i]-direct[i]) > 1e-12 {
				t.Fatalf("B %d, L %d: out[%d] = %v, direct sum %v", B, L, i, out[i], direct[i])
			}
		}
	}
}

// TestModelWorkersBitwise checks that a training step of the small preset (loss, every
// gradient, the running statistics) is bitwise the same for 1 worker (twice), 2 and 3.
func TestModelWorkersBitwise(t *testing.T) {
	c := smallConfig()
	x, theta := randBatch[float32](c, 6, 2)
	type result struct {
		loss           float64
		grads, buffers []float32
	}
	run := func(k int) result {
		m, err := NewModel[float32](c)
		if err != nil {
			t.Fatal(err)
		}
		m.Init(1)
		var r result
		withWorkers(k, func() {
			r.loss = m.LossForward(x, theta, true)
			m.LossBackward(nil)
		})
		r.grads, r.buffers = m.Grads, m.Buffers
		return r
	}
	want := run(1)
	for _, k := range []int{1, 2, 3} {
		got := run(k)
		if got.loss != want.loss || !slices.Equal(got.grads, want.grads) || !slices.Equal(got.buffers, want.buffers) {
			t.Errorf("workers %d: loss %v (1 worker: %v), or gradients or running statistics differ", k, got.loss, want.loss)
		}
	}
}

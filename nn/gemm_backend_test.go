package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
)

// Tests and benchmarks of Gemm that run against whichever BLAS the build selected: the
// default (gonum) and -tags openblas (OpenBLAS through cgo) must both pass them. The float32
// product is checked by the shared GEMM suite (gemm_conformance_test.go); these check the
// float64 one, argument checking and the BLAS in use.

// naiveGemm is the reference: the textbook triple loop in float64 over the same row-major,
// strided storage as Gemm.
func naiveGemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := range m {
		for j := range n {
			s := 0.0
			for l := range k {
				ia, ib := i*lda+l, l*ldb+j
				if transA {
					ia = l*lda + i
				}
				if transB {
					ib = j*ldb + l
				}
				s += a[ia] * b[ib]
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func toF32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func TestGemmBackendMatchesNaive(t *testing.T) {
	t.Logf("BLAS: %s (%s)", BLASName(), blasCore())
	rng := rand.New(rand.NewSource(4))
	type shape struct{ m, n, k, pad int }
	shapes := []shape{
		{1, 1, 1, 0}, {3, 5, 7, 0}, {7, 3, 1, 2}, {17, 13, 29, 3},
		{33, 65, 31, 1}, {65, 1, 129, 5}, {1, 97, 63, 0}, {4, 6, 0, 1},
	}
	for _, s := range shapes {
		for _, transA := range []bool{false, true} {
			for _, transB := range []bool{false, true} {
				for _, coef := range [][2]float64{{1, 0}, {-0.7, 1.3}, {0, 0.5}} {
					name := fmt.Sprintf("m%d_n%d_k%d_pad%d_tA%v_tB%v_alpha%v_beta%v",
						s.m, s.n, s.k, s.pad, transA, transB, coef[0], coef[1])
					t.Run(name, func(t *testing.T) {
						checkGemmCase(t, rng, s.m, s.n, s.k, s.pad, transA, transB, coef[0], coef[1])
					})
				}
			}
		}
	}
}

// checkGemmCase runs one product in float64 with row strides pad wider than the
// rows, so that Gemm must honour lda, ldb and ldc; the padding of C must stay untouched.
func checkGemmCase(t *testing.T, rng *rand.Rand, m, n, k, pad int, transA, transB bool, alpha, beta float64) {
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	lda, ldb, ldc := max(1, colsA)+pad, max(1, colsB)+pad, n+pad
	a, b, c := testutil.RandVec(rng, rowsA*lda), testutil.RandVec(rng, rowsB*ldb), testutil.RandVec(rng, m*ldc)
	want := append([]float64(nil), c...)
	naiveGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)

	got := append([]float64(nil), c...)
	Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
	// float64: rounding of a k-term sum of O(1) products, with margin.
	tol64 := 1e-13 * float64(k+1)
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol64*(1+math.Abs(want[i])) {
			t.Fatalf("float64 C[%d] = %v, want %v", i, got[i], want[i])
		}
	}

	for i := range m {
		for j := n; j < ldc; j++ {
			if got[i*ldc+j] != c[i*ldc+j] {
				t.Fatalf("padding C[%d,%d] written", i, j)
			}
		}
	}
}

// TestGemmBackendZeroBetaIgnoresC checks that beta = 0 overwrites C, NaN included, as BLAS
// specifies (C is output-only then).
func TestGemmBackendZeroBetaIgnoresC(t *testing.T) {
	a, b := []float32{1, 2, 3, 4}, []float32{5, 6, 7, 8}
	c := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.NaN()), 0}
	Gemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	want := []float32{19, 22, 43, 50}
	for i := range c {
		if c[i] != want[i] {
			t.Fatalf("C = %v, want %v", c, want)
		}
	}
}

func TestGemmBackendPanicsOnBadArguments(t *testing.T) {
	a, b, c := make([]float64, 6), make([]float64, 6), make([]float64, 4)
	cases := map[string]func(){
		"short a":       func() { Gemm(false, false, 2, 2, 3, 1, a[:5], 3, b, 2, 0, c, 2) },
		"short b":       func() { Gemm(false, false, 2, 2, 3, 1, a, 3, b[:5], 2, 0, c, 2) },
		"short c":       func() { Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c[:3], 2) },
		"small lda":     func() { Gemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) },
		"small lda (T)": func() { Gemm(true, false, 2, 2, 3, 1, a, 1, b, 2, 0, c, 2) },
		"small ldb (T)": func() { Gemm(false, true, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2) },
		"small ldc":     func() { Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1) },
		"negative k":    func() { Gemm(false, false, 2, 2, -1, 1, a, 3, b, 2, 0, c, 2) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestBLASName(t *testing.T) {
	switch name := BLASName(); name {
	case "openblas":
		// The batch is split over goroutines; OpenBLAS must not add threads of its own.
		if n := blasThreads(); n != 1 {
			t.Errorf("OpenBLAS uses %d threads, want 1", n)
		}
	case "gonum":
	default:
		t.Errorf("BLASName() = %q, want openblas or gonum", name)
	}
}

// BenchmarkGemmBackend reports the float32 GEMM rate (2·m·n·k flops per product) of the
// build's BLAS at two shapes: a square 512 product, and the conv-shaped im2col product of
// Conv1d's forward pass, out(OC, L) = W(OC, C·K)·col(C·K, L), with OC = 32, L = 900,
// C·K = 96, and Conv1d's two backward products at that shape. Each also runs on all cores
// at once (_parallel). Compare builds (default vs -tags openblas) and OPENBLAS_CORETYPE settings in
// the same session; gonum splits large products over GOMAXPROCS goroutines while OpenBLAS
// runs one thread, so use -cpu 1 for per-core rates.
func BenchmarkGemmBackend(b *testing.B) {
	b.Logf("BLAS: %s (%s)", BLASName(), blasCore())
	rng := rand.New(rand.NewSource(1))
	for _, s := range []struct {
		name           string
		transA, transB bool
		m, n, k        int
	}{
		{"square512", false, false, 512, 512, 512},
		{"conv_m32_n900_k96", false, false, 32, 900, 96},
		// Conv1d's backward products at the same shape: dW = dout·colᵀ and dcol = Wᵀ·dout.
		{"conv_dw", false, true, 32, 96, 900},
		{"conv_dcol", true, false, 96, 900, 32},
	} {
		rowsA, colsA := s.m, s.k
		if s.transA {
			rowsA, colsA = s.k, s.m
		}
		rowsB, colsB := s.k, s.n
		if s.transB {
			rowsB, colsB = s.n, s.k
		}
		a, w := toF32(testutil.RandVec(rng, rowsA*colsA)), toF32(testutil.RandVec(rng, rowsB*colsB))
		flops := 2 * float64(s.m*s.n*s.k)
		b.Run(s.name, func(b *testing.B) {
			c := make([]float32, s.m*s.n)
			for b.Loop() {
				Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, colsA, w, colsB, 0, c, s.n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		// The same product on every core at once, as when goroutines split a batch: the
		// rate is the machine's total.
		b.Run(s.name+"_parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				c := make([]float32, s.m*s.n)
				for pb.Next() {
					Gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, colsA, w, colsB, 0, c, s.n)
				}
			})
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

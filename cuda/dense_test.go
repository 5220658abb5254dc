//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlcu/mlcu/nn"
)

// Parity tests of the dense ops (dense.go) against their CPU references in package nn.
//
// Tolerances: float32 has unit roundoff u = 2⁻²⁴ ≈ 6e-8. A sum of k float32 terms computed
// in any order is within k·u·Σ|terms| of the exact sum (first-order bound), so the GPU and
// the CPU, which sum in different orders, may each be that far from the exact result and
// 2·k·u·Σ|terms| from each other. Where a test knows Σ|terms| per element it uses that
// bound; elementwise ops without sums are exact or within a few ulps (stated per test).

const f32u = 1.0 / (1 << 24) // float32 unit roundoff

// guard is the number of sentinel elements on each side of a guarded output buffer.
const guard = 7

// sentinel is the value of a guard element: a quiet NaN with a payload no kernel produces.
var sentinel = math.Float32frombits(0x7fc0dead)

// guarded returns a device buffer of n+2·guard elements whose guards hold the sentinel and
// whose middle holds init (or zeros when init is nil), and the view of the middle.
func guarded(t *testing.T, n int, init []float32) (whole, mid *F32) {
	t.Helper()
	h := make([]float32, n+2*guard)
	for i := range guard {
		h[i], h[n+guard+i] = sentinel, sentinel
	}
	copy(h[guard:], init)
	whole = MustFromHost(h)
	return whole, whole.Slice(guard, guard+n)
}

// guardedNaN is guarded with the middle full of NaN too: for outputs that must be written
// without being read.
func guardedNaN(t *testing.T, n int) (whole, mid *F32) {
	t.Helper()
	init := make([]float32, n)
	for i := range init {
		init[i] = float32(math.NaN())
	}
	return guarded(t, n, init)
}

// readGuarded downloads the middle of a guarded buffer, fails the test when a guard was
// touched, and frees the buffer.
func readGuarded(t *testing.T, name string, whole *F32) []float32 {
	t.Helper()
	h, err := whole.Host()
	must(err)
	whole.Free()
	n := len(h) - 2*guard
	for i := range guard {
		for _, j := range []int{i, n + guard + i} {
			if math.Float32bits(h[j]) != 0x7fc0dead {
				t.Errorf("%s: guard element %d of %d overwritten (%v)", name, j, len(h), h[j])
			}
		}
	}
	return h[guard : guard+n]
}

// checkBound asserts |got[i] − ref[i]| ≤ bound[i] for every i, logging the largest
// difference and its ratio to the bound, and failing at the first offending index.
func checkBound(t *testing.T, name string, got []float32, ref, bound []float64) {
	t.Helper()
	if len(got) != len(ref) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(ref))
	}
	maxd, maxr := 0.0, 0.0
	for i, g := range got {
		d := math.Abs(float64(g) - ref[i])
		if math.IsNaN(float64(g)) != math.IsNaN(ref[i]) || d > bound[i] {
			t.Errorf("%s: index %d: got %v, want %v (|diff| %.3g > %.3g)", name, i, g, ref[i], d, bound[i])
			return
		}
		if !math.IsNaN(d) {
			maxd = max(maxd, d)
			if bound[i] > 0 {
				maxr = max(maxr, d/bound[i])
			}
		}
	}
	t.Logf("%s: %d values, max |diff| %.3g (%.3g of the tolerance)", name, len(got), maxd, maxr)
}

// checkClose asserts |got[i] − ref[i]| ≤ atol + rtol·|ref[i]|.
func checkClose[T nn.Float](t *testing.T, name string, got []float32, ref []T, atol, rtol float64) {
	t.Helper()
	r := make([]float64, len(ref))
	b := make([]float64, len(ref))
	for i, v := range ref {
		r[i] = float64(v)
		b[i] = atol + rtol*math.Abs(r[i])
	}
	checkBound(t, name, got, r, b)
}

// randF32 returns n uniforms on [-1, 1) from a fixed seed.
func randF32(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 0x6d6c6375))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(2*r.Float64() - 1)
	}
	return x
}

func to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func abs64(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = math.Abs(v)
	}
	return y
}

// TestGemmParity checks Gemm against nn.Gemm in float32 and float64 on odd sizes, every
// transposition, padded strides, alpha and beta (beta = 0 with NaN in C), both tile shapes.
//
// Tolerance: per element, the first-order bound of a length-k sum (see the top of the
// file) with Σ|terms| = |α|·Σ_p |a_ip|·|b_pj| + |β|·|c_ij|, computed by the same Gemm on
// absolute values in float64: (k+2)·u·Σ|terms| from the float64 reference, twice that from
// the float32 one.
func TestGemmParity(t *testing.T) {
	sizes := []struct{ m, n, k int }{{1, 1, 1}, {7, 13, 5}, {65, 33, 129}, {128, 64, 256}, {3, 130, 0}}
	seed := uint64(1)
	for _, sz := range sizes {
		for _, tr := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			for _, ab := range [][2]float32{{1, 0}, {-0.75, 1.5}} {
				tile := 1 + int(seed%2) // alternate the tile shapes across cases
				if sz.m*sz.n > 5000 {
					tile = 2 - int(seed%2) // and the other way round for the large ones
				}
				seed++
				name := fmt.Sprintf("m%d n%d k%d tA %v tB %v α %v β %v tile %d", sz.m, sz.n, sz.k, tr[0], tr[1], ab[0], ab[1], tile)
				t.Run(name, func(t *testing.T) { gemmCase(t, sz.m, sz.n, sz.k, tr[0], tr[1], ab[0], ab[1], tile, seed) })
			}
		}
	}
}

func gemmCase(t *testing.T, m, n, k int, transA, transB bool, alpha, beta float32, tile int, seed uint64) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	// Row strides with padding, so that a kernel using the column count as stride fails.
	lda, ldb, ldc := ac+3, bc+1, n+2
	a := randF32(seed, max(0, ar*lda))
	b := randF32(seed+100, max(0, br*ldb))
	c0 := randF32(seed+200, m*ldc)
	cLen := (m-1)*ldc + n

	refC32 := append([]float32(nil), c0[:cLen]...)
	nn.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, refC32, ldc)
	refC64 := to64(c0[:cLen])
	nn.Gemm(transA, transB, m, n, k, float64(alpha), to64(a), lda, to64(b), ldb, float64(beta), refC64, ldc)
	absC := abs64(to64(c0[:cLen]))
	nn.Gemm(transA, transB, m, n, k, math.Abs(float64(alpha)), abs64(to64(a)), lda, abs64(to64(b)), ldb, math.Abs(float64(beta)), absC, ldc)

	da, db := MustFromHost(a), MustFromHost(b)
	defer da.Free()
	defer db.Free()
	var whole, dc *F32
	if beta == 0 {
		whole, dc = guardedNaN(t, cLen) // must be overwritten without being read
	} else {
		whole, dc = guarded(t, cLen, c0[:cLen])
	}
	must(gemmBatched(transA, transB, m, n, k, alpha, da, lda, 0, db, ldb, 0, beta, dc, ldc, 0, 1, tile))
	got := readGuarded(t, "C", whole)

	// Compare the m×n elements; the padding between rows must keep C's values there.
	var g, r32 []float32
	var r64, bnd64, bnd32 []float64
	for i := range m {
		for j := range ldc {
			o := i*ldc + j
			if o >= cLen {
				break
			}
			if j >= n {
				want := c0[o]
				if beta == 0 {
					want = float32(math.NaN())
				}
				if math.Float32bits(got[o]) != math.Float32bits(want) {
					t.Fatalf("padding element (%d, %d) changed: %v, want %v", i, j, got[o], want)
				}
				continue
			}
			s := float64(k+2) * f32u * absC[o]
			g, r32, r64 = append(g, got[o]), append(r32, refC32[o]), append(r64, refC64[o])
			bnd64, bnd32 = append(bnd64, s), append(bnd32, 2*s)
		}
	}
	checkBound(t, "vs float64", g, r64, bnd64)
	checkBound(t, "vs nn.Gemm[float32]", g, to64(r32), bnd32)
}

// TestGemmBatched checks the strided batched product (as the convolutions use it: A shared
// by the batch at stride 0) against nn.Gemm per entry.
func TestGemmBatched(t *testing.T) {
	const m, n, k, batch = 5, 19, 11, 3
	a := randF32(7, m*k)
	b := randF32(8, batch*k*n)
	ref := make([]float64, batch*m*n)
	bnd := make([]float64, batch*m*n)
	for z := range batch {
		nn.Gemm(false, false, m, n, k, 1, to64(a), k, to64(b[z*k*n:(z+1)*k*n]), n, 0, ref[z*m*n:(z+1)*m*n], n)
		nn.Gemm(false, false, m, n, k, 1, abs64(to64(a)), k, abs64(to64(b[z*k*n:(z+1)*k*n])), n, 0, bnd[z*m*n:(z+1)*m*n], n)
	}
	for i := range bnd {
		bnd[i] *= float64(k+2) * f32u
	}
	da, db := MustFromHost(a), MustFromHost(b)
	defer da.Free()
	defer db.Free()
	whole, dc := guardedNaN(t, batch*m*n)
	must(gemmBatched(false, false, m, n, k, 1, da, k, 0, db, n, k*n, 0, dc, n, m*n, batch, 0))
	checkBound(t, "batched", readGuarded(t, "C", whole), ref, bnd)
}

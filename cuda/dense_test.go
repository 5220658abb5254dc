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

// checkExact asserts got == want bit for bit, NaN matching any NaN.
func checkExact(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i, g := range got {
		w := want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			t.Errorf("%s: index %d: got %v (%08x), want %v (%08x)", name, i, g, math.Float32bits(g), w, math.Float32bits(w))
			return
		}
	}
	t.Logf("%s: %d values, bitwise equal", name, len(got))
}

// sumBound returns 2·(k+2)·u·abs[i]: the tolerance between two float32 evaluations of sums
// of k terms with Σ|terms| = abs[i] (see the top of the file).
func sumBound(abs []float64, k int) []float64 {
	b := make([]float64, len(abs))
	for i, v := range abs {
		b[i] = 2 * float64(k+2) * f32u * v
	}
	return b
}

// reluInput returns n values with every special case ReLU meets: ±0, NaN of either sign,
// ±Inf, and uniforms on [-1, 1).
func reluInput(n int, seed uint64) []float32 {
	x := randF32(seed, n)
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), -float32(math.NaN()),
		float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45}
	for i, v := range specials {
		if 3*i < n {
			x[3*i] = v
		}
	}
	return x
}

// TestReLUParity checks ReLUForward and ReLUBackward (accumulating and in place) against nn
// bit for bit: they do no arithmetic beyond one addition, which both sides round the same.
func TestReLUParity(t *testing.T) {
	for _, n := range []int{1, 5, 1037} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			x := reluInput(n, uint64(n))
			ref := make([]float32, n)
			nn.ReLUForward(ref, x)
			dx := MustFromHost(x)
			defer dx.Free()
			whole, out := guardedNaN(t, n)
			must(ReLUForward(out, dx))
			y := readGuarded(t, "relu out", whole)
			checkExact(t, "forward", y, ref)

			// In place.
			must(ReLUForward(dx, dx))
			yy, _ := dx.Host()
			checkExact(t, "forward in place", yy, ref)

			dout := randF32(uint64(n)+1, n)
			dinp0 := randF32(uint64(n)+2, n)
			refD := append([]float32(nil), dinp0...)
			nn.ReLUBackward(refD, dout, ref)
			dOut, dY := MustFromHost(dout), MustFromHost(ref)
			defer dOut.Free()
			defer dY.Free()
			whole, dinp := guarded(t, n, dinp0)
			must(ReLUBackward(dinp, dOut, dY))
			checkExact(t, "backward", readGuarded(t, "dinp", whole), refD)

			refIP := append([]float32(nil), dout...)
			nn.ReLUBackward(refIP, refIP, ref)
			must(ReLUBackward(dOut, dOut, dY))
			got, _ := dOut.Host()
			checkExact(t, "backward in place", got, refIP)
		})
	}
}

// TestLinearParity checks LinearForward and LinearBackward against nn on odd sizes and
// batch 1, with and without bias, gradients accumulating onto non-zero values. Tolerance:
// sumBound with Σ|terms| from the float64 nn op run on absolute values.
func TestLinearParity(t *testing.T) {
	for _, s := range []struct{ B, C, OC int }{{1, 7, 13}, {5, 33, 3}, {17, 1, 65}} {
		for _, bias := range []bool{true, false} {
			t.Run(fmt.Sprintf("B%d C%d OC%d bias %v", s.B, s.C, s.OC, bias), func(t *testing.T) {
				linearCase(t, s.B, s.C, s.OC, bias)
			})
		}
	}
}

func linearCase(t *testing.T, B, Cn, OC int, bias bool) {
	seed := uint64(B*1000 + Cn*10 + OC)
	inp, w, b := randF32(seed, B*Cn), randF32(seed+1, OC*Cn), randF32(seed+2, OC)
	var bb []float32
	var abB []float64
	if bias {
		bb, abB = b, abs64(to64(b))
	}
	ref := make([]float32, B*OC)
	nn.LinearForward(ref, inp, w, bb, B, Cn, OC)
	abs := make([]float64, B*OC)
	nn.LinearForward(abs, abs64(to64(inp)), abs64(to64(w)), abB, B, Cn, OC)

	dInp, dW, dB := MustFromHost(inp), MustFromHost(w), MustFromHost(b)
	defer dInp.Free()
	defer dW.Free()
	defer dB.Free()
	var devB *F32
	if bias {
		devB = dB
	}
	whole, out := guardedNaN(t, B*OC)
	must(LinearForward(out, dInp, dW, devB, B, Cn, OC))
	checkBound(t, "forward", readGuarded(t, "out", whole), to64(ref), sumBound(abs, Cn))

	dout := randF32(seed+3, B*OC)
	g0 := [3][]float32{randF32(seed+4, B*Cn), randF32(seed+5, OC*Cn), randF32(seed+6, OC)}
	ref3 := [3][]float32{append([]float32(nil), g0[0]...), append([]float32(nil), g0[1]...), append([]float32(nil), g0[2]...)}
	nn.LinearBackward(ref3[0], ref3[1], ref3[2], dout, inp, w, B, Cn, OC)
	var abs3 [3][]float64
	for i := range abs3 {
		abs3[i] = abs64(to64(g0[i]))
	}
	nn.LinearBackward(abs3[0], abs3[1], abs3[2], abs64(to64(dout)), abs64(to64(inp)), abs64(to64(w)), B, Cn, OC)

	dOut := MustFromHost(dout)
	defer dOut.Free()
	var wholes, mids [3]*F32
	for i := range wholes {
		wholes[i], mids[i] = guarded(t, len(g0[i]), g0[i])
	}
	must(LinearBackward(mids[0], mids[1], mids[2], dOut, dInp, dW, B, Cn, OC))
	checkBound(t, "dinp", readGuarded(t, "dinp", wholes[0]), to64(ref3[0]), sumBound(abs3[0], OC))
	checkBound(t, "dw", readGuarded(t, "dw", wholes[1]), to64(ref3[1]), sumBound(abs3[1], B))
	checkBound(t, "db", readGuarded(t, "db", wholes[2]), to64(ref3[2]), sumBound(abs3[2], B))
}

// TestGradNormClip checks GradNorm against nn.GradNorm (both accumulate in float64: rtol
// 1e-12 covers the different summation orders, n·2⁻⁵³ ≪ 1e-12 for these n), that it is
// deterministic, and ClipGradNorm against nn.ClipGradNorm: the scale factors agree to about
// 1e-15, so the clipped float32 gradients agree to one rounding (rtol 2⁻²³).
func TestGradNormClip(t *testing.T) {
	for _, n := range []int{1, 1000, 5001} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			g := randF32(uint64(n)+77, n)
			want := nn.GradNorm(g)
			dg := MustFromHost(g)
			defer dg.Free()
			got, err := GradNorm(dg)
			must(err)
			if math.Abs(got-want) > 1e-12*want {
				t.Fatalf("GradNorm %v, want %v", got, want)
			}
			again, err := GradNorm(dg)
			must(err)
			if math.Float64bits(again) != math.Float64bits(got) {
				t.Fatalf("GradNorm not deterministic: %v then %v", got, again)
			}
			t.Logf("GradNorm %v, nn %v, |diff| %.3g", got, want, math.Abs(got-want))

			for _, maxNorm := range []float64{want / 3, 2 * want, 0} {
				ref := append([]float32(nil), g...)
				wantN := nn.ClipGradNorm(ref, maxNorm)
				whole, mid := guarded(t, n, g)
				gotN, err := ClipGradNorm(mid, maxNorm)
				must(err)
				if math.Abs(gotN-wantN) > 1e-12*wantN {
					t.Fatalf("ClipGradNorm(%v) returned %v, want %v", maxNorm, gotN, wantN)
				}
				checkClose(t, fmt.Sprintf("clip %.3g", maxNorm), readGuarded(t, "grads", whole), ref, 0, 1.0/(1<<23))
			}
		})
	}
	// A NaN gradient: the norm is NaN and nothing is scaled.
	g := []float32{1, float32(math.NaN()), 3}
	whole, mid := guarded(t, 3, g)
	norm, err := ClipGradNorm(mid, 1)
	must(err)
	if !math.IsNaN(norm) {
		t.Errorf("norm of a NaN gradient: %v", norm)
	}
	checkExact(t, "NaN grads untouched", readGuarded(t, "grads", whole), g)
}

// TestAdamParity runs several Adam and AdamW steps on the device and with nn.Adam[float32]
// from the same state and compares parameters and moments after every step. Both evaluate
// the same double-precision formula; only a fused multiply-add on the GPU can move a double
// result by an ulp, which after rounding to float32 changes it by at most one float32 ulp
// (and a parameter or moment one ulp off feeds back with a factor below 1): rtol 2⁻²¹, plus
// atol 1e-9 for moments that cancel to near zero.
func TestAdamParity(t *testing.T) {
	const n, steps = 1037, 5
	for _, wd := range []float64{0, 0.01} {
		t.Run(fmt.Sprintf("wd %v", wd), func(t *testing.T) {
			p := randF32(11, n)
			cpu := nn.NewAdam[float32](n)
			cpu.WeightDecay = wd
			gpu, err := NewAdam(n)
			must(err)
			defer gpu.Free()
			gpu.WeightDecay = wd
			whole, dp := guarded(t, n, p)
			defer whole.Free()
			dg := MustAlloc[float32](n)
			defer dg.Free()
			for step := range steps {
				g := randF32(uint64(100+step), n)
				for i := range g {
					g[i] *= float32(math.Pow(10, float64(i%7-3))) // gradients over 6 decades
				}
				lr := 1e-3 * float64(step+1)
				cpu.Update(p, g, lr)
				must(dg.Upload(g))
				must(gpu.Update(dp, dg, lr))
				if gpu.Step != cpu.Step {
					t.Fatalf("Step %d, want %d", gpu.Step, cpu.Step)
				}
				gotP, _ := dp.Host()
				gotM, _ := gpu.M.Host()
				gotV, _ := gpu.V.Host()
				checkClose(t, fmt.Sprintf("step %d params", step+1), gotP, p, 1e-9, 1.0/(1<<21))
				checkClose(t, fmt.Sprintf("step %d m", step+1), gotM, cpu.M, 1e-9, 1.0/(1<<21))
				checkClose(t, fmt.Sprintf("step %d v", step+1), gotV, cpu.V, 1e-9, 1.0/(1<<21))
			}
			h, _ := whole.Host()
			for _, j := range []int{0, guard - 1, n + guard, n + 2*guard - 1} {
				if math.Float32bits(h[j]) != 0x7fc0dead {
					t.Errorf("guard %d overwritten", j)
				}
			}
		})
	}
}

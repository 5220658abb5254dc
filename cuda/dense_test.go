//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mlcu/mlcu/event"

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
// transposition and tile shape, padded strides, alpha and beta (beta = 0 with NaN in C).
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
			for tile := 1; tile <= 4; tile++ {
				// α, β alternate across tiles, and the pattern flips from one transposition
				// to the next, so every tile meets both (β = 0 with NaN in C, and β ≠ 0).
				ab := [][2]float32{{1, 0}, {-0.75, 1.5}}[(seed+seed/4)%2]
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
// from the same state and compares parameters and moments after every step: they must be
// equal. Both evaluate the same double-precision formula with correctly rounded operations
// (+, −, ·, /, √) and no fused multiply-add on either side. An FMA is not harmless here: with
// β1 = 0.9, b1·m lies exactly on a float32 rounding midpoint for about one m in ten, and an
// emulation built with contraction (MLCU_EMU_FMA, as nvcc's default) moved ~0.1% of the
// moments by an ulp, differences the moments then carry from step to step (up to 7 ulps of
// a shrinking moment after 5 steps).
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
				checkExact(t, fmt.Sprintf("step %d params", step+1), gotP, p)
				checkExact(t, fmt.Sprintf("step %d m", step+1), gotM, cpu.M)
				checkExact(t, fmt.Sprintf("step %d v", step+1), gotV, cpu.V)
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

// conv1dShapes are the convolution test shapes: batch 1, L = 1 (every tap but the centre in
// the padding), K = 1 (no lowering), lengths and channel counts not multiples of anything.
var conv1dShapes = []struct{ B, C, L, OC, K int }{
	{1, 1, 7, 3, 3}, {2, 3, 13, 5, 5}, {3, 4, 9, 2, 1}, {1, 2, 1, 3, 3}, {2, 5, 37, 7, 7}, {1, 2, 131, 3, 3},
}

// TestConv1dParity checks Conv1dForward (out and the saved col) and Conv1dBackward against
// nn, with and without bias, gradients accumulating onto non-zero values. col is copied, so
// it must match bit for bit. The rest are sums: sumBound with Σ|terms| from the float64 nn
// op on absolute values, over C·K + 1 terms for out, O·K + 1 for dinp (the products then
// the col2im taps), B·L + 1 for dw and dbias.
func TestConv1dParity(t *testing.T) {
	for _, s := range conv1dShapes {
		for _, bias := range []bool{true, false} {
			t.Run(fmt.Sprintf("B%d C%d L%d OC%d K%d bias %v", s.B, s.C, s.L, s.OC, s.K, bias), func(t *testing.T) {
				conv1dCase(t, s.B, s.C, s.L, s.OC, s.K, bias)
			})
		}
	}
}

func conv1dCase(t *testing.T, B, Cn, L, OC, K int, bias bool) {
	seed := uint64(B*10000 + Cn*1000 + L*10 + OC + K)
	CK := Cn * K
	inp, w, bs := randF32(seed, B*Cn*L), randF32(seed+1, OC*CK), randF32(seed+2, OC)
	var refBias []float32
	var absBias []float64
	if bias {
		refBias, absBias = bs, abs64(to64(bs))
	}
	ref := make([]float32, B*OC*L)
	refCol := make([]float32, B*CK*L)
	nn.Conv1dForward(ref, refCol, inp, w, refBias, B, Cn, L, OC, K)
	abs := make([]float64, B*OC*L)
	absCol := make([]float64, B*CK*L)
	nn.Conv1dForward(abs, absCol, abs64(to64(inp)), abs64(to64(w)), absBias, B, Cn, L, OC, K)

	dInp, dW, dBias := MustFromHost(inp), MustFromHost(w), MustFromHost(bs)
	defer dInp.Free()
	defer dW.Free()
	defer dBias.Free()
	var devBias *F32
	if bias {
		devBias = dBias
	}
	var colWhole, col *F32
	if K > 1 {
		colWhole, col = guardedNaN(t, B*CK*L)
	}
	whole, out := guardedNaN(t, B*OC*L)
	must(Conv1dForward(out, col, dInp, dW, devBias, B, Cn, L, OC, K))
	checkBound(t, "out", readGuarded(t, "out", whole), to64(ref), sumBound(abs, CK))
	if K > 1 {
		defer colWhole.Free()
		checkExact(t, "col", peekGuarded(t, "col", colWhole), refCol)
	} else {
		col = dInp // the column matrix of a 1×1 convolution is its input
	}

	dout := randF32(seed+3, B*OC*L)
	g0 := [3][]float32{randF32(seed+4, B*Cn*L), randF32(seed+5, OC*CK), randF32(seed+6, OC)}
	var refG [3][]float32
	var absG [3][]float64
	for i := range g0 {
		refG[i] = append([]float32(nil), g0[i]...)
		absG[i] = abs64(to64(g0[i]))
	}
	var dcol []float32
	var dcol64 []float64
	refColArg, absColArg := refCol, absCol
	if K > 1 {
		dcol, dcol64 = make([]float32, CK*L), make([]float64, CK*L)
	} else {
		refColArg, absColArg = inp, abs64(to64(inp))
	}
	nn.Conv1dBackward(refG[0], refG[1], refG[2], dcol, dout, refColArg, w, B, Cn, L, OC, K)
	nn.Conv1dBackward(absG[0], absG[1], absG[2], dcol64, abs64(to64(dout)), absColArg, abs64(to64(w)), B, Cn, L, OC, K)

	dOut := MustFromHost(dout)
	defer dOut.Free()
	work := MustAlloc[float32](Conv1dBackwardWork(B, Cn, L, OC, K))
	defer work.Free()
	var wholes, mids [3]*F32
	for i := range g0 {
		wholes[i], mids[i] = guarded(t, len(g0[i]), g0[i])
	}
	must(Conv1dBackward(mids[0], mids[1], mids[2], work, dOut, col, dW, B, Cn, L, OC, K))
	checkBound(t, "dinp", readGuarded(t, "dinp", wholes[0]), to64(refG[0]), sumBound(absG[0], OC*K+1))
	checkBound(t, "dw", readGuarded(t, "dw", wholes[1]), to64(refG[1]), sumBound(absG[1], B*L+1))
	checkBound(t, "dbias", readGuarded(t, "dbias", wholes[2]), to64(refG[2]), sumBound(absG[2], B*L+1))
}

// TestMaxPool1dParity checks MaxPool1dForward (values and indices, with ties and NaNs) and
// MaxPool1dBackward against nn bit for bit: selection and one addition per element.
func TestMaxPool1dParity(t *testing.T) {
	for _, s := range []struct{ B, C, L int }{{1, 1, 3}, {1, 1, 2}, {2, 3, 11}, {3, 2, 40}} {
		t.Run(fmt.Sprintf("B%d C%d L%d", s.B, s.C, s.L), func(t *testing.T) {
			B, Cn, L, Lo := s.B, s.C, s.L, s.L/2
			inp := randF32(uint64(B*C0+L), B*Cn*L)
			for i := 0; i+1 < len(inp); i += 5 {
				inp[i+1] = inp[i] // ties, in both positions of a window across the rows
			}
			if len(inp) > 8 {
				inp[6], inp[9] = float32(math.NaN()), float32(math.NaN())
			}
			ref := make([]float32, B*Cn*Lo)
			refIdx := make([]int32, B*Cn*Lo)
			nn.MaxPool1dForward(ref, refIdx, inp, B, Cn, L)

			dInp := MustFromHost(inp)
			defer dInp.Free()
			whole, out := guardedNaN(t, B*Cn*Lo)
			idxWhole := MustAlloc[int32](B*Cn*Lo + 2)
			defer idxWhole.Free()
			must(idxWhole.Upload(append(append([]int32{-7}, make([]int32, B*Cn*Lo)...), -7)))
			idx := idxWhole.Slice(1, 1+B*Cn*Lo)
			must(MaxPool1dForward(out, idx, dInp, B, Cn, L))
			checkExact(t, "out", readGuarded(t, "out", whole), ref)
			gotIdx, _ := idxWhole.Host()
			if gotIdx[0] != -7 || gotIdx[len(gotIdx)-1] != -7 {
				t.Errorf("idx guards overwritten: %d, %d", gotIdx[0], gotIdx[len(gotIdx)-1])
			}
			for i, v := range gotIdx[1 : 1+B*Cn*Lo] {
				if v != refIdx[i] {
					t.Fatalf("idx[%d] = %d, want %d", i, v, refIdx[i])
				}
			}

			dout := randF32(uint64(L)+5, B*Cn*Lo)
			dinp0 := randF32(uint64(L)+6, B*Cn*L)
			refD := append([]float32(nil), dinp0...)
			nn.MaxPool1dBackward(refD, dout, refIdx, B, Cn, L)
			dOut := MustFromHost(dout)
			defer dOut.Free()
			whole, dinp := guarded(t, B*Cn*L, dinp0)
			must(MaxPool1dBackward(dinp, dOut, idx, B, Cn, L))
			checkExact(t, "dinp", readGuarded(t, "dinp", whole), refD)
		})
	}
}

// C0 offsets the MaxPool seeds.
const C0 = 31

// bnShapes are the batch-norm test shapes: batch 1, a single value per channel (N = 1: the
// unbiased variance falls back to the biased one), odd sizes, a length over the block size.
var bnShapes = []struct{ B, C, L int }{{1, 3, 5}, {1, 2, 1}, {4, 5, 37}, {2, 3, 300}, {7, 4, 33}}

// TestBatchNorm1dParity checks the training forward (out, mean, rstd, running statistics),
// the evaluation forward and the backward pass against nn.
//
// Tolerances. The statistics are double sums on both sides (differences ~N·2⁻⁵³ relative)
// rounded to float32: mean, rstd and the running statistics agree to one float32 rounding
// (rtol 2⁻²³; atol 1e-12 for a mean that is ~0). An output (x − m)·s + β is then a few float
// operations on operands that may each be one rounding apart, and the GPU may fuse the
// multiply-add: per element 4u·((|x| + 2|m|)·|s| + |β|). The input gradient
// k·(g − mdy − x̂·mdyx) added to dinp: 4u·(|dinp| + |k|·(|g| + |mdy| + 2|x̂·mdyx|)). dgamma
// and dbeta add one rounded double sum: 2u·(|initial| + |sum|) + 1e-12.
//
// Each shape runs with the batch split into the library's choice of chunks (0: one chunk
// at these small sizes), one chunk per channel (1), and 3 uneven chunks (B = 4, 7): the
// partial sums must combine to the same statistics and gradients.
func TestBatchNorm1dParity(t *testing.T) {
	for _, s := range bnShapes {
		for _, chunks := range []int{0, 1, 3} {
			t.Run(fmt.Sprintf("B%d C%d L%d chunks %d", s.B, s.C, s.L, chunks), func(t *testing.T) { batchNormCase(t, s.B, s.C, s.L, chunks) })
		}
	}
}

func batchNormCase(t *testing.T, B, Cn, L, chunks int) {
	const mom, eps = nn.BatchNormMomentum, nn.BatchNormEps
	seed := uint64(B*1000 + Cn*100 + L)
	inp := randF32(seed, B*Cn*L)
	for i := range inp {
		inp[i] = 3*inp[i] + float32(i%Cn) // channel means away from 0
	}
	gamma, beta := randF32(seed+1, Cn), randF32(seed+2, Cn)
	runMean, runVar := randF32(seed+3, Cn), randF32(seed+4, Cn)
	for i := range runVar {
		runVar[i] = 1 + runVar[i]*runVar[i]
	}
	ref := make([]float32, B*Cn*L)
	mean, rstd := make([]float32, Cn), make([]float32, Cn)
	rm, rv := append([]float32(nil), runMean...), append([]float32(nil), runVar...)
	nn.BatchNorm1dForward(ref, mean, rstd, inp, gamma, beta, rm, rv, B, Cn, L, mom, eps)

	up := func(x []float32) *F32 { return MustFromHost(x) }
	dInp, dGamma, dBeta := up(inp), up(gamma), up(beta)
	defer dInp.Free()
	defer dGamma.Free()
	defer dBeta.Free()
	whole, out := guardedNaN(t, B*Cn*L)
	meanW, dMean := guardedNaN(t, Cn)
	rstdW, dRstd := guardedNaN(t, Cn)
	rmW, dRM := guarded(t, Cn, runMean)
	rvW, dRV := guarded(t, Cn, runVar)
	must(batchNormForward(out, dMean, dRstd, dInp, dGamma, dBeta, dRM, dRV, B, Cn, L, mom, eps, false, chunks))
	affineBound := func(x []float32, m, s []float64) []float64 {
		b := make([]float64, len(x))
		for i, v := range x {
			c := i / L % Cn
			b[i] = 4 * f32u * ((math.Abs(float64(v))+2*math.Abs(m[c]))*math.Abs(s[c]) + math.Abs(float64(beta[c])))
		}
		return b
	}
	scale := make([]float64, Cn)
	for c := range scale {
		scale[c] = float64(rstd[c]) * float64(gamma[c])
	}
	checkBound(t, "out", readGuarded(t, "out", whole), to64(ref), affineBound(inp, to64(mean), scale))
	const r1 = 1.0 / (1 << 23)
	defer meanW.Free()
	defer rstdW.Free()
	checkClose(t, "mean", peekGuarded(t, "mean", meanW), mean, 1e-12, r1)
	checkClose(t, "rstd", peekGuarded(t, "rstd", rstdW), rstd, 0, r1)
	checkClose(t, "runMean", readGuarded(t, "runMean", rmW), rm, 1e-12, r1)
	checkClose(t, "runVar", readGuarded(t, "runVar", rvW), rv, 0, r1)

	// Without running statistics: the same output and statistics.
	whole, out = guardedNaN(t, B*Cn*L)
	must(batchNormForward(out, dMean, dRstd, dInp, dGamma, dBeta, nil, nil, B, Cn, L, mom, eps, false, chunks))
	checkBound(t, "out (no running stats)", readGuarded(t, "out", whole), to64(ref), affineBound(inp, to64(mean), scale))

	// Fused with ReLU, against the CPU composition: ReLU is 1-Lipschitz, so the same bound.
	refR := make([]float32, len(ref))
	nn.ReLUForward(refR, ref)
	whole, out = guardedNaN(t, B*Cn*L)
	must(batchNormForward(out, dMean, dRstd, dInp, dGamma, dBeta, nil, nil, B, Cn, L, mom, eps, true, chunks))
	checkBound(t, "BN+ReLU out", readGuarded(t, "out", whole), to64(refR), affineBound(inp, to64(mean), scale))

	// Evaluation mode, with the original running statistics.
	refE := make([]float32, B*Cn*L)
	nn.BatchNorm1dEvalForward(refE, inp, gamma, beta, runMean, runVar, B, Cn, L, eps)
	dRM0, dRV0 := up(runMean), up(runVar)
	defer dRM0.Free()
	defer dRV0.Free()
	whole, out = guardedNaN(t, B*Cn*L)
	must(BatchNorm1dEvalForward(out, dInp, dGamma, dBeta, dRM0, dRV0, B, Cn, L, eps))
	escale := make([]float64, Cn)
	for c := range escale {
		escale[c] = float64(gamma[c]) / math.Sqrt(float64(runVar[c])+eps)
	}
	checkBound(t, "eval out", readGuarded(t, "eval out", whole), to64(refE), affineBound(inp, to64(runMean), escale))
	nn.ReLUForward(refE, refE)
	whole, out = guardedNaN(t, B*Cn*L)
	must(BatchNorm1dReLUEvalForward(out, dInp, dGamma, dBeta, dRM0, dRV0, B, Cn, L, eps))
	checkBound(t, "eval BN+ReLU out", readGuarded(t, "eval out", whole), to64(refE), affineBound(inp, to64(runMean), escale))

	// Backward, from the CPU's saved statistics, gradients accumulating onto non-zero values.
	dout := randF32(seed+5, B*Cn*L)
	g0 := [3][]float32{randF32(seed+6, B*Cn*L), randF32(seed+7, Cn), randF32(seed+8, Cn)}
	var refG [3][]float32
	for i := range g0 {
		refG[i] = append([]float32(nil), g0[i]...)
	}
	nn.BatchNorm1dBackward(refG[0], refG[1], refG[2], dout, inp, mean, rstd, gamma, B, Cn, L)
	dOut, dMeanC, dRstdC := up(dout), up(mean), up(rstd)
	defer dOut.Free()
	defer dMeanC.Free()
	defer dRstdC.Free()
	var wholes, mids [3]*F32
	for i := range g0 {
		wholes[i], mids[i] = guarded(t, len(g0[i]), g0[i])
	}
	must(batchNormBackward(mids[0], mids[1], mids[2], dOut, dInp, dMeanC, dRstdC, dGamma, B, Cn, L, chunks))

	N := float64(B * L)
	sdy, sdyx := make([]float64, Cn), make([]float64, Cn)
	for i, g := range dout {
		c := i / L % Cn
		sdy[c] += float64(g)
		sdyx[c] += float64(g) * (float64(inp[i]) - float64(mean[c])) * float64(rstd[c])
	}
	bnd := make([]float64, B*Cn*L)
	for i, g := range dout {
		c := i / L % Cn
		k := float64(gamma[c]) * float64(rstd[c])
		xhat := (float64(inp[i]) - float64(mean[c])) * float64(rstd[c])
		bnd[i] = 4 * f32u * (math.Abs(float64(g0[0][i])) + math.Abs(k)*(math.Abs(float64(g))+math.Abs(sdy[c]/N)+2*math.Abs(xhat*sdyx[c]/N)))
	}
	checkBound(t, "dinp", readGuarded(t, "dinp", wholes[0]), to64(refG[0]), bnd)
	for j, sum := range [][]float64{sdyx, sdy} {
		b := make([]float64, Cn)
		for c := range b {
			b[c] = 2*f32u*(math.Abs(float64(g0[j+1][c]))+math.Abs(sum[c])) + 1e-12
		}
		checkBound(t, []string{"dgamma", "dbeta"}[j], readGuarded(t, "dparam", wholes[j+1]), to64(refG[j+1]), b)
	}

	// Only the parameter gradients (dinp nil).
	var w2, m2 [2]*F32
	for i := range w2 {
		w2[i], m2[i] = guarded(t, Cn, g0[i+1])
	}
	must(batchNormBackward(nil, m2[0], m2[1], dOut, dInp, dMeanC, dRstdC, dGamma, B, Cn, L, chunks))
	checkClose(t, "dgamma (dinp nil)", readGuarded(t, "dgamma", w2[0]), refG[1], 1e-12, 2*f32u)
	checkClose(t, "dbeta (dinp nil)", readGuarded(t, "dbeta", w2[1]), refG[2], 1e-12, 2*f32u)
}

// TestGemmTileChoice pins the automatic tile choice (gemm.cu, choose_tile, whose rates per
// transposition were measured on an H200) on the products of the paper preset's
// convolutions, where the H200 measured every shape (BenchmarkSgemmTiles; each case takes the
// fastest there), and on products that motivate each shape: a product too small to give an
// H100's SMs enough 128×128 tiles 64×64, the MAF's B × D products (n = 7) 64×64, since the
// thin tile's 128 columns would be mostly padding.
func TestGemmTileChoice(t *testing.T) {
	for _, c := range []struct {
		name              string
		tA, tB            bool
		m, n, batch, want int
	}{
		// The paper preset's convolutions at batch 512: forward OC × L (no transposition),
		// weight gradient OC × C·K (B transposed), input gradient C·K × L (A transposed).
		{"32-channel forward", false, false, 32, 7200, 512, 3},
		{"32-channel weight gradient", false, true, 32, 96, 512, 3},
		{"32-channel input gradient", true, false, 96, 7200, 512, 2},
		{"64-channel forward", false, false, 64, 3600, 512, 1},
		{"64-channel weight gradient", false, true, 64, 192, 512, 1},
		{"64-channel input gradient", true, false, 192, 3600, 512, 1},
		{"128-channel forward", false, false, 128, 1800, 512, 1},
		{"128-channel weight gradient", false, true, 128, 384, 512, 2},
		{"128-channel input gradient", true, false, 384, 1800, 512, 2},
		{"256-channel forward", false, false, 256, 900, 512, 1},
		{"256-channel weight gradient", false, true, 256, 768, 512, 2},
		{"square, B transposed", false, true, 2048, 2048, 1, 2},
		{"square, A transposed", true, false, 2048, 2048, 1, 2},
		{"too few large tiles", false, true, 512, 512, 1, 1},
		{"MAF output (n = 7)", false, false, 512, 7, 1, 1},
	} {
		if got := gemmTileFor(c.tA, c.tB, c.m, c.n, c.batch); got != c.want {
			t.Errorf("%s (tA %v tB %v m %d n %d batch %d): tile %d, want %d", c.name, c.tA, c.tB, c.m, c.n, c.batch, got, c.want)
		}
	}
}

// TestAllocZero: a buffer of no elements is usable (empty uploads and downloads, Free) and
// is not tracked, like cudaMalloc(0)'s null pointer on a GPU, where Free has nothing to do:
// the leak check once reported such a buffer of TestGemmParity's k = 0 case on an H200.
func TestAllocZero(t *testing.T) {
	before := len(liveAllocations())
	b := MustAlloc[float32](0)
	if b.Len() != 0 {
		t.Fatalf("Len %d, want 0", b.Len())
	}
	if err := b.Upload(nil); err != nil {
		t.Fatalf("Upload of nothing: %v", err)
	}
	if got := len(liveAllocations()); got != before {
		t.Fatalf("a zero-length buffer is tracked: %d live allocations, %d before", got, before)
	}
	b.Free()
	b.Free()
}

// TestFill: Fill sets every element of a view of odd length and nothing around it.
func TestFill(t *testing.T) {
	for _, n := range []int{1, 257, 1000} {
		g := newGuardBuf(t, make([]float32, n))
		must(Fill(g.View(), -2.5))
		for i, v := range g.Host(t, "fill") {
			if v != -2.5 {
				t.Fatalf("n %d: x[%d] = %v, want -2.5", n, i, v)
			}
		}
	}
}

// TestGemmTilePadding computes the padding of the convolution products of one training step
// (per convolution: forward OC × L, k = C·K; weight gradient OC × C·K, k = L; input gradient
// C·K × L, k = OC; batched over B) under the automatic tile choice and under the choice
// before the 32×128 tile (128×128 with ≥ 128 tiles, else 64×64): the figures the README
// quotes. The choice must not pad more than the old one on either preset.
func TestGemmTilePadding(t *testing.T) {
	dims := map[int][2]int{1: {64, 64}, 2: {128, 128}, 3: {32, 128}}
	padded := func(tile, m, n int) float64 {
		d := dims[tile]
		return float64((m+d[0]-1)/d[0]*d[0]) * float64((n+d[1]-1)/d[1]*d[1])
	}
	old := func(m, n, batch int) int {
		if (m+127)/128*((n+127)/128)*batch >= 128 {
			return 2
		}
		return 1
	}
	for _, c := range []struct {
		preset string
		batch  int
	}{{"paper", 512}, {"small", 32}} {
		cfg, err := event.Preset(c.preset)
		must(err)
		fs := cfg.Featurizer
		var useful, padOld, padNew float64
		for i := range fs.Blocks {
			blk := fs.Block(i)
			for _, conv := range [][2]int{{blk.C, blk.OC}, {blk.OC, blk.OC}} {
				OC, L, CK := conv[1], blk.L, conv[0]*blk.K
				for _, p := range []struct {
					tA, tB  bool
					m, n, k int
				}{{false, false, OC, L, CK}, {false, true, OC, CK, L}, {true, false, CK, L, OC}} {
					m, n, k := p.m, p.n, p.k
					w := float64(k) * float64(c.batch)
					useful += float64(m) * float64(n) * w
					padOld += padded(old(m, n, c.batch), m, n) * w
					padNew += padded(gemmTileFor(p.tA, p.tB, m, n, c.batch), m, n) * w
				}
			}
		}
		t.Logf("%s, batch %d: padding %.1f%% of the multiply-adds (square tiles only: %.1f%%)",
			c.preset, c.batch, 100*(1-useful/padNew), 100*(1-useful/padOld))
		if padNew > padOld {
			t.Errorf("%s: the tile choice pads more (%.4g multiply-adds) than the square tiles (%.4g)", c.preset, padNew, padOld)
		}
	}
}

// TestGemmRejectsOverlap: the SGEMM kernel's A, B and C are __restrict__, so an output that
// shares memory with an input is undefined on a GPU; Gemm panics instead. Disjoint parts of
// one buffer are fine (and give the product).
func TestGemmRejectsOverlap(t *testing.T) {
	buf := MustAlloc[float32](64)
	defer buf.Free()
	must(buf.Upload(randF32(3, 64)))
	a, b := buf.Slice(0, 16), buf.Slice(16, 32) // (4, 4) each
	for _, c := range []struct {
		name string
		out  *F32
		ok   bool
	}{
		{"C after A and B", buf.Slice(32, 48), true},
		{"C on A", buf.Slice(0, 16), false},
		{"C inside B", buf.Slice(20, 36), false},
	} {
		panicked := func() (p bool) {
			defer func() { p = recover() != nil }()
			must(Gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, c.out, 4))
			return false
		}()
		if panicked == c.ok {
			t.Errorf("%s: panicked %v, want %v", c.name, panicked, !c.ok)
		}
	}
}

//go:build cuda || cudaemu

package cuda

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestSelftest runs kernels/selftest.cu and checks each thread's results against the CUDA
// semantics computed here: the emulation must agree with them exactly, as a GPU does.
func TestSelftest(t *testing.T) {
	for _, c := range []struct{ blocks, threads, keep int }{{3, 96, 80}, {2, 64, 64}, {1, 32, 7}} {
		n := c.blocks * c.threads
		out := MustAlloc[int32](n * 8)
		cnt := MustAlloc[int32](1)
		must(cnt.Zero())
		must(selftest(out, cnt, c.blocks, c.threads, c.keep))
		got, err := out.Host()
		must(err)
		count, err := cnt.Host()
		must(err)
		out.Free()
		cnt.Free()
		if int(count[0]) != c.blocks*c.keep {
			t.Errorf("%+v: atomic count %d, want %d", c, count[0], c.blocks*c.keep)
		}
		for b := range c.blocks {
			v := func(th int) int32 { return int32(1000*b + th) }
			var blockSum int32
			for th := range c.keep {
				blockSum += v(th)
			}
			for th := range c.threads {
				lane, w0 := th%32, th-th%32
				var ballot uint32
				var wsum int32
				for l := range 32 {
					if (w0+l)%3 == 0 {
						ballot |= 1 << l
					}
					wsum += v(w0 + l)
				}
				down, up := v(th+1), v(th-2)
				if lane == 31 {
					down = v(th) // source lane outside the warp: own value
				}
				if lane < 2 {
					up = v(th)
				}
				want := []int32{down, v(w0 + (lane ^ 3)), up, v(w0 + 5), int32(ballot), wsum}
				if th < c.keep {
					want = append(want, blockSum, v((th+1)%c.keep))
				}
				o := got[(b*c.threads+th)*8:]
				for j, w := range want {
					if o[j] != w {
						t.Errorf("%+v block %d thread %d: out[%d] = %d, want %d", c, b, th, j, o[j], w)
					}
				}
			}
		}
	}
}

// TestSelftestSharedMemoryOptIn: a kernel may use up to 48 KiB of dynamic shared memory as it
// is, more only after cudaFuncSetAttribute raised its limit; the launch fails otherwise with
// cudaErrorInvalidValue. The emulation enforces the rule, so a kernel that forgets the
// opt-in fails here as it would on a GPU; 100 KiB fits every supported GPU (sm_80: 163 KiB).
func TestSelftestSharedMemoryOptIn(t *testing.T) {
	out := MustAlloc[int32](32)
	defer out.Free()
	for _, c := range []struct {
		bytes int
		optin bool
		ok    bool
	}{{48 * 1024, false, true}, {100 * 1024, false, false}, {100 * 1024, true, true}} {
		must(out.Zero())
		err := selftestSmem(out, c.bytes, c.optin)
		if !c.ok {
			var ce *Error
			if !errors.As(err, &ce) || ce.Code != 1 {
				t.Errorf("%d bytes without the opt-in: error %v, want cudaErrorInvalidValue (1)", c.bytes, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%d bytes, opt-in %v: %v", c.bytes, c.optin, err)
			continue
		}
		got, err := out.Host()
		must(err)
		for th, v := range got {
			if want := int32((th+1)%32 + 1); v != want {
				t.Errorf("%d bytes, opt-in %v: thread %d read %d, want %d", c.bytes, c.optin, th, v, want)
			}
		}
	}
}

// TestEmulationPoisonsStaticShared: on a GPU a block's static __shared__ memory starts
// undefined, often holding the previous block's values on that SM, so a kernel that reads it
// before writing is wrong even where its tests pass. The emulation fills every kernel's static
// shared memory with 0xff bytes before each block; a kernel that reads it unwritten sees −1
// (NaN as float) — never the zeros or the earlier block's values that would let it pass.
func TestEmulationPoisonsStaticShared(t *testing.T) {
	if !Emulated() {
		t.Skip("what a GPU leaves in shared memory is undefined: emulation-only check")
	}
	if emulationASan {
		t.Skip("under ASan static shared arrays keep their redzones instead (kernels/emu.cuh)")
	}
	const blocks = 3
	out := MustAlloc[int32](blocks * 32)
	defer out.Free()
	must(out.Zero())
	must(selftestStaleShared(out, blocks))
	got, err := out.Host()
	must(err)
	for i, v := range got {
		if v != -1 {
			t.Errorf("block %d thread %d read %d from unwritten static shared memory, want the poison -1", i/32, i%32, v)
		}
	}
}

// TestDeviceMathErrors evaluates, on the device, the math functions the kernels use and
// measures each result's distance in ulps from Go's math package (float32 results from the
// float64 functions, rounded: within half an ulp of exact; Go's float64 functions within
// about one ulp). On a GPU every distance must stay within the CUDA Programming Guide's
// maximum error plus one ulp for the reference's own error — the bound the parity
// tolerances assume. Under the emulation with MLCU_EMU_GPU_MATH (kernels/emu.cuh) the same
// bound holds, and most results must be off by at least one ulp: the emulation really moves
// them, so the other parity tests are checked against a GPU's math library, not glibc's.
func TestDeviceMathErrors(t *testing.T) {
	const n = 2000
	r := rand.New(rand.NewPCG(5, 6))
	xs := make([]float32, n)
	ys := make([]float64, n)
	for i := range n {
		xs[i] = float32(r.Float64()*20 - 10) // expf, tanhf over [−10, 10]
		ys[i] = r.Float64()*40 - 20          // exp over [−20, 20]; cos with a range reduction
	}
	xs[0], ys[0] = 0, 0 // exact results: exp(0) = 1, tanh(0) = 0, cos(0) = 1
	inf, ind := MustAlloc[float32](n), MustAlloc[float64](n)
	outf, outd := MustAlloc[float32](3*n), MustAlloc[float64](4*n)
	t.Cleanup(func() { inf.Free(); ind.Free(); outf.Free(); outd.Free() })
	must(inf.Upload(xs))
	must(ind.Upload(ys))
	must(selftestMath(outf, outd, inf, ind, n))
	gf, err := outf.Host()
	must(err)
	gd, err := outd.Host()
	must(err)

	type fn struct {
		name  string
		bound int64 // CUDA's maximum ulp error
		got   func(i int) float64
		want  func(i int) float64
		f32   bool
	}
	fns := []fn{
		{"expf", 2, func(i int) float64 { return float64(gf[3*i]) }, func(i int) float64 { return math.Exp(float64(xs[i])) }, true},
		{"tanhf", 2, func(i int) float64 { return float64(gf[3*i+1]) }, func(i int) float64 { return math.Tanh(float64(xs[i])) }, true},
		{"logf", 1, func(i int) float64 { return float64(gf[3*i+2]) }, func(i int) float64 {
			a := float32(math.Abs(float64(xs[i])))
			return math.Log(float64(a + 0.5)) // the float32 sum, as the kernel's fabsf(x) + 0.5f
		}, true},
		{"exp", 1, func(i int) float64 { return gd[4*i] }, func(i int) float64 { return math.Exp(ys[i]) }, false},
		{"cos", 2, func(i int) float64 { return gd[4*i+1] }, func(i int) float64 { return math.Cos(ys[i]) }, false},
		{"log", 1, func(i int) float64 { return gd[4*i+2] }, func(i int) float64 { return math.Log(math.Abs(ys[i]) + 0.5) }, false},
		{"pow", 2, func(i int) float64 { return gd[4*i+3] }, func(i int) float64 { return math.Pow(math.Abs(ys[i])+0.5, 0.2) }, false},
	}
	emulatedGPU := Emulated() && emulationGPUMath()
	for _, f := range fns {
		var worst int64
		moved, exact := 0, 0
		for i := range n {
			g, w := f.got(i), f.want(i)
			var d int64
			if f.f32 {
				d = ulpDist32(float32(g), float32(w))
			} else {
				d = ulpDist64(g, w)
			}
			worst = max(worst, d)
			if f.f32 {
				w = float64(float32(w))
			}
			if w == 0 || w == 1 || w == -1 { // exact: left alone on a GPU and here
				exact++
				continue
			}
			if d > 0 {
				moved++
			}
		}
		t.Logf("%s: max %d ulp from Go's math (CUDA's bound %d + 1); %d of %d inexact results moved", f.name, worst, f.bound, moved, n-exact)
		if worst > f.bound+1 {
			t.Errorf("%s: %d ulp from Go's math, beyond CUDA's bound %d + 1", f.name, worst, f.bound)
		}
		if emulatedGPU && moved < (n-exact)*9/10 {
			t.Errorf("%s: only %d of %d inexact results differ from Go's: the emulation's GPU math is not in effect", f.name, moved, n-exact)
		}
	}
}

// ulpDist32 is the number of float32 values between a and b (±0 count as one value).
func ulpDist32(a, b float32) int64 {
	d := int64(orderedBits32(a)) - int64(orderedBits32(b))
	return max(d, -d)
}

// ulpDist64 is the number of float64 values between a and b (±0 count as one value).
func ulpDist64(a, b float64) int64 {
	d := orderedBits64(a) - orderedBits64(b)
	return max(d, -d)
}

// orderedBits32 maps float32 bits to integers in the order of the values (negative floats,
// whose bits read as negative integers in reverse order, are flipped; −0 maps to 0).
func orderedBits32(f float32) int32 {
	b := int32(math.Float32bits(f))
	if b < 0 {
		b = math.MinInt32 - b
	}
	return b
}

// orderedBits64 is orderedBits32 for float64.
func orderedBits64(f float64) int64 {
	b := int64(math.Float64bits(f))
	if b < 0 {
		b = math.MinInt64 - b
	}
	return b
}

// TestEmulationChecksWarpMasks: a warp intrinsic's member mask must name exactly lanes that
// execute it. The emulation's exchange waits only for the lanes still running, so it would
// return plausible values where a GPU's behaviour is undefined (a hang, garbage); it fails
// the launch instead (cudaErrorLaunchFailure, 719). Valid cases run on a GPU too.
func TestEmulationChecksWarpMasks(t *testing.T) {
	out := MustAlloc[int32](32)
	defer out.Free()
	for _, c := range []struct {
		keep   int
		member uint32
		valid  bool
	}{
		{32, 0xffffffff, true},
		{16, 0x0000ffff, true},  // the 16 lanes that run, named exactly
		{16, 0xffffffff, false}, // names 16 lanes that have returned
		{32, 0x0000ffff, false}, // lanes 16–31 call it without being in the mask
	} {
		if !c.valid && !Emulated() {
			continue // undefined on a GPU: not run there
		}
		must(out.Zero())
		err := selftestWarpMask(out, c.keep, c.member)
		if !c.valid {
			var ce *Error
			if !errors.As(err, &ce) || ce.Code != 719 {
				t.Errorf("keep %d, mask %08x: error %v, want cudaErrorLaunchFailure (719)", c.keep, c.member, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("keep %d, mask %08x: %v", c.keep, c.member, err)
			continue
		}
		got, err := out.Host()
		must(err)
		for l := range c.keep {
			if got[l] != int32(l^1) {
				t.Errorf("keep %d, mask %08x: lane %d read %d, want %d", c.keep, c.member, l, got[l], l^1)
			}
		}
	}
}

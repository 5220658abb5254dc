//go:build cuda || cudaemu

package cuda

import (
	"errors"
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

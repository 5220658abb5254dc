//go:build cuda || cudaemu

package cuda

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/mlcu/mlcu/internal/testutil"
	"github.com/mlcu/mlcu/lens"
)

// guarded allocates n+2g elements, fills them with NaN and returns the buffer and its
// middle view [g, g+n).
func guardedF64(n, g int) (*Buffer[float64], *Buffer[float64]) {
	b := MustAlloc[float64](n + 2*g)
	h := make([]float64, n+2*g)
	for i := range h {
		h[i] = math.Float64frombits(0x7ff8dead0000beef)
	}
	must(b.Upload(h))
	return b, b.Slice(g, g+n)
}

// checkGuards fails when a guard element of b (n+2g) is no longer the sentinel.
func checkGuardsF64(t *testing.T, b *Buffer[float64], n, g int) []float64 {
	t.Helper()
	h, err := b.Host()
	must(err)
	for i := 0; i < g; i++ {
		for _, k := range []int{i, g + n + i} {
			if math.Float64bits(h[k]) != 0x7ff8dead0000beef {
				t.Fatalf("guard element %d overwritten: %v", k, h[k])
			}
		}
	}
	return h[g : g+n]
}

// TestBinaryPointMagReference checks the device solver against the quad-precision
// A_point_hp of testdata/binary_point.csv (3000 rows, s ∈ [0.1, 10], q ∈ [1e-6, 1], sources
// down to 1.3e-5 from a caustic), with lens/'s own contract (lens.TestPointMagReference):
// relative error ≤ 1e-6 on 99.9% of rows and ≤ 1e-4 on every row. It also compares every
// row with lens.Binary.PointMag, the CPU op: both run the same algorithm on the same
// polynomial, so they differ only by rounding (FMA contraction and math-library ulps on
// the device), which the fold amplifies like eps/dist: |ΔA| ≤ 1e-9·A (the reference's
// closest source, 1.3e-5 from a fold, leaves room for 1e-16/1.3e-5 ≈ 1e-11 times the
// conditioning of the clustered roots of q = 1e-6). The output buffer is guard-padded.
func TestBinaryPointMagReference(t *testing.T) {
	cols := testutil.RefColumns(t, "binary_point.csv")
	n := len(cols["s"])
	const g = 3
	outB, out := guardedF64(n, g)
	defer outB.Free()
	var bufs []*Buffer[float64]
	for _, k := range []string{"s", "q", "y1", "y2"} {
		bufs = append(bufs, MustFromHost(cols[k]))
	}
	defer func() {
		for _, b := range bufs {
			b.Free()
		}
	}()
	must(BinaryPointMagManyBuf(out, bufs[0], bufs[1], bufs[2], bufs[3]))
	got := checkGuardsF64(t, outB, n, g)

	const rtolCPU = 1e-9
	errs := make([]float64, n)
	maxRef, maxCPU := 0.0, 0.0
	for i := range got {
		ref := cols["A_point_hp"][i]
		e := math.Abs(got[i]-ref) / ref
		if math.IsNaN(e) {
			e = math.Inf(1)
		}
		errs[i] = e
		maxRef = math.Max(maxRef, e)
		cpu := lens.NewBinary(cols["s"][i], cols["q"][i]).PointMag(cols["y1"][i], cols["y2"][i])
		d := math.Abs(got[i] - cpu)
		maxCPU = math.Max(maxCPU, d/cpu)
		if !(d <= rtolCPU*cpu) {
			t.Fatalf("row %d (s %v q %v y %v, %v): device %.17g, lens.PointMag %.17g (rel %.2g)",
				i, cols["s"][i], cols["q"][i], cols["y1"][i], cols["y2"][i], got[i], cpu, d/cpu)
		}
		if e > 1e-4 {
			t.Fatalf("row %d: device %.17g, A_point_hp %.17g (rel %.2g > 1e-4)", i, got[i], ref, e)
		}
	}
	sort.Float64s(errs)
	p999 := errs[int(0.999*float64(n))-1]
	t.Logf("%d rows vs A_point_hp: median rel err %.2e, 99.9%% %.2e, max %.2e; max rel diff vs lens.PointMag %.2e",
		n, errs[n/2], p999, maxRef, maxCPU)
	if p999 > 1e-6 {
		t.Errorf("99.9th percentile relative error %.3g > 1e-6", p999)
	}
}

// TestBinaryPointMagSmall covers batch 1, an odd size, sources on a lens's axis and far
// away (the far-field branch), through the host-slice API, against lens.Binary.PointMag.
// Tolerance 1e-10 relative: these sources are ≥ 0.08 from the caustic, where rounding
// differences (FMA on the device) move A by ~eps/dist ≲ 1e-12.
func TestBinaryPointMagSmall(t *testing.T) {
	b := lens.NewBinary(0.8, 0.3)
	y1 := []float64{0.1, -0.5, 2e4, 0.3, b.X2 + 0.01, 0, 1.3, -0.2, 0.05}
	y2 := []float64{0.02, 0, 0, -3e4, 0, 1e-3, 0.7, -0.15, 0}
	for _, n := range []int{1, len(y1)} {
		got, err := BinaryPointMag(y1[:n], y2[:n], b.S, b.Q)
		must(err)
		for i := range got {
			want := b.PointMag(y1[i], y2[i])
			if d := math.Abs(got[i] - want); !(d <= 1e-10*want) {
				t.Errorf("n %d, source (%v, %v): device %.17g, lens %.17g", n, y1[i], y2[i], got[i], want)
			}
		}
	}
	if _, err := BinaryPointMag([]float64{0}, []float64{0}, 0, 0.5); err == nil {
		t.Error("s = 0 accepted")
	}
}

// testEvents draws n point-source events across lens/'s verified domain (log s ∈ [-1, 1],
// log q ∈ [-6, 0], α uniform); every second one has its trajectory put through two points
// of one caustic curve, with tE chosen so that the chord between them takes 20–40% of the
// window [0, tmax] (the caustics of q = 1e-6 are ~1e-6 wide: a realistic tE would cross
// them between two samples), centred at a random time (off the sampling grid).
func testEvents(rng *rand.Rand, n int, tmax float64) []lens.Event {
	evs := make([]lens.Event, n)
	for i := range evs {
		s := math.Pow(10, -1+2*rng.Float64())
		q := math.Pow(10, -6*rng.Float64())
		alpha := 2 * math.Pi * rng.Float64()
		te := math.Pow(10, 0.5+rng.Float64())
		u0 := -1 + 2*rng.Float64()
		t0 := tmax * rng.Float64()
		if i%2 == 0 {
			cs := lens.NewBinary(s, q).Caustics(64)
			cv := cs[rng.IntN(len(cs))].Caustic
			c1 := cv[rng.IntN(len(cv))]
			c2 := cv[rng.IntN(len(cv))]
			for c2 == c1 {
				c2 = cv[rng.IntN(len(cv))]
			}
			// The source moves along -(cos α, sin α) = (c2 - c1)/|c2 - c1|.
			dc := c2 - c1
			alpha = math.Atan2(-imag(dc), -real(dc))
			sa, ca := math.Sincos(alpha)
			te = (0.2 + 0.2*rng.Float64()) * tmax / math.Hypot(real(dc), imag(dc))
			// y(τ) = u0 (sin α, -cos α) - τ (cos α, sin α): the line through c1 has
			// u0 = c1 · (sin α, -cos α); the chord's midpoint m is at τm = -(m · (cos α, sin α)).
			m := (c1 + c2) / 2
			u0 = real(c1)*sa - imag(c1)*ca
			t0 = tmax*(0.4+0.2*rng.Float64()) + (real(m)*ca+imag(m)*sa)*te
		}
		evs[i] = lens.Event{S: s, Q: q, Alpha: alpha, U0: u0, T0: t0, TE: te}
	}
	return evs
}

// TestPointLightCurves compares device light curves of 4 events × 501 times (odd, not a
// multiple of the block) with lens.Binary.PointMag at lens.Event.SourcePos. The device
// computes the source position with its own sin/cos (≤ 1 ulp from Go's) and, on a GPU, with
// FMA contraction, so its position and its roots may differ from the CPU's by a few ulps;
// next to a fold (A ~ 1/√dist) or a cusp that moves A by ~eps·A/dist. The tolerance is
// therefore |ΔA| ≤ 1e-9·A + 4·spread, where spread is the largest change of the CPU's A
// when the source moves by 8 ulps (of 1 + |y|) along either axis: the measured conditioning
// of the point, not a guess. Guard-padded output.
func TestPointLightCurves(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	const ne, nt, tmax, g = 4, 501, 40.0, 2
	evs := testEvents(rng, ne, tmax)
	ts := make([]float64, nt)
	for j := range ts {
		ts[j] = tmax * float64(j) / (nt - 1)
	}
	p, err := PointEventParams(evs)
	must(err)
	dp, dt := MustFromHost(p), MustFromHost(ts)
	defer dp.Free()
	defer dt.Free()
	outB, out := guardedF64(ne*nt, g)
	defer outB.Free()
	must(PointLightCurvesBuf(out, dp, dt))
	got := checkGuardsF64(t, outB, ne*nt, g)
	const rtol = 1e-9
	maxRel := 0.0
	for e, ev := range evs {
		b := lens.NewBinary(ev.S, ev.Q)
		amax, five := 0.0, 0
		for j, tt := range ts {
			y1, y2 := ev.SourcePos(tt)
			want := b.PointMag(y1, y2)
			if len(b.Images(y1, y2)) == 5 {
				five++
			}
			amax = math.Max(amax, want)
			a := got[e*nt+j]
			d := math.Abs(a - want)
			maxRel = math.Max(maxRel, d/want)
			if d > rtol*want { // only then is the conditioning needed
				h := 8 * 0x1p-52 * (1 + math.Hypot(y1, y2))
				spread := 0.0
				for _, dy := range [][2]float64{{h, 0}, {-h, 0}, {0, h}, {0, -h}} {
					spread = math.Max(spread, math.Abs(b.PointMag(y1+dy[0], y2+dy[1])-want))
				}
				if !(d <= rtol*want+4*spread) {
					t.Fatalf("event %d %+v, t %v: device %.17g, lens %.17g (rel %.2g, 8-ulp spread %.2g)", e, ev, tt, a, want, d/want, spread)
				}
			}
		}
		t.Logf("event %d: s %.3g q %.3g, A_max %.4g, %d of %d points inside the caustic", e, ev.S, ev.Q, amax, five, nt)
	}
	t.Logf("%d × %d points: max relative difference vs lens.PointMag %.2e (tolerance %g relative + 4 × the 8-ulp spread)", ne, nt, maxRel, rtol)

	// The host-slice API on a single event (batch 1) agrees with the buffer API.
	rows, err := PointLightCurves(evs[1:2], ts)
	must(err)
	for j := range ts {
		if rows[0][j] != got[nt+j] {
			t.Fatalf("PointLightCurves event 1, point %d: %v, buffer API %v", j, rows[0][j], got[nt+j])
		}
	}
	if _, err := PointLightCurves([]lens.Event{{S: 1, Q: 0.1, TE: -1}}, ts); err == nil {
		t.Error("tE < 0 accepted")
	}
}

// BenchmarkPointLightCurves times 100 events × 7200 Roman-cadence points (one day per 100
// points, as the reference light curves) on a real GPU; under emulation it runs 2 × 200.
func BenchmarkPointLightCurves(b *testing.B) {
	ne, nt := 100, 7200
	if Emulated() {
		ne, nt = 2, 200
	}
	rng := rand.New(rand.NewPCG(1, 2))
	evs := testEvents(rng, ne, float64(nt)/100)
	ts := lens.RomanTimes(0, float64(nt)/100, lens.RomanCadence)[:nt]
	p, err := PointEventParams(evs)
	must(err)
	dp, dt := MustFromHost(p), MustFromHost(ts)
	defer dp.Free()
	defer dt.Free()
	out := MustAlloc[float64](ne * nt)
	defer out.Free()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(PointLightCurvesBuf(out, dp, dt))
		must(Synchronize())
	}
	b.ReportMetric(float64(b.N*ne*nt)/b.Elapsed().Seconds(), "points/s")
}

// TestRayShootMap compares device maps with lens.Binary.RayShootMap. Both shoot the same
// image-plane lattice, tile by tile, with the same per-ray operations (no FMA on either side
// on amd64), so every pixel must hold the same count: the test requires equality. Maps:
// the central caustic region of a binary with both lenses inside the image region, an odd
// 13 × 7 map of a planetary caustic (q = 1e-3), and a single pixel far from the lenses. The
// counts buffer is guard-padded.
func TestRayShootMap(t *testing.T) {
	cases := []struct {
		s, q, x0, x1, y0, y1 float64
		nx, ny               int
		rpp                  float64
	}{
		{1, 0.1, -0.5, 0.5, -0.4, 0.4, 20, 16, 30},
		{1.3, 1e-3, 0.45, 0.62, -0.06, 0.07, 13, 7, 60},
		{0.7, 0.5, 2, 2.1, 0.3, 0.35, 1, 1, 3000},
	}
	for _, c := range cases {
		b := lens.NewBinary(c.s, c.q)
		want := b.RayShootMap(c.x0, c.x1, c.y0, c.y1, c.nx, c.ny, c.rpp, 2)
		n := c.nx * c.ny
		const g, sentinel = 5, 0xdeadbeef
		buf := MustAlloc[uint32](n + 2*g)
		h := make([]uint32, n+2*g)
		for i := range h {
			h[i] = sentinel
		}
		must(buf.Upload(h))
		tiles, err := RayShootCountsBuf(buf.Slice(g, g+n), b, c.x0, c.x1, c.y0, c.y1, c.nx, c.ny, c.rpp)
		must(err)
		all, err := buf.Host()
		must(err)
		buf.Free()
		for i := 0; i < g; i++ {
			if all[i] != sentinel || all[g+n+i] != sentinel {
				t.Fatalf("map %+v: guard element overwritten", c)
			}
		}
		rays, diff := 0.0, 0.0
		for k, v := range all[g : g+n] {
			a := float64(v) * (1 / c.rpp)
			rays += float64(v)
			diff = math.Max(diff, math.Abs(a-want.A[k]))
			if a != want.A[k] {
				t.Fatalf("map %+v pixel (%d, %d): device %d rays (A %v), lens A %v (%v rays)",
					c, k%c.nx, k/c.nx, v, a, want.A[k], want.A[k]*c.rpp)
			}
		}
		if rays == 0 {
			t.Fatalf("map %+v: no ray landed", c)
		}
		t.Logf("s %g q %g, %d × %d pixels: %d tiles shot, %.0f rays counted, mean A %.4f, max |ΔA| %g",
			c.s, c.q, c.nx, c.ny, tiles, rays, rays/c.rpp/float64(n), diff)
	}
	// The map-level API gives lens.MagMap's fields.
	b := lens.NewBinary(1, 0.1)
	m, err := RayShootMap(b, -0.5, 0.5, -0.4, 0.4, 20, 16, 30)
	must(err)
	ref := b.RayShootMap(-0.5, 0.5, -0.4, 0.4, 20, 16, 30, 1)
	if m.NX != ref.NX || m.NY != ref.NY || m.RaysPerPixel != ref.RaysPerPixel || m.S != ref.S || m.Q != ref.Q || m.X0 != ref.X0 || m.Y1 != ref.Y1 {
		t.Errorf("RayShootMap header %+v, lens %+v", *m, *ref)
	}
	for i := range m.A {
		if m.A[i] != ref.A[i] {
			t.Fatalf("RayShootMap pixel %d: %v, lens %v", i, m.A[i], ref.A[i])
		}
	}
}

// BenchmarkRayShootMap times a 512 × 512 map of the central caustic region at 100 rays per
// pixel (~1e8 rays) on a real GPU; under emulation a 16 × 16 map at 4 rays per pixel.
func BenchmarkRayShootMap(b *testing.B) {
	n, rpp := 512, 100.0
	if Emulated() {
		n, rpp = 16, 4
	}
	bin := lens.NewBinary(1, 0.1)
	counts := MustAlloc[uint32](n * n)
	defer counts.Free()
	rays := 0.0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := RayShootCountsBuf(counts, bin, -1, 1, -1, 1, n, n, rpp); err != nil {
			b.Fatal(err)
		}
		rays += float64(n*n) * rpp
	}
	b.ReportMetric(rays/b.Elapsed().Seconds(), "rays(A=1)/s")
}

// TestFiniteLightCurves runs four reference events of testdata/lightcurve_params.csv (a
// smooth prior draw, two caustic crossings with rho = 1.5e-4 and 3e-3, a cusp approach) at
// every 13th time of the reference cadence (554 points, odd) through FiniteLightCurves, at
// lens.DefaultTol. Checks:
//   - every point against lens.Binary.FiniteMagErr at the same source position (the CPU op,
//     cold start like the device): the device takes the same decision (status 1 exactly
//     where the CPU integrates a contour, except at most 1% of points where the decision is
//     at its threshold and rounding of the source position tips it), and the values agree
//     to |ΔA| ≤ tol·A: where both took the same path the difference is rounding (≤ 1e-9 in
//     practice), where they did not each path is within its tol·A goal;
//   - every point against the reference A (VBBinaryLensing at 1e-8) with lens/'s contract,
//     relative error ≤ 1e-3 (lens.TestLightCurveReference);
//   - lens.LightCurve (warm-started along the curve) within tol·A;
//   - guard-padded outputs through FiniteLightCurvesBuf and FiniteContourLightCurvesBuf;
//   - the device contours (FiniteContourLightCurvesBuf): status 1 only where
//     FiniteLightCurvesBuf flagged the point, the other points' values unchanged bit for bit,
//     each contour certified by the device within tol·A of lens.FiniteMag (both stop when
//     their error estimate is below tol·A; measured max 2e-8), and FiniteLightCurves' host
//     count equal to the points left flagged.
func TestFiniteLightCurves(t *testing.T) {
	pc := testutil.RefColumns(t, "lightcurve_params.csv")
	ref := testutil.RefColumns(t, "lightcurves.csv.gz")
	ids := []int{2, 8, 15, 28}
	var evs []lens.Event
	for _, id := range ids {
		evs = append(evs, lens.Event{S: pc["s"][id], Q: pc["q"][id], Alpha: pc["alpha"][id], U0: pc["u0"][id],
			T0: pc["t0"][id], TE: pc["tE"][id], Rho: pc["rho"][id]})
	}
	var ts []float64
	var rowOf []int
	for i := 0; i < 7200; i += 13 {
		ts = append(ts, float64(i)/100)
		rowOf = append(rowOf, i)
	}
	ne, nt := len(evs), len(ts)
	const tol = lens.DefaultTol
	curves, host, err := FiniteLightCurves(evs, ts, tol)
	must(err)

	// Device outputs and status through the buffer API, guard-padded.
	params, boxes, err := FiniteEventParams(evs)
	must(err)
	dp, db, dt := MustFromHost(params), MustFromHost(boxes), MustFromHost(ts)
	defer dp.Free()
	defer db.Free()
	defer dt.Free()
	const g = 3
	outB, out := guardedF64(ne*nt, g)
	defer outB.Free()
	stB := MustAlloc[int32](ne*nt + 2*g)
	defer stB.Free()
	sth := make([]int32, ne*nt+2*g)
	for i := range sth {
		sth[i] = -7
	}
	must(stB.Upload(sth))
	must(FiniteLightCurvesBuf(out, stB.Slice(g, g+ne*nt), dp, db, dt, tol))
	dev := checkGuardsF64(t, outB, ne*nt, g)
	sth, err = stB.Host()
	must(err)
	if sth[0] != -7 || sth[g-1] != -7 || sth[g+ne*nt] != -7 || sth[len(sth)-1] != -7 {
		t.Fatal("status guard overwritten")
	}
	status := sth[g : g+ne*nt]

	// The same through the contour path, guard-padded.
	outCB, outC := guardedF64(ne*nt, g)
	defer outCB.Free()
	sentinel := make([]int32, len(sth))
	for i := range sentinel {
		sentinel[i] = -7
	}
	must(stB.Upload(sentinel))
	work, err := NewContourWork(ne * nt)
	must(err)
	defer work.Free()
	must(FiniteContourLightCurvesBuf(outC, stB.Slice(g, g+ne*nt), dp, db, dt, tol, work))
	devC := checkGuardsF64(t, outCB, ne*nt, g)
	sthC, err := stB.Host()
	must(err)
	if sthC[0] != -7 || sthC[g-1] != -7 || sthC[g+ne*nt] != -7 || sthC[len(sthC)-1] != -7 {
		t.Fatal("status guard overwritten (contour path)")
	}
	statusC := sthC[g : g+ne*nt]

	mismatch, devPoints, flagged, certified := 0, 0, 0, 0
	maxCPU, maxRef, maxSame, maxLC, maxContour := 0.0, 0.0, 0.0, 0.0, 0.0
	for e, ev := range evs {
		b := lens.NewBinary(ev.S, ev.Q)
		// lens.LightCurve (warm starts along the curve) is held to the same tol·A.
		for j, want := range lens.LightCurve(ev, ts, tol, nil) {
			d := math.Abs(curves[e][j] - want)
			maxLC = math.Max(maxLC, d/want)
			if !(d <= tol*want) {
				t.Fatalf("event %d t %v: %.12g, lens.LightCurve %.12g", ids[e], ts[j], curves[e][j], want)
			}
		}
		for j, tt := range ts {
			i := e*nt + j
			if status[i] != 0 && status[i] != 1 {
				t.Fatalf("event %d t %v: status %d", ids[e], tt, status[i])
			}
			y1, y2 := ev.SourcePos(tt)
			want, _, method := b.FiniteMagErr(y1, y2, ev.Rho, tol)
			a := curves[e][j]
			if status[i] == 0 {
				devPoints++
				if statusC[i] != 0 || math.Float64bits(devC[i]) != math.Float64bits(dev[i]) {
					t.Fatalf("event %d t %v: contour path status %d value %v, without contours %v", ids[e], tt, statusC[i], devC[i], dev[i])
				}
			} else if status[i] == 1 {
				flagged++
				if statusC[i] != 0 && statusC[i] != 1 {
					t.Fatalf("event %d t %v: contour path status %d", ids[e], tt, statusC[i])
				}
				if statusC[i] == 0 {
					certified++
					d := math.Abs(devC[i] - want)
					maxContour = math.Max(maxContour, d/want)
					if !(d <= tol*want) {
						t.Fatalf("event %d t %v: device contour %.12g, lens.FiniteMag %.12g (rel %.2g)", ids[e], tt, devC[i], want, d/want)
					}
				}
			}
			if statusC[i] == 0 && a != devC[i] {
				t.Fatalf("event %d t %v: FiniteLightCurves %v, device %v", ids[e], tt, a, devC[i])
			}
			if (status[i] == 1) != (method == "contour" || method == "far field") {
				mismatch++
			} else if status[i] == 0 {
				maxSame = math.Max(maxSame, math.Abs(a-want)/want)
			}
			d := math.Abs(a - want)
			maxCPU = math.Max(maxCPU, d/want)
			if !(d <= tol*want) {
				t.Fatalf("event %d t %v (status %d, CPU %s): %.12g, lens.FiniteMag %.12g (rel %.2g)", ids[e], tt, status[i], method, a, want, d/want)
			}
			r := ref["A"][ids[e]*7200+rowOf[j]]
			if math.Abs(ref["t"][ids[e]*7200+rowOf[j]]-tt) > 1e-9 || ref["id"][ids[e]*7200+rowOf[j]] != float64(ids[e]) {
				t.Fatalf("reference row mismatch at event %d t %v", ids[e], tt)
			}
			er := math.Abs(a-r) / r
			maxRef = math.Max(maxRef, er)
			if !(er <= 1e-3) {
				t.Fatalf("event %d t %v: %.12g, reference %.12g (rel %.2g)", ids[e], tt, a, r, er)
			}
		}
	}
	t.Logf("%d × %d points: %d by point/quadrupole on the device, %d flagged, %d of them (%.1f%%) certified by device contours, %d on the host; "+
		"decision differs from the CPU's at %d; max rel diff vs lens.FiniteMag %.2e (same path %.2e, device contours %.2e), vs lens.LightCurve %.2e, vs reference %.2e",
		ne, nt, devPoints, flagged, certified, 100*float64(certified)/float64(flagged), host, mismatch, maxCPU, maxSame, maxContour, maxLC, maxRef)
	if host != flagged-certified {
		t.Errorf("FiniteLightCurves reports %d host points, device status says %d", host, flagged-certified)
	}
	if certified < flagged/2 {
		t.Errorf("the device certified only %d of %d contours", certified, flagged)
	}
	if mismatch > ne*nt/100 {
		t.Errorf("device and CPU take different paths at %d of %d points", mismatch, ne*nt)
	}
}

// benchFinite holds the device inputs and outputs of a finite-source light-curve benchmark:
// the first ne events of the reference parameters at the first nt Roman epochs.
type benchFinite struct {
	params, boxes, times, out *Buffer[float64]
	status                    *Buffer[int32]
}

func newBenchFinite(pc map[string][]float64, ne, nt int) *benchFinite {
	evs := make([]lens.Event, ne)
	for i := range evs {
		evs[i] = lens.Event{S: pc["s"][i], Q: pc["q"][i], Alpha: pc["alpha"][i], U0: pc["u0"][i], T0: pc["t0"][i], TE: pc["tE"][i], Rho: pc["rho"][i]}
	}
	ts := lens.RomanTimes(0, 72, lens.RomanCadence)[:nt]
	params, boxes, err := FiniteEventParams(evs)
	must(err)
	return &benchFinite{params: MustFromHost(params), boxes: MustFromHost(boxes), times: MustFromHost(ts),
		out: MustAlloc[float64](ne * nt), status: MustAlloc[int32](ne * nt)}
}

func (bf *benchFinite) free() {
	bf.params.Free()
	bf.boxes.Free()
	bf.times.Free()
	bf.out.Free()
	bf.status.Free()
}

// BenchmarkFiniteLightCurvesDevice times the device part of FiniteLightCurves (point +
// quadrupole + decision; contours are left to the host) on the 30 reference events × 7200
// points on a real GPU; under emulation 2 events × 100 points.
func BenchmarkFiniteLightCurvesDevice(b *testing.B) {
	pc := testutil.RefColumns(b, "lightcurve_params.csv")
	ne, nt := len(pc["s"]), 7200
	if Emulated() {
		ne, nt = 2, 100
	}
	bf := newBenchFinite(pc, ne, nt)
	defer bf.free()
	dp, db, dt, out, st := bf.params, bf.boxes, bf.times, bf.out, bf.status
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(FiniteLightCurvesBuf(out, st, dp, db, dt, 0))
		must(Synchronize())
	}
	b.ReportMetric(float64(b.N*ne*nt)/b.Elapsed().Seconds(), "points/s")
}

// TestFiniteContourPoints runs single finite-source points near caustics from
// testdata/binary_finite.csv through the contour path: 16 rows, evenly spread over those for
// which lens.Binary.FiniteMag integrates a contour (the source disk on or next to a fold or a
// cusp, ρ from 1e-4 to 1e-2), each as its own event (α, u0 putting the source at the row's
// position exactly at t = 0), in one call and the first one alone (batch 1). Each device-certified
// value must be within tol·A of lens.Binary.FiniteMag at the same source position (both stop
// when their error estimate is below tol·A, so they differ by at most the two estimates),
// and every value, certified or finished on the host, within 1e-3 of the reference A_finite
// (lens.TestFiniteMagReference's contract).
func TestFiniteContourPoints(t *testing.T) {
	cols := testutil.RefColumns(t, "binary_finite.csv")
	const tol = lens.DefaultTol
	var rows []int
	for i := range cols["s"] {
		b := lens.NewBinary(cols["s"][i], cols["q"][i])
		if _, _, m := b.FiniteMagErr(cols["y1"][i], cols["y2"][i], cols["rho"][i], tol); m == "contour" {
			rows = append(rows, i)
		}
		if len(rows) >= 400 {
			break
		}
	}
	const want = 16
	if len(rows) < want {
		t.Fatalf("only %d contour rows", len(rows))
	}
	var evs []lens.Event
	var pick []int
	for k := range want {
		i := rows[k*len(rows)/want]
		pick = append(pick, i)
		y1, y2 := cols["y1"][i], cols["y2"][i]
		// α = 0: y(t) = (-(t - t0)/tE, -u0), exact at t = 0 on both sides.
		evs = append(evs, lens.Event{S: cols["s"][i], Q: cols["q"][i], Alpha: 0, U0: -y2, T0: y1, TE: 1, Rho: cols["rho"][i]})
	}
	ts := []float64{0}
	curves, host, err := FiniteLightCurves(evs, ts, tol)
	must(err)
	one, _, err := FiniteLightCurves(evs[:1], ts, tol)
	must(err)
	if math.Float64bits(one[0][0]) != math.Float64bits(curves[0][0]) {
		t.Errorf("batch 1: %v, in a batch of %d: %v", one[0][0], len(evs), curves[0][0])
	}
	maxCPU, maxRef := 0.0, 0.0
	for k, ev := range evs {
		i := pick[k]
		y1, y2 := ev.SourcePos(0)
		if y1 != cols["y1"][i] || y2 != cols["y2"][i] {
			t.Fatalf("row %d: source (%v, %v), want (%v, %v)", i, y1, y2, cols["y1"][i], cols["y2"][i])
		}
		a := curves[k][0]
		cpu := lens.NewBinary(ev.S, ev.Q).FiniteMag(y1, y2, ev.Rho, tol)
		d := math.Abs(a - cpu)
		maxCPU = math.Max(maxCPU, d/cpu)
		if !(d <= tol*cpu) {
			t.Errorf("row %d (s %v q %v rho %v): device %.12g, lens.FiniteMag %.12g (rel %.2g)", i, ev.S, ev.Q, ev.Rho, a, cpu, d/cpu)
		}
		ref := cols["A_finite"][i]
		er := math.Abs(a-ref) / ref
		maxRef = math.Max(maxRef, er)
		if !(er <= 1e-3) {
			t.Errorf("row %d: device %.12g, A_finite %.12g (rel %.2g)", i, a, ref, er)
		}
	}
	t.Logf("%d contour points: %d certified on the device, %d finished on the host; max rel diff vs lens.FiniteMag %.2e, vs A_finite %.2e",
		len(evs), len(evs)-host, host, maxCPU, maxRef)
	if host > len(evs)/2 {
		t.Errorf("the device certified only %d of %d contours", len(evs)-host, len(evs))
	}
}

// BenchmarkFiniteContourLightCurves times FiniteContourLightCurvesBuf (point + quadrupole +
// decision, then device contours) on the 30 reference events × 7200 points, and reports
// light curves per second and the fraction of the flagged points the device left to the host
// (which this benchmark does not time). Skipped under emulation (a contour is thousands of
// quintic solves; TestFiniteLightCurves covers the code).
func BenchmarkFiniteContourLightCurves(b *testing.B) {
	if Emulated() {
		b.Skip("device contours are timed on a GPU only")
	}
	pc := testutil.RefColumns(b, "lightcurve_params.csv")
	ne, nt := len(pc["s"]), 7200
	bf := newBenchFinite(pc, ne, nt)
	defer bf.free()
	dp, db, dt, out, st := bf.params, bf.boxes, bf.times, bf.out, bf.status
	work, err := NewContourWork(ne * nt)
	must(err)
	defer work.Free()
	// The flagged points, for the certified fraction.
	must(FiniteLightCurvesBuf(out, st, dp, db, dt, 0))
	before, err := st.Host()
	must(err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		must(FiniteContourLightCurvesBuf(out, st, dp, db, dt, 0, work))
		must(Synchronize())
	}
	b.StopTimer()
	after, err := st.Host()
	must(err)
	flagged, left := 0, 0
	for i := range before {
		if before[i] != 0 {
			flagged++
		}
		if after[i] != 0 {
			left++
		}
	}
	b.ReportMetric(float64(b.N*ne)/b.Elapsed().Seconds(), "curves/s")
	b.ReportMetric(float64(b.N*ne*nt)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(float64(flagged)/float64(ne*nt), "flagged/point")
	b.ReportMetric(float64(left)/float64(max(flagged, 1)), "host/flagged")
}

package event

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/internal/rng"
)

func TestTimeGrid(t *testing.T) {
	if WindowPoints*Cadence != WindowDays || StoredPoints*Cadence != 2*WindowDays {
		t.Errorf("WindowPoints·Cadence = %v d, StoredPoints·Cadence = %v d", WindowPoints*Cadence, StoredPoints*Cadence)
	}
	ts := StoredTimes()
	if len(ts) != StoredPoints || ts[CentreIndex] != 0 || ts[0] != -72 || math.Abs(ts[StoredPoints-1]-71.99) > 1e-12 {
		t.Errorf("StoredTimes: %d points, τ[0] = %v, τ[7200] = %v, τ[last] = %v", len(ts), ts[0], ts[CentreIndex], ts[StoredPoints-1])
	}
	if w := WindowTimes(); len(w) != WindowPoints || w[0] != 0 || w[WindowPoints-1] != 71.99 {
		t.Errorf("WindowTimes: %d points, %v … %v", len(w), w[0], w[len(w)-1])
	}
	pp := Params{S: 1, Q: 0.1, Alpha: 1, U0: 0.1, T0: 30, TE: 20, Rho: 1e-3, Fs: 1}
	if e := pp.CentredEvent(); e.T0 != 0 || e.TE != 20 || e.Rho != 1e-3 {
		t.Errorf("CentredEvent = %+v", e)
	}
}

func TestCropOffset(t *testing.T) {
	for _, tc := range []struct {
		t0   float64
		k    int
		t0q  float64
		name string
	}{
		{0, 7200, 0, "window start"},
		{72, 0, 72, "window end"},
		{-3, 7200, 0, "before the window (clamped)"},
		{100, 0, 72, "after the window (clamped)"},
		{36.004, 3600, 36, "rounds down"},
		{36.006, 3599, 36.01, "rounds up"},
	} {
		k, t0q := CropOffset(tc.t0)
		if k != tc.k || math.Abs(t0q-tc.t0q) > 1e-12 {
			t.Errorf("%s: CropOffset(%v) = %d, %v; want %d, %v", tc.name, tc.t0, k, t0q, tc.k, tc.t0q)
		}
	}
	// The crop lines up the stored times with the window times: stored sample k+j is at
	// τ = t_j − t0q from the event.
	ts, ws := StoredTimes(), WindowTimes()
	for _, t0 := range []float64{0, 0.013, 17.5, 71.996} {
		k, t0q := CropOffset(t0)
		for _, j := range []int{0, 1234, WindowPoints - 1} {
			if d := ts[k+j] - (ws[j] - t0q); math.Abs(d) > 1e-12 {
				t.Errorf("t0 = %v, j = %d: τ = %v, t_j − t0q = %v", t0, j, ts[k+j], ws[j]-t0q)
			}
		}
	}

	// For t0 ~ U(0, 72) (the default prior's t0) the event's position p = CentreIndex − k in
	// the window is uniform over 0…7200: each interior position has probability 1/7200, the
	// two ends (reached by half a cadence of t0 each) 1/14400.
	const n = 720000
	var counts [WindowPoints + 1]int
	d := DefaultPrior().T0
	src := rng.New(21, 0)
	for range n {
		t0 := d.Sample(src)
		k, t0q := CropOffset(t0)
		if k < 0 || k+WindowPoints > StoredPoints || math.Abs(t0q-t0) > Cadence/2+1e-12 {
			t.Fatalf("t0 = %v: k = %d, t0q = %v", t0, k, t0q)
		}
		counts[CentreIndex-k]++
	}
	chi2 := 0.0
	empty := 0
	for p, c := range counts {
		e := float64(n) / WindowPoints
		if p == 0 || p == WindowPoints {
			e /= 2
		}
		chi2 += (float64(c) - e) * (float64(c) - e) / e
		if c == 0 {
			empty++
		}
	}
	pv := chi2Q(chi2, WindowPoints) // 7201 cells, 7200 degrees of freedom
	t.Logf("crop positions of %d draws of t0: χ² = %.0f with %d dof, p = %.3f; %d positions never hit", n, chi2, WindowPoints, pv, empty)
	if pv < pReject || empty > 0 {
		t.Errorf("crop positions not uniform: χ² = %.0f (%d dof), p = %v, %d empty", chi2, WindowPoints, pv, empty)
	}
}

func TestAddNoiseStatistics(t *testing.T) {
	const n = 100000
	mags := make([]float32, n)
	for i := range mags {
		// Magnifications spread over [1, 31] (a fixed pseudo-random pattern).
		mags[i] = 1 + 30*float32((i*7919)%1000)/1000
	}
	for k, o := range []Observation{{SNR: 40, Fs: 0.6}, {SNR: 200, Fs: 1}, {SNR: 23, Fs: 0.05}} {
		x := make([]float32, n)
		AddNoise(x, mags, o, rng.New(31, uint64(k)))
		f0 := o.SNR * o.SNR // baseline flux (counts)
		res := make([]float64, n)
		var s, s2 float64
		for i, a := range mags {
			fs := o.Fs
			flux := f0 * (fs*float64(a) + 1 - fs)                                  // expected flux F (counts)
			r := (float64(x[i]) - (fs*float64(a) + 1 - fs)) * f0 / math.Sqrt(flux) // noise in units of √F
			res[i] = r
			s += r
			s2 += r * r
		}
		mean := s / n
		sd := math.Sqrt(s2/n - mean*mean)
		// Standard errors for n standard normals: mean 1/√n, SD 1/√(2n). Tolerance 5 SE.
		seM, seSD := 1/math.Sqrt(n), 1/math.Sqrt(2*n)
		d, p := ksTest(res, normCDF)
		t.Logf("SNR %3g fs %.2f: residual mean %+.5f (SE %.4f), SD %.5f (SE %.4f), KS vs N(0,1) D = %.5f p = %.3f",
			o.SNR, o.Fs, mean, seM, sd, seSD, d, p)
		if math.Abs(mean) > 5*seM || math.Abs(sd-1) > 5*seSD || p < pReject {
			t.Errorf("SNR %v fs %v: residual mean %v, SD %v, KS p = %v", o.SNR, o.Fs, mean, sd, p)
		}
	}
}

func TestAddNoiseDeterministic(t *testing.T) {
	mags := []float32{1, 2, 3, 4, 5}
	o := Observation{SNR: 50, Fs: 0.8}
	a, b := make([]float32, 5), append([]float32(nil), mags...)
	sa, sb := rng.New(1, 2), rng.New(1, 2)
	AddNoise(a, mags, o, sa)
	AddNoise(b, b, o, sb) // in place
	if !reflect.DeepEqual(a, b) {
		t.Errorf("in place %v, into dst %v", b, a)
	}
	// 5 samples take 3 pairs: 6 raw outputs.
	ref := rng.New(1, 2)
	for range 6 {
		ref.Uint64()
	}
	if sa.Uint64() != ref.Uint64() {
		t.Error("AddNoise of 5 samples did not consume 6 raw outputs")
	}
	// Documented values: x_i = Mean(A_i) + SD(A_i)·z_i with z from NormalPair.
	zs := rng.New(1, 2)
	z0, z1 := zs.NormalPair()
	for i, z := range []float64{z0, z1} {
		want := float32(o.Mean(float64(mags[i])) + o.SD(float64(mags[i]))*z)
		if a[i] != want {
			t.Errorf("x[%d] = %v, want %v", i, a[i], want)
		}
	}
	for _, bad := range []Observation{{SNR: 0, Fs: 1}, {SNR: 10, Fs: 0}, {SNR: 10, Fs: 1.1}, {SNR: math.NaN(), Fs: 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AddNoise accepted %+v", bad)
				}
			}()
			AddNoise(a, mags, bad, sa)
		}()
	}
}

func TestNormalise(t *testing.T) {
	x, xe, err := Normalise([]float64{200, 300}, []float64{10, 20}, 200)
	if err != nil || !reflect.DeepEqual(x, []float64{1, 1.5}) || !reflect.DeepEqual(xe, []float64{0.05, 0.1}) {
		t.Errorf("Normalise = %v, %v, %v", x, xe, err)
	}
	if _, xe, err := Normalise([]float64{1}, nil, 1); err != nil || xe != nil {
		t.Errorf("no errors: %v, %v", xe, err)
	}
	for _, b := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, _, err := Normalise([]float64{1}, nil, b); err == nil || !strings.Contains(err.Error(), "baseline") {
			t.Errorf("baseline %v: %v", b, err)
		}
	}
	if _, _, err := Normalise([]float64{1, 2}, []float64{1}, 1); err == nil {
		t.Error("length mismatch accepted")
	}
}

func TestNoiseConfig(t *testing.T) {
	def := DefaultNoise()
	js, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != `{"snr":{"family":"uniform","min":23,"max":200}}` {
		t.Errorf("JSON form %s", js)
	}
	var back NoiseConfig
	if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, def) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	src := rng.New(4, 4)
	for range 1000 {
		o := def.Draw(Params{Fs: 0.5}, src)
		if o.SNR < 23 || o.SNR > 200 || o.Fs != 0.5 {
			t.Fatalf("Draw = %+v", o)
		}
	}
	for _, tc := range []struct{ js, want string }{
		{`{"snr":{"family":"uniform","min":0,"max":200}}`, "snr: support"},
		{`{"snr":{"family":"normal","mean":50,"sd":10}}`, "snr: support"},
		{`{"snr":{"family":"uniform","min":30,"max":20}}`, "snr: inverted"},
		{`{"snr":{"family":"uniform","min":30}}`, `snr: family uniform needs "max"`},
		{`{"snr":{"family":"uniform","min":3,"max":20},"sigma":1}`, `unknown key "sigma"`},
		{`{}`, `missing "snr"`},
	} {
		var c NoiseConfig
		if err := json.Unmarshal([]byte(tc.js), &c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.js, err, tc.want)
		}
	}
}

// TestBaseline compares Baseline with the median of the faintest 20% computed by sorting,
// on odd and even counts, ties and a single point.
func TestBaseline(t *testing.T) {
	src := rng.New(3, 0)
	for _, n := range []int{1, 2, 4, 5, 9, 10, 11, 100, 7200} {
		for trial := range 3 {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(1 + 0.05*src.Normal())
				if trial == 2 {
					x[i] = float32(int(x[i] * 20)) // ties
				}
			}
			s := slices.Clone(x)
			slices.Sort(s)
			faint := s[:max(1, n/5)]
			want := float64(faint[len(faint)/2])
			if len(faint)%2 == 0 {
				want = 0.5 * (float64(faint[len(faint)/2-1]) + float64(faint[len(faint)/2]))
			}
			orig := slices.Clone(x)
			if got := Baseline(x, nil); got != want {
				t.Errorf("n %d trial %d: Baseline = %v, want %v", n, trial, got, want)
			}
			if !slices.Equal(x, orig) {
				t.Fatalf("n %d: Baseline changed its input", n)
			}
		}
	}
}

// TestNetworkInputScaleFree: the network input of c·x is that of x (to float32 rounding),
// so it does not depend on the flux unit or on the true baseline used in simulation.
func TestNetworkInputScaleFree(t *testing.T) {
	src := rng.New(4, 0)
	x := make([]float32, WindowPoints)
	for i := range x {
		u := (float64(i) - 3000) / 400
		x[i] = float32(1 + 3/math.Sqrt(u*u+0.1) + 0.03*src.Normal())
	}
	a, b := make([]float32, WindowPoints/8), make([]float32, WindowPoints/8)
	NetworkInput(a, x, 8)
	for _, c := range []float32{1e-3, 7, 2.5e4} {
		y := make([]float32, len(x))
		for i := range x {
			y[i] = c * x[i]
		}
		NetworkInput(b, y, 8)
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-5 {
				t.Fatalf("scale %g: input[%d] = %v, want %v", c, i, b[i], a[i])
			}
		}
	}
	// About 0 at the baseline: the faint fifth's median maps to ln 1.
	if m := a[0]; math.Abs(float64(m)) > 0.05 {
		t.Errorf("input far from the event = %v, want ≈ 0", m)
	}
}

// BenchmarkNetworkInput times the input transform of one window (baseline, bin 8, ln): it
// runs once per training example.
func BenchmarkNetworkInput(b *testing.B) {
	src := rng.New(5, 0)
	x := make([]float32, WindowPoints)
	for i := range x {
		x[i] = float32(1 + 0.03*src.Normal())
	}
	dst := make([]float32, WindowPoints/8)
	for b.Loop() {
		NetworkInput(dst, x, 8)
	}
}

package dataset

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/rng"
)

// openTestDataset writes n default-prior events (seed 21) in k shards and opens them.
func openTestDataset(t *testing.T, n, k int) *Dataset {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, newManifest(t, 21, n, k), 2, nil)
	d, err := OpenDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// readAll returns the batches of a reader until io.EOF.
func readAll(t *testing.T, r *Reader) []*Batch {
	t.Helper()
	var bs []*Batch
	for {
		b, err := r.Next()
		if err == io.EOF {
			return bs
		}
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
}

func argmax(a []float32) int {
	best := 0
	for i, v := range a {
		if v > a[best] {
			best = i
		}
	}
	return best
}

// TestDatasetReadsWhatWasWritten: Dataset.Window and Params return the simulator's events.
func TestDatasetReadsWhatWasWritten(t *testing.T) {
	d := openTestDataset(t, 5, 2)
	sim := d.Manifest.Simulator()
	want := make([]float32, event.StoredPoints)
	got := make([]float32, event.WindowPoints)
	for _, i := range []int{0, 2, 4} { // both shards
		p, err := sim.Event(i, want)
		if err != nil {
			t.Fatal(err)
		}
		q, err := d.Window(i, 1234, got)
		if err != nil {
			t.Fatal(err)
		}
		if q != p || d.Params(i) != p {
			t.Errorf("event %d: params %+v, want %+v", i, q, p)
		}
		if !slices.Equal(got, want[1234:1234+event.WindowPoints]) {
			t.Errorf("event %d: window differs from the simulated curve", i)
		}
	}
}

// TestExampleCropPlacement: the example's window is the stored curve from k = 7200 −
// t0q/0.01, so the stored peak at index jp appears at window index jp − k, at time
// t0q + (jp − 7200)·0.01: the event sits at t0q in the window.
func TestExampleCropPlacement(t *testing.T) {
	d := openTestDataset(t, 4, 1)
	full := make([]float32, event.StoredPoints)
	mag, x := make([]float32, event.WindowPoints), make([]float32, event.WindowPoints)
	checked := 0
	for i := range d.Len() {
		if _, err := d.Window(i, 0, full); err != nil {
			t.Fatal(err)
		}
		jp := argmax(full)
		for s := range 20 {
			p, obs, err := Example(d, event.DefaultNoise(), i, rng.New(99, uint64(100*i+s)), mag, x)
			if err != nil {
				t.Fatal(err)
			}
			k := event.WindowPoints - int(math.Round(p.T0/event.Cadence))
			if p.T0 < 0 || p.T0 > event.WindowDays || math.Abs(p.T0-float64(event.WindowPoints-k)*event.Cadence) > 1e-9 {
				t.Fatalf("crop t0 %v is not on the cadence grid in [0, 72]", p.T0)
			}
			if !slices.Equal(mag, full[k:k+event.WindowPoints]) {
				t.Fatalf("event %d: the window is not stored samples [%d, %d)", i, k, k+event.WindowPoints)
			}
			if w := jp - k; w >= 0 && w < event.WindowPoints {
				if argmax(mag) != w {
					t.Errorf("event %d, t0 %v: peak at window index %d, want %d", i, p.T0, argmax(mag), w)
				}
				checked++
			}
			if obs.SNR < 23 || obs.SNR > 200 || obs.Fs != 1 {
				t.Errorf("observation %+v outside the default noise model", obs)
			}
			// The noise: residuals normalised by SD(A) have unit variance (7200 samples:
			// the sample variance's standard error is √(2/7200) ≈ 0.017; allow 5σ).
			var ss float64
			for j := range x {
				r := (float64(x[j]) - obs.Mean(float64(mag[j]))) / obs.SD(float64(mag[j]))
				ss += r * r
			}
			if v := ss / event.WindowPoints; math.Abs(v-1) > 5*0.017 {
				t.Errorf("normalised residual variance %v, want 1", v)
			}
		}
	}
	if checked < 20 {
		t.Errorf("only %d crops had the peak in the window", checked)
	}
}

// TestReaderBatches: shapes, the contiguous (B, 1, 7200) layout, θ with the crop's t0,
// and every event once per epoch.
func TestReaderBatches(t *testing.T) {
	d := openTestDataset(t, 10, 2)
	r, err := NewReader(d, ReaderConfig{BatchSize: 4, Seed: 1, Workers: 2, Epochs: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	bs := readAll(t, r)
	if len(bs) != 4 || r.BatchesPerEpoch() != 2 || r.Dim() != 7 {
		t.Fatalf("%d batches, %d per epoch, dim %d; want 4, 2, 7", len(bs), r.BatchesPerEpoch(), r.Dim())
	}
	for n, b := range bs {
		if b.Epoch != n/2 || b.Step != n%2 || b.Size != 4 || b.Dim != 7 ||
			len(b.X) != 4*event.WindowPoints || len(b.Theta) != 4*7 || len(b.Index) != 4 || len(b.SNR) != 4 {
			t.Fatalf("batch %d: epoch %d step %d, size %d dim %d, %d x, %d theta", n, b.Epoch, b.Step, b.Size, b.Dim, len(b.X), len(b.Theta))
		}
		for k, i := range b.Index {
			p := d.Params(i)
			th := b.Theta[k*7 : (k+1)*7]
			v := p.Values()
			for c := range 7 {
				if c != 4 && th[c] != v[c] {
					t.Errorf("batch %d example %d: θ[%d] = %v, stored %v", n, k, c, th[c], v[c])
				}
			}
			if th[4] < 0 || th[4] > event.WindowDays {
				t.Errorf("crop t0 %v outside the window", th[4])
			}
		}
	}
	// Epoch e holds 8 distinct events; the shuffle differs between epochs.
	for e := range 2 {
		seen := map[int]bool{}
		for _, b := range bs[2*e : 2*e+2] {
			for _, i := range b.Index {
				seen[i] = true
			}
		}
		if len(seen) != 8 {
			t.Errorf("epoch %d has %d distinct events, want 8", e, len(seen))
		}
	}
	if slices.Equal(bs[0].Index, bs[2].Index) && slices.Equal(bs[1].Index, bs[3].Index) {
		t.Error("both epochs have the same order")
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last epoch: %v, want io.EOF", err)
	}
}

// TestReaderDeterministic: the batches do not depend on Workers or Prefetch, and do on Seed.
func TestReaderDeterministic(t *testing.T) {
	d := openTestDataset(t, 6, 2)
	get := func(seed uint64, workers, prefetch int) []*Batch {
		r, err := NewReader(d, ReaderConfig{BatchSize: 3, Seed: seed, Workers: workers, Prefetch: prefetch, Epochs: 3})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return readAll(t, r)
	}
	a, b, c := get(4, 1, 1), get(4, 3, 7), get(5, 2, 0)
	same := func(x, y []*Batch) bool {
		for n := range x {
			if !slices.Equal(x[n].X, y[n].X) || !slices.Equal(x[n].Theta, y[n].Theta) || !slices.Equal(x[n].Index, y[n].Index) {
				return false
			}
		}
		return len(x) == len(y)
	}
	if !same(a, b) {
		t.Error("1 worker and 3 workers give different batches")
	}
	if same(a, c) {
		t.Error("seeds 4 and 5 give the same batches")
	}
}

// TestReaderCropUniform: over many examples the crop's t0 follows the prior's
// U(0, 72) (one-sample Kolmogorov–Smirnov test; at 800 draws the 0.1% critical value is
// 1.95/√800 ≈ 0.069, and the 0.01-d quantisation shifts the CDF by at most 1.4e-4).
func TestReaderCropUniform(t *testing.T) {
	d := openTestDataset(t, 4, 1)
	r, err := NewReader(d, ReaderConfig{BatchSize: 4, Seed: 8, Workers: 2, Epochs: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var t0s []float64
	for _, b := range readAll(t, r) {
		for k := range b.Size {
			t0s = append(t0s, b.Theta[k*b.Dim+4])
		}
		r.Release(b)
	}
	sort.Float64s(t0s)
	n := float64(len(t0s))
	dmax := 0.0
	for i, v := range t0s {
		f := v / event.WindowDays
		dmax = max(dmax, math.Abs(f-float64(i)/n), math.Abs(f-float64(i+1)/n))
	}
	if dmax > 1.95/math.Sqrt(n) {
		t.Errorf("KS distance %.4f of %d crop t0 from U(0, 72) exceeds %.4f", dmax, len(t0s), 1.95/math.Sqrt(n))
	}
}

// TestReaderOnTheFly: an OnTheFly source gives the events of the dataset with the same
// prior and split seed, with the same crops and noise (the windows agree to the solver's
// accuracy, not bit for bit: their warm starts differ).
func TestReaderOnTheFly(t *testing.T) {
	d := openTestDataset(t, 4, 1)
	fly := OnTheFly{Sim: d.Manifest.Simulator(), N: 4}
	cfg := ReaderConfig{BatchSize: 2, Seed: 3, Workers: 2, Epochs: 1}
	rd, err := NewReader(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rf, err := NewReader(fly, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	bd, bf := readAll(t, rd), readAll(t, rf)
	if len(bd) != 2 || len(bf) != 2 {
		t.Fatalf("%d and %d batches, want 2", len(bd), len(bf))
	}
	for n := range bd {
		if !slices.Equal(bd[n].Theta, bf[n].Theta) || !slices.Equal(bd[n].SNR, bf[n].SNR) {
			t.Errorf("batch %d: θ or SNR differ between the dataset and on the fly", n)
		}
		for j := range bd[n].X {
			if a, b := bd[n].X[j], bf[n].X[j]; math.Abs(float64(a-b)) > 2e-4*math.Abs(float64(a)) {
				t.Fatalf("batch %d sample %d: %v from the dataset, %v on the fly", n, j, a, b)
			}
		}
	}
}

// TestOpenDatasetErrors: errors name the file at fault.
func TestOpenDatasetErrors(t *testing.T) {
	if _, err := OpenDataset(t.TempDir()); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("empty directory: %v", err)
	}
	dir := t.TempDir()
	m := newManifest(t, 6, 4, 2)
	write(t, dir, m, 2, nil)
	params := filepath.Join(dir, m.ShardFile(1, paramsKind))
	os.Remove(params)
	if _, err := OpenDataset(dir); err == nil || !strings.Contains(err.Error(), params) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing params: %v", err)
	}
	write(t, dir, m, 2, nil)
	os.WriteFile(filepath.Join(dir, ManifestName), []byte(`{"format": "mlcu-dataset"`), 0o644)
	if _, err := OpenDataset(dir); err == nil || !strings.Contains(err.Error(), ManifestName) {
		t.Errorf("truncated manifest: %v", err)
	}
}

// TestReaderSourceError: a file truncated after opening surfaces as an error of Next naming
// it, and the reader stays failed.
func TestReaderSourceError(t *testing.T) {
	d := openTestDataset(t, 4, 1)
	path := filepath.Join(d.Dir, d.Manifest.ShardFile(0, curvesKind))
	if err := os.Truncate(path, 200); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(d, ReaderConfig{BatchSize: 2, Seed: 1, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Next()
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
	if _, err2 := r.Next(); !errors.Is(err2, err) && err2.Error() != err.Error() {
		t.Errorf("second Next: %v", err2)
	}
}

// BenchmarkReaderBatch: one batch of 32 examples (crop, noise) from a 64-event dataset,
// with the default number of workers; ns/op is the consumer's time per batch.
func BenchmarkReaderBatch(b *testing.B) {
	dir := b.TempDir()
	m, err := NewManifest(event.DefaultPrior(), 1, "train", 64, 1, 0, "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := WriteDataset(context.Background(), dir, m, WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	d, err := OpenDataset(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	r, err := NewReader(d, ReaderConfig{BatchSize: 32, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for b.Loop() {
		bt, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		r.Release(bt)
	}
}

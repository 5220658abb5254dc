package dataset

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/internal/testutil"
	"github.com/mlcu/mlcu/lens"
)

// newManifest returns the manifest of n default-prior events in k shards (train split).
func newManifest(t *testing.T, seed uint64, n, k int) *Manifest {
	t.Helper()
	m, err := NewManifest(event.DefaultPrior(), seed, "train", n, k, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// write writes the shards of m into dir (all when shards is nil) with the given workers.
func write(t *testing.T, dir string, m *Manifest, workers int, shards []int) WriteReport {
	t.Helper()
	rep, err := WriteDataset(context.Background(), dir, m, WriteOptions{Workers: workers, Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// concat returns the concatenated data bytes (headers stripped) of all shards' files of
// the given kind, checking each file's header against the shard's range.
func concat(t *testing.T, dir string, m *Manifest, kind string) []byte {
	t.Helper()
	var all []byte
	for i := range m.Shards {
		path := filepath.Join(dir, m.ShardFile(i, kind))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		h, err := npy.ReadHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		lo, hi := m.ShardRange(i)
		if h.Shape[0] != hi-lo {
			t.Fatalf("%s: %d rows, want %d", path, h.Shape[0], hi-lo)
		}
		all = append(all, b[h.DataOff:]...)
	}
	return all
}

func names(files map[string]string) string {
	var ns []string
	for n := range files {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, " ")
}

// TestShardsAndWorkersDeterministic: one shard written by 3 workers, three shards written
// by 1 worker in one run, and three shards written by separate runs in reverse order with 2
// workers give byte-identical concatenated curves and params, equal to Simulator.Event.
func TestShardsAndWorkersDeterministic(t *testing.T) {
	const n = 10
	one, three, sep := t.TempDir(), t.TempDir(), t.TempDir()
	m1, m3 := newManifest(t, 5, n, 1), newManifest(t, 5, n, 3)
	write(t, one, m1, 3, nil)
	write(t, three, m3, 1, nil)
	for _, i := range []int{2, 0, 1} {
		rep := write(t, sep, m3, 2, []int{i})
		if len(rep.Written) != 1 || rep.Written[0] != i {
			t.Fatalf("--shard %d/3 wrote %v", i, rep.Written)
		}
	}
	for _, kind := range []string{curvesKind, paramsKind} {
		a, b, c := concat(t, one, m1, kind), concat(t, three, m3, kind), concat(t, sep, m3, kind)
		if !bytes.Equal(a, b) || !bytes.Equal(b, c) {
			t.Errorf("%s differ between K=1 (3 workers), K=3 (1 worker) and K=3 shard by shard", kind)
		}
	}
	if a, b := testutil.Snapshot(t, three), testutil.Snapshot(t, sep); a[ManifestName] != b[ManifestName] {
		t.Error("the manifests of one run and of separate shard runs differ")
	}
	// The rows are the simulator's events, in order.
	curves, params := concat(t, one, m1, curvesKind), concat(t, one, m1, paramsKind)
	sim := m1.Simulator()
	want := make([]float32, event.StoredPoints)
	for _, i := range []int{0, 7} {
		p, err := sim.Event(i, want)
		if err != nil {
			t.Fatal(err)
		}
		row := curves[i*curveBytesPerRow : (i+1)*curveBytesPerRow]
		var buf bytes.Buffer
		binary.Write(&buf, binary.LittleEndian, want)
		if !bytes.Equal(row, buf.Bytes()) {
			t.Errorf("curve row %d is not Simulator.Event(%d)", i, i)
		}
		buf.Reset()
		v := p.Values()
		binary.Write(&buf, binary.LittleEndian, v[:])
		if !bytes.Equal(params[i*paramsBytesPerRow:(i+1)*paramsBytesPerRow], buf.Bytes()) {
			t.Errorf("params row %d is not event %d's %v", i, i, v)
		}
	}
}

// TestNpyLayout checks a shard's files byte by byte against the .npy format 1.0 spec
// (numpy/lib/format.py, NEP 1): magic "\x93NUMPY", version 1 0, a little-endian uint16
// header length, an ASCII dict with descr, fortran_order and shape, padded with spaces and
// ended by '\n' so that the data start at a multiple of 64 bytes, then the C-ordered
// little-endian data. The header dict is the one numpy.save writes.
func TestNpyLayout(t *testing.T) {
	dir := t.TempDir()
	m := newManifest(t, 9, 3, 1)
	write(t, dir, m, 2, nil)
	for _, c := range []struct {
		kind, dict string
		elem, cols int
	}{
		{curvesKind, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 14400), }", 4, event.StoredPoints},
		{paramsKind, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 8), }", 8, event.NumParams},
	} {
		path := filepath.Join(dir, m.ShardFile(0, c.kind))
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(b[:8]) != "\x93NUMPY\x01\x00" {
			t.Fatalf("%s: preamble %q", path, b[:8])
		}
		hlen := int(binary.LittleEndian.Uint16(b[8:10]))
		hdr := string(b[10 : 10+hlen])
		if (10+hlen)%64 != 0 || !strings.HasSuffix(hdr, "\n") || strings.TrimRight(hdr, " \n") != c.dict {
			t.Errorf("%s: header %q (length %d), want %q padded to a multiple of 64", path, hdr, hlen, c.dict)
		}
		if len(b) != 10+hlen+3*c.cols*c.elem {
			t.Errorf("%s: %d bytes, want %d", path, len(b), 10+hlen+3*c.cols*c.elem)
		}
	}
	// And internal/npy reads them back with those shapes.
	if _, shape, err := npy.ReadFile[float32](filepath.Join(dir, m.ShardFile(0, curvesKind))); err != nil || fmt.Sprint(shape) != "[3 14400]" {
		t.Errorf("curves: shape %v, %v", shape, err)
	}
	if _, shape, err := npy.ReadFile[float64](filepath.Join(dir, m.ShardFile(0, paramsKind))); err != nil || fmt.Sprint(shape) != "[3 8]" {
		t.Errorf("params: shape %v, %v", shape, err)
	}
	// The manifest names the layout.
	got, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events != 3 || got.Shards != 1 || got.CurveDtype != "<f4" || got.StoredPoints != 14400 || got.CadenceDays != 0.01 || got.Split != "train" {
		t.Errorf("manifest %+v", got)
	}
	if err := m.Conflict(got); err != nil {
		t.Errorf("manifest does not read back as itself: %v", err)
	}
}

// TestSkipCompleteRewriteIncomplete: a re-run skips complete shards, and rewrites a shard
// missing its params (a run stopped between the two renames) or its curves, to the same
// bytes; leftover temporary files are removed.
func TestSkipCompleteRewriteIncomplete(t *testing.T) {
	dir := t.TempDir()
	m := newManifest(t, 2, 6, 3)
	write(t, dir, m, 2, nil)
	before := testutil.Snapshot(t, dir)
	rep := write(t, dir, m, 2, nil)
	if len(rep.Written) != 0 || len(rep.Skipped) != 3 || rep.Events != 0 {
		t.Errorf("re-run of a complete dataset: %+v", rep)
	}
	os.Remove(filepath.Join(dir, m.ShardFile(1, paramsKind)))
	os.Remove(filepath.Join(dir, m.ShardFile(2, curvesKind)))
	leftover := filepath.Join(dir, "."+m.ShardFile(1, curvesKind)+".tmp123")
	os.WriteFile(leftover, []byte("partial"), 0o644)
	rep = write(t, dir, m, 1, nil)
	if fmt.Sprint(rep.Written, rep.Skipped) != "[1 2] [0]" || rep.Events != 4 {
		t.Errorf("re-run with shards 1 and 2 incomplete: %+v", rep)
	}
	after := testutil.Snapshot(t, dir)
	if names(after) != names(before) {
		t.Errorf("files %s, want %s", names(after), names(before))
	}
	for name, b := range before {
		if after[name] != b {
			t.Errorf("%s changed on rewrite", name)
		}
	}
}

// TestCorruptShardRefused: a truncated or foreign file in place of a shard file is an error
// naming it, and nothing is written (the missing shard 2 is not written either).
func TestCorruptShardRefused(t *testing.T) {
	dir := t.TempDir()
	m := newManifest(t, 4, 6, 3)
	write(t, dir, m, 2, []int{0, 1})
	curves := filepath.Join(dir, m.ShardFile(1, curvesKind))
	b, _ := os.ReadFile(curves)
	for name, content := range map[string][]byte{
		"truncated": b[:len(b)-100],
		"not npy":   []byte("hello"),
		"padded":    append(append([]byte(nil), b...), 0),
	} {
		os.WriteFile(curves, content, 0o644)
		before := testutil.Snapshot(t, dir)
		_, err := WriteDataset(context.Background(), dir, m, WriteOptions{Workers: 1})
		if err == nil || !strings.Contains(err.Error(), curves) {
			t.Errorf("%s curves file: error %v, want one naming %s", name, err, curves)
		}
		if after := testutil.Snapshot(t, dir); names(after) != names(before) {
			t.Errorf("%s curves file: files %s after the error, %s before", name, names(after), names(before))
		}
		if _, err := OpenDataset(dir); err == nil || !strings.Contains(err.Error(), filepath.Base(curves)) {
			t.Errorf("%s curves file: OpenDataset error %v", name, err)
		}
	}
}

// TestManifestConflict: a directory holding another dataset is refused before anything is
// written, whatever differs.
func TestManifestConflict(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, newManifest(t, 1, 4, 2), 2, []int{0})
	before := testutil.Snapshot(t, dir)
	other := event.DefaultPrior()
	other.U0 = event.Uniform(0, 1)
	val, err := NewManifest(event.DefaultPrior(), 1, "val", 4, 2, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	otherPrior, err := NewManifest(other, 1, "train", 4, 2, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*Manifest{
		"seed": newManifest(t, 2, 4, 2), "events": newManifest(t, 1, 5, 2),
		"shards": newManifest(t, 1, 4, 4), "split": val, "prior": otherPrior,
	} {
		_, err := WriteDataset(context.Background(), dir, m, WriteOptions{Workers: 1})
		if !errors.Is(err, ErrOtherDataset) || !strings.Contains(err.Error(), name) {
			t.Errorf("other %s: error %v", name, err)
		}
		after := testutil.Snapshot(t, dir)
		if names(after) != names(before) || after[ManifestName] != before[ManifestName] {
			t.Errorf("other %s: the directory changed", name)
		}
	}
}

// TestWriteCancelled: cancelling stops the run, keeps the completed shard, and leaves no
// file of the interrupted shard, temporary or not.
func TestWriteCancelled(t *testing.T) {
	dir := t.TempDir()
	m := newManifest(t, 3, 6, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := WriteDataset(ctx, dir, m, WriteOptions{Workers: 2, Progress: func(done, total int) {
		if done == 4 { // shard 0 (3 events) done, one event of shard 1 written
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	got := names(testutil.Snapshot(t, dir))
	want := strings.Join([]string{ManifestName, m.ShardFile(0, curvesKind), m.ShardFile(0, paramsKind)}, " ")
	if got != want {
		t.Errorf("files after the interrupt: %s, want %s", got, want)
	}
	if _, err := OpenDataset(dir); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("OpenDataset of the interrupted dataset: %v", err)
	}
	// Resuming finishes it.
	rep := write(t, dir, m, 2, nil)
	if fmt.Sprint(rep.Written, rep.Skipped) != "[1] [0]" {
		t.Errorf("resume: %+v", rep)
	}
	d, err := OpenDataset(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestNewManifestErrors(t *testing.T) {
	bad := event.DefaultPrior()
	bad.S = event.LogUniform(5, 0.2) // inverted bounds
	for name, f := range map[string]func() error{
		"zero events":    func() error { _, err := NewManifest(event.DefaultPrior(), 1, "train", 0, 0, 0, "v"); return err },
		"more shards":    func() error { _, err := NewManifest(event.DefaultPrior(), 1, "train", 3, 4, 0, "v"); return err },
		"bad split":      func() error { _, err := NewManifest(event.DefaultPrior(), 1, "dev", 3, 1, 0, "v"); return err },
		"inverted prior": func() error { _, err := NewManifest(bad, 1, "train", 3, 1, 0, "v"); return err },
	} {
		if err := f(); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if k := DefaultShards(25000); k != 3 {
		t.Errorf("DefaultShards(25000) = %d, want 3", k)
	}
	m := newManifest(t, 1, 10, 3)
	var got []string
	for i := range 3 {
		lo, hi := m.ShardRange(i)
		got = append(got, fmt.Sprintf("%d-%d", lo, hi))
	}
	if strings.Join(got, " ") != "0-3 3-6 6-10" || m.ShardFile(2, "curves") != "shard-00002-of-00003.curves.npy" {
		t.Errorf("shard ranges %v, name %s", got, m.ShardFile(2, "curves"))
	}
}

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		spec string
		i, k int
	}{{"0/1", 0, 1}, {"3/16", 3, 16}, {" 15/16", 15, 16}} {
		i, k, err := ParseShard(c.spec)
		if err != nil || i != c.i || k != c.k {
			t.Errorf("ParseShard(%q) = %d, %d, %v", c.spec, i, k, err)
		}
	}
	for _, spec := range []string{"3/2", "2/2", "a/b", "-1/3", "3", "1/0", "1/2/3", "", "1/100000"} {
		if _, _, err := ParseShard(spec); err == nil {
			t.Errorf("ParseShard(%q) accepted", spec)
		}
	}
}

// batchBackend is CPUCurves behind a batch size of 3 that records the size of each call, or
// that fails: with err, every call returns it; with nanEvent ≥ 0, that event's curve gets a
// NaN.
type batchBackend struct {
	mu       sync.Mutex
	sizes    []int
	err      error
	nanEvent int
}

func (b *batchBackend) BatchSize() int { return 3 }

func (b *batchBackend) LightCurves(events []lens.Event, ts []float64, tol float64, out [][]float64) error {
	b.mu.Lock()
	b.sizes = append(b.sizes, len(events))
	b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	if err := (CPUCurves{}).LightCurves(events, ts, tol, out); err != nil {
		return err
	}
	if b.nanEvent >= 0 && b.nanEvent < len(out) {
		out[b.nanEvent][5] = math.NaN()
	}
	return nil
}

// TestBatchedBackend: a backend with batches of 3 gets the events of each shard in batches
// cut at the shard's start (10 events in shards of 3, 3 and 4: calls of 3, 3, 3 and 1), and
// the dataset it writes, with 2 workers, is byte for byte the default backend's, written with
// 1 worker. A backend's error names the events of the call; a bad value names its event.
func TestBatchedBackend(t *testing.T) {
	const n = 10
	m := newManifest(t, 8, n, 3)
	cpu, batched := t.TempDir(), t.TempDir()
	write(t, cpu, m, 1, nil)
	bb := &batchBackend{nanEvent: -1}
	if _, err := WriteDataset(context.Background(), batched, m, WriteOptions{Workers: 2, Curves: bb}); err != nil {
		t.Fatal(err)
	}
	sort.Ints(bb.sizes)
	if fmt.Sprint(bb.sizes) != "[1 3 3 3]" {
		t.Errorf("batch sizes %v, want [1 3 3 3]", bb.sizes)
	}
	if a, b := testutil.Snapshot(t, cpu), testutil.Snapshot(t, batched); len(a) != 7 || names(a) != names(b) {
		t.Fatalf("files %q and %q", names(a), names(b))
	} else {
		for name := range a {
			if a[name] != b[name] {
				t.Errorf("%s differs between the default and the batched backend", name)
			}
		}
	}
	for _, c := range []struct {
		b    *batchBackend
		want string
	}{
		{&batchBackend{err: errors.New("device lost"), nanEvent: -1}, "events 0 to 2: device lost"},
		{&batchBackend{nanEvent: 1}, "event 1 (s="},
	} {
		_, err := WriteDataset(context.Background(), t.TempDir(), newManifest(t, 8, n, 1), WriteOptions{Workers: 1, Curves: c.b})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one containing %q", err, c.want)
		}
	}
}

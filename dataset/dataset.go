package dataset

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/atomicfile"
	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/lens"
)

// Dataset file names and format constants.
const (
	ManifestName      = "manifest.json"
	ManifestFormat    = "mlcu-dataset" // Manifest.Format
	FormatVersion     = 1              // Manifest.FormatVersion
	CurveDtype        = "<f4"
	ParamsDtype       = "<f8"
	DefaultShardSize  = 10000 // events per shard when the number of shards is not given
	MaxShards         = 99999 // shard numbers have five digits
	TimeConvention    = "centred: curve sample j is at t = t0 + (j - 7200) * 0.01 d; window [k, k+7200) places the event at t0 = (7200 - k) * 0.01 d"
	curvesKind        = "curves"
	paramsKind        = "params"
	curveBytesPerRow  = event.StoredPoints * 4
	paramsBytesPerRow = event.NumParams * 8
)

// Manifest describes a dataset directory; it is written as manifest.json. Every run that
// writes a shard of the same dataset writes the same bytes, and a run refuses a directory
// whose manifest describes another dataset (see Manifest.Conflict).
//
// A dataset directory holds
//
//	manifest.json                        what the dataset is (Manifest)
//	shard-00000-of-00016.curves.npy      (N_0, StoredPoints) '<f4': noise-free magnifications
//	shard-00000-of-00016.params.npy      (N_0, NumParams) '<f8': s, q, α, u0, t0, tE, ρ, fs
//	shard-00001-of-00016.curves.npy      …
//
// Shard i of K holds the events [i·N/K, (i+1)·N/K) (integer division) of the N events.
// Row r of a shard is event lo+r; event i is drawn by Simulator{Prior, SplitSeed(seed, split)}
// from its own random stream, so a shard written alone holds exactly the rows a single run
// writes for it.
//
// Curves are float32, not float16: float16 has an 11-bit significand, so rounding A to it
// leaves a relative error of up to 2⁻¹¹ ≈ 4.9e-4, while the relative noise of the normalised
// flux is SD/Mean = 1/(SNR·√(fs·A + 1 − fs)) — 5e-4 at SNR = 200, A = 100 and 1.6e-4 at
// A = 1000, so float16 would add an error as large as the noise, or larger, exactly on the
// bright caustic crossings that carry the information (and reach 5 times the solver's
// accuracy goal, 1e-4). float32's relative rounding of 2⁻²⁴ ≈ 6e-8 stays below
// the noise for any A < 10⁹. A float32 curve is 57.6 kB; 1M events are 57.6 GB.
//
// Parameters are float64. Their t0 column is the prior's draw; the stored curve does not
// depend on it (it is centred on the event: sample j is at t0 + (j − 7200)·0.01 d), and a
// Reader places the event in the window at a crop t0 drawn afresh from the prior's t0
// distribution, which reproduces the prior's t0 (to the 0.01-d cadence).
//
// The manifest does not record the backend that computed the curves (`mlcu simulate
// --device`), so shards computed on the CPU and on a GPU can make one dataset. They are the
// same forward model: the CUDA backend (cuda.LightCurver) takes the CPU's decisions; off the
// contours its values differ from lens.LightCurve's by float64 rounding (≤ 5e-13 relative,
// measured), which float32 storage removes, and it integrates the contours on the device with
// the CPU's error estimates and stopping rule (uniform boundary sampling instead of adaptive
// bisection, the host finishing the contours it cannot certify), so there the two differ by
// less than their error estimates (below Tol·A; measured ≤ 3e-8 relative), which changes a
// few float32 values in 10⁴ (cli's TestSimulateDeviceMatchesCPU checks it). Where the
// quadrupole test is within rounding of its threshold a value may also differ by the other
// method's error (below Tol·A), the same freedom that Simulator.Window has. Recording the device would forbid the mixing: a manifest
// is the same bytes from every run of a dataset.
type Manifest struct {
	Format         string      `json:"format"`          // ManifestFormat
	FormatVersion  int         `json:"format_version"`  // FormatVersion
	MlcuVersion    string      `json:"mlcu_version"`    // version of the mlcu that wrote it
	Split          string      `json:"split"`           // "train", "val" or "test"
	Seed           uint64      `json:"seed"`            // the user's seed
	SplitSeed      uint64      `json:"split_seed"`      // SplitSeed(Seed, Split): event i uses rng.New(SplitSeed, i)
	Events         int         `json:"events"`          // N, events in all shards
	Shards         int         `json:"shards"`          // K
	CadenceDays    float64     `json:"cadence_days"`    // Cadence
	StoredPoints   int         `json:"stored_points"`   // samples per stored curve
	WindowPoints   int         `json:"window_points"`   // samples per training window
	TimeConvention string      `json:"time_convention"` // TimeConvention
	CurveDtype     string      `json:"curve_dtype"`     // CurveDtype
	ParamsDtype    string      `json:"params_dtype"`    // ParamsDtype
	ParamColumns   []string    `json:"param_columns"`   // ParamNames
	Tol            float64     `json:"tol"`             // relative accuracy goal of the magnifications
	Prior          event.Prior `json:"prior"`           // the prior, in the prior file format
}

// NewManifest returns the manifest of the dataset of n events of prior p drawn with the
// user seed seed for split, in k shards (k = 0: DefaultShards(n)), magnifications at
// relative accuracy tol (0: lens.DefaultTol), written by mlcu version version.
func NewManifest(p event.Prior, seed uint64, split string, n, k int, tol float64, version string) (*Manifest, error) {
	if n < 1 {
		return nil, fmt.Errorf("the number of events %d must be at least 1", n)
	}
	if k == 0 {
		k = DefaultShards(n)
	}
	if k < 1 || k > MaxShards {
		return nil, fmt.Errorf("the number of shards %d must be between 1 and %d", k, MaxShards)
	}
	if k > n {
		return nil, fmt.Errorf("%d shards for %d events: every shard needs at least one event", k, n)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("prior: %v", err)
	}
	ss, err := SplitSeed(seed, split)
	if err != nil {
		return nil, err
	}
	if tol == 0 {
		tol = lens.DefaultTol
	}
	if !(tol > 0) || math.IsInf(tol, 0) {
		return nil, fmt.Errorf("tolerance %v must be positive and finite", tol)
	}
	return &Manifest{
		Format: ManifestFormat, FormatVersion: FormatVersion, MlcuVersion: version,
		Split: split, Seed: seed, SplitSeed: ss, Events: n, Shards: k,
		CadenceDays: event.Cadence, StoredPoints: event.StoredPoints, WindowPoints: event.WindowPoints,
		TimeConvention: TimeConvention, CurveDtype: CurveDtype, ParamsDtype: ParamsDtype,
		ParamColumns: event.ParamNames[:], Tol: tol, Prior: p,
	}, nil
}

// DefaultShards returns the default number of shards of n events: ⌈n/DefaultShardSize⌉.
func DefaultShards(n int) int { return max(1, (n+DefaultShardSize-1)/DefaultShardSize) }

// ShardRange returns the events [lo, hi) of shard i: lo = i·N/K, hi = (i+1)·N/K.
func (m *Manifest) ShardRange(i int) (lo, hi int) {
	n, k := int64(m.Events), int64(m.Shards)
	return int(int64(i) * n / k), int(int64(i+1) * n / k)
}

// ShardFile returns the file name of shard i's curves (kind "curves") or params ("params"):
// shard-00003-of-00016.curves.npy.
func (m *Manifest) ShardFile(i int, kind string) string {
	return fmt.Sprintf("shard-%05d-of-%05d.%s.npy", i, m.Shards, kind)
}

// Simulator returns the simulator of m's events.
func (m *Manifest) Simulator() Simulator {
	return Simulator{Prior: m.Prior, Seed: m.SplitSeed, Tol: m.Tol}
}

// Marshal returns the manifest file's bytes: indented JSON ending in a newline. The same
// manifest always gives the same bytes.
func (m *Manifest) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<f4", not "\u003cf4"
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// validate checks what a Reader relies on in a manifest read from a file.
func (m *Manifest) validate() error {
	switch {
	case m.Format != ManifestFormat:
		return fmt.Errorf("format %q is not %q", m.Format, ManifestFormat)
	case m.FormatVersion != FormatVersion:
		return fmt.Errorf("format_version %d: this mlcu reads version %d", m.FormatVersion, FormatVersion)
	case m.Events < 1 || m.Shards < 1 || m.Shards > min(m.Events, MaxShards):
		return fmt.Errorf("events %d and shards %d: need 1 ≤ shards ≤ min(events, %d)", m.Events, m.Shards, MaxShards)
	case m.CadenceDays != event.Cadence || m.StoredPoints != event.StoredPoints || m.WindowPoints != event.WindowPoints:
		return fmt.Errorf("cadence %g d, %d stored and %d window points: this mlcu uses %g d, %d and %d",
			m.CadenceDays, m.StoredPoints, m.WindowPoints, float64(event.Cadence), event.StoredPoints, event.WindowPoints)
	case m.CurveDtype != CurveDtype || m.ParamsDtype != ParamsDtype:
		return fmt.Errorf("dtypes %q and %q: want %q and %q", m.CurveDtype, m.ParamsDtype, CurveDtype, ParamsDtype)
	case strings.Join(m.ParamColumns, ",") != strings.Join(event.ParamNames[:], ","):
		return fmt.Errorf("param_columns %q: want %q", m.ParamColumns, event.ParamNames)
	case m.TimeConvention != TimeConvention:
		return fmt.Errorf("time_convention %q: want %q", m.TimeConvention, TimeConvention)
	}
	if ss, err := SplitSeed(m.Seed, m.Split); err != nil {
		return err
	} else if ss != m.SplitSeed {
		return fmt.Errorf("split_seed %d is not the split seed %d of seed %d, split %q", m.SplitSeed, ss, m.Seed, m.Split)
	}
	return nil
}

// Conflict compares m with other (a manifest found in a directory) and returns nil when both
// describe the same dataset, or an error naming the first field that differs, with other's
// value first ("seed 1, not 2"): seed, split,
// events, shards, prior, tolerance, mlcu version or the format. Different mlcu versions
// conflict because they may compute different magnifications, and a dataset's shards must
// come from one forward model.
func (m *Manifest) Conflict(other *Manifest) error {
	fields := []struct {
		name      string
		mine, its any
	}{
		{"format", m.Format, other.Format},
		{"format_version", m.FormatVersion, other.FormatVersion},
		{"seed", m.Seed, other.Seed},
		{"split", m.Split, other.Split},
		{"events", m.Events, other.Events},
		{"shards", m.Shards, other.Shards},
		{"tol", m.Tol, other.Tol},
		{"mlcu_version", m.MlcuVersion, other.MlcuVersion},
	}
	for _, f := range fields {
		if f.mine != f.its {
			return fmt.Errorf("%s %v, not %v", f.name, f.its, f.mine)
		}
	}
	a, errA := json.Marshal(m.Prior)
	b, errB := json.Marshal(other.Prior)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		return fmt.Errorf("a different prior (%s, not %s)", b, a)
	}
	mb, err := m.Marshal()
	if err != nil {
		return err
	}
	ob, err := other.Marshal()
	if err != nil {
		return err
	}
	if !bytes.Equal(mb, ob) {
		return errors.New("different layout fields")
	}
	return nil
}

// ReadManifest reads and checks dir's manifest.json. Errors name the file.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// The format first, leniently, so that a manifest of another format version says so.
	var head struct {
		Format        string `json:"format"`
		FormatVersion int    `json:"format_version"`
	}
	if json.Unmarshal(data, &head) == nil && head.Format == ManifestFormat && head.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%s: format_version %d: this mlcu reads version %d", path, head.FormatVersion, FormatVersion)
	}
	m := new(Manifest)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("%s: not a dataset manifest: %v", path, event.CleanJSONError(err))
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return m, nil
}

// ErrOtherDataset is wrapped by the error of WriteDataset for a directory whose manifest
// describes another dataset.
var ErrOtherDataset = errors.New("the directory holds another dataset")

// WriteOptions are the options of WriteDataset.
type WriteOptions struct {
	Workers int   // goroutines computing events; runtime.NumCPU() when ≤ 0
	Shards  []int // the shards to write; all when nil
	// Progress, when not nil, is called after every event written, with the number of
	// events done (written or found complete) among the requested shards and their total,
	// from one goroutine at a time.
	Progress func(done, total int)
	// Notice, when not nil, receives one-line notices: shards skipped as complete, leftover
	// temporary files removed.
	Notice func(msg string)
	// Curves is the forward model's backend (Simulator.Curves); CPUCurves when nil. The
	// manifest does not record it: the backends compute the same curves (see Simulator).
	Curves CurveBackend
}

// WriteReport says what WriteDataset did.
type WriteReport struct {
	Written, Skipped []int // shards written, and shards found complete
	Events           int   // events computed
}

// WriteDataset writes the shards opt.Shards (all when nil) of the dataset m into dir,
// creating dir when needed:
//
//  1. If dir has a manifest, it must describe the same dataset (Manifest.Conflict); if not,
//     WriteDataset returns an error wrapping ErrOtherDataset and changes nothing. Otherwise
//     it writes the manifest (the same bytes from every run).
//  2. It checks every requested shard first. A shard whose two files both exist, with the
//     expected headers and sizes, is complete and skipped. A file that exists but is not a
//     valid shard file of m (truncated, another shape, not .npy) is an error naming the file,
//     returned before anything is written: such a file was damaged after it was written,
//     and deleting it makes the next run rewrite the shard. A shard missing either file is
//     incomplete and rewritten.
//  3. Each shard is written as its curves file, streamed in event order while opt.Workers
//     goroutines compute events ahead, then its params file, each to a temporary file
//     renamed into place (params last, so a shard with a params file has its curves).
//
// The bytes written do not depend on opt.Workers or on which shards a run writes. When ctx
// is cancelled, WriteDataset stops, removes the temporary files of the shard in progress and
// returns an error wrapping ctx.Err(); the shards completed so far stay valid. Two runs must
// not write the same shard of one directory at the same time (each removes the other's
// leftover temporary files).
func WriteDataset(ctx context.Context, dir string, m *Manifest, opt WriteOptions) (WriteReport, error) {
	var rep WriteReport
	shards := opt.Shards
	if shards == nil {
		shards = make([]int, m.Shards)
		for i := range shards {
			shards[i] = i
		}
	}
	for _, i := range shards {
		if i < 0 || i >= m.Shards {
			return rep, fmt.Errorf("shard %d is not in [0, %d)", i, m.Shards)
		}
	}
	mb, err := m.Marshal()
	if err != nil {
		return rep, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rep, err
	}
	// The manifest: refuse another dataset's directory before touching anything.
	mpath := filepath.Join(dir, ManifestName)
	old, err := ReadManifest(dir)
	switch {
	case err == nil:
		if err := m.Conflict(old); err != nil {
			return rep, fmt.Errorf("%w: %s has %v; choose another directory", ErrOtherDataset, mpath, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	default:
		return rep, fmt.Errorf("%w: %v", ErrOtherDataset, err)
	}
	// Check the shards before writing anything.
	total, done := 0, 0
	var todo []int
	for _, i := range shards {
		lo, hi := m.ShardRange(i)
		total += hi - lo
		complete, err := shardComplete(dir, m, i)
		if err != nil {
			return rep, err
		}
		if complete {
			rep.Skipped = append(rep.Skipped, i)
			done += hi - lo
			continue
		}
		todo = append(todo, i)
	}
	if old == nil {
		if err := atomicfile.WriteFile(mpath, 0o644, func(w io.Writer) error {
			_, err := w.Write(mb)
			return err
		}); err != nil {
			return rep, err
		}
	}
	if opt.Progress != nil {
		opt.Progress(done, total)
	}
	if opt.Notice != nil && len(rep.Skipped) > 0 {
		opt.Notice(fmt.Sprintf("%d of %d shards already complete in %s: skipped", len(rep.Skipped), len(shards), dir))
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	sim := m.Simulator()
	sim.Curves = opt.Curves
	for _, i := range todo {
		removeLeftovers(dir, m, i, opt.Notice)
		progress := func() {
			done++
			rep.Events++
			if opt.Progress != nil {
				opt.Progress(done, total)
			}
		}
		if err := writeShard(ctx, dir, m, sim, i, workers, progress); err != nil {
			return rep, fmt.Errorf("shard %d (%s): %w", i, m.ShardFile(i, curvesKind), err)
		}
		rep.Written = append(rep.Written, i)
	}
	return rep, nil
}

// shardComplete reports whether both files of shard i exist and are valid (header, shape
// and size); an existing file that is not valid is an error naming it.
func shardComplete(dir string, m *Manifest, i int) (bool, error) {
	lo, hi := m.ShardRange(i)
	complete := true
	for _, kind := range []string{curvesKind, paramsKind} {
		path := filepath.Join(dir, m.ShardFile(i, kind))
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			complete = false
			continue
		}
		if err != nil {
			return false, err
		}
		_, err = checkShardFile(f, path, kind, hi-lo)
		f.Close()
		if err != nil {
			return false, fmt.Errorf("%v; delete it to have the shard rewritten", err)
		}
	}
	return complete, nil
}

// checkShardFile checks that f (named path) is a .npy file of the dtype and shape of a
// shard file of the given kind with n rows, and that its size is exactly the header plus the
// data, and returns its header. Errors name the file.
func checkShardFile(f *os.File, path, kind string, n int) (npy.HeaderInfo, error) {
	descr, cols, rowBytes := CurveDtype, event.StoredPoints, curveBytesPerRow
	if kind == paramsKind {
		descr, cols, rowBytes = ParamsDtype, event.NumParams, paramsBytesPerRow
	}
	st, err := f.Stat()
	if err != nil {
		return npy.HeaderInfo{}, err
	}
	h, err := npy.ReadHeader(io.NewSectionReader(f, 0, st.Size()))
	if err != nil {
		return h, fmt.Errorf("%s: not a valid .npy file (%v)", path, err)
	}
	if h.Descr != descr || len(h.Shape) != 2 || h.Shape[0] != n || h.Shape[1] != cols {
		return h, fmt.Errorf("%s: dtype %q, shape %v; want %q, [%d %d]", path, h.Descr, h.Shape, descr, n, cols)
	}
	if want := h.DataOff + int64(n)*int64(rowBytes); st.Size() != want {
		return h, fmt.Errorf("%s: truncated or padded: %d bytes, want %d for %d rows", path, st.Size(), want, n)
	}
	return h, nil
}

// removeLeftovers deletes the temporary files that an earlier, killed run left while writing
// shard i (atomicfile's ".NAME.tmp*").
func removeLeftovers(dir string, m *Manifest, i int, notice func(string)) {
	for _, kind := range []string{curvesKind, paramsKind} {
		pat := filepath.Join(dir, "."+m.ShardFile(i, kind)+".tmp*")
		matches, _ := filepath.Glob(pat)
		for _, p := range matches {
			if os.Remove(p) == nil && notice != nil {
				notice("removed " + p + ", left by an interrupted run")
			}
		}
	}
}

// writeShard writes shard i's curves (streamed in event order) and then its params.
func writeShard(ctx context.Context, dir string, m *Manifest, sim Simulator, i, workers int, progress func()) error {
	lo, hi := m.ShardRange(i)
	n := hi - lo
	params := make([]float64, 0, n*event.NumParams)
	err := atomicfile.WriteFile(filepath.Join(dir, m.ShardFile(i, curvesKind)), 0o644, func(w io.Writer) error {
		h, err := npy.Header(CurveDtype, []int{n, event.StoredPoints})
		if err != nil {
			return err
		}
		if _, err := w.Write(h); err != nil {
			return err
		}
		row := make([]byte, curveBytesPerRow)
		return simulateOrdered(ctx, sim, lo, hi, workers, func(_ int, p event.Params, curve []float32) error {
			for j, a := range curve {
				binary.LittleEndian.PutUint32(row[4*j:], math.Float32bits(a))
			}
			if _, err := w.Write(row); err != nil {
				return err
			}
			v := p.Values()
			params = append(params, v[:]...)
			progress()
			return nil
		})
	})
	if err != nil {
		return err
	}
	// The curves are in place: finish the shard even if ctx was cancelled meanwhile.
	return npy.WriteFile(filepath.Join(dir, m.ShardFile(i, paramsKind)), params, n, event.NumParams)
}

// simulateOrdered computes the events [lo, hi) of sim on workers goroutines and calls emit
// for each in index order, on the calling goroutine. The events go to the workers in batches
// of sim.Curves' BatchSize (one event on the CPU), cut at lo + k·BatchSize; a batch's values
// do not depend on the batching (see CurveBackend), so neither do the bytes written. At most
// 2·workers+2 batches are in flight, so memory does not grow with hi − lo. The curve passed
// to emit is reused after emit returns. It stops at the first error of an event or of emit,
// or when ctx is cancelled (returning ctx.Err()), and returns only after every goroutine it
// started has finished.
func simulateOrdered(ctx context.Context, sim Simulator, lo, hi, workers int, emit func(i int, p event.Params, curve []float32) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bs := max(1, sim.backend().BatchSize())
	nb := (hi - lo + bs - 1) / bs // batches
	window := 2*workers + 2
	type job struct {
		i      int            // first event
		ps     []event.Params // the batch's parameters (len: its events)
		curves []float32      // its curves, len(ps)·StoredPoints
	}
	type result struct {
		job
		err error
	}
	free := make(chan job, window)
	for range min(window, nb) {
		free <- job{ps: make([]event.Params, bs), curves: make([]float32, bs*event.StoredPoints)}
	}
	jobs := make(chan job)
	results := make(chan result, window)
	go func() { // feeder: dispatches batches in index order, one free buffer each
		defer close(jobs)
		for i := lo; i < hi; i += bs {
			var j job
			select {
			case j = <-free:
			case <-ctx.Done():
				return
			}
			n := min(bs, hi-i)
			j.i, j.ps, j.curves = i, j.ps[:n], j.curves[:n*event.StoredPoints]
			select {
			case jobs <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range min(workers, nb) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					return
				}
				err := sim.Events(j.i, j.ps, j.curves)
				results <- result{j, err} // never blocks: at most window jobs exist
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	// Drain on the way out, so that no worker outlives this call.
	defer func() {
		cancel()
		for range results {
		}
	}()
	pending := make(map[int]result, window)
	for next := lo; next < hi; {
		r, ok := <-results
		if !ok {
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		pending[r.i] = r
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			for k, p := range r.ps {
				if err := emit(next+k, p, r.curves[k*event.StoredPoints:(k+1)*event.StoredPoints]); err != nil {
					return err
				}
			}
			next += len(r.ps)
			free <- r.job
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// ParseShard parses a shard spec "i/K" (0 ≤ i < K, both decimal integers) as given to
// `mlcu simulate --shard`.
func ParseShard(spec string) (i, k int, err error) {
	a, b, ok := strings.Cut(spec, "/")
	if ok {
		i, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			k, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("shard spec %q is not of the form i/K (for example 3/16)", spec)
	}
	if k < 1 || k > MaxShards || i < 0 || i >= k {
		return 0, 0, fmt.Errorf("shard spec %q: need 0 ≤ i < K ≤ %d (shards are numbered from 0)", spec, MaxShards)
	}
	return i, k, nil
}

package dataset

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/mlcu/mlcu/event"

	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/internal/rng"
)

// Source supplies noise-free events to a Reader: a *Dataset (files written by
// WriteDataset) or OnTheFly (simulated on the Reader's workers). Its methods must be safe
// for concurrent use.
type Source interface {
	// Len returns the number of events, indexed 0 … Len()−1.
	Len() int
	// Prior returns the prior the events were drawn from.
	Prior() event.Prior
	// Window writes the magnification of event i at the stored samples k … k+len(dst)−1
	// (see StoredTimes) to dst and returns the event's parameters (t0: the prior's draw).
	Window(i, k int, dst []float32) (event.Params, error)
}

// Dataset is a dataset directory opened for reading. OpenDataset checks the manifest and
// every shard file's header and size, and reads all parameters into memory (64 bytes per
// event); curves are read from the files on demand, only the samples asked for (a
// 72-day window is 28.8 kB), so memory does not grow with the dataset and the operating
// system's page cache keeps what is read often. It holds one open file per shard until
// Close. A Dataset is safe for concurrent use.
type Dataset struct {
	Dir      string
	Manifest *Manifest
	shards   []datasetShard
}

// datasetShard is one open shard.
type datasetShard struct {
	lo, hi  int
	path    string   // curves file
	curves  *os.File // open for ReadAt
	dataOff int64    // offset of the curves' first data byte
	params  []float64
}

// OpenDataset opens the dataset in dir: it reads manifest.json and checks every shard:
// both files present, the curves' header (dtype '<f4', shape (N_i, StoredPoints)) and file
// size, and the params (dtype '<f8', shape (N_i, NumParams), finite values). Errors name
// the file at fault.
func OpenDataset(dir string) (*Dataset, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: not a dataset directory (no %s)", dir, ManifestName)
		}
		return nil, err
	}
	d := &Dataset{Dir: dir, Manifest: m}
	for i := range m.Shards {
		sh, err := openShard(dir, m, i)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.shards = append(d.shards, sh)
	}
	return d, nil
}

func openShard(dir string, m *Manifest, i int) (datasetShard, error) {
	lo, hi := m.ShardRange(i)
	sh := datasetShard{lo: lo, hi: hi, path: filepath.Join(dir, m.ShardFile(i, curvesKind))}
	missing := func(path string) error {
		return fmt.Errorf("%s: missing: the dataset is incomplete (re-run the mlcu simulate command that made it to finish it)", path)
	}
	// Params first: their file is written last, so its absence is the usual incomplete shard.
	ppath := filepath.Join(dir, m.ShardFile(i, paramsKind))
	f, err := os.Open(ppath)
	if errors.Is(err, fs.ErrNotExist) {
		return sh, missing(ppath)
	} else if err != nil {
		return sh, err
	}
	_, err = checkShardFile(f, ppath, paramsKind, hi-lo)
	f.Close()
	if err != nil {
		return sh, err
	}
	data, _, err := npy.ReadFile[float64](ppath)
	if err != nil {
		return sh, err
	}
	for r := 0; r < hi-lo; r++ {
		var v [event.NumParams]float64
		copy(v[:], data[r*event.NumParams:])
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return sh, fmt.Errorf("%s: row %d holds a non-finite parameter (%v)", ppath, r, v)
			}
		}
		if err := event.ParamsFromValues(v).Event().Validate(); err != nil {
			return sh, fmt.Errorf("%s: row %d: %v", ppath, r, err)
		}
	}
	sh.params = data
	f, err = os.Open(sh.path)
	if errors.Is(err, fs.ErrNotExist) {
		return sh, missing(sh.path)
	} else if err != nil {
		return sh, err
	}
	h, err := checkShardFile(f, sh.path, curvesKind, hi-lo)
	if err != nil {
		f.Close()
		return sh, err
	}
	sh.curves, sh.dataOff = f, h.DataOff
	return sh, nil
}

// Close closes the curve files.
func (d *Dataset) Close() error {
	var first error
	for _, sh := range d.shards {
		if sh.curves != nil {
			if err := sh.curves.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// Len returns the number of events.
func (d *Dataset) Len() int { return d.Manifest.Events }

// Prior returns the prior recorded in the manifest.
func (d *Dataset) Prior() event.Prior { return d.Manifest.Prior }

// shard returns the shard holding event i and i's row in it. It panics when i is out of
// range.
func (d *Dataset) shard(i int) (*datasetShard, int) {
	if i < 0 || i >= d.Len() {
		panic(fmt.Sprintf("dataset: Dataset: event %d out of range [0, %d)", i, d.Len()))
	}
	s := sort.Search(len(d.shards), func(s int) bool { return d.shards[s].hi > i })
	return &d.shards[s], i - d.shards[s].lo
}

// Params returns the stored parameters of event i (t0: the prior's draw). It panics when i
// is out of range.
func (d *Dataset) Params(i int) event.Params {
	sh, r := d.shard(i)
	var v [event.NumParams]float64
	copy(v[:], sh.params[r*event.NumParams:])
	return event.ParamsFromValues(v)
}

// Window reads the stored magnification of event i at samples k … k+len(dst)−1 into dst and
// returns its parameters; see Source. It panics when i or the samples are out of range.
func (d *Dataset) Window(i, k int, dst []float32) (event.Params, error) {
	if k < 0 || k+len(dst) > event.StoredPoints {
		panic(fmt.Sprintf("dataset: Dataset.Window: samples [%d, %d) outside [0, %d)", k, k+len(dst), event.StoredPoints))
	}
	sh, r := d.shard(i)
	buf := make([]byte, 4*len(dst))
	off := sh.dataOff + int64(r)*curveBytesPerRow + int64(4*k)
	if _, err := sh.curves.ReadAt(buf, off); err != nil {
		return event.Params{}, fmt.Errorf("%s: reading event %d: %v", sh.path, i, err)
	}
	for j := range dst {
		dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
	}
	return d.Params(i), nil
}

// OnTheFly is a Source that simulates its N events when asked (Simulator.Window computes
// only the window's samples), for runs too small to be worth a dataset on disk. Event i is
// the event i of a dataset with the same prior and split seed, up to the last float32 bit
// (see Simulator.Window).
type OnTheFly struct {
	Sim Simulator
	N   int
}

// Len returns N.
func (o OnTheFly) Len() int { return o.N }

// Prior returns the simulator's prior.
func (o OnTheFly) Prior() event.Prior { return o.Sim.Prior }

// Window simulates the samples [k, k+len(dst)) of event i; see Source.
func (o OnTheFly) Window(i, k int, dst []float32) (event.Params, error) {
	return o.Sim.Window(i, k, dst)
}

// Example draws one training example of event i of src with the randomness of rs, in this
// order: the crop's t0 from the prior's t0 distribution (one raw output; CropOffset gives
// the window's first stored sample k and t0q, t0 quantised to the cadence), then the
// magnification window mag = samples [k, k+WindowPoints) of the stored curve, the
// observation (noise.Draw: the SNR, one raw output; fs from the event), and the noisy
// normalised flux x (AddNoise, WindowPoints raw outputs). The returned parameters are the
// event's with T0 = t0q, the time of the event in the window. mag and x have length
// WindowPoints; x may be mag.
func Example(src Source, noise event.NoiseConfig, i int, rs *rng.Source, mag, x []float32) (event.Params, event.Observation, error) {
	if len(mag) != event.WindowPoints || len(x) != event.WindowPoints {
		panic(fmt.Sprintf("dataset: Example: buffers of %d and %d samples, want %d", len(mag), len(x), event.WindowPoints))
	}
	prior := src.Prior()
	k, t0q := event.CropOffset(prior.T0.Sample(rs))
	p, err := src.Window(i, k, mag)
	if err != nil {
		return event.Params{}, event.Observation{}, err
	}
	p.T0 = t0q
	obs := noise.Draw(p, rs)
	event.AddNoise(x, mag, obs, rs)
	return p, obs, nil
}

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	BatchSize int               // examples per batch, ≥ 1
	Seed      uint64            // seed of the shuffles, crops and noise
	Noise     event.NoiseConfig // SNR distribution; DefaultNoise() when its family is empty
	Workers   int               // goroutines assembling batches; runtime.NumCPU() when ≤ 0
	Prefetch  int               // batches assembled ahead of the consumer; 2·Workers when ≤ 0
	Epochs    int               // passes over the events; 0: without end
	Ordered   bool              // no shuffle: every epoch takes the events in index order
}

// Batch is a batch of training examples in the layout of package nn.
type Batch struct {
	Epoch, Step int // epoch (from 0) and the batch's index within it
	Size        int // B, examples in the batch
	Dim         int // D, the length of one θ: 7, or 8 when the prior draws fs (blending)
	// X is (B, 1, WindowPoints) in one contiguous row-major slice: example b's noisy
	// normalised flux F/F0 (see Observation) at the window's times j·Cadence,
	// j = 0 … WindowPoints−1, is X[b·WindowPoints+j]. The network sees
	// NetworkInput(X) (binned, then ln).
	X []float32
	// Theta is (B, D) row-major: each example's parameters in the order of ParamNames (s, q,
	// α, u0, t0, tE, ρ[, fs]) in physical units, with t0 the time of the event in the
	// window (days from its start). Standardizer maps them to what the network models.
	Theta []float64
	Index []int     // (B) the events' indices in the source
	SNR   []float64 // (B) the baseline SNR of each example
}

// Reader assembles batches of training examples from a Source on worker goroutines, ahead
// of the consumer, and hands them out in order by Next.
//
// An epoch is a pass over the source's events in an order shuffled by the epoch's own
// random stream, cut into ⌊Len/BatchSize⌋ batches (the remainder is left out, so every batch
// has BatchSize examples; a different shuffle leaves out different events next epoch).
// Example b of batch s of epoch e is made by Example with the stream
// rng.New(DeriveSeed(Seed, "reader/examples"), e·Len + s·BatchSize + b), and epoch e's
// shuffle uses rng.New(DeriveSeed(Seed, "reader/shuffle"), e).
//
// Determinism: the batches are a function of the source's events, Seed, BatchSize, Noise
// and Ordered only. Workers and Prefetch change how fast they come, never what they hold,
// so a run is reproducible on any number of cores (on one Go version and architecture: the
// normal variates use math.Log and math.Sincos).
type Reader struct {
	src       Source
	cfg       ReaderConfig
	dim       int
	perEpoch  int
	exSeed    uint64
	shufSeed  uint64
	ctx       context.Context
	cancel    context.CancelFunc
	order     chan chan batchResult
	wg        sync.WaitGroup
	pool      sync.Pool
	closeOnce sync.Once
	err       error
}

type batchResult struct {
	b   *Batch
	err error
}

type batchJob struct {
	epoch, step int
	events      []int
	out         chan batchResult
}

// NewReader starts a Reader over src; call Close when done with it.
func NewReader(src Source, cfg ReaderConfig) (*Reader, error) {
	if cfg.BatchSize < 1 {
		return nil, fmt.Errorf("batch size %d must be at least 1", cfg.BatchSize)
	}
	if n := src.Len(); n < cfg.BatchSize {
		return nil, fmt.Errorf("%d events are fewer than one batch of %d", n, cfg.BatchSize)
	}
	if cfg.Epochs < 0 {
		return nil, fmt.Errorf("epochs %d must not be negative", cfg.Epochs)
	}
	if cfg.Noise.SNR.Family == "" {
		cfg.Noise = event.DefaultNoise()
	}
	if err := cfg.Noise.Validate(); err != nil {
		return nil, err
	}
	if err := src.Prior().Validate(); err != nil {
		return nil, fmt.Errorf("prior: %v", err)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 2 * cfg.Workers
	}
	r := &Reader{
		src: src, cfg: cfg, dim: event.NumParams - 1,
		perEpoch: src.Len() / cfg.BatchSize,
		exSeed:   DeriveSeed(cfg.Seed, "reader/examples"),
		shufSeed: DeriveSeed(cfg.Seed, "reader/shuffle"),
		order:    make(chan chan batchResult, cfg.Prefetch),
	}
	if src.Prior().Blending() {
		r.dim = event.NumParams
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	jobs := make(chan batchJob)
	r.wg.Add(1 + cfg.Workers)
	go r.dispatch(jobs)
	for range cfg.Workers {
		go func() {
			defer r.wg.Done()
			for j := range jobs {
				b := r.newBatch()
				b.Epoch, b.Step = j.epoch, j.step
				err := r.fill(b, j.events)
				j.out <- batchResult{b, err} // buffered: never blocks
			}
		}()
	}
	return r, nil
}

// BatchesPerEpoch returns ⌊Len/BatchSize⌋.
func (r *Reader) BatchesPerEpoch() int { return r.perEpoch }

// Dim returns the length of one θ in Batch.Theta: 7, or 8 with blending.
func (r *Reader) Dim() int { return r.dim }

// dispatch queues the batches in order: each job's result channel goes to r.order (which
// bounds how far ahead the workers run) before the job goes to a worker.
func (r *Reader) dispatch(jobs chan<- batchJob) {
	defer r.wg.Done()
	defer close(jobs)
	defer close(r.order)
	n, bs := r.src.Len(), r.cfg.BatchSize
	perm := make([]int, n)
	for e := 0; r.cfg.Epochs == 0 || e < r.cfg.Epochs; e++ {
		for i := range perm {
			perm[i] = i
		}
		if !r.cfg.Ordered {
			rng.New(r.shufSeed, uint64(e)).Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		}
		for s := range r.perEpoch {
			j := batchJob{epoch: e, step: s, events: append([]int(nil), perm[s*bs:(s+1)*bs]...), out: make(chan batchResult, 1)}
			select {
			case r.order <- j.out:
			case <-r.ctx.Done():
				return
			}
			select {
			case jobs <- j:
			case <-r.ctx.Done():
				return
			}
		}
	}
}

// newBatch returns a batch from the pool (see Release) or a new one.
func (r *Reader) newBatch() *Batch {
	if b, ok := r.pool.Get().(*Batch); ok {
		return b
	}
	bs := r.cfg.BatchSize
	return &Batch{
		Size: bs, Dim: r.dim,
		X:     make([]float32, bs*event.WindowPoints),
		Theta: make([]float64, bs*r.dim),
		Index: make([]int, bs),
		SNR:   make([]float64, bs),
	}
}

// fill makes the examples of batch b from the events.
func (r *Reader) fill(b *Batch, events []int) error {
	mag := make([]float32, event.WindowPoints)
	n, bs := uint64(r.src.Len()), r.cfg.BatchSize
	for k, i := range events {
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		stream := uint64(b.Epoch)*n + uint64(b.Step*bs+k)
		x := b.X[k*event.WindowPoints : (k+1)*event.WindowPoints]
		p, obs, err := Example(r.src, r.cfg.Noise, i, rng.New(r.exSeed, stream), mag, x)
		if err != nil {
			return err
		}
		v := p.Values()
		copy(b.Theta[k*r.dim:(k+1)*r.dim], v[:r.dim])
		b.Index[k], b.SNR[k] = i, obs.SNR
	}
	return nil
}

// ErrReaderClosed is returned by Next after Close.
var ErrReaderClosed = errors.New("dataset: reader closed")

// Next returns the next batch, in order (epoch 0 step 0, epoch 0 step 1, …), waiting for it
// when the workers are behind. After the last epoch it returns io.EOF; after an error of
// the source (an unreadable file, a failed simulation) it returns that error from then on.
// Next is not safe for concurrent use.
func (r *Reader) Next() (*Batch, error) {
	if r.err != nil {
		return nil, r.err
	}
	out, ok := <-r.order
	if !ok {
		if r.ctx.Err() != nil {
			r.err = ErrReaderClosed
		} else {
			r.err = io.EOF
		}
		return nil, r.err
	}
	res := <-out
	if res.err != nil {
		if r.ctx.Err() != nil {
			res.err = ErrReaderClosed
		}
		r.err = res.err
		r.Close()
		return nil, r.err
	}
	return res.b, nil
}

// Release hands a batch that the caller no longer uses back to the Reader for reuse, to
// spare the garbage collector; b must not be used afterwards. Calling it is optional.
func (r *Reader) Release(b *Batch) {
	if b != nil && b.Size == r.cfg.BatchSize && b.Dim == r.dim {
		r.pool.Put(b)
	}
}

// Close stops the workers and waits for them to finish. It does not close the source.
func (r *Reader) Close() {
	r.closeOnce.Do(func() {
		r.cancel() // the dispatcher and the workers watch r.ctx; results are buffered
		r.wg.Wait()
	})
}

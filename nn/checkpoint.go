package nn

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/mlcu/mlcu/internal/safetensors"
)

// File names inside a checkpoint directory.
const (
	ModelFile     = "model.safetensors"     // the named weight tensors
	ConfigFile    = "config.json"           // the caller's JSON configuration
	OptimizerFile = "optimizer.safetensors" // Adam's M and V, with step, hyperparameters and State in the metadata
)

// adamPrefix marks the optimizer metadata keys that Checkpoint owns; State keys may not use it.
const adamPrefix = "adam."

// Checkpoint is everything a training run needs to resume: the weights, the model's
// configuration, the optimizer and free-form training state.
type Checkpoint[T Float] struct {
	Tensors []NamedTensor[T]  // model weights (Name, Shape, Data; Offset is not saved), saved in model.safetensors
	Config  []byte            // config.json, any valid JSON (the preset, the θ standardisation, …)
	Adam    *Adam[T]          // optimizer state; nil for a weights-only checkpoint
	State   map[string]string // extra state (epoch, RNG position, LR, …), saved as optimizer metadata
}

// SaveCheckpoint writes ck into the directory dir as model.safetensors, config.json and,
// when ck.Adam or ck.State is set, optimizer.safetensors, replacing an older checkpoint at
// dir as a whole. dir's parent must exist; an existing dir must be a checkpoint (hold
// model.safetensors and nothing but checkpoint files), so that a wrong path never replaces
// other data.
//
// Crash behaviour: the files are written and synced in a fresh temporary directory
// ".<base>.tmp*" beside dir; then an existing dir is renamed to "<dir>.old", the temporary
// directory is renamed to dir, and "<dir>.old" is removed. A crash or Ctrl-C at any point
// leaves either dir complete (old or new), or — only between the two renames — no dir but a
// complete "<dir>.old", which LoadCheckpoint falls back to and the next SaveCheckpoint moves
// back into place. Leftover temporary directories are ignored by LoadCheckpoint and removed
// by the next SaveCheckpoint.
func SaveCheckpoint[T Float](dir string, ck Checkpoint[T]) (err error) {
	dir = filepath.Clean(dir)
	model, opt, optMeta, err := encodeCheckpoint(ck)
	if err != nil {
		return fmt.Errorf("nn: checkpoint %s: %w", dir, err)
	}
	if err := recoverCheckpoint(dir); err != nil {
		return fmt.Errorf("nn: checkpoint %s: %w", dir, err)
	}
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp")
	if err != nil {
		return fmt.Errorf("nn: checkpoint %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err = safetensors.WriteFile(filepath.Join(tmp, ModelFile), model, nil); err != nil {
		return fmt.Errorf("nn: checkpoint: %w", err)
	}
	if err = os.WriteFile(filepath.Join(tmp, ConfigFile), ck.Config, 0o644); err != nil {
		return fmt.Errorf("nn: checkpoint: %w", err)
	}
	if err = syncPath(filepath.Join(tmp, ConfigFile)); err != nil {
		return fmt.Errorf("nn: checkpoint: %w", err)
	}
	if opt != nil || optMeta != nil {
		if err = safetensors.WriteFile(filepath.Join(tmp, OptimizerFile), opt, optMeta); err != nil {
			return fmt.Errorf("nn: checkpoint: %w", err)
		}
	}
	if err = syncPath(tmp); err != nil {
		return fmt.Errorf("nn: checkpoint: %w", err)
	}
	old := dir + ".old"
	_, statErr := os.Stat(dir)
	hadOld := statErr == nil
	if hadOld {
		if _, err = os.Lstat(old); err == nil {
			return fmt.Errorf("nn: checkpoint %s: %s exists and is not a checkpoint; move it away", dir, old)
		}
		if err = os.Rename(dir, old); err != nil {
			return fmt.Errorf("nn: checkpoint %s: %w", dir, err)
		}
	}
	if err = os.Rename(tmp, dir); err != nil {
		if hadOld {
			os.Rename(old, dir) // put the last good checkpoint back
		}
		return fmt.Errorf("nn: checkpoint %s: %w", dir, err)
	}
	syncPath(parent) // best effort: make the renames durable
	if hadOld {
		if err = os.RemoveAll(old); err != nil {
			return fmt.Errorf("nn: checkpoint %s: removing the previous checkpoint: %w", dir, err)
		}
	}
	return nil
}

// recoverCheckpoint repairs what an interrupted SaveCheckpoint left: with no dir but a
// dir.old, dir.old is the last good checkpoint and moves back; with both, dir.old is stale.
// A dir.old holding anything but checkpoint files is not ours and is left alone. Stale
// temporary directories are removed.
func recoverCheckpoint(dir string) error {
	old := dir + ".old"
	if onlyCheckpointFiles(old) {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(filepath.Join(old, ModelFile)); err != nil {
				return fmt.Errorf("%s has no %s; not moving it back", old, ModelFile)
			}
			if err := os.Rename(old, dir); err != nil {
				return err
			}
		} else if err := os.RemoveAll(old); err != nil {
			return err
		}
	}
	parent, base := filepath.Split(dir)
	if parent == "" {
		parent = "."
	}
	stale, _ := filepath.Glob(filepath.Join(parent, "."+globEscape(base)+".tmp*"))
	for _, s := range stale {
		os.RemoveAll(s)
	}
	return nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// onlyCheckpointFiles reports whether dir is a directory holding nothing but checkpoint
// files (possibly none, as after an interrupted removal), so that it is safe to remove.
func onlyCheckpointFiles(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if n := e.Name(); n != ModelFile && n != ConfigFile && n != OptimizerFile {
			return false
		}
	}
	return true
}

// checkReplaceable returns nil when dir does not exist or is a checkpoint directory.
func checkReplaceable(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("nn: checkpoint %s: %w", dir, err)
	}
	hasModel := false
	for _, e := range ents {
		switch e.Name() {
		case ModelFile:
			hasModel = true
		case ConfigFile, OptimizerFile:
		default:
			return fmt.Errorf("nn: checkpoint %s: directory holds %q, not a checkpoint; refusing to replace it", dir, e.Name())
		}
	}
	if !hasModel {
		return fmt.Errorf("nn: checkpoint %s: directory has no %s, not a checkpoint; refusing to replace it", dir, ModelFile)
	}
	return nil
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// dtypeOf returns the safetensors dtype of T.
func dtypeOf[T Float]() string {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return "F32"
	}
	return "F64"
}

func toTensor[T Float](name string, shape []int, data []T) safetensors.Tensor {
	var z T
	size := int(unsafe.Sizeof(z))
	b := make([]byte, 0, size*len(data))
	for _, v := range data {
		if size == 4 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
		} else {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(v)))
		}
	}
	return safetensors.Tensor{Name: name, DType: dtypeOf[T](), Shape: shape, Data: b}
}

// fromTensor decodes t into dst, which must have t's element count.
func fromTensor[T Float](dst []T, t safetensors.Tensor) {
	if dtypeOf[T]() == "F32" {
		for i := range dst {
			dst[i] = T(math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:])))
		}
		return
	}
	for i := range dst {
		dst[i] = T(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:])))
	}
}

func encodeCheckpoint[T Float](ck Checkpoint[T]) (model, opt []safetensors.Tensor, optMeta map[string]string, err error) {
	if !json.Valid(ck.Config) {
		return nil, nil, nil, errors.New("config is not valid JSON")
	}
	for _, nt := range ck.Tensors {
		if n := safetensors.NumElements(nt.Shape); n != len(nt.Data) {
			return nil, nil, nil, fmt.Errorf("tensor %q: shape %v holds %d elements, data has %d", nt.Name, nt.Shape, n, len(nt.Data))
		}
		model = append(model, toTensor(nt.Name, nt.Shape, nt.Data))
	}
	if ck.Adam == nil && len(ck.State) == 0 {
		return model, nil, nil, nil
	}
	optMeta = map[string]string{}
	for k, v := range ck.State {
		if strings.HasPrefix(k, adamPrefix) {
			return nil, nil, nil, fmt.Errorf("state key %q uses the reserved prefix %q", k, adamPrefix)
		}
		optMeta[k] = v
	}
	opt = []safetensors.Tensor{}
	if a := ck.Adam; a != nil {
		if len(a.M) != len(a.V) {
			return nil, nil, nil, fmt.Errorf("Adam M has %d elements, V %d", len(a.M), len(a.V))
		}
		opt = append(opt, toTensor("m", []int{len(a.M)}, a.M), toTensor("v", []int{len(a.V)}, a.V))
		f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		optMeta[adamPrefix+"step"] = strconv.Itoa(a.Step)
		optMeta[adamPrefix+"lr"] = f(a.LR)
		optMeta[adamPrefix+"beta1"] = f(a.Beta1)
		optMeta[adamPrefix+"beta2"] = f(a.Beta2)
		optMeta[adamPrefix+"eps"] = f(a.Eps)
		optMeta[adamPrefix+"weight_decay"] = f(a.WeightDecay)
	}
	return model, opt, optMeta, nil
}

// LoadCheckpoint reads the checkpoint in dir (or, when dir is missing after a save was
// interrupted between its two renames, in dir.old; see SaveCheckpoint). Tensors come back
// in name order, with Offset their position in the concatenation of that order. It fails, naming the file, when model.safetensors or config.json is
// missing, a file is corrupt or truncated, a tensor's dtype is not T's, or the optimizer
// state is inconsistent. A missing optimizer.safetensors gives a nil Adam and State.
func LoadCheckpoint[T Float](dir string) (Checkpoint[T], error) {
	dir = filepath.Clean(dir)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir+".old", ModelFile)); err == nil {
			dir += ".old"
		}
	}
	var ck Checkpoint[T]
	fail := func(file string, err error) (Checkpoint[T], error) {
		return Checkpoint[T]{}, fmt.Errorf("nn: checkpoint %s: %w", filepath.Join(dir, file), err)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return Checkpoint[T]{}, fmt.Errorf("nn: checkpoint: %w", err)
	}
	if !json.Valid(cfg) {
		return fail(ConfigFile, errors.New("not valid JSON"))
	}
	ck.Config = cfg
	tensors, _, err := safetensors.ReadFile(filepath.Join(dir, ModelFile))
	if err != nil {
		return Checkpoint[T]{}, fmt.Errorf("nn: checkpoint: %w", err)
	}
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	want := dtypeOf[T]()
	off := 0
	for _, name := range names {
		t := tensors[name]
		if t.DType != want {
			return fail(ModelFile, fmt.Errorf("tensor %q has dtype %s, want %s", name, t.DType, want))
		}
		nt := NamedTensor[T]{Name: name, Shape: t.Shape, Offset: off, Data: make([]T, safetensors.NumElements(t.Shape))}
		fromTensor(nt.Data, t)
		ck.Tensors = append(ck.Tensors, nt)
		off += len(nt.Data)
	}
	optPath := filepath.Join(dir, OptimizerFile)
	if _, err := os.Stat(optPath); errors.Is(err, fs.ErrNotExist) {
		return ck, nil
	}
	opt, meta, err := safetensors.ReadFile(optPath)
	if err != nil {
		return Checkpoint[T]{}, fmt.Errorf("nn: checkpoint: %w", err)
	}
	ck.State = map[string]string{}
	for k, v := range meta {
		if !strings.HasPrefix(k, adamPrefix) {
			ck.State[k] = v
		}
	}
	if _, ok := meta[adamPrefix+"step"]; !ok {
		if len(opt) != 0 {
			return fail(OptimizerFile, errors.New("tensors without the adam.step metadata"))
		}
		return ck, nil
	}
	a := &Adam[T]{}
	if a.Step, err = strconv.Atoi(meta[adamPrefix+"step"]); err != nil || a.Step < 0 {
		return fail(OptimizerFile, fmt.Errorf("bad adam.step %q", meta[adamPrefix+"step"]))
	}
	for _, p := range []struct {
		key string
		dst *float64
	}{{"lr", &a.LR}, {"beta1", &a.Beta1}, {"beta2", &a.Beta2}, {"eps", &a.Eps}, {"weight_decay", &a.WeightDecay}} {
		s, ok := meta[adamPrefix+p.key]
		if !ok {
			return fail(OptimizerFile, fmt.Errorf("missing metadata %s%s", adamPrefix, p.key))
		}
		if *p.dst, err = strconv.ParseFloat(s, 64); err != nil {
			return fail(OptimizerFile, fmt.Errorf("bad metadata %s%s %q", adamPrefix, p.key, s))
		}
	}
	m, okM := opt["m"]
	v, okV := opt["v"]
	if !okM || !okV || len(opt) != 2 {
		return fail(OptimizerFile, errors.New("want exactly the tensors m and v"))
	}
	for _, t := range []safetensors.Tensor{m, v} {
		if t.DType != want || len(t.Shape) != 1 {
			return fail(OptimizerFile, fmt.Errorf("tensor %q is %s %v, want a 1-D %s tensor", t.Name, t.DType, t.Shape, want))
		}
	}
	if m.Shape[0] != v.Shape[0] {
		return fail(OptimizerFile, fmt.Errorf("m has %d elements, v %d", m.Shape[0], v.Shape[0]))
	}
	a.M, a.V = make([]T, m.Shape[0]), make([]T, v.Shape[0])
	fromTensor(a.M, m)
	fromTensor(a.V, v)
	ck.Adam = a
	return ck, nil
}

// LoadCheckpointInto loads the checkpoint in dir (see LoadCheckpoint) into the model's
// views: model must name exactly the checkpoint's tensors with the same shapes, and an
// optimizer state must have one moment per model parameter. On success the values are
// copied into model's Data and the returned Checkpoint's Tensors is model. On a mismatch
// nothing is copied and the error names the tensor and both shapes.
func LoadCheckpointInto[T Float](dir string, model []NamedTensor[T]) (Checkpoint[T], error) {
	ck, err := LoadCheckpoint[T](dir)
	if err != nil {
		return Checkpoint[T]{}, err
	}
	fail := func(format string, args ...any) (Checkpoint[T], error) {
		return Checkpoint[T]{}, fmt.Errorf("nn: checkpoint %s: model of another shape: "+format, append([]any{filepath.Join(dir, ModelFile)}, args...)...)
	}
	saved := make(map[string]NamedTensor[T], len(ck.Tensors))
	for _, t := range ck.Tensors {
		saved[t.Name] = t
	}
	total := 0
	for _, nt := range model {
		s, ok := saved[nt.Name]
		if !ok {
			return fail("tensor %q missing", nt.Name)
		}
		if !slices.Equal(s.Shape, nt.Shape) || len(nt.Data) != len(s.Data) {
			return fail("tensor %q has shape %v, model expects %v", nt.Name, s.Shape, nt.Shape)
		}
		delete(saved, nt.Name)
		total += len(nt.Data)
	}
	for _, t := range ck.Tensors {
		if _, extra := saved[t.Name]; extra {
			return fail("tensor %q is not in the model", t.Name)
		}
	}
	if ck.Adam != nil && len(ck.Adam.M) != total {
		return Checkpoint[T]{}, fmt.Errorf("nn: checkpoint %s: optimizer state has %d elements, model has %d parameters",
			filepath.Join(dir, OptimizerFile), len(ck.Adam.M), total)
	}
	byName := make(map[string][]T, len(ck.Tensors))
	for _, t := range ck.Tensors {
		byName[t.Name] = t.Data
	}
	for _, nt := range model {
		copy(nt.Data, byName[nt.Name])
	}
	ck.Tensors = model
	return ck, nil
}

// CopyTensors copies saved tensors (src, read from file) into a model's (dst) by name,
// checking names and shapes, and that every value is finite: a checkpoint with a NaN or an
// infinity (corrupted bytes of the right size, a diverged run) is refused with an error
// naming the file and the tensor, before anything is copied.
func CopyTensors[T Float](dst, src []NamedTensor[T], file string) error {
	byName := map[string]NamedTensor[T]{}
	for _, t := range src {
		byName[t.Name] = t
	}
	if len(byName) != len(dst) {
		return fmt.Errorf("%s: model of another shape: %d tensors, model has %d", file, len(byName), len(dst))
	}
	for _, t := range dst {
		s, ok := byName[t.Name]
		if !ok {
			return fmt.Errorf("%s: model of another shape: tensor %q missing", file, t.Name)
		}
		if len(s.Data) != len(t.Data) || fmt.Sprint(s.Shape) != fmt.Sprint(t.Shape) {
			return fmt.Errorf("%s: model of another shape: tensor %q has shape %v, model expects %v", file, t.Name, s.Shape, t.Shape)
		}
	}
	for _, t := range dst {
		for i, v := range byName[t.Name].Data {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%s: tensor %q holds a non-finite value (%v at index %d): the file is corrupt or the run diverged", file, t.Name, v, i)
			}
		}
	}
	for _, t := range dst {
		copy(t.Data, byName[t.Name].Data)
	}
	return nil
}

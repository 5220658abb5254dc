package nn

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testCheckpoint builds a small llm.c-style model: one flat buffer with named views, and
// an Adam state over the whole buffer with some steps taken.
func testCheckpoint() (Checkpoint[float32], []float32) {
	params := make([]float32, 2*3+3+1)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range params {
		params[i] = float32(r.NormFloat64())
	}
	params[0] = float32(math.Copysign(0, -1))
	params[1] = math.Float32frombits(1) // smallest subnormal
	params[2] = float32(math.NaN())
	views := []NamedTensor[float32]{
		{Name: "layer.weight", Shape: []int{2, 3}, Data: params[0:6]},
		{Name: "layer.bias", Shape: []int{3}, Offset: 6, Data: params[6:9]},
		{Name: "scale", Shape: []int{}, Offset: 9, Data: params[9:10]},
	}
	a := NewAdam[float32](len(params))
	a.WeightDecay = 0.1
	grads := make([]float32, len(params))
	for s := 0; s < 3; s++ {
		for i := range grads {
			grads[i] = float32(r.NormFloat64())
		}
		a.Update(params, grads, 1e-3)
	}
	return Checkpoint[float32]{
		Tensors: views,
		Config:  []byte(`{"preset":"small","channels":[4,8]}`),
		Adam:    a,
		State:   map[string]string{"epoch": "3", "rng": "12345", "lr": "0.00097"},
	}, params
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestCheckpointRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	ck, _ := testCheckpoint()
	if err := SaveCheckpoint(dir, ck); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint[float32](dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Config) != string(ck.Config) {
		t.Errorf("config %s, want %s", got.Config, ck.Config)
	}
	if !reflect.DeepEqual(got.State, ck.State) {
		t.Errorf("state %v, want %v", got.State, ck.State)
	}
	a, b := ck.Adam, got.Adam
	if b == nil || a.Step != b.Step || a.LR != b.LR || a.Beta1 != b.Beta1 || a.Beta2 != b.Beta2 || a.Eps != b.Eps || a.WeightDecay != b.WeightDecay {
		t.Fatalf("Adam %+v, want %+v", b, a)
	}
	if !sameBits(a.M, b.M) || !sameBits(a.V, b.V) {
		t.Error("Adam moments differ")
	}
	// Into fresh views of a fresh flat buffer (the resume path): bit-exact.
	fresh := make([]float32, 10)
	model := []NamedTensor[float32]{
		{Name: "scale", Shape: []int{}, Data: fresh[9:10]},
		{Name: "layer.weight", Shape: []int{2, 3}, Data: fresh[0:6]},
		{Name: "layer.bias", Shape: []int{3}, Data: fresh[6:9]},
	}
	if _, err := LoadCheckpointInto(dir, model); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 0, 10)
	for _, v := range ck.Tensors {
		want = append(want, v.Data...)
	}
	if !sameBits(fresh, want) {
		t.Errorf("loaded params %v, want %v", fresh, want)
	}
	// Saving again replaces the old checkpoint and leaves nothing else beside it.
	ck.Adam.Step = 99
	if err := SaveCheckpoint(dir, ck); err != nil {
		t.Fatal(err)
	}
	if got, _ := LoadCheckpoint[float32](dir); got.Adam.Step != 99 {
		t.Errorf("after the second save Step = %d, want 99", got.Adam.Step)
	}
	assertEntries(t, filepath.Dir(dir), "ckpt")
	assertEntries(t, dir, ConfigFile, ModelFile, OptimizerFile)
}

// assertEntries fails unless dir holds exactly names.
func assertEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}

func TestCheckpointWeightsOnlyFloat64(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "w")
	ck := Checkpoint[float64]{
		Tensors: []NamedTensor[float64]{{Name: "w", Shape: []int{2}, Data: []float64{1.0 / 3, -2}}},
		Config:  []byte(`{}`),
	}
	if err := SaveCheckpoint(dir, ck); err != nil {
		t.Fatal(err)
	}
	assertEntries(t, dir, ConfigFile, ModelFile)
	got, err := LoadCheckpoint[float64](dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Adam != nil || got.State != nil || got.Tensors[0].Data[0] != 1.0/3 {
		t.Errorf("got %+v", got)
	}
	// A float64 checkpoint is not silently read as float32.
	if _, err := LoadCheckpoint[float32](dir); err == nil || !strings.Contains(err.Error(), `"w" has dtype F64, want F32`) {
		t.Errorf("err = %v", err)
	}
}

func TestCheckpointShapeMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	ck, _ := testCheckpoint()
	if err := SaveCheckpoint(dir, ck); err != nil {
		t.Fatal(err)
	}
	buf := make([]float32, 12)
	for _, tc := range []struct {
		model []NamedTensor[float32]
		want  string
	}{
		{[]NamedTensor[float32]{
			{Name: "layer.weight", Shape: []int{2, 4}, Data: buf[0:8]},
			{Name: "layer.bias", Shape: []int{3}, Data: buf[8:11]},
			{Name: "scale", Shape: []int{}, Data: buf[11:12]},
		}, `tensor "layer.weight" has shape [2 3], model expects [2 4]`},
		{[]NamedTensor[float32]{
			{Name: "layer.weight", Shape: []int{2, 3}, Data: buf[0:6]},
			{Name: "scale", Shape: []int{}, Data: buf[11:12]},
		}, `tensor "layer.bias" is not in the model`},
		{[]NamedTensor[float32]{
			{Name: "layer.weight", Shape: []int{2, 3}, Data: buf[0:6]},
			{Name: "layer.bias", Shape: []int{3}, Data: buf[6:9]},
			{Name: "scale", Shape: []int{}, Data: buf[9:10]},
			{Name: "extra", Shape: []int{1}, Data: buf[10:11]},
		}, `tensor "extra" missing`},
	} {
		_, err := LoadCheckpointInto(dir, tc.model)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), ModelFile) {
			t.Errorf("err = %v, want it to name the file and say %q", err, tc.want)
		}
		for _, v := range buf {
			if v != 0 {
				t.Fatal("a failed load wrote into the model")
			}
		}
	}
}

func TestCheckpointCorrupt(t *testing.T) {
	ck, _ := testCheckpoint()
	for _, tc := range []struct {
		name, file string
		damage     func(path string) error
		want       string
	}{
		{"truncated model", ModelFile, func(p string) error { return truncate(p, 5) }, "truncated"},
		{"truncated optimizer", OptimizerFile, func(p string) error { return truncate(p, 1) }, "truncated"},
		{"missing model", ModelFile, os.Remove, "no such file"},
		{"missing config", ConfigFile, os.Remove, "no such file"},
		{"bad config", ConfigFile, func(p string) error { return os.WriteFile(p, []byte("{"), 0o644) }, "not valid JSON"},
	} {
		dir := filepath.Join(t.TempDir(), "ckpt")
		if err := SaveCheckpoint(dir, ck); err != nil {
			t.Fatal(err)
		}
		if err := tc.damage(filepath.Join(dir, tc.file)); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCheckpoint[float32](dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.file) {
			t.Errorf("%s: err = %v, want it to name %s and say %q", tc.name, err, tc.file, tc.want)
		}
	}
}

func truncate(path string, by int64) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.Truncate(path, st.Size()-by)
}

// TestCheckpointCrash simulates saves killed at each stage: the last good checkpoint must
// stay loadable, and the next save must clean up and succeed.
func TestCheckpointCrash(t *testing.T) {
	ck, _ := testCheckpoint()
	parent := t.TempDir()
	dir := filepath.Join(parent, "ckpt")
	if err := SaveCheckpoint(dir, ck); err != nil {
		t.Fatal(err)
	}
	wantStep := ck.Adam.Step
	loadOK := func(stage string) {
		t.Helper()
		got, err := LoadCheckpoint[float32](dir)
		if err != nil {
			t.Fatalf("%s: last good checkpoint unreadable: %v", stage, err)
		}
		if got.Adam.Step != wantStep {
			t.Fatalf("%s: Step = %d, want %d", stage, got.Adam.Step, wantStep)
		}
	}

	// Killed while writing: a half-written temporary directory beside the checkpoint.
	tmp := filepath.Join(parent, ".ckpt.tmp123")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ModelFile), []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	loadOK("temp dir left behind")

	// Killed between the two renames: only ckpt.old exists.
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	loadOK("between renames")

	// The next save recovers, replaces and cleans up.
	ck.Adam.Step++
	wantStep = ck.Adam.Step
	if err := SaveCheckpoint(dir, ck); err != nil {
		t.Fatal(err)
	}
	loadOK("after recovery")
	assertEntries(t, parent, "ckpt")

	// Killed after the second rename, before removing .old: the new checkpoint wins.
	if err := os.Mkdir(dir+".old", 0o755); err != nil {
		t.Fatal(err)
	}
	loadOK("stale .old")

	// A save that fails (invalid config) leaves the good checkpoint.
	bad := ck
	bad.Config = []byte("{")
	if err := SaveCheckpoint(dir, bad); err == nil {
		t.Fatal("saved an invalid config")
	}
	loadOK("failed save")
}

func TestCheckpointRefusesOtherDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	ck, _ := testCheckpoint()
	err := SaveCheckpoint(dir, ck)
	if err == nil || !strings.Contains(err.Error(), "not a checkpoint") {
		t.Fatalf("err = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "thesis.tex")); string(b) != "precious" {
		t.Error("the directory was touched")
	}
	// Nor is a user's own "<dir>.old" removed or moved.
	parent := t.TempDir()
	mine := filepath.Join(parent, "ckpt.old")
	if err := os.Mkdir(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SaveCheckpoint(filepath.Join(parent, "ckpt"), ck); err != nil {
		t.Fatal(err)
	}
	if err := SaveCheckpoint(filepath.Join(parent, "ckpt"), ck); err == nil || !strings.Contains(err.Error(), "ckpt.old") {
		t.Errorf("replacing with a foreign .old present: err = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(mine, "notes.txt")); string(b) != "mine" {
		t.Error("a foreign .old directory was touched")
	}
}

func TestCheckpointRejectsBadInput(t *testing.T) {
	ck, _ := testCheckpoint()
	ck.State = map[string]string{"adam.step": "1"}
	if err := SaveCheckpoint(filepath.Join(t.TempDir(), "c"), ck); err == nil || !strings.Contains(err.Error(), "reserved prefix") {
		t.Errorf("reserved state key: err = %v", err)
	}
	ck, _ = testCheckpoint()
	ck.Tensors[0].Shape = []int{7}
	if err := SaveCheckpoint(filepath.Join(t.TempDir(), "c"), ck); err == nil || !strings.Contains(err.Error(), `"layer.weight": shape [7] holds 7 elements, data has 6`) {
		t.Errorf("shape/data mismatch: err = %v", err)
	}
}

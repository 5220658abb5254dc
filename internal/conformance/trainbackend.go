package conformance

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/nn"
	"github.com/mlcu/mlcu/train"
)

// TrainModel is the model of the TrainBackend and Sampler suites: every featurizer feature
// (channel doubling with projections, pooling after each block, batch norm, a two-layer
// GRU) and a two-block flow with a mixture base, at sizes an emulated device runs in a
// second.
func TrainModel() nn.ModelConfig {
	return nn.ModelConfig{InputLen: 48, Bin: 1,
		Featurizer: nn.FeaturizerShape{L: 48, C0: 4, Cmax: 8, K: 3, Blocks: 3, PoolEvery: 1, GRUHidden: 6, GRULayers: 2, Context: 5},
		Flow:       nn.MAFShape{D: 3, C: 5, H: 7, L: 2, NB: 2, K: 3, OrderSeed: 3}}
}

// Batch returns B inputs shaped like light curves (the log of a bump at a random time plus
// noise) and B standardised θ in [−1, 1), from seed.
func Batch(c nn.ModelConfig, B int, seed uint64) (x, theta []float32) {
	src := rng.New(seed, 1)
	L := c.Featurizer.L
	x = make([]float32, B*L)
	for b := range B {
		t0 := src.Between(0.2, 0.8) * float64(L)
		for l := range L {
			u := (float64(l) - t0) / 6
			x[b*L+l] = float32(math.Log(1+2*math.Exp(-u*u)) + 0.02*src.Normal())
		}
	}
	theta = make([]float32, B*c.D())
	for i := range theta {
		theta[i] = float32(src.Between(-1, 1))
	}
	return x, theta
}

// trainState is a copy of everything a training step may change.
type trainState struct {
	params, buffers, m, v []float32
	step                  int
}

func stateOf(m *nn.Model[float32], a *nn.Adam[float32]) trainState {
	return trainState{params: slices.Clone(m.Params), buffers: slices.Clone(m.Buffers),
		m: slices.Clone(a.M), v: slices.Clone(a.V), step: a.Step}
}

// requireSameState fails unless a and b are equal bit for bit (NaN included).
func requireSameState(t *testing.T, what string, a, b trainState) {
	t.Helper()
	require.Equal(t, a.step, b.step, "%s: Adam's step count", what)
	for _, p := range []struct {
		name string
		x, y []float32
	}{{"parameter", a.params, b.params}, {"running statistic", a.buffers, b.buffers}, {"Adam first moment", a.m, b.m}, {"Adam second moment", a.v, b.v}} {
		require.Equal(t, len(p.x), len(p.y), "%s: number of %ss", what, p.name)
		for i := range p.x {
			if math.Float32bits(p.x[i]) != math.Float32bits(p.y[i]) {
				require.Failf(t, what, "%s %d is %v, want %v", p.name, i, p.y[i], p.x[i])
			}
		}
	}
}

// newTrainPair returns a fresh host model (TrainModel, initialised from seed) with its Adam,
// and the backend made from them.
func newTrainPair(t *testing.T, newBackend train.NewBackendFunc, seed uint64) (*nn.Model[float32], *nn.Adam[float32], train.Backend) {
	t.Helper()
	m, err := nn.NewModel[float32](TrainModel())
	require.NoError(t, err)
	m.Init(seed)
	a := nn.NewAdam[float32](m.NumParams())
	b, err := newBackend(m, a)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	return m, a, b
}

// Training step settings of the suite: the trainer's defaults' order of magnitude.
const (
	suiteLR   = 1e-3
	suiteClip = 5.0
)

// TrainBackend checks a train.Backend made by newBackend, along one short run (six steps
// on the backend: an emulated device takes seconds per step):
//
//   - a step's loss and gradient norm are the CPU model's (nn.TrainStep on nn.CPUPasses) to
//     float32 accuracy, three steps in a row (so the updates between them are the CPU's too);
//   - a backend made from a checkpoint written after step 1 (nn.SaveCheckpoint of the
//     synced host model and Adam, loaded back) takes step 2 bit for bit as the run that did
//     not stop: parameters, running statistics, Adam's moments and step count;
//   - a step with a non-finite loss (NaN in x, +Inf in θ) leaves the parameters, the running
//     statistics and Adam's state exactly as they were, and the next finite step is the
//     CPU's step from that state;
//   - evaluation mode (Loss) uses the running statistics: it leaves them and the parameters
//     alone, gives the same value twice, and a batch's loss is the mean of its examples'
//     losses (batch statistics would make it depend on the batch); Losses gives the
//     examples' losses in evaluation mode (their mean is Loss) and with batch statistics
//     (the CPU's training-mode densities), leaving the state alone.
//
// Tolerances: losses rtol 2e-4 + atol 2e-4, gradient norms rtol 1e-3 (float32 sums over
// the batch, the time steps and the channels in different orders; batch norm's backward
// subtracts means of nearly equal terms).
func TrainBackend(t *testing.T, newBackend train.NewBackendFunc) {
	c := TrainModel()
	const B = 4
	x1, th1 := Batch(c, B, 1)
	x2, th2 := Batch(c, B, 2)

	m, a, b := newTrainPair(t, newBackend, 7)
	ref, err := nn.NewModel[float32](c)
	require.NoError(t, err)
	ref.Init(7)
	refPasses := nn.CPUPasses{M: ref, Adam: nn.NewAdam[float32](ref.NumParams())}
	// step takes one step on the backend and on the CPU reference and compares them.
	step := func(t *testing.T, i int, x, theta []float32) {
		t.Helper()
		loss, norm, err := b.Step(x, theta, suiteClip, suiteLR)
		require.NoError(t, err)
		wantLoss, wantNorm, _ := nn.TrainStep(refPasses, x, theta, suiteClip, suiteLR)
		require.InDelta(t, wantLoss, loss, 2e-4+2e-4*math.Abs(wantLoss), "step %d: loss", i)
		require.InDelta(t, wantNorm, norm, 1e-3*wantNorm, "step %d: gradient norm", i)
	}
	ckDir := filepath.Join(t.TempDir(), "last")

	t.Run("steps match the CPU", func(t *testing.T) {
		step(t, 1, x1, th1)
		require.NoError(t, b.Sync())
		require.NoError(t, nn.SaveCheckpoint(ckDir, nn.Checkpoint[float32]{
			Tensors: append(m.ParamTensors(), m.BufferTensors()...), Config: []byte("{}"), Adam: a}))
		step(t, 2, x2, th2)
	})
	require.NoError(t, b.Sync())
	after2 := stateOf(m, a)

	t.Run("resume from a checkpoint continues bit for bit", func(t *testing.T) {
		ck, err := nn.LoadCheckpoint[float32](ckDir)
		require.NoError(t, err)
		mr, err := nn.NewModel[float32](c)
		require.NoError(t, err)
		require.NoError(t, nn.CopyTensors(append(mr.ParamTensors(), mr.BufferTensors()...), ck.Tensors, ckDir))
		br, err := newBackend(mr, ck.Adam)
		require.NoError(t, err)
		defer br.Close()
		_, _, err = br.Step(x2, th2, suiteClip, suiteLR)
		require.NoError(t, err)
		require.NoError(t, br.Sync())
		requireSameState(t, "step 2 after resuming at step 1, against the straight run", after2, stateOf(mr, ck.Adam))
	})

	t.Run("a non-finite step changes nothing", func(t *testing.T) {
		xNaN, thInf := slices.Clone(x1), slices.Clone(th1)
		xNaN[len(xNaN)/2] = float32(math.NaN())
		thInf[1] = float32(math.Inf(1))
		for _, bad := range []struct {
			name     string
			x, theta []float32
		}{{"NaN in x", xNaN, th1}, {"+Inf in θ", x1, thInf}} {
			loss, norm, err := b.Step(bad.x, bad.theta, suiteClip, suiteLR)
			require.NoError(t, err, bad.name)
			require.False(t, isFinite(loss) && isFinite(norm), "%s: loss %v and gradient norm %v are finite", bad.name, loss, norm)
			require.NoError(t, b.Sync())
			requireSameState(t, "after a step with "+bad.name, after2, stateOf(m, a))
		}
		step(t, 3, x1, th1)
	})

	t.Run("evaluation uses the running statistics", func(t *testing.T) {
		require.NoError(t, b.Sync())
		before := stateOf(m, a)
		l1, err := b.Loss(x1, th1)
		require.NoError(t, err)
		l2, err := b.Loss(x1, th1)
		require.NoError(t, err)
		require.True(t, isFinite(l1), "evaluation loss %v", l1)
		require.Equal(t, l1, l2, "the same batch evaluated twice")
		require.NoError(t, b.Sync())
		requireSameState(t, "after evaluation", before, stateOf(m, a))

		L, D := c.Featurizer.L, c.D()
		mean := 0.0
		for i := range B {
			li, err := b.Loss(x1[i*L:(i+1)*L], th1[i*D:(i+1)*D])
			require.NoError(t, err)
			mean += li / B
		}
		require.InDelta(t, mean, l1, 2e-4+2e-4*math.Abs(mean), "the batch's evaluation loss against the mean of its examples' losses")

		// Losses: per example; in evaluation mode their mean is Loss; with batch
		// statistics they are the CPU's training-mode densities; the state is untouched.
		ls, err := b.Losses(x1, th1, false)
		require.NoError(t, err)
		require.Len(t, ls, B)
		require.InDelta(t, l1, meanOf(ls), 1e-5*(1+math.Abs(l1)), "the mean of Losses(batchStats false) against Loss")
		bs, err := b.Losses(x1, th1, true)
		require.NoError(t, err)
		ref.LossForward(x1, th1, true)
		for i, lp := range ref.LogProb() {
			want := -float64(lp)
			require.InDelta(t, want, bs[i], 2e-4+2e-4*math.Abs(want), "example %d: Losses(batchStats true) against the CPU's training-mode density", i)
		}
		require.NoError(t, b.Sync())
		requireSameState(t, "after Losses", before, stateOf(m, a))
	})
}

func meanOf(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

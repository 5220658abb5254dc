package conformance_test

import (
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/infer"
	"github.com/mlcu/mlcu/internal/conformance"
	"github.com/mlcu/mlcu/lens"
	"github.com/mlcu/mlcu/nn"
	"github.com/mlcu/mlcu/train"
)

// brokenEnv makes TestBroken run: TestSuitesFailOnBrokenImplementations runs this test
// binary again with it set, one broken implementation at a time, and requires the run to
// fail in the contract that the implementation breaks.
const brokenEnv = "MLCU_CONFORMANCE_BROKEN"

// broken are implementations that each break one contract, and the subtest (under
// TestBroken/<name>/) of the suite that must catch it.
var broken = []struct {
	name, contract string
	run            func(t *testing.T)
}{
	{"gemm strides by the column count", "m17_n13_k29", func(t *testing.T) {
		conformance.Gemm(t, func(tA, tB bool, m, n, k int, al float32, a []float32, lda int, b []float32, ldb int, be float32, c []float32, ldc int) error {
			cols := k
			if tA {
				cols = m
			}
			nn.Gemm(tA, tB, m, n, k, al, a, max(cols, 1), b, ldb, be, c, ldc)
			return nil
		})
	}},
	{"gemm reads C when beta is 0", "m1_n1_k1_tA_false_tB_false_α_1_β_0", func(t *testing.T) {
		conformance.Gemm(t, func(tA, tB bool, m, n, k int, al float32, a []float32, lda int, b []float32, ldb int, be float32, c []float32, ldc int) error {
			for i := range m {
				for j := range n {
					c[i*ldc+j] *= be // NaN · 0 = NaN
				}
			}
			nn.Gemm(tA, tB, m, n, k, al, a, lda, b, ldb, 1, c, ldc)
			return nil
		})
	}},
	{"training updates on a non-finite loss", "a_non-finite_step_changes_nothing", func(t *testing.T) {
		conformance.TrainBackend(t, func(m *nn.Model[float32], a *nn.Adam[float32]) (train.Backend, error) {
			cpu, _ := train.NewCPUBackend(m, a)
			return updatesOnNaN{cpu, m}, nil
		})
	}},
	{"evaluation in training mode", "evaluation_uses_the_running_statistics", func(t *testing.T) {
		conformance.TrainBackend(t, func(m *nn.Model[float32], a *nn.Adam[float32]) (train.Backend, error) {
			cpu, _ := train.NewCPUBackend(m, a)
			return evalInTrainMode{cpu, m}, nil
		})
	}},
	{"batch-statistics losses keep the batch's statistics", "evaluation_uses_the_running_statistics", func(t *testing.T) {
		conformance.TrainBackend(t, func(m *nn.Model[float32], a *nn.Adam[float32]) (train.Backend, error) {
			cpu, _ := train.NewCPUBackend(m, a)
			return keepsBatchStats{cpu, m}, nil
		})
	}},
	{"training ignores the optimizer state it is given", "resume_from_a_checkpoint_continues_bit_for_bit", func(t *testing.T) {
		conformance.TrainBackend(t, func(m *nn.Model[float32], a *nn.Adam[float32]) (train.Backend, error) {
			own := nn.NewAdam[float32](m.NumParams())
			cpu, _ := train.NewCPUBackend(m, own)
			return freshAdam{cpu, own, a}, nil
		})
	}},
	{"curves depend on the batch", "each_event_alone", func(t *testing.T) {
		conformance.Curves(t, batchTol{})
	}},
	{"curves of a point source", "reference_curves", func(t *testing.T) {
		conformance.Curves(t, pointSource{})
	}},
	{"sampler ignores the round", "determinism_and_independence", func(t *testing.T) {
		conformance.Sampler(t, func(m *nn.Model[float32]) (infer.Sampler, error) { return noRound{infer.CPUSampler{Net: m}}, nil })
	}},
	{"sampler too wide", "draws_follow_the_flow", func(t *testing.T) {
		conformance.Sampler(t, func(m *nn.Model[float32]) (infer.Sampler, error) { return widened{infer.CPUSampler{Net: m}}, nil })
	}},
}

// TestBroken runs one broken implementation against its suite when brokenEnv names it.
func TestBroken(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("run by TestSuitesFailOnBrokenImplementations")
	}
	for _, b := range broken {
		if b.name == name {
			t.Run(strings.ReplaceAll(b.name, " ", "_"), b.run)
			return
		}
	}
	t.Fatalf("no broken implementation %q", name)
}

// TestSuitesFailOnBrokenImplementations: every suite must catch an implementation that
// breaks its contract, in the subtest of that contract.
func TestSuitesFailOnBrokenImplementations(t *testing.T) {
	for _, b := range broken {
		t.Run(strings.ReplaceAll(b.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run", "^TestBroken$", "-test.count", "1", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+b.name)
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the suite passed the broken implementation:\n%s", out)
			want := "--- FAIL: TestBroken/" + strings.ReplaceAll(b.name, " ", "_") + "/" + b.contract
			require.Contains(t, string(out), want, "the suite failed, but not in the contract broken")
		})
	}
}

// updatesOnNaN moves a parameter after any step, finite or not.
type updatesOnNaN struct {
	train.Backend
	m *nn.Model[float32]
}

func (b updatesOnNaN) Step(x, theta []float32, clip, lr float64) (float64, float64, error) {
	loss, norm, err := b.Backend.Step(x, theta, clip, lr)
	if math.IsNaN(loss) || math.IsNaN(norm) || math.IsInf(norm, 0) {
		b.m.Params[0] += float32(lr)
	}
	return loss, norm, err
}

// evalInTrainMode evaluates with batch statistics (and updates the running ones).
type evalInTrainMode struct {
	train.Backend
	m *nn.Model[float32]
}

func (b evalInTrainMode) Loss(x, theta []float32) (float64, error) {
	return b.m.LossForward(x, theta, true), nil
}

// keepsBatchStats computes Losses with batch statistics without restoring the running ones.
type keepsBatchStats struct {
	train.Backend
	m *nn.Model[float32]
}

func (b keepsBatchStats) Losses(x, theta []float32, batchStats bool) ([]float64, error) {
	if !batchStats {
		return b.Backend.Losses(x, theta, false)
	}
	b.m.LossForward(x, theta, true)
	var out []float64
	for _, lp := range b.m.LogProb() {
		out = append(out, -float64(lp))
	}
	return out, nil
}

// freshAdam trains with its own optimizer state, copied to the host's on Sync.
type freshAdam struct {
	train.Backend
	own, host *nn.Adam[float32]
}

func (b freshAdam) Sync() error {
	copy(b.host.M, b.own.M)
	copy(b.host.V, b.own.V)
	b.host.Step = b.own.Step
	return nil
}

// batchTol loosens the tolerance with the size of the call.
type batchTol struct{}

func (batchTol) LightCurves(events []lens.Event, ts []float64, tol float64, out [][]float64) error {
	return dataset.CPUCurves{}.LightCurves(events, ts, tol*float64(len(events)), out)
}
func (batchTol) BatchSize() int { return 1 }

// pointSource drops the source's size.
type pointSource struct{}

func (pointSource) LightCurves(events []lens.Event, ts []float64, tol float64, out [][]float64) error {
	for k, e := range events {
		e.Rho = 0
		lens.LightCurve(e, ts, tol, out[k][:len(ts)])
	}
	return nil
}
func (pointSource) BatchSize() int { return 1 }

// noRound draws every round as round 0.
type noRound struct{ infer.CPUSampler }

func (s noRound) Draw(out, xb []float32, n int, seed, round uint64) error {
	return s.CPUSampler.Draw(out, xb, n, seed, 0)
}

// widened scales the draws by 1.2: the right centre, the wrong spread.
type widened struct{ infer.CPUSampler }

func (s widened) Draw(out, xb []float32, n int, seed, round uint64) error {
	err := s.CPUSampler.Draw(out, xb, n, seed, round)
	for i := range out {
		out[i] *= 1.2
	}
	return err
}

package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlcu/mlcu/dataset"
	"github.com/mlcu/mlcu/event"
	"github.com/mlcu/mlcu/infer"

	ucli "github.com/urfave/cli/v2"

	"github.com/mlcu/mlcu/internal/npy"
	"github.com/mlcu/mlcu/internal/rng"
	"github.com/mlcu/mlcu/internal/safetensors"
	"github.com/mlcu/mlcu/nn"
)

// devLogProbCommand is a hidden developer command: it writes what an independent
// implementation of the model (bench/torch_model.py, a PyTorch twin) needs to check itself
// against mlcu on the same weights and inputs. It is not part of the user interface and is
// not listed by 'mlcu help'; bench/torch_check.sh runs it.
var devLogProbCommand = &ucli.Command{
	Name:      "dev-logprob",
	Hidden:    true,
	Usage:     "(developers) write inputs, log-probabilities and gradients of a model for a cross-check",
	ArgsUsage: " ",
	Description: `Loads --model (a checkpoint written by 'mlcu train'), takes the first --n examples of the
dataset --data as training does (a random 72-day crop with noise, from the stream
rng(--seed, i) of example i; the network input NetworkInput: binned, then ln; θ
standardised), and writes into --out:

   x.npy              (N, L) float64   the network input
   theta.npy          (N, D) float64   standardised θ
   orders.npy         (NB, D) int64    each flow block's ordering (Order[k]: the dimension
                                       generated k-th), from the flow's order seed
   logp_eval_f32.npy  (N) float64      log p(θ | x), evaluation mode, the float32 model
   logp_eval_f64.npy  (N) float64      the same with the weights widened to float64
   logp_train_f64.npy (N) float64      training mode (batch statistics), float64
   step_f64.safetensors                float64 tensors of the training-mode pass:
                                       grad.<name> (∂ mean NLL/∂ parameter), <buffer name>
                                       (running statistics after the pass), and
                                       adam.<name> (the parameter after one Adam step,
                                       lr --lr, gradient-norm clip --clip, as train does)

Used by bench/torch_check.sh (make torch-check).`,
	Flags: []ucli.Flag{
		&ucli.StringFlag{Name: "model", Usage: "model `DIR` (a checkpoint, or a directory holding best/ or last/)", Required: true, TakesFile: true},
		&ucli.StringFlag{Name: "data", Usage: "dataset `DIR` written by 'mlcu simulate'", Required: true, TakesFile: true},
		&ucli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `DIR` (created)", Required: true, TakesFile: true},
		&ucli.IntFlag{Name: "n", Usage: "`N` examples (at most the dataset's size)", Value: 8},
		&ucli.Uint64Flag{Name: "seed", Usage: "`SEED` of the crops and noise", Value: 1},
		&ucli.Float64Flag{Name: "lr", Usage: "learning rate `LR` of the Adam step", Value: 1e-3},
		&ucli.Float64Flag{Name: "clip", Usage: "gradient-norm clip `C` of the Adam step", Value: 5},
	},
	Action: runDevLogProb,
}

func runDevLogProb(c *ucli.Context) error {
	const cmd = "dev-logprob"
	if err := noArgs(c, cmd); err != nil {
		return err
	}
	lm, err := infer.LoadModel(c.String("model"))
	if err != nil {
		return fail(cmd, "--model: %v", err)
	}
	m32, st := lm.Net, lm.Standardizer
	ds, err := dataset.OpenDataset(c.String("data"))
	if err != nil {
		return fail(cmd, "--data: %v", err)
	}
	defer ds.Close()
	mc := m32.Config
	L, D := mc.Featurizer.L, mc.D()
	n := min(c.Int("n"), ds.Len())
	if n < 1 {
		return fail(cmd, "--n = %d: need at least one example", c.Int("n"))
	}
	x32, th32 := make([]float32, n*L), make([]float32, n*D)
	mag, raw := make([]float32, event.WindowPoints), make([]float32, event.WindowPoints)
	for i := range n {
		p, _, err := dataset.Example(ds, event.DefaultNoise(), i, rng.New(c.Uint64("seed"), uint64(i)), mag, raw)
		if err != nil {
			return fail(cmd, "example %d: %v", i, err)
		}
		event.NetworkInput(x32[i*L:(i+1)*L], raw, mc.Bin)
		for j, v := range st.Forward(p) {
			th32[i*D+j] = float32(v)
		}
	}
	m64, err := nn.NewModel[float64](mc)
	if err != nil {
		return fail(cmd, "%v", err)
	}
	widen := func(dst []float64, src []float32) {
		for i, v := range src {
			dst[i] = float64(v)
		}
	}
	widen(m64.Params, m32.Params)
	widen(m64.Buffers, m32.Buffers)
	x64, th64 := make([]float64, n*L), make([]float64, n*D)
	widen(x64, x32)
	widen(th64, th32)

	out := c.String("out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fail(cmd, "--out: %v", err)
	}
	write := func(name string, data []float64, shape ...int) error {
		if err := npy.WriteFile(filepath.Join(out, name), data, shape...); err != nil {
			return fail(cmd, "%v", err)
		}
		return nil
	}
	m32.LossForward(x32, th32, false)
	lp32 := make([]float64, n)
	widen(lp32, m32.LogProb())
	m64.LossForward(x64, th64, false)
	lp64 := append([]float64(nil), m64.LogProb()...)
	// Training mode: batch statistics, the running statistics updated, then the gradient.
	m64.ZeroGrads()
	m64.LossForward(x64, th64, true)
	lpTrain := append([]float64(nil), m64.LogProb()...)
	m64.LossBackward(nil)
	var orders []int64
	for _, o := range mc.Flow.Orders() {
		for _, v := range o {
			orders = append(orders, int64(v))
		}
	}
	var ts []safetensors.Tensor
	for _, t := range m64.ParamTensors() {
		ts = append(ts, safetensors.FromFloat64("grad."+t.Name, t.Shape, m64.Grads[t.Offset:t.Offset+len(t.Data)]))
	}
	for _, t := range m64.BufferTensors() {
		ts = append(ts, safetensors.FromFloat64(t.Name, t.Shape, t.Data))
	}
	nn.ClipGradNorm(m64.Grads, c.Float64("clip"))
	nn.NewAdam[float64](m64.NumParams()).Update(m64.Params, m64.Grads, c.Float64("lr"))
	for _, t := range m64.ParamTensors() {
		ts = append(ts, safetensors.FromFloat64("adam."+t.Name, t.Shape, t.Data))
	}
	for _, f := range []struct {
		name  string
		data  []float64
		shape []int
	}{{"x.npy", x64, []int{n, L}}, {"theta.npy", th64, []int{n, D}}, {"logp_eval_f32.npy", lp32, []int{n}},
		{"logp_eval_f64.npy", lp64, []int{n}}, {"logp_train_f64.npy", lpTrain, []int{n}}} {
		if err := write(f.name, f.data, f.shape...); err != nil {
			return err
		}
	}
	if err := npy.WriteFile(filepath.Join(out, "orders.npy"), orders, mc.Flow.NB, D); err != nil {
		return fail(cmd, "%v", err)
	}
	if err := safetensors.WriteFile(filepath.Join(out, "step_f64.safetensors"), ts, nil); err != nil {
		return fail(cmd, "%v", err)
	}
	fmt.Fprintf(c.App.Writer, "dev-logprob: %d examples (L %d, D %d) of %s written to %s\n", n, L, D, c.String("data"), out)
	return nil
}

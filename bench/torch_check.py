"""torch_check.py: check mlcu's model against its PyTorch twin (bench/torch_model.py).

    python bench/torch_check.py --model MODEL_DIR --ref REF_DIR [--tol64 1e-9] [--tol32 1e-4]

MODEL_DIR is a checkpoint written by `mlcu train`; REF_DIR holds what
`mlcu dev-logprob --model MODEL_DIR --data DATA --out REF_DIR` wrote for the same model:
the inputs (x.npy, theta.npy), the flow's orderings (orders.npy), mlcu's log-probabilities
and, from one training-mode pass in float64, the gradients, the updated running
statistics and the parameters after one Adam step (step_f64.safetensors).

In float64 PyTorch this script computes the same quantities and prints, for each, the
largest relative difference |torch - mlcu| / max(|mlcu|, 1) (log-probabilities) or
|torch - mlcu| / max|mlcu| per tensor (gradients, statistics, parameters):

  eval f64   log p, evaluation mode (running statistics), mlcu in float64
  eval f32   the same against mlcu's float32 model (what `mlcu sample` runs)
  train f64  log p, training mode (batch statistics)
  grad f64   d(mean NLL)/d(parameter), every tensor
  bn stats   running mean and variance after the training-mode pass
  adam step  parameters after one Adam step (clip 5, lr 1e-3)

Exit status 1 when a float64 difference exceeds --tol64 or the float32 one --tol32.
bench/torch_check.sh (make torch-check) builds everything this needs.
"""

import argparse
import os
import sys
import warnings

import numpy as np

# The check runs on the CPU in float64; hiding the GPUs keeps torch from probing a driver.
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
warnings.filterwarnings("ignore", message="CUDA initialization")
import torch  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_model as tm  # noqa: E402


def rel(a, b):
    """max |a - b| / max(|b|, 1), elementwise (log-probabilities)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))


def rel_tensor(a, b, floor=0.0):
    """max |a - b| / max(max |b|, floor) over one tensor (0 when both are zero)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        if a.size != b.size:
            raise ValueError(f"rel_tensor: shapes {a.shape} and {b.shape} differ in size")
        b = b.reshape(a.shape)  # weight norm's g: mlcu (OC), PyTorch (OC, 1, 1)
    scale = max(np.max(np.abs(b)), floor)
    d = np.max(np.abs(a - b))
    return float(d / scale) if scale > 0 else float(d)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="mlcu checkpoint directory")
    ap.add_argument("--ref", required=True, help="directory written by mlcu dev-logprob")
    ap.add_argument("--tol64", type=float, default=1e-9, help="bound on float64 differences")
    ap.add_argument("--tol32", type=float, default=1e-4, help="bound on the float32 log-p difference")
    ap.add_argument("--lr", type=float, default=1e-3, help="learning rate of the Adam step (as given to dev-logprob)")
    ap.add_argument("--clip", type=float, default=5.0, help="gradient-norm clip of the Adam step")
    args = ap.parse_args()
    torch.manual_seed(0)

    ref = args.ref
    x = torch.from_numpy(np.load(os.path.join(ref, "x.npy")))
    theta = torch.from_numpy(np.load(os.path.join(ref, "theta.npy")))
    step = load_file(os.path.join(ref, "step_f64.safetensors"))
    model = tm.load_mlcu(args.model, os.path.join(ref, "orders.npy"), dtype=torch.float64)
    cfg = model.config
    nparams = sum(p.numel() for p in model.parameters())
    print(f"model {args.model}: preset {cfg.get('preset', '?')}, {nparams} parameters; "
          f"{x.shape[0]} examples, L {x.shape[1]}, D {theta.shape[1]}; torch {torch.__version__}")

    rows, failed = [], False

    def report(name, value, tol):
        nonlocal failed
        ok = value <= tol
        failed |= not ok
        rows.append((name, value, tol, ok))

    # Evaluation mode.
    model.eval()
    with torch.no_grad():
        lp_eval = tm.log_prob(model, theta, x).numpy()
    report("eval f64  log p", rel(lp_eval, np.load(os.path.join(ref, "logp_eval_f64.npy"))), args.tol64)
    report("eval f32  log p", rel(lp_eval, np.load(os.path.join(ref, "logp_eval_f32.npy"))), args.tol32)

    # Training mode: one step, as train.Train does it.
    opt = tm.make_optimizer(model, lr=args.lr)
    model.train()
    opt.zero_grad()
    lp_train = tm.log_prob(model, theta, x)
    loss = -lp_train.mean()
    loss.backward()
    report("train f64 log p", rel(lp_train.detach().numpy(), np.load(os.path.join(ref, "logp_train_f64.npy"))), args.tol64)
    params = dict(model.named_parameters())
    # A tensor whose gradient is below 1e-6 of the largest is compared against that floor:
    # weight norm's v of a one-input 1×1 convolution (g·v/|v| = ±g) has a gradient that is
    # zero but for rounding, in both codes.
    gmax = max(float(np.max(np.abs(step["grad." + n]))) for n in params)
    gdiff = {n: rel_tensor(p.grad.numpy(), step["grad." + n], 1e-6 * gmax) for n, p in params.items()}
    worst = max(gdiff, key=gdiff.get)
    report(f"grad f64  (max over tensors: {worst})", gdiff[worst], args.tol64)
    bufs = {n: b for n, b in model.named_buffers() if "running_" in n}
    if bufs:  # weight norm has no running statistics
        report("bn stats  (max over tensors)", max(rel_tensor(b.numpy(), step[n]) for n, b in bufs.items()), args.tol64)
    tm.clip_grad_norm(model.parameters(), args.clip)
    opt.step()
    report("adam step (max over tensors)",
           max(rel_tensor(p.detach().numpy(), step["adam." + n]) for n, p in params.items()), args.tol64)

    for name, value, tol, ok in rows:
        print(f"  {name:30s} max rel diff {value:.3e}   (tol {tol:.0e}) {'ok' if ok else 'FAIL'}")
    print(f"mlcu vs PyTorch float64: max relative difference "
          f"{max(v for n, v, _, _ in rows if 'f32' not in n):.3e}; float32 mlcu: {rows[1][1]:.3e}")
    print("torch-check:", "FAIL" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

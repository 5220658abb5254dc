"""torch_train_bench.py: training throughput of mlcu's model written in PyTorch.

    python bench/torch_train_bench.py [--preset paper|small] [--batch B] [--steps K]
                                      [--warmup W] [--device cuda|cpu] [--tf32] [--compile]

Times K training steps (forward + backward + gradient-norm clip at 5 + Adam, as
train.Train) of bench/torch_model.py's twin of --preset, after W warm-up steps, on
random inputs already on the device (x ~ N(0, 0.1) of the network input's shape, theta ~
N(0, 1) standardised): the model alone, no data loading, as `mlcu bench samples` times
mlcu's steps. Prints '<number> examples/s' and the setup (device, dtype, torch version).

Default batch: 512 for paper (the reference system's), 32 for small. Default device: cuda
when available, else cpu. float32 throughout; by default TF32 is off for matrix products
and convolutions (cuDNN turns it on for convolutions by default), so that PyTorch does the
same float32 arithmetic as mlcu; --tf32 allows it. --compile wraps the model in
torch.compile (the first steps then include compilation: raise --warmup).
"""

import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_model as tm  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="paper", choices=sorted(tm.PRESETS))
    ap.add_argument("--batch", type=int, default=0, help="batch size (default 512 paper, 32 small)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--device", default="", help="cuda or cpu (default: cuda if available)")
    ap.add_argument("--tf32", action="store_true", help="allow TF32 in matrix products and convolutions")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--norm", default="", choices=["", "batch", "weight"],
                    help="the featurizer's normalisation (default: the preset's, batch)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    batch = args.batch or (512 if args.preset == "paper" else 32)
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cudnn.benchmark = True
    torch.manual_seed(args.seed)

    cfg = tm.PRESETS[args.preset]
    if args.norm:
        cfg = {**cfg, "featurizer": {**cfg["featurizer"], "norm": args.norm}}
    model = tm.Model(cfg).to(device)
    nparams = sum(p.numel() for p in model.parameters())
    opt = tm.make_optimizer(model, lr=1e-3)
    fwd = torch.compile(model) if args.compile else model
    L, D = cfg["featurizer"]["length"], cfg["flow"]["dim"]
    g = torch.Generator(device=device).manual_seed(args.seed)
    x = 0.1 * torch.randn(batch, 1, L, device=device, generator=g)
    theta = torch.randn(batch, D, device=device, generator=g)

    def step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = -fwd(x, theta).mean()
        loss.backward()
        tm.clip_grad_norm(model.parameters(), 5.0)
        opt.step()
        return loss

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(args.warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    sync()
    dt = time.perf_counter() - t0
    if not torch.isfinite(loss):
        print(f"torch_train_bench: non-finite loss {loss.item()}", file=sys.stderr)
        return 1
    name = torch.cuda.get_device_name() if device.startswith("cuda") else f"cpu ({torch.get_num_threads()} threads)"
    print(f"{args.steps * batch / dt:.4g} examples/s")
    norm = cfg["featurizer"].get("norm", "batch")
    print(f"preset {args.preset} ({norm} norm), batch {batch}, {nparams} parameters, {args.steps} steps in {dt:.3f} s "
          f"({1e3 * dt / args.steps:.2f} ms/step), device {name}, float32, tf32 {'on' if args.tf32 else 'off'}"
          f"{', compiled' if args.compile else ''}, torch {torch.__version__}, last loss {loss.item():.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

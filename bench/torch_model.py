"""torch_model.py: a PyTorch twin of mlcu's neural posterior estimator (package nn).

The same architecture, written with plain torch modules, so that

  * a model trained by mlcu loads here and gives the same log-probabilities
    (bench/torch_check.py, make torch-check), and
  * mlcu's training throughput can be compared with PyTorch's on the same GPU
    (bench/torch_train_bench.py).

The model (nn/model.go, nn/featurizer.go, nn/maf.go):

  x (B, 1, L)  -> residual blocks, each
                    out = relu(bn2(conv2(relu(bn1(conv1(x))))) + skip(x)),
                    skip = x, or bnproj(conv1x1(x)) when the channels change,
                  convolutions kernel K, stride 1, "same" zero padding, no bias;
                  a MaxPool1d(2) after every block i with (i+1) % pool_every == 0
                  (but the last block when no_final_pool);
                  block i has min(C0 * 2**(i // pool_every), Cmax) channels
               -> transpose to (B, T, C) -> GRU (batch_first, h0 = 0), last hidden
                  state of the top layer (B, H) -> Linear(H, context)
  context      -> masked autoregressive flow of NB MADE blocks (density direction
                  u = (x - mu) * exp(-alpha), alpha = 3 tanh(raw / 3)) on a base of
                  independent K-component Gaussian mixtures.

The state_dict keys are mlcu's tensor names ("featurizer.block0.conv1.weight",
"featurizer.gru.weight_ih_l0", "flow.block3.w0", "flow.base.means", ...), so an mlcu
checkpoint (model.safetensors) loads with load_state_dict; only the batch norms'
num_batches_tracked counters are PyTorch's own.

The flow blocks' orderings are not stored in a checkpoint: mlcu derives them from the
flow's order_seed with its own random generator. They are passed in explicitly
(`mlcu dev-logprob` writes them to orders.npy); a model built without them gets
arbitrary orderings, which is fine for timing but not for loading weights.

Dependencies: torch, numpy, safetensors (PyPI). No framework beyond torch.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F

# mlcu's constants (nn/batchnorm.go, nn/made.go, nn/preset.go).
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
LOG_SCALE_BOUND = 3.0
ORDER_SEED = 20240601

# The presets of event/preset.go, in config.json's layout.
PRESETS = {
    "paper": {
        "preset": "paper", "input_len": 7200, "bin": 1,
        "featurizer": {"length": 7200, "channels": 32, "max_channels": 256, "kernel": 3,
                       "blocks": 18, "pool_every": 2, "no_final_pool": True,
                       "gru_hidden": 256, "gru_layers": 2, "context": 256},
        "flow": {"dim": 7, "context": 256, "hidden": 256, "layers": 2, "blocks": 20,
                 "components": 8, "order_seed": ORDER_SEED},
    },
    "small": {
        "preset": "small", "input_len": 7200, "bin": 8,
        "featurizer": {"length": 900, "channels": 16, "max_channels": 64, "kernel": 3,
                       "blocks": 4, "pool_every": 1, "gru_hidden": 64, "gru_layers": 1,
                       "context": 64},
        "flow": {"dim": 7, "context": 64, "hidden": 64, "layers": 2, "blocks": 5,
                 "components": 8, "order_seed": ORDER_SEED},
    },
}


# ---- featurizer ----

def block_plan(fs):
    """Per residual block: (in_channels, out_channels, pool_after), as FeaturizerShape.Block."""
    plan, c_in = [], 1
    for i in range(fs["blocks"]):
        c = fs["channels"]
        for _ in range(i // fs["pool_every"]):
            if c >= fs["max_channels"]:
                break
            c *= 2
        c = min(c, fs["max_channels"])
        last = i == fs["blocks"] - 1 and fs.get("no_final_pool", False)
        plan.append((c_in, c, (i + 1) % fs["pool_every"] == 0 and not last))
        c_in = c
    return plan


def batch_norm(c):
    return tnn.BatchNorm1d(c, eps=BN_EPS, momentum=BN_MOMENTUM)


class ResBlock(tnn.Module):
    """ResBlockForward: relu(bn2(conv2(relu(bn1(conv1(x))))) + skip(x)). With norm "weight"
    (nn/weightnorm.go) each convolution is g·v/‖v‖ plus a bias, with no batch norm: the
    tensors convN.weight_v, convN.weight_g, convN.bias, as mlcu names them."""

    def __init__(self, c_in, c_out, k, norm="batch"):
        super().__init__()
        wn = norm == "weight"

        def conv(ci, co, kk, pad):
            c = tnn.Conv1d(ci, co, kk, padding=pad, bias=wn)
            if not wn:
                return c
            tnn.init.kaiming_normal_(c.weight, nonlinearity="relu")
            return tnn.utils.weight_norm(c, dim=0)

        def norm_layer(c):
            return tnn.Identity() if wn else batch_norm(c)

        self.conv1 = conv(c_in, c_out, k, k // 2)
        self.bn1 = norm_layer(c_out)
        self.conv2 = conv(c_out, c_out, k, k // 2)
        self.bn2 = norm_layer(c_out)
        self.has_proj = c_in != c_out
        if self.has_proj:
            self.proj = conv(c_in, c_out, 1, 0)
            self.bnproj = norm_layer(c_out)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        skip = self.bnproj(self.proj(x)) if self.has_proj else x
        return F.relu(h + skip)


class Featurizer(tnn.Module):
    """FeaturizerForward: x (B, 1, L) -> context (B, context)."""

    def __init__(self, fs):
        super().__init__()
        self.plan = block_plan(fs)
        for i, (c_in, c_out, _) in enumerate(self.plan):
            setattr(self, f"block{i}", ResBlock(c_in, c_out, fs["kernel"], fs.get("norm", "batch")))
        self.gru = tnn.GRU(self.plan[-1][1], fs["gru_hidden"], num_layers=fs["gru_layers"],
                           batch_first=True)
        self.out = tnn.Linear(fs["gru_hidden"], fs["context"])

    def forward(self, x):
        for i, (_, _, pool) in enumerate(self.plan):
            x = getattr(self, f"block{i}")(x)
            if pool:
                x = F.max_pool1d(x, 2)
        _, h = self.gru(x.transpose(1, 2))  # (B, C, T) -> (B, T, C); h (layers, B, H)
        return self.out(h[-1])


# ---- flow ----

class MADE(tnn.Module):
    """One flow block (nn/made.go): degrees, masks and the bounded affine transform.

    Input dimension i has degree in_deg[i] = (its position in `order`) + 1; hidden unit h
    has degree h * D // H (0 .. D-1, in contiguous groups); the masks are
      m0[h, j] = hid[h] >= in[j],  mh[h, g] = hid[h] >= hid[g],  mo[2i+s, h] = in[i] > hid[h].
    Outputs come in pairs: o[2i] = mu_i, o[2i+1] = raw log-scale of dimension i.
    """

    def __init__(self, d, c, h, layers, order):
        super().__init__()
        order = [int(v) for v in order]
        if sorted(order) != list(range(d)):
            raise ValueError(f"order {order} is not a permutation of 0..{d - 1}")
        in_deg = torch.zeros(d, dtype=torch.long)
        for k, i in enumerate(order):
            in_deg[i] = k + 1
        hid = torch.arange(h) * d // h
        self.order = order
        self.register_buffer("m0", (hid[:, None] >= in_deg[None, :]).float(), persistent=False)
        self.register_buffer("mh", (hid[:, None] >= hid[None, :]).float(), persistent=False)
        mo = (in_deg[:, None] > hid[None, :]).float()  # (D, H)
        self.register_buffer("mo", mo.repeat_interleave(2, dim=0), persistent=False)  # rows 2i, 2i+1
        self.layers = layers
        self.w0 = tnn.Parameter(torch.empty(h, d))
        self.wc = tnn.Parameter(torch.empty(h, c))
        self.b0 = tnn.Parameter(torch.zeros(h))
        for l in range(1, layers):
            setattr(self, f"wh{l}", tnn.Parameter(torch.empty(h, h)))
            setattr(self, f"bh{l}", tnn.Parameter(torch.zeros(h)))
        self.wo = tnn.Parameter(torch.empty(2 * d, h))
        self.bo = tnn.Parameter(torch.zeros(2 * d))
        self.reset_parameters()

    def reset_parameters(self):
        """MADEParams.Init's distributions (not its random stream)."""
        d, c, h = self.w0.shape[1], self.wc.shape[1], self.w0.shape[0]
        a0 = 1 / math.sqrt(d + c)
        with torch.no_grad():
            self.w0.uniform_(-a0, a0)
            self.wc.uniform_(-a0, a0)
            for l in range(1, self.layers):
                getattr(self, f"wh{l}").uniform_(-1 / math.sqrt(h), 1 / math.sqrt(h))
            self.wo.uniform_(-0.01 / math.sqrt(h), 0.01 / math.sqrt(h))

    def forward(self, x, ctx):
        """Density direction: returns y = (x - mu) exp(-alpha) and logdet = -sum alpha."""
        a = F.relu(F.linear(x, self.w0 * self.m0) + F.linear(ctx, self.wc) + self.b0)
        for l in range(1, self.layers):
            a = F.relu(F.linear(a, getattr(self, f"wh{l}") * self.mh, getattr(self, f"bh{l}")))
        o = F.linear(a, self.wo * self.mo, self.bo)
        mu, alpha = o[:, 0::2], LOG_SCALE_BOUND * torch.tanh(o[:, 1::2] / LOG_SCALE_BOUND)
        return (x - mu) * torch.exp(-alpha), -alpha.sum(dim=1)


class MixtureBase(tnn.Module):
    """nn/mixture.go: log p(u) = sum_i log sum_k softmax(logits_i)_k N(u_i; means_ik, exp(log_scales_ik))."""

    def __init__(self, d, k):
        super().__init__()
        self.logits = tnn.Parameter(torch.zeros(d, k))
        self.means = tnn.Parameter(torch.empty(d, k).uniform_(-2, 2))
        self.log_scales = tnn.Parameter(torch.zeros(d, k))

    def forward(self, u):
        z = (u[:, :, None] - self.means) * torch.exp(-self.log_scales)  # (B, D, K)
        a = (torch.log_softmax(self.logits, dim=1) - 0.5 * z * z - self.log_scales
             - 0.5 * math.log(2 * math.pi))
        return torch.logsumexp(a, dim=2).sum(dim=1)


class MAF(tnn.Module):
    """nn/maf.go: log p(theta | c) = log p_base(u) + sum of the blocks' logdets."""

    def __init__(self, flow, orders=None):
        super().__init__()
        d, nb = flow["dim"], flow["blocks"]
        if orders is None:  # arbitrary orderings (not mlcu's): for timing only
            g = np.random.default_rng(flow.get("order_seed", ORDER_SEED))
            orders = [g.permutation(d) for _ in range(nb)]
        if len(orders) != nb:
            raise ValueError(f"{len(orders)} orderings for {nb} flow blocks")
        self.nb = nb
        for b in range(nb):
            setattr(self, f"block{b}", MADE(d, flow["context"], flow["hidden"], flow["layers"], orders[b]))
        self.base = MixtureBase(d, flow["components"])

    def forward(self, theta, ctx):
        x, logdet = theta, 0
        for b in range(self.nb):
            x, ld = getattr(self, f"block{b}")(x, ctx)
            logdet = logdet + ld
        return self.base(x) + logdet


# ---- the model ----

class Model(tnn.Module):
    """nn.Model: featurizer + MAF. forward(x, theta) returns log p(theta | x) (B)."""

    def __init__(self, config, orders=None):
        super().__init__()
        self.config = config
        self.featurizer = Featurizer(config["featurizer"])
        self.flow = MAF(config["flow"], orders)
        self.kaiming_convs()

    def kaiming_convs(self):
        """He-normal convolution weights, as ResBlockParams.Init."""
        for m in self.modules():
            if isinstance(m, tnn.Conv1d) and not hasattr(m, "weight_v"):  # weight norm: set at construction
                tnn.init.kaiming_normal_(m.weight, nonlinearity="relu")

    def forward(self, x, theta):
        return self.flow(theta, self.featurizer(x))


def log_prob(model, theta, x):
    """log p(theta | x) (B) for standardised theta (B, D) and network input x (B, 1, L) or
    (B, L) (NetworkInput: binned, then ln). Uses the model's current mode (train/eval)."""
    if x.dim() == 2:
        x = x[:, None, :]
    return model(x, theta)


def network_input(flux, bin_factor, floor=1e-3):
    """train.NetworkInput: mean-bin the normalised flux window by bin_factor, then ln
    (values below floor clamped). flux (B, input_len) -> (B, 1, input_len // bin_factor)."""
    b, n = flux.shape
    x = flux.reshape(b, n // bin_factor, bin_factor).mean(dim=2)
    return torch.log(torch.clamp(x, min=floor))[:, None, :]


def make_optimizer(model, lr=1e-3):
    """Adam as nn.NewAdam: beta1 0.9, beta2 0.999, eps 1e-8, no weight decay."""
    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0)


def clip_grad_norm(params, max_norm):
    """nn.ClipGradNorm: scale the gradients by max_norm / norm when their global norm
    exceeds max_norm (torch.nn.utils.clip_grad_norm_ divides by norm + 1e-6 instead).
    Stays on the device (no host sync). Returns the norm before clipping."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    scale = torch.clamp(max_norm / norm, max=1.0)
    torch._foreach_mul_(grads, scale)
    return norm


def train_step(model, opt, x, theta, clip=5.0, lr=None):
    """One training step as train.Train: mean NLL in training mode, backward, gradient-norm
    clip at `clip` (5, mlcu's default), Adam update (at rate lr when given; mlcu follows
    nn.CosineLR). Returns the loss as a tensor (no host sync)."""
    model.train()
    opt.zero_grad(set_to_none=True)
    loss = -log_prob(model, theta, x).mean()
    loss.backward()
    if clip > 0:
        clip_grad_norm(model.parameters(), clip)
    if lr is not None:
        for g in opt.param_groups:
            g["lr"] = lr
    opt.step()
    return loss


def load_mlcu(path, orders, dtype=torch.float64, device="cpu"):
    """Loads an mlcu checkpoint directory (config.json + model.safetensors; a model
    directory holding best/ or last/ is accepted too) into a Model of `dtype`.

    orders: the flow blocks' orderings, (NB, D) (array or path to orders.npy written by
    `mlcu dev-logprob`). Every tensor of the checkpoint must match a parameter or buffer
    of the same name and shape, and vice versa (batch norms' num_batches_tracked aside).
    """
    from safetensors.numpy import load_file

    for sub in ("best", "last"):
        if os.path.exists(os.path.join(path, sub, "model.safetensors")):
            path = os.path.join(path, sub)
            break
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    if isinstance(orders, (str, os.PathLike)):
        orders = np.load(orders)
    model = Model(config, [list(o) for o in np.asarray(orders)])
    tensors = load_file(os.path.join(path, "model.safetensors"))
    state = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in tensors.items()}
    own = model.state_dict()
    extra = sorted(set(state) - set(own))
    missing = sorted(k for k in set(own) - set(state) if not k.endswith("num_batches_tracked"))
    if extra or missing:
        raise ValueError(f"{path}: checkpoint and model differ: extra {extra[:5]}, missing {missing[:5]}")
    for k, v in state.items():
        if k.endswith(".weight_g") and v.dim() == 1 and own[k].dim() == 3 and v.numel() == own[k].numel():
            state[k] = v = v.reshape(own[k].shape)  # weight norm's g: mlcu (OC), PyTorch (OC, 1, 1)
        if tuple(v.shape) != tuple(own[k].shape):
            raise ValueError(f"{path}: tensor {k} has shape {tuple(v.shape)}, model expects {tuple(own[k].shape)}")
    model.load_state_dict(state, strict=False)
    return model.to(device=device, dtype=dtype)

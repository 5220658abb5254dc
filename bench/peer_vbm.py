#!/usr/bin/env python3
"""Time VBMicrolensing on the events of `mlcu bench lens` and compare magnifications.

Run by bench/peer.sh, which installs VBMicrolensing in a temporary venv, writes the events
with `mlcu bench lens --save-events` and mlcu's magnifications with `--dump`.

Conventions. mlcu's frame and trajectory are those of VBBinaryLensing/VBMicrolensing
(see the README): origin at the centre of mass, heavier lens (q <= 1) at y1 = -s q/(1+q),
    tau = (t - t0)/tE,  y1 = u0 sin(alpha) - tau cos(alpha),  y2 = -u0 cos(alpha) - tau sin(alpha).
VBMicrolensing.BinaryLightCurve takes [ln s, ln q, u0, alpha, ln rho, ln tE, t0] (natural
logarithms) and returns [A, y1, y2]; this script checks that the y1, y2 it returns match
the formulas above before timing, and stops if they do not.

Accuracy. --tol is the relative accuracy goal: VBMicrolensing's RelTol = tol. Its absolute
goal Tol is set to --abs-tol (default: tol too). BinaryMag2 stops when the error estimate is
below max(Tol, RelTol*A); since A >= 1 this is the relative goal tol. Tol = 0 would also
switch off BinaryMag2's point-source/quadrupole shortcut (it tests its quadrupole estimate
against Tol) and make VBMicrolensing integrate every point's contour, which is not how it
is used; Tol = tol keeps the shortcut at the same accuracy goal.

Timing is wall-clock time around BinaryLightCurve (C++, single-threaded), one event after
another; the pybind11 conversion of the 7,200-point result lists is included.
"""

import argparse
import csv
import math
import sys
import time
from importlib.metadata import version


def read_events(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")]
    head = rows[0]
    if head != ["s", "q", "alpha", "u0", "t0", "tE", "rho"]:
        sys.exit(f"{path}: line 1: unexpected header {head}")
    return [dict(zip(head, map(float, r))) for r in rows[1:]]


def read_dump(path, n_events, n_times):
    mags = [[math.nan] * n_times for _ in range(n_events)]
    times = [math.nan] * n_times
    with open(path, newline="") as f:
        r = csv.reader(f)
        if next(r) != ["id", "t", "A"]:
            sys.exit(f"{path}: line 1: expected header id,t,A")
        k = 0
        for row in r:
            i, t, a = int(row[0]), float(row[1]), float(row[2])
            j = k % n_times
            mags[i][j] = a
            times[j] = t
            k += 1
    if k != n_events * n_times:
        sys.exit(f"{path}: {k} magnifications, expected {n_events}x{n_times}")
    return times, mags


def source_pos(ev, t):
    tau = (t - ev["t0"]) / ev["tE"]
    sa, ca = math.sin(ev["alpha"]), math.cos(ev["alpha"])
    return ev["u0"] * sa - tau * ca, -ev["u0"] * ca - tau * sa


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", required=True, help="events CSV from mlcu bench lens --save-events")
    ap.add_argument("--mlcu-dump", help="magnifications CSV from mlcu bench lens --dump")
    ap.add_argument("--mlcu-rate", type=float, help="mlcu's light curves/s/core, for the ratio")
    ap.add_argument("--tol", type=float, default=1e-4, help="relative accuracy goal (RelTol)")
    ap.add_argument("--abs-tol", type=float, help="VBMicrolensing Tol (default: --tol)")
    ap.add_argument("--ref-tol", type=float, default=1e-7,
                    help="VBMicrolensing Tol = RelTol of the untimed accuracy reference (0: none)")
    args = ap.parse_args()

    import VBMicrolensing

    evs = read_events(args.events)
    n_times = 7200
    times = [i * 0.01 for i in range(n_times)]  # bit-identical to mlcu's tmin + i*dt
    mlcu = None
    if args.mlcu_dump:
        dump_times, mlcu = read_dump(args.mlcu_dump, len(evs), n_times)
        if dump_times != times:
            sys.exit("mlcu's dump uses other times than t = i*0.01")

    vbm = VBMicrolensing.VBMicrolensing()
    vbm.RelTol = args.tol
    vbm.Tol = args.tol if args.abs_tol is None else args.abs_tol

    params = [
        [math.log(e["s"]), math.log(e["q"]), e["u0"], e["alpha"], math.log(e["rho"]),
         math.log(e["tE"]), e["t0"]]
        for e in evs
    ]

    # Convention check: VBMicrolensing's source positions against ours.
    dpos = 0.0
    for ev, p in zip(evs, params):
        _, y1s, y2s = vbm.BinaryLightCurve(p, times[::360])
        for t, y1, y2 in zip(times[::360], y1s, y2s):
            r1, r2 = source_pos(ev, t)
            dpos = max(dpos, abs(y1 - r1), abs(y2 - r2))
    if dpos > 1e-9:
        sys.exit(f"VBMicrolensing's trajectory differs from mlcu's by {dpos:.3g}: convention changed?")

    vbm_mags = []
    elapsed = 0.0
    for p in params:
        t_start = time.perf_counter()
        a, _, _ = vbm.BinaryLightCurve(p, times)
        elapsed += time.perf_counter() - t_start
        vbm_mags.append(a)

    rate = len(evs) / elapsed
    print(f"VBMicrolensing {version('VBMicrolensing')}: {len(evs)} events x {n_times} points, "
          f"Tol={vbm.Tol:g}, RelTol={vbm.RelTol:g}, one thread: {elapsed:.3f} s "
          f"(trajectory matches mlcu's to {dpos:.1e})")
    print(f"{rate:.4g} lightcurves/s/core")
    print(f"{elapsed / (len(evs) * n_times) * 1e6:.4g} µs/point")
    if args.mlcu_rate:
        print(f"mlcu / VBMicrolensing speed ratio: {args.mlcu_rate / rate:.3g}")

    if args.ref_tol > 0:
        # Accuracy of both codes against VBMicrolensing at a much tighter tolerance, so that
        # the speed ratio is read at a known accuracy of each.
        ref = VBMicrolensing.VBMicrolensing()
        ref.RelTol = ref.Tol = args.ref_tol
        ref_mags = [ref.BinaryLightCurve(p, times)[0] for p in params]

        def max_err(mags):
            errs = sorted(abs(a - r) / r for am, rm in zip(mags, ref_mags) for a, r in zip(am, rm))
            return errs[len(errs) // 2], errs[int(0.999 * (len(errs) - 1))], errs[-1]

        for name, mags in (("VBMicrolensing", vbm_mags), ("mlcu", mlcu)):
            if mags is None:
                continue
            med, p999, mx = max_err(mags)
            print(f"{name} relative error against VBMicrolensing at Tol=RelTol={args.ref_tol:g}: "
                  f"median {med:.2g}, 99.9th percentile {p999:.2g}, max {mx:.2g}")

    if mlcu is not None:
        rel = []
        worst = (0.0, 0, 0.0, 0.0, 0.0)
        for i, (am, av) in enumerate(zip(mlcu, vbm_mags)):
            for j, (x, y) in enumerate(zip(am, av)):
                d = abs(y - x) / abs(x) if x != 0 else math.inf
                rel.append(d)
                if not d <= worst[0]:
                    worst = (d, i, times[j], x, y)
        rel.sort()
        q = lambda f: rel[min(len(rel) - 1, int(f * (len(rel) - 1)))]
        print(f"relative difference |A_vbm - A_mlcu|/A_mlcu over {len(rel)} points: "
              f"median {q(0.5):.2g}, 99th percentile {q(0.99):.2g}, max {worst[0]:.2g} "
              f"(event {worst[1]}, t = {worst[2]:.2f}: mlcu {worst[3]:.17g}, VBMicrolensing {worst[4]:.17g})")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check the mlcu <-> MulensModel (v3) parameter mapping on one light curve.

    python3 -m venv /tmp/mm && /tmp/mm/bin/pip install MulensModel
    go build -o bin/mlcu ./cmd/mlcu
    /tmp/mm/bin/python bench/check_mulensmodel.py [--mlcu bin/mlcu]

Computes the point-source light curve of mlcu's demo event (s=1.1, q=0.1, alpha=2.7 rad,
u0=0.1, t0=36, tE=20) at t = 0, 0.01, ..., 71.99 with `mlcu lightcurve --rho 0` and with
MulensModel using the mapping of the README:

    s, q, t_0, u_0, t_E, rho unchanged;  alpha_MM = degrees(alpha)

and prints the largest relative difference; also for three wrong mappings (alpha + 180 deg,
-u0, -alpha), which must differ grossly. Exits non-zero if the mapping does not hold to 1e-9.
"""

import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import MulensModel as mm

EVENT = dict(s=1.1, q=0.1, alpha=2.7, u0=0.1, t0=36.0, tE=20.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlcu", default="bin/mlcu", help="path of the mlcu binary")
    args = ap.parse_args()
    e = EVENT
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "lc.csv")
        subprocess.run([args.mlcu, "lightcurve", "--s", str(e["s"]), "--q", str(e["q"]),
                        "--alpha", str(e["alpha"]), "--u0", str(e["u0"]), "--t0", str(e["t0"]),
                        "--tE", str(e["tE"]), "--rho", "0", "--out", out], check=True)
        with open(out, newline="") as f:
            rows = list(csv.reader(f))[1:]
    t = np.array([float(r[0]) for r in rows])
    a = np.array([float(r[1]) for r in rows])

    def mm_mag(alpha_deg, u0):
        m = mm.Model({"t_0": e["t0"], "u_0": u0, "t_E": e["tE"], "s": e["s"], "q": e["q"],
                      "alpha": alpha_deg})
        return m.get_magnification(t)

    alpha_deg = math.degrees(e["alpha"])
    rel = np.abs(mm_mag(alpha_deg, e["u0"]) - a) / a
    print(f"MulensModel {mm.__version__}: alpha_MM = degrees(alpha), u_0 = u0: "
          f"max rel diff {rel.max():.2g}, median {np.median(rel):.2g} over {len(t)} points")
    for label, al, u in [("alpha_MM = degrees(alpha) + 180", alpha_deg + 180, e["u0"]),
                         ("u_0 = -u0", alpha_deg, -e["u0"]),
                         ("alpha_MM = -degrees(alpha)", -alpha_deg, e["u0"])]:
        r = np.abs(mm_mag(al, u) - a) / a
        print(f"  wrong mapping {label}: max rel diff {r.max():.2g}")
    if not rel.max() < 1e-9:
        sys.exit("mapping does NOT hold")


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# peer.sh: time VBMicrolensing (from PyPI) against mlcu on the same benchmark events.
#
#   bench/peer.sh [--events N] [--tol T] [--mlcu-tol T2]
#
# Creates a temporary Python venv, installs VBMicrolensing (version $VBM_VERSION, default
# below), runs `mlcu bench lens --save-events --dump` (binary $MLCU, default bin/mlcu, built
# if missing) on one core (GOMAXPROCS=1), then bench/peer_vbm.py times VBMicrolensing's
# BinaryLightCurve on the same events and times with RelTol = Tol = T, and prints both
# throughputs, their ratio, the accuracy of both against VBMicrolensing at Tol = RelTol =
# 1e-7, and the largest relative difference between the magnifications. --mlcu-tol runs
# mlcu at another tolerance (default T), to compare the two at equal measured accuracy.
# Everything temporary is removed on exit.
set -euo pipefail

events=20
tol=1e-4
mlcu_tol=
while [ $# -gt 0 ]; do
	case "$1" in
	--events) events="$2"; shift 2 ;;
	--tol) tol="$2"; shift 2 ;;
	--mlcu-tol) mlcu_tol="$2"; shift 2 ;;
	-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "peer.sh: unknown argument $1 (use --events N, --tol T, --mlcu-tol T2)" >&2; exit 2 ;;
	esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
vbm_version="${VBM_VERSION:-5.6.1}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mlcu-peer.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

mlcu="${MLCU:-$root/bin/mlcu}"
if [ ! -x "$mlcu" ]; then
	echo "peer.sh: building mlcu" >&2
	(cd "$root" && go build -o "$tmp/mlcu" ./cmd/mlcu)
	mlcu="$tmp/mlcu"
fi

echo "peer.sh: installing VBMicrolensing==$vbm_version into a temporary venv" >&2
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check "VBMicrolensing==$vbm_version" >&2

echo "== mlcu ($("$mlcu" version))"
GOMAXPROCS=1 "$mlcu" bench lens --events "$events" --tol "${mlcu_tol:-$tol}" \
	--save-events "$tmp/events.csv" --dump "$tmp/mlcu.csv" | tee "$tmp/mlcu.txt"
rate="$(sed -n 's|^\([0-9.eE+-]*\) lightcurves/s/core$|\1|p' "$tmp/mlcu.txt")"

echo "== VBMicrolensing"
OMP_NUM_THREADS=1 "$tmp/venv/bin/python" "$here/peer_vbm.py" --events "$tmp/events.csv" \
	--mlcu-dump "$tmp/mlcu.csv" --mlcu-rate "$rate" --tol "$tol"

#!/usr/bin/env bash
# torch_check.sh: check mlcu's model against its PyTorch twin (bench/torch_model.py).
#
#   bench/torch_check.sh [--preset small|paper] [--n N]
#
# Simulates a tiny dataset (48 training + 16 validation events), trains --preset on it for
# one or two epochs at batch 8 with `mlcu train` (binary $MLCU, default bin/mlcu, built if
# missing), writes the inputs, orderings, log-probabilities, gradients and one Adam step of
# N examples with the hidden developer command `mlcu dev-logprob`, and runs
# bench/torch_check.py, which recomputes them in float64 PyTorch and prints the largest
# relative differences (exit status 1 beyond its tolerances).
#
# PyTorch: $TORCH_VENV, a venv that already has torch, numpy and safetensors, is used as it
# is; otherwise a temporary venv gets "$TORCH_SPEC" (default: torch) numpy safetensors from
# PyPI: PyPI's Linux torch wheel pulls in the CUDA libraries, several GB, so keep a venv
# with TORCH_VENV=/path to run this more than once. Everything temporary is removed on exit.
set -euo pipefail

preset=small
n=8
while [ $# -gt 0 ]; do
	case "$1" in
	--preset) preset="$2"; shift 2 ;;
	--n) n="$2"; shift 2 ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "torch_check.sh: unknown argument $1 (use --preset P, --n N)" >&2; exit 2 ;;
	esac
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mlcu-torch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

mlcu="${MLCU:-$root/bin/mlcu}"
if [ ! -x "$mlcu" ]; then
	echo "torch_check.sh: building mlcu" >&2
	(cd "$root" && go build -o "$tmp/mlcu" ./cmd/mlcu)
	mlcu="$tmp/mlcu"
fi

if [ -n "${TORCH_VENV:-}" ]; then
	py="$TORCH_VENV/bin/python"
else
	echo "torch_check.sh: installing ${TORCH_SPEC:-torch} numpy safetensors into a temporary venv (large)" >&2
	python3 -m venv "$tmp/venv"
	# shellcheck disable=SC2086 # TORCH_SPEC may hold several words (a version, an index)
	"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check ${TORCH_SPEC:-torch} numpy safetensors >&2
	py="$tmp/venv/bin/python"
fi

epochs=2
[ "$preset" = paper ] && epochs=1 # the paper preset costs ~60x more per example on the CPU
echo "torch_check.sh: simulating and training the $preset preset (batch 8, $epochs epoch(s))" >&2
"$mlcu" simulate -n 48 --seed 1 --out "$tmp/data/train" -q
"$mlcu" simulate -n 16 --seed 1 --split val --out "$tmp/data/val" -q
"$mlcu" train --data "$tmp/data/train" --val "$tmp/data/val" --preset "$preset" --out "$tmp/model" \
	--epochs "$epochs" --batch 8 -q
"$mlcu" dev-logprob --model "$tmp/model" --data "$tmp/data/val" --out "$tmp/ref" --n "$n"
"$py" "$here/torch_check.py" --model "$tmp/model" --ref "$tmp/ref"

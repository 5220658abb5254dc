#!/usr/bin/env bash
# run-gpu-check.sh OUTDIR: the whole GPU check of mlcu, run from a gpu-bundle folder (make
# gpu-bundle) on a machine with an NVIDIA GPU; needs no Go and no source tree. Writes into
# OUTDIR: devices.txt, one <package>.log per test binary (every CUDA parity test, verbose),
# <package>-bench.log (the Go benchmarks of that package), bench-*.txt (mlcu bench runs, and
# bench-torch-*.txt: the PyTorch twin's training throughput, torch/torch_train_bench.py, where
# python3 has torch) and summary.md (pass/fail per package and the benchmark lines). Exits
# non-zero when a test fails.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: run-gpu-check.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
mlcu="$here/bin/mlcu"
status=0
{
	echo "# mlcu GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo '```'
	nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv 2>&1 || true
	"$mlcu" version 2>&1
	"$mlcu" devices 2>&1
	echo '```'
} >"$out/devices.txt"
cat "$out/devices.txt" >"$out/summary.md"
echo >>"$out/summary.md"
echo "## Tests" >>"$out/summary.md"
while read -r pkg; do
	[ -n "$pkg" ] || continue
	name="$(basename "$pkg")"
	log="$out/$name.log"
	(cd "$here/$pkg" && timeout 900 "./$name.test" -test.v -test.count=1) >"$log" 2>&1
	rc=$?
	pass=$(grep -c -- '^--- PASS' "$log")
	fail=$(grep -c -- '^--- FAIL' "$log")
	echo "- $pkg: exit $rc, $pass passed, $fail failed" >>"$out/summary.md"
	grep -- '^--- FAIL' "$log" | sed 's/^/  /' >>"$out/summary.md"
	[ $rc -eq 0 ] || status=1
done <"$here/packages.txt"
echo >>"$out/summary.md"
echo "## Benchmarks" >>"$out/summary.md"
echo '```' >>"$out/summary.md"
while read -r pkg; do
	[ -n "$pkg" ] || continue
	name="$(basename "$pkg")"
	(cd "$here/$pkg" && timeout 600 "./$name.test" -test.run '^$' -test.bench . -test.benchtime 2s) >"$out/$name-bench.log" 2>&1
	grep -E '^Benchmark' "$out/$name-bench.log" >>"$out/summary.md"
done <"$here/packages.txt"
for dev in cuda cpu; do
	timeout 300 "$mlcu" bench --samples 100000 --device "$dev" >"$out/bench-samples-$dev.txt" 2>&1
	echo "mlcu bench --samples 100000 --device $dev:" >>"$out/summary.md"
	tail -n 5 "$out/bench-samples-$dev.txt" >>"$out/summary.md"
done
# The PyTorch twin of the model (bench/torch_model.py), training steps on the GPU: the figure
# mlcu's training throughput is compared with (paper preset, batch 512; small, batch 32).
if [ -f "$here/torch/torch_train_bench.py" ] && python3 -c 'import torch' 2>/dev/null; then
	for spec in "paper 512" "small 32"; do
		set -- $spec
		timeout 300 python3 "$here/torch/torch_train_bench.py" --preset "$1" --batch "$2" \
			>"$out/bench-torch-$1.txt" 2>&1
		echo "PyTorch twin, training, preset $1, batch $2:" >>"$out/summary.md"
		tail -n 2 "$out/bench-torch-$1.txt" >>"$out/summary.md"
	done
else
	echo "PyTorch twin: skipped (no torch in python3)" >>"$out/summary.md"
fi
timeout 300 "$mlcu" bench simulate --events 2048 --device cuda >"$out/bench-simulate-cuda.txt" 2>&1
echo "mlcu bench simulate --events 2048 --device cuda:" >>"$out/summary.md"
tail -n 4 "$out/bench-simulate-cuda.txt" >>"$out/summary.md"
timeout 300 "$mlcu" bench simulate --events 100 --device cpu >"$out/bench-simulate-cpu.txt" 2>&1
echo "mlcu bench simulate --events 100 --device cpu:" >>"$out/summary.md"
tail -n 3 "$out/bench-simulate-cpu.txt" >>"$out/summary.md"
# The device's dataset against the CPU's (the same forward model): differing bytes of the
# curves (float32) and of everything else, which must be none.
for dev in cpu cuda; do
	timeout 300 "$mlcu" simulate --n 64 --seed 1 --device "$dev" --quiet --out "$out/sim-$dev" >/dev/null 2>&1
done
curves="shard-00000-of-00001.curves.npy"
if [ ! -s "$out/sim-cuda/$curves" ] || [ ! -s "$out/sim-cpu/$curves" ]; then
	echo "simulate --n 64 --seed 1, cuda vs cpu: not compared (a run failed)" >>"$out/summary.md"
else echo "simulate --n 64 --seed 1, cuda vs cpu: $(cmp -l "$out/sim-cpu/$curves" "$out/sim-cuda/$curves" 2>&1 | wc -l) curve bytes differ;" \
	"params and manifest: $(cmp "$out/sim-cpu/shard-00000-of-00001.params.npy" "$out/sim-cuda/shard-00000-of-00001.params.npy" >/dev/null 2>&1 &&
		cmp "$out/sim-cpu/manifest.json" "$out/sim-cuda/manifest.json" >/dev/null 2>&1 && echo identical || echo DIFFER)" >>"$out/summary.md"
fi
rm -rf "$out/sim-cpu" "$out/sim-cuda"
echo '```' >>"$out/summary.md"
cat "$out/summary.md"
exit $status

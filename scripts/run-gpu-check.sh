#!/usr/bin/env bash
# run-gpu-check.sh OUTDIR: the whole GPU check of mlcu, run from a gpu-bundle folder (make
# gpu-bundle) on a machine with an NVIDIA GPU; needs no Go and no source tree. Writes into
# OUTDIR: devices.txt, one <package>.log per test binary (every CUDA parity test, verbose),
# <package>-bench.log (the Go benchmarks of that package), bench-*.txt (mlcu bench runs, and
# bench-torch-*.txt: the PyTorch twin's training throughput, torch/torch_train_bench.py, where
# python3 has torch), <package>-memcheck.log (the tests under compute-sanitizer's memcheck,
# where the machine has it) and summary.md (pass/fail per package and the benchmark lines). Exits
# non-zero when a test fails, when a test binary runs no test (it is run with
# MLCU_REQUIRE_GPU=1, so the cuda tests fail rather than pass with nothing to test when no
# device initialises), when the device's simulated dataset differs from the CPU's in its
# parameters or manifest (or could not be made), or when memcheck finds a memory error.
#
# The whole check keeps within MLCU_GPU_CHECK_SECONDS (default 540: a lent GPU machine gives
# one command 600 s): each step's timeout is cut to what is left, a step that would get less
# than 15 s is skipped and says so, and summary.md is written as the steps finish, so a run
# stopped from outside still leaves what it measured. The steps run most important first:
# parity tests, the headline benchmarks (sampling, simulation, training), then the rest.
#
# Sourced (scripts/test-run-gpu-check.sh does), it only defines its functions.
set -uo pipefail
# limit SECONDS prints the timeout a step may use: SECONDS or what is left of the budget,
# whichever is smaller; it fails when less than 15 s are left.
limit() {
	local left=$((budget - SECONDS))
	[ "$left" -ge 15 ] || return 1
	if [ "$1" -lt "$left" ]; then echo "$1"; else echo "$left"; fi
}
# step LIMIT LOG CMD...: runs CMD (in the current directory) with its output in LOG, for at
# most LIMIT seconds or what is left of the budget; returns CMD's status, or 124 on a
# timeout, or 125 (and says so in LOG and summary.md) when the budget is spent.
step() {
	local want="$1" log="$2" t
	shift 2
	if ! t="$(limit "$want")"; then
		echo "skipped: the check's time budget ($budget s) is spent" >"$log"
		echo "- skipped (time budget spent): $*" >>"$out/summary.md"
		return 125
	fi
	timeout "$t" "$@" >"$log" 2>&1
}
# bench LIMIT NAME LINES MLCU-ARGS...: step with mlcu MLCU-ARGS, its log OUTDIR/NAME; the
# command and the last LINES lines of its output go into summary.md.
bench() {
	local want="$1" name="$2" lines="$3"
	shift 3
	step "$want" "$out/$name" "$mlcu" "$@"
	echo "mlcu $*:" >>"$out/summary.md"
	tail -n "$lines" "$out/$name" >>"$out/summary.md"
}
# test_verdict LOG RC prints the tally of a test binary's verbose run (log LOG, exit status
# RC) and fails unless it passed: RC is 0, at least one test passed, and the binary did not
# say it had nothing to run (Go's "no tests to run"; the cuda tests' TestMain without a
# device, "nothing to test") — a run can exit 0 and have tested nothing.
test_verdict() {
	local log="$1" rc="$2" pass fail why=""
	pass=$(grep -c -- '^--- PASS' "$log")
	fail=$(grep -c -- '^--- FAIL' "$log")
	if [ "$rc" -ne 0 ]; then
		why="exit $rc"
	elif grep -qE 'no tests to run|nothing to test' "$log"; then
		why="no tests ran"
	elif [ "$pass" -eq 0 ]; then
		why="0 tests passed"
	fi
	echo "exit $rc, $pass passed, $fail failed${why:+ (FAILED: $why)}"
	[ -z "$why" ]
}
# compare_datasets CPU CUDA prints how the datasets in the folders CPU and CUDA (mlcu
# simulate, the same seed) differ: the bytes of the curves (float32; within tolerance they
# may differ) and whether the parameters and manifest are identical, which they must be. It
# fails when they DIFFER or when either dataset is missing.
compare_datasets() {
	local cpu="$1" gpu="$2" shard="shard-00000-of-00001" same=identical
	if [ ! -s "$gpu/$shard.curves.npy" ] || [ ! -s "$cpu/$shard.curves.npy" ]; then
		echo "not compared (a run failed: no dataset) FAILED"
		return 1
	fi
	if ! cmp -s "$cpu/$shard.params.npy" "$gpu/$shard.params.npy" || ! cmp -s "$cpu/manifest.json" "$gpu/manifest.json"; then
		same=DIFFER
	fi
	echo "$(cmp -l "$cpu/$shard.curves.npy" "$gpu/$shard.curves.npy" 2>&1 | wc -l) curve bytes differ; params and manifest: $same"
	[ "$same" = identical ]
}
# memcheck_verdict LOG RC prints the verdict of a test binary run under compute-sanitizer's
# memcheck (log LOG, exit status RC) and fails when it found a memory error (an invalid
# access, a leak or a malloc/free error) or a test failed. API errors do not count: a test
# provokes one on purpose (TestSelftestSharedMemoryOptIn's launch over the shared-memory
# limit). A run stopped by its time limit, before the summary, is "not finished" and does
# not fail.
memcheck_verdict() {
	local log="$1" rc="$2" bad
	bad=$(grep -cE '^========= (Invalid|Out-of-range|Malloc|Free|Leaked|Memory leak)|out of bounds' "$log")
	if grep -q -- '^--- FAIL' "$log"; then
		echo "a test FAILED under memcheck"
		return 1
	elif [ "$bad" -gt 0 ]; then
		echo "$bad memory error line(s) FAILED"
		return 1
	elif ! grep -q 'ERROR SUMMARY' "$log"; then
		echo "not finished (exit $rc)"
		return 0
	fi
	echo "no memory error ($(grep -c -- '^--- PASS' "$log") tests passed; $(grep -o 'ERROR SUMMARY: [0-9]* error' "$log" | tail -n 1 | grep -o '[0-9]*') API error(s) reported)"
}
# Sourced: the functions only.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	return 0
fi

budget="${MLCU_GPU_CHECK_SECONDS:-540}"
case "$budget" in
'' | *[!0-9]*)
	echo "run-gpu-check.sh: MLCU_GPU_CHECK_SECONDS=$budget: want a whole number of seconds" >&2
	exit 2
	;;
esac
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:?usage: run-gpu-check.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
mlcu="$here/bin/mlcu"
status=0
# The test binaries must find a device: without one the cuda tests' TestMain fails (instead of
# passing with nothing to test).
export MLCU_REQUIRE_GPU=1
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
	(cd "$here/$pkg" && step 300 "$log" "./$name.test" -test.v -test.count=1)
	rc=$?
	verdict="$(test_verdict "$log" "$rc")" || status=1
	echo "- $pkg: $verdict ($SECONDS s into the check)" >>"$out/summary.md"
	grep -- '^--- FAIL' "$log" | sed 's/^/  /' >>"$out/summary.md"
done <"$here/packages.txt"
echo >>"$out/summary.md"

echo "## Benchmarks" >>"$out/summary.md"
echo '```' >>"$out/summary.md"
# The headline figures first: posterior samples per second (and device training, with a
# per-operation profile of one step of each preset), finite-source light curves per second,
# on the device.
bench 150 bench-samples-cuda.txt 150 bench --samples 100000 --device cuda --profile
bench 120 bench-simulate-cuda.txt 4 bench simulate --events 2048 --device cuda
# The Go benchmarks of the kernels (SGEMM, conv, GRU, the sampler's tilings, lens).
while read -r pkg; do
	[ -n "$pkg" ] || continue
	name="$(basename "$pkg")"
	(cd "$here/$pkg" && step 200 "$out/$name-bench.log" "./$name.test" -test.run '^$' -test.bench . -test.benchtime 500ms)
	grep -E '^Benchmark' "$out/$name-bench.log" >>"$out/summary.md"
	echo "($pkg benchmarks done $SECONDS s into the check)" >>"$out/summary.md"
done <"$here/packages.txt"
# The PyTorch twin of the model (bench/torch_model.py), training steps on the GPU: the figure
# mlcu's training throughput is compared with (paper preset, batch 512; small, batch 32).
if [ -f "$here/torch/torch_train_bench.py" ] && python3 -c 'import torch' 2>/dev/null; then
	for spec in "paper 512" "small 32"; do
		set -- $spec
		step 120 "$out/bench-torch-$1.txt" python3 "$here/torch/torch_train_bench.py" --preset "$1" --batch "$2"
		echo "PyTorch twin, training, preset $1, batch $2:" >>"$out/summary.md"
		tail -n 2 "$out/bench-torch-$1.txt" >>"$out/summary.md"
	done
else
	echo "PyTorch twin: skipped (no torch in python3)" >>"$out/summary.md"
fi
# The same figures on this machine's CPU, for scale.
bench 90 bench-samples-cpu.txt 5 bench --samples 100000 --device cpu
bench 90 bench-simulate-cpu.txt 3 bench simulate --events 100 --device cpu
# The device's dataset against the CPU's (the same forward model): differing bytes of the
# curves (float32) and of everything else, which must be none. A difference, or a run that
# failed, fails the check; a run skipped because the time budget is spent does not.
skipped=0
for dev in cpu cuda; do
	step 60 "$out/simulate-$dev.log" "$mlcu" simulate --n 64 --seed 1 --device "$dev" --quiet --out "$out/sim-$dev"
	[ $? -ne 125 ] || skipped=1
done
if [ $skipped = 1 ]; then
	echo "simulate --n 64 --seed 1, cuda vs cpu: not compared (time budget spent)" >>"$out/summary.md"
else
	cmpline="$(compare_datasets "$out/sim-cpu" "$out/sim-cuda")" || status=1
	echo "simulate --n 64 --seed 1, cuda vs cpu: $cmpline" >>"$out/summary.md"
fi
rm -rf "$out/sim-cpu" "$out/sim-cuda"
# Last, where the machine has it: every CUDA test again under compute-sanitizer's memcheck
# (out-of-bounds and misaligned device, shared and local memory accesses; the tests' own leak check
# covers device memory that is not freed).
if command -v compute-sanitizer >/dev/null 2>&1; then
	while read -r pkg; do
		[ -n "$pkg" ] || continue
		name="$(basename "$pkg")"
		log="$out/$name-memcheck.log"
		(cd "$here/$pkg" && step 150 "$log" compute-sanitizer --tool memcheck "./$name.test" -test.v -test.count=1)
		rc=$?
		if [ $rc -eq 125 ]; then
			echo "memcheck $pkg: skipped (time budget spent)" >>"$out/summary.md"
			continue
		fi
		verdict="$(memcheck_verdict "$log" "$rc")" || status=1
		echo "memcheck $pkg: $verdict" >>"$out/summary.md"
	done <"$here/packages.txt"
else
	echo "memcheck: skipped (no compute-sanitizer on the PATH)" >>"$out/summary.md"
fi
echo "(check done in $SECONDS s)" >>"$out/summary.md"
echo '```' >>"$out/summary.md"
cat "$out/summary.md"
exit $status

#!/usr/bin/env bash
# test-run-gpu-check.sh: a dry check of run-gpu-check.sh's verdicts, without a GPU, Go or a
# bundle. It feeds the script's functions canned output (test_verdict on test logs,
# compare_datasets on dataset folders), then runs the whole script on a fake bundle whose
# mlcu and cuda.test are shell stubs, once per outcome, and checks the exit status: a check
# that tested nothing, or whose device dataset differs from the CPU's, must fail. Exits
# non-zero (and says which case) when a verdict is wrong. Run by `make test-gpu-check-script`
# and by package cuda's TestGPUCheckScript.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script="$here/run-gpu-check.sh"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
# expect NAME WANT GOT: WANT is "pass" (status 0) or "fail" (non-zero); GOT the status.
expect() {
	local name="$1" want="$2" got="$3"
	if { [ "$want" = pass ] && [ "$got" -ne 0 ]; } || { [ "$want" = fail ] && [ "$got" -eq 0 ]; }; then
		echo "FAIL: $name: want $want, exit status $got" >&2
		failures=$((failures + 1))
	else
		echo "ok: $name ($want)"
	fi
}

# ---- the functions, on canned output ----
(
	# shellcheck source=run-gpu-check.sh
	source "$script"
	log="$tmp/t.log"
	printf '=== RUN   TestA\n--- PASS: TestA (0.01s)\nPASS\n' >"$log"
	test_verdict "$log" 0 >/dev/null
	expect "test_verdict: a test passed" pass $?
	test_verdict "$log" 1 >/dev/null
	expect "test_verdict: exit 1" fail $?
	printf 'cuda tests: no device (cuda: device count: no CUDA-capable device is detected): nothing to test\n' >"$log"
	test_verdict "$log" 0 >/dev/null
	expect "test_verdict: nothing to test, exit 0" fail $?
	printf 'testing: warning: no tests to run\nPASS\n' >"$log"
	test_verdict "$log" 0 >/dev/null
	expect "test_verdict: no tests to run" fail $?
	printf 'PASS\n' >"$log"
	test_verdict "$log" 0 >/dev/null
	expect "test_verdict: 0 tests passed" fail $?
	printf -- '--- PASS: TestA (0.01s)\n--- FAIL: TestB (0.01s)\nFAIL\n' >"$log"
	line="$(test_verdict "$log" 1)"
	expect "test_verdict: a test failed" fail $?
	[ "$line" = "exit 1, 1 passed, 1 failed (FAILED: exit 1)" ] || {
		echo "FAIL: test_verdict's line: $line" >&2
		exit 1
	}

	printf -- '--- PASS: TestA (0.01s)\n========= Program hit cudaErrorInvalidValue (error 1)\n========= ERROR SUMMARY: 2 errors\n' >"$log"
	memcheck_verdict "$log" 3 >/dev/null
	expect "memcheck_verdict: API errors only" pass $?
	printf -- '--- PASS: TestA (0.01s)\n========= Invalid __global__ read of size 4 bytes\n========= ERROR SUMMARY: 1 error\n' >"$log"
	memcheck_verdict "$log" 3 >/dev/null
	expect "memcheck_verdict: an invalid read" fail $?
	printf -- '--- FAIL: TestA (0.01s)\n========= ERROR SUMMARY: 0 errors\n' >"$log"
	memcheck_verdict "$log" 1 >/dev/null
	expect "memcheck_verdict: a test failed" fail $?
	printf -- '=== RUN   TestA\n' >"$log"
	memcheck_verdict "$log" 124 >/dev/null
	expect "memcheck_verdict: stopped before the summary" pass $?

	shard=shard-00000-of-00001
	for d in cpu cuda; do
		mkdir -p "$tmp/$d"
		printf 'curves' >"$tmp/$d/$shard.curves.npy"
		printf 'params' >"$tmp/$d/$shard.params.npy"
		printf '{}' >"$tmp/$d/manifest.json"
	done
	printf 'curvez' >"$tmp/cuda/$shard.curves.npy"
	line="$(compare_datasets "$tmp/cpu" "$tmp/cuda")"
	expect "compare_datasets: curves differ within tolerance, params identical" pass $?
	[ "$line" = "1 curve bytes differ; params and manifest: identical" ] || {
		echo "FAIL: compare_datasets' line: $line" >&2
		exit 1
	}
	printf 'paramz' >"$tmp/cuda/$shard.params.npy"
	line="$(compare_datasets "$tmp/cpu" "$tmp/cuda")"
	expect "compare_datasets: params differ" fail $?
	case "$line" in *DIFFER) ;; *) echo "FAIL: compare_datasets' line: $line" >&2 && exit 1 ;; esac
	printf 'params' >"$tmp/cuda/$shard.params.npy"
	printf '{"x":1}' >"$tmp/cuda/manifest.json"
	compare_datasets "$tmp/cpu" "$tmp/cuda" >/dev/null
	expect "compare_datasets: manifest differs" fail $?
	rm "$tmp/cuda/$shard.curves.npy"
	compare_datasets "$tmp/cpu" "$tmp/cuda" >/dev/null
	expect "compare_datasets: no device dataset" fail $?
	exit "$failures"
)
failures=$((failures + $?))

# ---- the whole script on a fake bundle ----
# FAKE_TESTS: pass | fail | nodevice (what a cuda-tagged binary without a GPU printed before
# MLCU_REQUIRE_GPU) | notests; FAKE_SIM: same | differ | fail (the cuda simulate run).
bundle="$tmp/bundle"
mkdir -p "$bundle/bin" "$bundle/cuda"
cp "$script" "$bundle/run-gpu-check.sh"
echo cuda >"$bundle/packages.txt"
cat >"$bundle/cuda/cuda.test" <<'EOF'
#!/usr/bin/env bash
case "$*" in *-test.bench*) echo "BenchmarkX 1 1 ns/op"; exit 0 ;; esac
if [ "${MLCU_REQUIRE_GPU:-}" != 1 ]; then echo "MLCU_REQUIRE_GPU is not set"; exit 3; fi
case "$FAKE_TESTS" in
pass) printf -- '--- PASS: TestA (0.00s)\nPASS\n' ;;
fail) printf -- '--- PASS: TestA (0.00s)\n--- FAIL: TestB (0.00s)\nFAIL\n'; exit 1 ;;
nodevice) echo "cuda tests: no device (no CUDA-capable device is detected): nothing to test" ;;
notests) printf 'testing: warning: no tests to run\nPASS\n' ;;
esac
EOF
cat >"$bundle/bin/mlcu" <<'EOF'
#!/usr/bin/env bash
[ "$1" = simulate ] || { echo "mlcu $*"; exit 0; }
dev= outdir=
while [ $# -gt 0 ]; do
	case "$1" in --device) dev="$2"; shift ;; --out) outdir="$2"; shift ;; esac
	shift
done
[ "$dev" = cuda ] && [ "$FAKE_SIM" = fail ] && { echo "simulate failed"; exit 1; }
mkdir -p "$outdir"
p=params; [ "$dev" = cuda ] && [ "$FAKE_SIM" = differ ] && p=paramz
printf curves >"$outdir/shard-00000-of-00001.curves.npy"
printf '%s' "$p" >"$outdir/shard-00000-of-00001.params.npy"
printf '{}' >"$outdir/manifest.json"
EOF
chmod +x "$bundle/cuda/cuda.test" "$bundle/bin/mlcu"
for c in "pass same pass" "fail same fail" "nodevice same fail" "notests same fail" "pass differ fail" "pass fail fail"; do
	set -- $c
	FAKE_TESTS="$1" FAKE_SIM="$2" "$bundle/run-gpu-check.sh" "$tmp/out-$1-$2" >"$tmp/run.log" 2>&1
	rc=$?
	expect "run-gpu-check.sh: tests $1, cuda dataset $2" "$3" $rc
	if { [ "$3" = pass ] && [ $rc -ne 0 ]; } || { [ "$3" = fail ] && [ $rc -eq 0 ]; }; then
		sed 's/^/  | /' "$tmp/out-$1-$2/summary.md" >&2
	fi
done

if [ "$failures" -ne 0 ]; then
	echo "test-run-gpu-check.sh: $failures wrong verdict(s)" >&2
	exit 1
fi
echo "test-run-gpu-check.sh: every verdict right"

#!/usr/bin/env bash
# kernel-resources.sh [ARCH]: what ptxas gives each kernel of kernels/*.cu on one GPU
# architecture (default sm_90): registers per thread, stack frame, spill stores/loads and
# static shared memory, as a Markdown table on stdout. Registers bound occupancy (65,536 per
# SM: 255 at most per thread, 64 for a 1,024-thread block), and any spill is local-memory
# traffic in the inner loop. Needs nvcc (scripts/install-cuda-toolkit.sh) and c++filt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
arch="${1:-sm_90}"
echo "| file | kernel | registers | stack (B) | spill stores/loads (B) | static smem (B) |"
echo "|---|---|---|---|---|---|"
for f in kernels/*.cu; do
	nvcc -std=c++17 -O3 -arch="$arch" -Xptxas -v -Ikernels -c -o /dev/null "$f" 2>&1 |
		awk -v file="$(basename "$f")" '
			/Compiling entry function/ { fn = $0; sub(/.*function .?/, "", fn); sub(/.? for .*/, "", fn); next }
			/bytes stack frame/ { stack = $1; spill = $5 "/" $9; next }
			/Used [0-9]+ registers/ {
				regs = $0; sub(/.*Used /, "", regs); sub(/ registers.*/, "", regs)
				smem = 0
				if (match($0, /[0-9]+ bytes smem/)) { smem = substr($0, RSTART, RLENGTH); sub(/ .*/, "", smem) }
				if (fn != "") print file "\t" fn "\t" regs "\t" stack "\t" spill "\t" smem
				fn = ""
			}'
done | while IFS=$'\t' read -r file fn regs stack spill smem; do
	name="$(echo "$fn" | c++filt | sed -e 's/(anonymous namespace):://g' -e 's/_GLOBAL__N__[^:]*:://g' -e 's/(.*//')"
	echo "| $file | \`$name\` | $regs | $stack | $spill | $smem |"
done

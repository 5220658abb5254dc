#!/usr/bin/env bash
# check-unfused.sh: the kernels that promise the CPU's exact bits must contain no fused
# multiply-add in the code nvcc generates. nvcc contracts a·b + c into an FMA by default
# (--fmad=true), the CPU (Go on amd64, and nn.Adam everywhere) does not, so these kernels
# write their products and sums with the _rn intrinsics; this script compiles them to PTX for
# every architecture the library targets and fails if an fma instruction appears in them, or
# a mul without a rounding modifier (ptxas may still fuse such a mul with an add; mul.rn it
# never fuses), or if a kernel is not found. Needs nvcc (scripts/install-cuda-toolkit.sh).
# CI runs it. (Before the fix the Adam kernel had 15 fma.rn.f64 and 20 mul.f64.)
#
#   adam.cu adam_kernel   parameters and moments equal to nn.Adam's (cuda TestAdamParity)
#   lens.cu shoot_kernel  every ray in the CPU's pixel: equal counts (cuda TestRayShootMap)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for arch in sm_80 sm_90; do
	for pair in adam.cu:adam_kernel lens.cu:shoot_kernel; do
		file="${pair%%:*}" kernel="${pair##*:}"
		ptx="$tmp/${file%.cu}-$arch.ptx"
		[ -f "$ptx" ] || nvcc -std=c++17 -O3 -arch="$arch" -Ikernels -ptx -o "$ptx" "kernels/$file"
		body="$(awk -v k="$kernel" '$0 ~ "\\.entry .*" k {f = 1} f {print} f && /^}/ {exit}' "$ptx")"
		if [ -z "$body" ]; then
			echo "check-unfused: $arch: no entry $kernel in kernels/$file" >&2
			status=1
			continue
		fi
		n_fma="$(grep -cE '^\s*(fma\.|mul\.f(32|64))' <<<"$body" || true)"
		n_fp="$(grep -cE '^\s*(add|sub|mul|div|sqrt)\.rn\.f(32|64)' <<<"$body" || true)"
		if [ "$n_fma" -ne 0 ]; then
			echo "check-unfused: $arch: $kernel (kernels/$file) has $n_fma fma or unrounded mul instructions:" >&2
			grep -E '^\s*(fma\.|mul\.f(32|64))' <<<"$body" | head -5 >&2
			status=1
		else
			echo "check-unfused: $arch: $kernel: no fma, no unrounded mul ($n_fp rounded add/sub/mul/div/sqrt)"
		fi
	done
done
exit "$status"

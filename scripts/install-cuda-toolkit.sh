#!/usr/bin/env bash
# Installs nvcc (CUDA 11.8) from Debian bookworm's non-free component, for building mlcu's
# CUDA library (libmlcu_cuda.a). Emulation (libmlcu_cudaemu.a) needs only g++ and cmake, which
# this script also installs. Idempotent: does nothing when nvcc, g++ and cmake are present.
# Needs root (apt-get). No GPU is needed to build.
set -euo pipefail
need=()
command -v nvcc >/dev/null 2>&1 || need+=(nvidia-cuda-toolkit)
command -v g++ >/dev/null 2>&1 || need+=(g++)
command -v cmake >/dev/null 2>&1 || need+=(cmake)
if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
src=/etc/apt/sources.list.d/mlcu-nonfree.sources
if [[ " ${need[*]} " == *" nvidia-cuda-toolkit "* ]] && [ ! -e "$src" ]; then
	cat >"$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
echo "installing ${need[*]} with apt-get" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

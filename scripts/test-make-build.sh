#!/bin/bash
# Checks `make build`'s OpenBLAS fallback as on a fresh machine without OpenBLAS, without
# touching this machine's packages: a go wrapper for which package nn does not build with
# -tags openblas, and an apt-get that fails. make build must try to install
# libopenblas-dev (when root), say the fallback's cost once, and build the pure-Go binary.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
fake="$(mktemp -d)"
trap 'rm -rf "$fake"' EXIT
real_go="$(command -v go)"
cat >"$fake/go" <<EOS
#!/bin/bash
if [[ "\$*" == *"-tags openblas ./nn/"* ]]; then exit 1; fi
exec "$real_go" "\$@"
EOS
cat >"$fake/apt-get" <<'EOS'
#!/bin/bash
echo "apt-get (fake) $*" >&2
exit 1
EOS
chmod +x "$fake/go" "$fake/apt-get"
out="$(cd "$here" && PATH="$fake:$PATH" make --no-print-directory build GO="$fake/go" BIN="$fake/mlcu" 2>&1)"
echo "$out"
fail() { echo "test-make-build: $1" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
	grep -q "installing Debian's libopenblas-dev" <<<"$out" || fail "no attempt to install libopenblas-dev"
	grep -q "could not install libopenblas-dev" <<<"$out" || fail "the failed installation was not reported"
fi
[ "$(grep -c 'the pure-Go BLAS trains about' <<<"$out")" = 1 ] || fail "the fallback's cost was not said exactly once"
grep -q 'blas gonum' <<<"$out" || fail "the binary is not the pure-Go build"
echo "test-make-build: ok"

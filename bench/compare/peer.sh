#!/usr/bin/env bash
# Fetches and builds the benchmark's peer, Benthos 4.27.0 (MIT; the last release
# under github.com/benthosdev/benthos/v4), from the Go module proxy into a cache
# outside the repository, and prints the binary's path. Nothing of it is ever
# committed. A cached binary is reused (about 5 minutes of compiling on 2 cores
# and 4 GB of Go caches otherwise).
# Usage: bench/compare/peer.sh   Env: TCB_BENCH_CACHE (default ~/.cache/tcb-bench)
set -euo pipefail
CACHE=${TCB_BENCH_CACHE:-${HOME:-/root}/.cache/tcb-bench}
VERSION=4.27.0
M=github.com/benthosdev/benthos/v4
OUT=$CACHE/benthos-$VERSION/bin/benthos
if [ -x "$OUT" ] && "$OUT" --version 2>/dev/null | grep -q "$VERSION"; then
    echo "$OUT"
    exit 0
fi
command -v go >/dev/null || { echo "peer.sh: the Go toolchain is needed to build Benthos" >&2; exit 1; }
WORK=$CACHE/benthos-$VERSION
rm -rf "$WORK/src"
mkdir -p "$WORK/bin"
# `go install ...@v4.27.0` is refused (the proxy will not list versions, and the
# module's go.mod has replace lines), but the proxy serves the zip and every
# dependency: copy the module out of the module cache and build it in place.
DIR=$(go mod download -json "$M@v$VERSION" |
      python3 -c 'import json,sys;print(json.load(sys.stdin)["Dir"])')
cp -r "$DIR" "$WORK/src"
chmod -R u+w "$WORK/src"
# -checklinkname=0: a dependency (parquet-go) links to a Go runtime internal that
# current toolchains block by default.
(cd "$WORK/src" && GOFLAGS=-mod=mod nice -n 10 go build -trimpath \
    -ldflags "-s -w -checklinkname=0 -X $M/internal/cli.Version=$VERSION" \
    -o "$OUT" ./cmd/benthos) >&2
rm -rf "$WORK/src"
echo "$OUT"

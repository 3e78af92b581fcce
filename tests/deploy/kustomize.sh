#!/usr/bin/env bash
# Prints the path of a kustomize binary for the deploy checks, building it on
# first use from the Go module proxy (`go install`, an exact version: the
# proxy may refuse version listings) into a cache; never committed.
# Env: TCB_KUSTOMIZE_CACHE (default ~/.cache/tcb-kustomize). Needs Go >= 1.22.
set -euo pipefail
version=v5.5.0
cache=${TCB_KUSTOMIZE_CACHE:-${HOME:-/root}/.cache/tcb-kustomize}/$version
bin=$cache/kustomize
if [ ! -x "$bin" ]; then
  go=$(command -v go || true)
  [ -n "$go" ] || go=/usr/local/go/bin/go
  [ -x "$go" ] || { echo "kustomize.sh: no Go toolchain to build kustomize $version" >&2; exit 1; }
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9 # two ctest jobs never build it twice
  if [ ! -x "$bin" ]; then
    echo "kustomize.sh: building sigs.k8s.io/kustomize/kustomize/v5@$version into $cache" >&2
    GOBIN=$cache GOTOOLCHAIN=local GOFLAGS=-mod=mod nice -n 10 "$go" install \
      "sigs.k8s.io/kustomize/kustomize/v5@$version" >&2
  fi
fi
"$bin" version >/dev/null
echo "$bin"

#!/usr/bin/env bash
# Builds the container image with podman and no registry: the Debian 12 base
# is made from Debian's packages by mmdebstrap (cached), imported into podman's
# local storage, and deploy/container/Dockerfile is built on it, both targets:
# the bridge image and the emulator image (for docker-compose).
# Usage: deploy/container/build-podman.sh [TAG]   (default: the project version)
# Env: TCB_IMAGE_CACHE (base tarball cache, default ~/.cache/tcb-image),
#      TCB_BASE_MAX_AGE_DAYS (rebuild the base when older, default 7).
# Needs (Debian packages): podman runc netavark mmdebstrap uidmap. Prints IMAGE=... lines.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=$(sed -n 's/^project(talon_clevertap_bridge VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
tag=${1:-$version}
cache=${TCB_IMAGE_CACHE:-${HOME:-/root}/.cache/tcb-image}
max_age=${TCB_BASE_MAX_AGE_DAYS:-7}
base=localhost/tcb-debian:12-slim
base_tar=$cache/debian-12-minbase.tar

for tool in podman mmdebstrap runc; do # Debian packages
  command -v "$tool" >/dev/null 2>&1 || {
    echo "build-podman.sh: $tool is missing (apt-get install podman runc netavark mmdebstrap uidmap)" >&2
    exit 2
  }
done

# shellcheck source=deploy/container/podman-env.sh
. deploy/container/podman-env.sh
trap 'rm -rf "$TCB_PODMAN_TMP"' EXIT

# The base: Debian 12 minbase (apt, no recommends, no docs), like debian:12-slim,
# with the security and updates suites so that the image's installs are current.
mkdir -p "$cache"
if [ -f "$base_tar" ] && [ -n "$(find "$base_tar" -mtime +"$max_age")" ]; then
  echo "== base older than $max_age days: rebuilding"
  rm -f "$base_tar"
  podman rmi -f "$base" >/dev/null 2>&1 || true
fi
if [ ! -f "$base_tar" ]; then
  echo "== mmdebstrap: Debian 12 minbase -> $base_tar"
  mmdebstrap --variant=minbase --mode=root --format=tar \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --aptopt='APT::Install-Recommends "false"' \
    bookworm "$base_tar.tmp" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >"$cache/mmdebstrap.log" 2>&1 ||
    { tail -20 "$cache/mmdebstrap.log" >&2; rm -f "$base_tar.tmp"; exit 1; }
  mv "$base_tar.tmp" "$base_tar"
  podman rmi -f "$base" >/dev/null 2>&1 || true
fi
if ! podman image exists "$base"; then
  echo "== importing the base as $base"
  podman import --change 'CMD ["/bin/bash"]' "$base_tar" "$base" >/dev/null
fi

# --format docker keeps HEALTHCHECK (the OCI image format has no field for it).
build=(podman build --format docker --pull=never --network=host
       "${PODMAN_ULIMITS[@]}"
       --build-arg DEBIAN_IMAGE="$base" --build-arg VERSION="$version"
       -f deploy/container/Dockerfile)
echo "== building talon-clevertap-bridge:$tag"
"${build[@]}" --target bridge -t "localhost/talon-clevertap-bridge:$tag" .
echo "== building talon-clevertap-bridge-emulator:$tag"
"${build[@]}" --target emulator -t "localhost/talon-clevertap-bridge-emulator:$tag" .
echo "IMAGE=localhost/talon-clevertap-bridge:$tag"
echo "IMAGE=localhost/talon-clevertap-bridge-emulator:$tag"

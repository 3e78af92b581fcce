#!/usr/bin/env bash
# The project's test command (README "Run every test"; .ci/run calls exactly this):
# installs missing Debian packages when run as root (else prints the apt-get line),
# checks formatting and banned calls, builds with warnings as errors + ASan/UBSan,
# runs clang-tidy (.clang-tidy) over every C file, then runs every ctest (-j2):
# unit, integration (mock cluster, emulator), end-to-end (a real Kafka broker
# the ctest fixture starts from Maven Central jars and stops afterwards) and the
# deploy checks (label deploy; the image build with podman is label image).
# The one-hour soak (label soak) runs only when asked: `tests/run.sh -L soak`
# configures it in (-DTCB_SOAK=ON); any other run configures it out.
# Usage: tests/run.sh [extra ctest args...]   env BUILD_DIR (default build-test)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build pkg-config gcc make clang-format clang-tidy
          librdkafka-dev libcurl4-openssl-dev libjansson-dev libyaml-dev libmicrohttpd-dev
          libcmocka-dev libgnutls28-dev kcat curl openssl jq
          # the deploy checks (tests/deploy): YAML, systemd-analyze, promtool, the
          # Compose schema, and the image built and run with podman on an mmdebstrap base
          python3 python3-yaml systemd prometheus docker-compose
          podman runc netavark mmdebstrap uidmap)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The end-to-end tests run a real Kafka broker: Java 17 and Maven (any provider).
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing packages; run as root or install them:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
fi

echo "== clang-format check"
unformatted=$(git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run -Werror 2>&1 | grep -c "error:" || true)
if [ "$unformatted" != "0" ]; then
  git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run -Werror 2>&1 | head -40
  echo "clang-format: $unformatted places differ from .clang-format (run clang-format -i)" >&2
  exit 1
fi

echo "== banned calls"
bash tests/checks/banned_calls.sh

build=${BUILD_DIR:-build-test}
echo "== configure and build ($build: -Werror, ASan+UBSan)"
soak=OFF
for arg in "$@"; do
  case "$arg" in *soak*) soak=ON ;; esac
done
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTCB_WERROR=ON -DTCB_SANITIZE=ON \
      -DTCB_SOAK=$soak >/dev/null
cmake --build "$build" -j"$(nproc)"

echo "== clang-tidy"
git ls-files '*.c' | xargs -r -P"$(nproc)" -n8 clang-tidy -p "$build" --quiet 2>/dev/null >"$build/clang-tidy.txt" || {
  grep -E "error:|warning:" "$build/clang-tidy.txt" | head -40
  echo "clang-tidy: problems above (whole list in $build/clang-tidy.txt)" >&2
  exit 1
}

echo "== ctest"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure --timeout 600 -j2 "$@"

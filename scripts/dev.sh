#!/usr/bin/env bash
# scripts/dev.sh — set up a fresh Debian bookworm machine, build, and run.
#
#   scripts/dev.sh main [SEEDS]   install what is missing, build, run the main job
#                         (a seeded run that prints its trace hash, then a
#                         seed sweep of every scenario with a summary table)
#   scripts/dev.sh test   install what is missing, build, run every test
#                         through CTest — in Release, then again under
#                         ASan + UBSan, then the threaded code's tests
#                         (core/posix: the I/O pool, eventfd completions,
#                         TCP) under ThreadSanitizer
#
# Needs root (or sudo) only when packages are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake ninja-build pkg-config
  libboost-context-dev libboost-fiber-dev libabsl-dev librapidcheck-dev
  libgtest-dev libgmock-dev libspdlog-dev libfmt-dev libbenchmark-dev
  liburing-dev libsqlite3-dev libleveldb-dev librocksdb-dev libssl-dev libcli11-dev
  e2fsprogs
)

install_missing() {
  local missing=()
  for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$package")
  done
  if [ ${#missing[@]} -eq 0 ]; then return; fi
  echo "dev.sh: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)"
}

case "${1:-}" in
  main)
    install_missing
    build
    echo "== one seeded run: the trace hash is the run's fingerprint"
    build/release/harness/faultline run demo --seed 1
    echo "== seed sweep over every scenario"
    build/release/harness/faultline run all --seeds "${2:-2000}"
    ;;
  test)
    install_missing
    build
    ctest --preset release -j "$(nproc)"
    echo "== the same suite under AddressSanitizer + UndefinedBehaviorSanitizer"
    cmake --preset asan >/dev/null
    cmake --build --preset asan -j "$(nproc)"
    ctest --preset asan -j "$(nproc)"
    echo "== the threaded code's tests (core/posix) under ThreadSanitizer"
    cmake --preset tsan >/dev/null
    cmake --build --preset tsan -j "$(nproc)"
    ctest --preset tsan -j "$(nproc)"
    ;;
  *)
    echo "usage: scripts/dev.sh main|test" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# bench/wal/compare.sh — builds wal_compare with the release preset and writes
# the side-by-side WAL comparison of issue #5 to docs/results/wal_benchmark.md.
# Run from anywhere; extra arguments go to wal_compare (e.g. --repeat 3).
# The numbers are only worth quoting on a quiet machine: check `uptime`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
cmake --preset release
cmake --build --preset release --target wal_compare
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec build/release/bench/wal/wal_compare --out docs/results/wal_benchmark.md "$@"

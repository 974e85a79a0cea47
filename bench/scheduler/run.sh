#!/usr/bin/env bash
# bench/scheduler/run.sh — builds scheduler_bench in Release (the "release"
# preset, build/release) and runs it: three repetitions, medians shown.
# Extra arguments go to the benchmark and override these defaults, e.g.
#   bench/scheduler/run.sh --benchmark_filter=Yield --benchmark_repetitions=5
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake --preset release
cmake --build build/release --target scheduler_bench
exec build/release/bench/scheduler/scheduler_bench \
  --benchmark_repetitions=3 \
  --benchmark_display_aggregates_only=true \
  --benchmark_counters_tabular=true \
  "$@"

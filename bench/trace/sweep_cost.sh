#!/usr/bin/env bash
# bench/trace/sweep_cost.sh — what the trace costs a sweep that keeps no
# trace: the same sweep by two `faultline` binaries (say one built before a
# change to what the trace records, and one after), run side by side.
#
#   bench/trace/sweep_cost.sh BASELINE CANDIDATE [SCENARIO] [SEEDS] [ROUNDS]
#
# Each round runs `run SCENARIO --seeds SEEDS --jobs 1` with the baseline,
# then with the candidate (alternating, so that load on a shared machine
# falls on both alike), and measures the CPU time (user + system) the sweep
# and its worker took: on a loaded machine wall time mostly measures the
# wait for a core. Prints every round, the median CPU time of each binary
# and their ratio (candidate / baseline: 1.10 is 10% slower). The binaries
# must agree on what passes; the trace hashes may differ (the candidate may
# record more).
set -euo pipefail
if [[ $# -lt 2 ]]; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
baseline=$1
candidate=$2
scenario=${3:-wal_crash}
seeds=${4:-2000}
rounds=${5:-5}

# CPU time of one sweep (user + system, its worker included) in
# milliseconds; the sweep's own exit code must be 0.
time_sweep() {
  local TIMEFORMAT='%U %S' times
  times=$({ time "$1" run "$scenario" --seeds "$seeds" --jobs 1 >/dev/null; } 2>&1)
  awk -v t="$times" 'BEGIN {split(t, f, " "); printf "%d\n", (f[1] + f[2]) * 1000}'
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

base_times=()
cand_times=()
for ((round = 1; round <= rounds; ++round)); do
  b=$(time_sweep "$baseline")
  c=$(time_sweep "$candidate")
  base_times+=("$b")
  cand_times+=("$c")
  echo "round $round: baseline ${b} ms, candidate ${c} ms"
done
base_median=$(printf '%s\n' "${base_times[@]}" | median)
cand_median=$(printf '%s\n' "${cand_times[@]}" | median)
echo "$scenario, $seeds seeds, $rounds rounds: median baseline ${base_median} ms," \
  "candidate ${cand_median} ms, ratio $(awk -v c="$cand_median" -v b="$base_median" 'BEGIN {printf "%.3f", c / b}')"

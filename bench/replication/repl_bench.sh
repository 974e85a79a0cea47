#!/usr/bin/env bash
# bench/replication/repl_bench.sh [NODE_BINARY] — replication in real mode on
# loopback: committed records per second with 3 nodes (a leader and two
# followers, three faultline-node processes, each with its own WAL on real
# files) and 64 concurrent appenders, against the single-node WAL alone
# (`faultline-node leader --wal-only`: the same appenders waiting for their
# record's durability) in the same run, runs interleaved; p50/p99 latency of
# a commit (of a durable append for the baseline). Prints a Markdown table
# with the median of REPS runs of each.
#   RECORDS (default 30000), RECORD_BYTES (100), APPENDERS (64), REPS (3)
set -u
node=${1:-build/release/tools/node/faultline-node}
node=$(realpath "$node")
records=${RECORDS:-30000}
bytes=${RECORD_BYTES:-100}
appenders=${APPENDERS:-64}
reps=${REPS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > key

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo 0
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$2" | head -1; }

run_wal_only() {  # -> wal.out
  rm -rf w
  "$node" leader --dir w --listen 127.0.0.1:1 --key-file key --wal-only --records "$records" \
    --record-bytes "$bytes" --appenders "$appenders" > wal.out || exit 1
}

run_replicated() {  # -> repl.out
  rm -rf l f1 f2
  local lp p1 p2
  lp=$(free_port); p1=$(free_port); p2=$(free_port)
  for f in "f1 $p1" "f2 $p2"; do
    set -- $f
    "$node" follower --dir "$1" --listen "127.0.0.1:$2" --key-file key --leader "127.0.0.1:$lp" \
      --exit-at-committed "$records" --timeout-s 300 > "$1.out" 2>&1 &
  done
  "$node" leader --dir l --listen "127.0.0.1:$lp" --key-file key \
    --follower "127.0.0.1:$p1" --follower "127.0.0.1:$p2" --records "$records" \
    --record-bytes "$bytes" --appenders "$appenders" --timeout-s 300 > repl.out || exit 1
  wait
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: > wal.rates; : > repl.rates; : > wal.p50; : > wal.p99; : > repl.p50; : > repl.p99
for _ in $(seq 1 "$reps"); do
  run_wal_only
  run_replicated
  field records_per_s wal.out >> wal.rates; field records_per_s repl.out >> repl.rates
  field p50_us wal.out >> wal.p50; field p99_us wal.out >> wal.p99
  field p50_us repl.out >> repl.p50; field p99_us repl.out >> repl.p99
done
wal_rate=$(median < wal.rates); repl_rate=$(median < repl.rates)
echo "| system ($records records of $bytes B, $appenders appenders, median of $reps) | records/s | p50 | p99 |"
echo "|---|---|---|---|"
echo "| single-node WAL (durable) | $wal_rate | $(median < wal.p50) us | $(median < wal.p99) us |"
echo "| 3 nodes, loopback TCP (committed) | $repl_rate | $(median < repl.p50) us | $(median < repl.p99) us |"
awk -v r="$repl_rate" -v w="$wal_rate" 'BEGIN { printf "ratio replicated / single-node: %.2fx\n", r / w }'

#!/usr/bin/env bash
# tools/node/kill_follower_test.sh NODE_BINARY — three faultline-node
# processes on loopback: a leader streams records to two followers; one
# follower is killed with SIGKILL mid-stream and restarted; then every
# process must end cleanly (no gap seen while applying), the restarted
# follower must have resumed from a durable position past 0, and the
# followers' WALs must be byte-equal to the leader's.
set -u
node=$1
records=${RECORDS:-60000}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1
fail() { echo "FAIL: $*"; for f in *.out; do echo "== $f"; cat "$f"; done; exit 1; }

# Three free loopback ports (a refused connection means nobody listens).
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo 0
}
lp=$(free_port); p1=$(free_port); p2=$(free_port)
[[ $lp != "$p1" && $lp != "$p2" && $p1 != "$p2" && $lp != 0 ]] || fail "no free ports"
head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' > key

follower() {  # follower NAME PORT
  "$node" follower --dir "$1" --listen "127.0.0.1:$2" --key-file key \
    --leader "127.0.0.1:$lp" --exit-at-committed "$records" --timeout-s 120 >> "$1.out" 2>&1 &
}
follower f1 "$p1"; f1=$!; pids+=("$f1")
follower f2 "$p2"; f2=$!; pids+=("$f2")
"$node" leader --dir l --listen "127.0.0.1:$lp" --key-file key \
  --follower "127.0.0.1:$p1" --follower "127.0.0.1:$p2" --records "$records" \
  --record-bytes 100 --appenders 64 --timeout-s 120 > l.out 2>&1 &
leader=$!; pids+=("$leader")

# Mid-stream: once f2's WAL holds about a tenth of the records.
threshold=$((records * 13))
for _ in $(seq 1 3000); do
  size=$(du -sb f2/wal 2>/dev/null | cut -f1)
  [[ ${size:-0} -ge $threshold ]] && break
  sleep 0.01
done
[[ ${size:-0} -ge $threshold ]] || fail "f2 never received a tenth of the stream"
kill -9 "$f2"
wait "$f2" 2>/dev/null
kill -0 "$leader" 2>/dev/null || fail "the leader finished before the kill: not mid-stream"
echo "killed f2 with ${size} bytes in its WAL"
sleep 0.2
follower f2 "$p2"; f2=$!; pids+=("$f2")

wait "$leader" || fail "leader exited $?"
wait "$f1" || fail "f1 exited $?"
wait "$f2" || fail "restarted f2 exited $?"
grep -q "resumed_at=[1-9]" f2.out || fail "the restarted f2 did not resume from a durable position"
grep -q "gaps=0" f1.out || fail "f1 saw a gap"
"$node" verify --dir l --dir f1 --dir f2 > verify.out 2>&1 || fail "verify"
cat l.out f1.out f2.out verify.out
echo PASS

#!/usr/bin/env bash
# Fault: an actor joins late. A standalone learner and actor 0 run; 3 s later a
# second standalone actor (--actor-id 1 --num-actors 2) starts and must be taken
# in: "actor 1 joined" in the learner's log, its batches accepted (actors_alive
# reaches 2 in metrics.csv, its own log counts batches sent), actors_seen == 2.
source "$(dirname "$0")/lib.sh"
run="$WORK/actor_join"; rm -rf "$run" "$run".*; mkdir -p "$WORK"
p1=$(free_port); p2=$(free_port)
while [ "$p2" = "$p1" ]; do p2=$(free_port); done
exp="tcp://127.0.0.1:$p1"; wts="tcp://127.0.0.1:$p2"
"$BIN_L" --no-mpi --bind-experience "$exp" --bind-weights "$wts" --net 4-64-64-2 --run-dir "$run" \
  --target-return 1e9 --max-seconds 14 --eval-interval 200000 > "$run.out" 2> "$run.log" &
lp=$!; PIDS+=($lp)
"$BIN_A" --learner "$exp" --weights "$wts" --actor-id 0 --num-actors 2 --seed 11 2> "$run.a0.log" &
a0=$!; PIDS+=($a0)
wait_for_line "$run.log" 'actor 0 joined' 15 || { cat "$run.log" >&2; fail "actor 0 did not join"; }
sleep 3
t_start=$(now)
"$BIN_A" --learner "$exp" --weights "$wts" --actor-id 1 --num-actors 2 --seed 12 2> "$run.a1.log" &
a1=$!; PIDS+=($a1)
wait_for_line "$run.log" 'actor 1 joined' 15 || { cat "$run.log" >&2; fail "late actor 1 was never taken in"; }
t_join=$(now)
measure late_join_seconds "$(elapsed "$t_start" "$t_join")"
echo "ok: learner: $(grep -m1 'actor 1 joined' "$run.log")"
st=0; wait_exit $lp 40 || st=$?
[ $st = 124 ] && fail "learner still running past its budget"
[ $st = 1 ] || fail "learner exit status $st (want 1: budget exhausted, target 1e9 not reached)"
for p in $a0 $a1; do s=0; wait_exit $p 15 || s=$?; [ $s = 0 ] || fail "actor pid $p exit status $s after the learner's stop"; done
echo "ok: learner ran its budget; both actors stopped with status 0 on its stop message"
s="$run/summary.json"
[ "$(json_get "$s" actors_seen)" = 2 ] || fail "actors_seen = $(json_get "$s" actors_seen), want 2"
[ "$(json_get "$s" actors_lost)" = 0 ] || fail "actors_lost = $(json_get "$s" actors_lost)"
[ "$(json_get "$s" rejected_messages)" = 0 ] || fail "rejected = $(json_get "$s" rejected_messages)"
alive2=$(awk -F, 'NR > 1 && $14 == 2' "$run/metrics.csv" | wc -l)
[ "$alive2" -gt 0 ] || fail "metrics.csv never shows 2 actors alive"
b1=$(sed -nE 's/.*stopping \(.*\): ([0-9]+) env steps, ([0-9]+) batches.*/\2/p' "$run.a1.log" | tail -1)
[ -n "$b1" ] && [ "$b1" -gt 0 ] || { cat "$run.a1.log" >&2; fail "late actor sent no batches"; }
measure late_actor_batches "$b1"
echo "ok: summary actors_seen 2; $alive2 metrics rows with 2 actors alive; the late actor's $b1 batches accepted (0 rejected)"
expect_no_orphans "$run"; expect_no_orphans "$exp"

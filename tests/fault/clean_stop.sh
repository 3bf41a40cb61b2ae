#!/usr/bin/env bash
# Clean stop on SIGINT/SIGTERM for every role (standalone teacher, learner,
# two actors): an actor on SIGTERM says goodbye and exits 0 (the learner does
# not count it lost); the learner on SIGINT writes its final checkpoint and
# summary.json (stop_reason "signal") and exits, which stops the other actor
# (exit 0); the teacher on SIGTERM exits 0 with its final counters. No process
# carrying this run's tags survives.
source "$(dirname "$0")/lib.sh"
run="$WORK/clean_stop"; rm -rf "$run" "$run".*; mkdir -p "$WORK"
ck="$WORK/clean_stop.ckpt"; "$BIN_MK" 4-64-64-2 "$ck" 9 >/dev/null || fail "mkckpt"
pt=$(free_port); p1=$(free_port); p2=$(free_port)
tep="tcp://127.0.0.1:$pt"; exp="tcp://127.0.0.1:$p1"; wts="tcp://127.0.0.1:$p2"
"$BIN_T" --checkpoint "$ck" --bind "$tep" > /dev/null 2> "$run.t.log" &
tp=$!; PIDS+=($tp)
wait_for_line "$run.t.log" serving 10 || fail "teacher did not start"
"$BIN_L" --no-mpi --bind-experience "$exp" --bind-weights "$wts" --teacher "$tep" --net 4-64-64-2 --run-dir "$run" \
  --target-return 1e9 --max-seconds 120 --eval-interval 200000 --checkpoint-interval 1000 > "$run.out" 2> "$run.log" &
lp=$!; PIDS+=($lp)
"$BIN_A" --learner "$exp" --weights "$wts" --actor-id 0 --num-actors 2 --seed 51 2> "$run.a0.log" &
a0=$!; PIDS+=($a0)
"$BIN_A" --learner "$exp" --weights "$wts" --actor-id 1 --num-actors 2 --seed 52 2> "$run.a1.log" &
a1=$!; PIDS+=($a1)
wait_for_line "$run.log" 'actor 1 joined' 15 && wait_for_line "$run.log" 'actor 0 joined' 5 || fail "actors did not join"
sleep 3
# actor: SIGTERM -> goodbye, exit 0
t0=$(now); kill -TERM $a1; s=0; wait_exit $a1 5 || s=$?
[ $s = 0 ] || { cat "$run.a1.log" >&2; fail "actor exit status $s on SIGTERM"; }
measure actor_sigterm_exit_seconds "$(elapsed "$t0" "$(now)")"
grep -q 'stopping (' "$run.a1.log" || fail "actor did not log its stop"
grep -q 'goodbye not sent' "$run.a1.log" && fail "actor could not say goodbye"
echo "ok: actor: $(grep -m1 'stopping (' "$run.a1.log" | cut -c1-120)... exit 0"
sleep 3   # longer than --actor-timeout would matter: a goodbye is not a loss
# learner: SIGINT -> final checkpoint + summary, exit
rm -f "$run/checkpoint.ckpt"   # --checkpoint-interval 1000: only the final one can recreate it
t0=$(now); kill -INT $lp; s=0; wait_exit $lp 15 || s=$?
[ $s = 124 ] && fail "learner still running 15 s after SIGINT"
[ $s = 1 ] || fail "learner exit status $s on SIGINT (want 1: stopped before its target)"
measure learner_sigint_exit_seconds "$(elapsed "$t0" "$(now)")"
grep -q 'stopping on signal 2' "$run.log" || fail "learner did not log the signal"
"$CKPT_CHECK" "$run/checkpoint.ckpt" 4-64-64-2 > /dev/null || fail "no valid final checkpoint after SIGINT"
[ "$(json_get "$run/summary.json" stop_reason)" = signal ] || fail "summary stop_reason $(json_get "$run/summary.json" stop_reason)"
[ "$(json_get "$run/summary.json" actors_lost)" = 0 ] || fail "an actor that said goodbye was counted lost"
echo "ok: learner: final checkpoint written, summary.json stop_reason=signal, actors_lost 0, exit 1 (no target)"
s=0; wait_exit $a0 15 || s=$?
[ $s = 0 ] || { tail "$run.a0.log" >&2; fail "actor 0 exit status $s after the learner's stop"; }
echo "ok: the other actor stopped on the learner's stop message, exit 0"
# teacher: SIGTERM -> exit 0, final counters
t0=$(now); kill -TERM $tp; s=0; wait_exit $tp 5 || s=$?
[ $s = 0 ] || fail "teacher exit status $s on SIGTERM"
measure teacher_sigterm_exit_seconds "$(elapsed "$t0" "$(now)")"
fc=$(grep -m1 'final counters' "$run.t.log") || fail "teacher printed no final counters"
grep -q 'goodbyes=1' <<<"$fc" || fail "teacher did not get the learner's goodbye: $fc"
echo "ok: teacher: exit 0; ${fc#*: }"
expect_no_orphans "$run"; expect_no_orphans "$exp"; expect_no_orphans "$tep"

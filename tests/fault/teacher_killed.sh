#!/usr/bin/env bash
# Fault: the teacher is SIGKILLed mid-distillation. A standalone teacher (random
# 4-64-64-2 checkpoint: this tests plumbing, not learning, so the learner runs a
# fixed budget) serves a standalone learner + 1 actor. After the kill the learner
# must keep training (updates go on), warn exactly once that the teacher is
# silent, and when a new teacher binds the same endpoint, answers must resume
# ("answers again", the new teacher answers queries). Queries in flight at the
# kill time out or are skipped; nothing is double counted (answered <= sent).
source "$(dirname "$0")/lib.sh"
run="$WORK/teacher_killed"; rm -rf "$run" "$run".*; mkdir -p "$WORK"
ck="$WORK/teacher_killed.ckpt"
"$BIN_MK" 4-64-64-2 "$ck" 7 >/dev/null || fail "mkckpt"
pt=$(free_port); p1=$(free_port); p2=$(free_port)
tep="tcp://127.0.0.1:$pt"
"$BIN_T" --checkpoint "$ck" --bind "$tep" --stats-interval 1 > /dev/null 2> "$run.t1.log" &
t1=$!; PIDS+=($t1)
wait_for_line "$run.t1.log" 'serving' 10 || { cat "$run.t1.log" >&2; fail "teacher did not start"; }
exp="tcp://127.0.0.1:$p1"; wts="tcp://127.0.0.1:$p2"
"$BIN_L" --no-mpi --bind-experience "$exp" --bind-weights "$wts" --teacher "$tep" --teacher-timeout 0.5 \
  --net 4-64-64-2 --run-dir "$run" --target-return 1e9 --max-seconds 24 --eval-interval 200000 \
  > "$run.out" 2> "$run.log" &
lp=$!; PIDS+=($lp)
"$BIN_A" --learner "$exp" --weights "$wts" --actor-id 0 --num-actors 1 --seed 21 --quiet 2> "$run.a0.log" &
a0=$!; PIDS+=($a0)
wait_for_line "$run.t1.log" 'hello from learner' 15 || fail "learner never said hello to the teacher"
sleep 4
awk -F, 'NR > 1 && $12 > 0 {f = 1} END {exit !f}' "$run/metrics.csv" || fail "no teacher targets in replay before the kill"
upd_kill=$(tail -1 "$run/metrics.csv" | cut -d, -f3)
t_kill=$(now)
kill -9 $t1; wait $t1 2>/dev/null || true
echo "killed teacher pid $t1 (SIGKILL) at $upd_kill updates"
wait_for_line "$run.log" "teacher $tep silent" 10 || { tail "$run.log" >&2; fail "learner never warned that the teacher went silent"; }
measure teacher_kill_warn_seconds "$(elapsed "$t_kill" "$(now)")"
echo "ok: $(grep -m1 'silent for' "$run.log")"
sleep 4
upd_out=$(tail -1 "$run/metrics.csv" | cut -d, -f3)
[ "$upd_out" -gt "$upd_kill" ] || fail "updates stalled while the teacher was down ($upd_kill -> $upd_out)"
measure updates_during_teacher_outage "$((upd_out - upd_kill))"
echo "ok: training went on without the teacher: updates $upd_kill -> $upd_out"
t_restart=$(now)
"$BIN_T" --checkpoint "$ck" --bind "$tep" --stats-interval 1 > /dev/null 2> "$run.t2.log" &
t2=$!; PIDS+=($t2)
wait_for_line "$run.log" "teacher $tep answers again" 15 || { tail "$run.log" >&2; cat "$run.t2.log" >&2; fail "answers did not resume after the teacher came back"; }
measure teacher_restart_resume_seconds "$(elapsed "$t_restart" "$(now)")"
echo "ok: $(grep -m1 'answers again' "$run.log")"
st=0; wait_exit $lp 40 || st=$?
[ $st = 124 ] && fail "learner still running past its budget"
[ $st = 1 ] || fail "learner exit status $st (want 1: budget run)"
s=0; wait_exit $a0 15 || s=$?; [ $s = 0 ] || fail "actor exit status $s"
kill -TERM $t2; s=0; wait_exit $t2 5 || s=$?; [ $s = 0 ] || fail "restarted teacher exit status $s on SIGTERM"
req2=$(sed -nE 's/.*final counters: requests=([0-9]+).*/\1/p' "$run.t2.log")
[ -n "$req2" ] && [ "$req2" -gt 0 ] || { cat "$run.t2.log" >&2; fail "the restarted teacher answered nothing"; }
sj="$run/summary.json"
sent=$(json_get "$sj" teacher_queries_sent); ans=$(json_get "$sj" teacher_queries_answered)
tmo=$(json_get "$sj" teacher_queries_timed_out); skp=$(json_get "$sj" teacher_queries_skipped)
echo "learner: queries sent $sent, answered $ans, timed out $tmo, skipped $skp; restarted teacher answered $req2"
[ "$ans" -le "$sent" ] || fail "answered ($ans) > sent ($sent): double counting"
[ $((ans + tmo)) -le "$sent" ] || fail "answered + timed out ($ans + $tmo) > sent ($sent)"
[ $((tmo + skp)) -gt 0 ] || fail "no query timed out or was skipped across the outage"
[ "$ans" -gt "$req2" ] || fail "learner's answered ($ans) should include the first teacher's answers as well as the second's ($req2)"
nwarn=$(grep -c "teacher $tep silent" "$run.log")
[ "$nwarn" = 1 ] || fail "silent-teacher warning printed $nwarn times, want once"
measure teacher_queries_sent "$sent"; measure teacher_queries_answered "$ans"
measure teacher_queries_timed_out "$tmo"; measure teacher_queries_skipped "$skp"
measure answered_by_restarted_teacher "$req2"
echo "ok: warned once; in-flight queries timed out ($tmo) or skipped ($skp); answered <= sent; $req2 answered after the restart"
expect_no_orphans "$run"; expect_no_orphans "$ck"

#!/usr/bin/env bash
# Load: a standalone teacher service (4-256-256-2) under 4 concurrent students
# (tests/load/teacher_load: 4 DEALER threads, 8 pipelined queries of 256 states
# each) for D seconds (arg 3, or KDQN_LOAD_SECONDS, default 15). Every query
# sent must be answered exactly once; latency p50/p99 reported; the teacher's
# RSS (VmRSS) after 2 s of load and at the end must be flat (<= +10% or +8 MB).
source "$(dirname "$0")/../fault/lib.sh"
D=${3:-${KDQN_LOAD_SECONDS:-15}}
run="$WORK/teacher_load"; rm -rf "$run" "$run".*; mkdir -p "$run"
ck="$run/teacher.ckpt"; "$BIN_MK" 4-256-256-2 "$ck" 5 >/dev/null || fail "mkckpt"
tep="tcp://127.0.0.1:$(free_port)"
"$BIN_T" --checkpoint "$ck" --bind "$tep" --stats-interval 5 > /dev/null 2> "$run/teacher.log" &
tp=$!; PIDS+=($tp)
wait_for_line "$run/teacher.log" serving 10 || fail "teacher did not start"
rss0=$(rss_kb $tp)
timeout $((D + 60)) "$TEACHER_LOAD" "$tep" --clients 4 --seconds "$D" --states 256 --window 8 > "$run/client.out" 2>&1 &
cp=$!; PIDS+=($cp)
sleep 2; rss_warm=$(rss_kb $tp)
sleep $((D > 4 ? D - 3 : 1)); rss_end=$(rss_kb $tp)
cst=0; wait $cp || cst=$?
cat "$run/client.out"
kill -TERM $tp; s=0; wait_exit $tp 5 || s=$?; [ $s = 0 ] || fail "teacher exit status $s on SIGTERM"
fc=$(grep -m1 'final counters' "$run/teacher.log"); echo "teacher: ${fc#*: }"
[ $cst = 0 ] || fail "not every query was answered (client exit $cst)"
sent=$(sed -nE 's/^measure: sent=([0-9]+)/\1/p' "$run/client.out")
treq=$(sed -nE 's/.*final counters: requests=([0-9]+).*/\1/p' "$run/teacher.log")
[ "$treq" = "$sent" ] || fail "teacher answered $treq requests, students sent $sent"
grep -q 'rejected=0 ' <<<"$fc" || fail "teacher rejected messages: $fc"
measure teacher_load_seconds "$D"
measure teacher_rss_kb_idle "$rss0"; measure teacher_rss_kb_start "$rss_warm"; measure teacher_rss_kb_end "$rss_end"
python3 - "$rss_warm" "$rss_end" <<'PY' || fail "teacher RSS grew: ${rss_warm} kB -> ${rss_end} kB"
import sys; a, b = int(sys.argv[1]), int(sys.argv[2]); sys.exit(0 if b <= max(a * 1.10, a + 8192) else 1)
PY
echo "ok: $sent queries sent = $treq answered by the teacher; RSS ${rss_warm} kB -> ${rss_end} kB (idle ${rss0} kB)"
expect_no_orphans "$tep"

# Bad input on the teacher's live ROUTER while it serves a real learner (+ one actor):
# the teacher answers each bad request with an error, keeps answering the good
# clients, stays alive, and keeps its memory bounded.
source "$(dirname "$0")/lib.sh"
FLOOD=${KDQN_FLOOD:-20000}
start_teacher teacher
PE=$(free_port); PW=$(free_port)
timeout 90 "$BIN_L" --no-mpi --quiet --teacher "$TEP" --bind-experience "tcp://127.0.0.1:$PE" \
  --bind-weights "tcp://127.0.0.1:$PW" --max-seconds 14 --target-return 1e9 --learning-starts 500 \
  --eval-interval 1000000000 --run-dir "$WORK/student" >"$WORK/student.out" 2>"$WORK/student.err" & LP=$!; PIDS+=("$LP")
sleep 0.3
timeout 90 "$BIN_A" --no-mpi --quiet --learner "tcp://127.0.0.1:$PE" --weights "tcp://127.0.0.1:$PW" --envs 16 \
  --stats-interval 0 >"$WORK/actor.out" 2>"$WORK/actor.err" & AP=$!; PIDS+=("$AP")
sleep 4
rss0=$(rss_kb "$TPID")
timeout 100 "$BIN_H" router "$TEP" --flood "$FLOOD" || fail "hostile client: the teacher stopped serving good clients"
alive "$TPID" || fail "teacher died during the attack"
sleep 2
rss1=$(rss_kb "$TPID")
wait_pid "$LP" 40; rc=$WRC
[ "$rc" = 1 ] || { tail "$WORK/student.err" >&2; fail "learner exit $rc, want 1"; }
wait_pid "$AP" 15
alive "$TPID" || fail "teacher died"
kill -TERM "$TPID"; wait_pid "$TPID" 10
[ "$WRC" = 0 ] || fail "teacher exit $WRC after SIGTERM"
S="$WORK/student/summary.json"
ans=$(json_get "$S" teacher_queries_answered); tout=$(json_get "$S" teacher_queries_timed_out)
line=$(grep "final counters" "$WORK/teacher.err") || fail "no final counters"
rej=$(echo "$line" | sed -n 's/.*rejected=\([0-9]*\).*/\1/p')
echo "measure: teacher $(echo "$line" | sed 's/.*final counters: //')"
echo "measure: teacher RSS before=${rss0} kB after=${rss1} kB (delta $(( (rss1 - rss0) / 1024 )) MiB)"
echo "measure: learner teacher_queries_answered=$ans timed_out=$tout during the attack"
[ "$rej" -ge $((FLOOD * 9 / 10)) ] || fail "teacher rejected=$rej < 90% of the flood ($FLOOD)"
[ "$ans" -gt 0 ] || fail "the real learner got no answers"
[ $((rss1 - rss0)) -lt $((128 * 1024)) ] || fail "teacher RSS grew by more than 128 MiB"
n_warn=$(grep -c "warn" "$WORK/teacher.err" || true)
echo "measure: teacher warning lines=$n_warn (rate-limited)"
[ "$n_warn" -lt 200 ] || fail "warnings not rate-limited ($n_warn lines)"
ok "teacher survived the attack and kept serving"

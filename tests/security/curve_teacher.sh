# CURVE between learner and teacher: with the right keys a learner distils; a client
# with an unauthorized key, a plain client and a client holding another server key
# get no reply, and the teacher logs the refusals.
source "$(dirname "$0")/lib.sh"
K="$WORK/keys"; I="$WORK/intruder"; O="$WORK/other"
"$BIN_K" "$K" >/dev/null
"$BIN_K" "$I" --role client >/dev/null; cp "$K/server.pub" "$I/server.pub"   # right server key, unknown client key
"$BIN_K" "$O" >/dev/null                                                      # another deployment altogether
start_teacher teacher --curve-keys "$K"
ok "teacher with CURVE on $TEP"

"$BIN_H" probe "$TEP" --keys "$K" --timeout 5 --expect reply || fail "authorized client got no reply"
"$BIN_H" probe "$TEP" --keys "$I" --timeout 3 --expect none || fail "unauthorized client got a reply"
"$BIN_H" probe "$TEP" --timeout 3 --expect none || fail "plain client got a reply"
"$BIN_H" probe "$TEP" --keys "$O" --timeout 3 --expect none || fail "client with another server key got a reply"

PE=$(free_port); PW=$(free_port)
timeout 60 "$BIN_L" --no-mpi --quiet --curve-keys "$K" --teacher "$TEP" --bind-experience "tcp://127.0.0.1:$PE" \
  --bind-weights "tcp://127.0.0.1:$PW" --max-seconds 6 --target-return 1e9 --learning-starts 200 \
  --run-dir "$WORK/student" >"$WORK/student.out" 2>"$WORK/student.err" & LP=$!; PIDS+=("$LP")
sleep 0.3
timeout 60 "$BIN_A" --no-mpi --quiet --curve-keys "$K" --learner "tcp://127.0.0.1:$PE" --weights "tcp://127.0.0.1:$PW" \
  --envs 16 --stats-interval 0 >"$WORK/actor.out" 2>"$WORK/actor.err" & AP=$!; PIDS+=("$AP")
wait_pid "$LP" 40; rc=$WRC; [ "$rc" = 1 ] || { tail "$WORK/student.err" >&2; fail "learner exit $rc, want 1 (budget)"; }
wait_pid "$AP" 15
ans=$(json_get "$WORK/student/summary.json" teacher_queries_answered)
echo "measure: curve learner<->teacher queries answered=$ans sent=$(json_get "$WORK/student/summary.json" teacher_queries_sent)"
[ "$ans" -gt 0 ] || fail "learner with the right keys got no answers"
ok "learner with the right keys distilled ($ans answers)"

grep -q "CURVE: refused client 127.0.0.1" "$WORK/teacher.err" || { cat "$WORK/teacher.err" >&2; fail "no refusal line in the teacher log"; }
grep -q "handshake failed" "$WORK/teacher.err" || fail "no failed-handshake line in the teacher log"
kill -TERM "$TPID"; wait_pid "$TPID" 10
grep "CURVE:" "$WORK/teacher.err" | sed 's/^/  log: /'
line=$(grep "connections admitted" "$WORK/teacher.err") || fail "no CURVE counters at exit"
echo "measure: teacher $(echo "$line" | sed 's/.*CURVE: //')"
ok "teacher refused and logged the wrong clients"

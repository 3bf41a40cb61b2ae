# CURVE between actors and learner: an actor with the right keys trains the learner;
# an actor with an unauthorized key and a plain actor contribute nothing (their hello
# never arrives, they get no weights) and the learner logs the refusals.
source "$(dirname "$0")/lib.sh"
K="$WORK/keys"; I="$WORK/intruder"
"$BIN_K" "$K" >/dev/null
"$BIN_K" "$I" --role client >/dev/null; cp "$K/server.pub" "$I/server.pub"
PE=$(free_port); PW=$(free_port)
timeout 60 "$BIN_L" --no-mpi --curve-keys "$K" --bind-experience "tcp://127.0.0.1:$PE" --bind-weights "tcp://127.0.0.1:$PW" \
  --max-seconds 7 --target-return 1e9 --learning-starts 200 --stats-interval 5 \
  --run-dir "$WORK/learner" >"$WORK/learner.out" 2>"$WORK/learner.err" & LP=$!; PIDS+=("$LP")
sleep 0.3
A=(--no-mpi --learner "tcp://127.0.0.1:$PE" --weights "tcp://127.0.0.1:$PW" --envs 16 --stats-interval 0 --num-actors 3 --learner-timeout 20)
timeout 60 "$BIN_A" "${A[@]}" --actor-id 0 --curve-keys "$K" >"$WORK/a0.out" 2>"$WORK/a0.err" & P0=$!; PIDS+=("$P0")
timeout 60 "$BIN_A" "${A[@]}" --actor-id 1 --curve-keys "$I" >"$WORK/a1.out" 2>"$WORK/a1.err" & P1=$!; PIDS+=("$P1")
timeout 60 "$BIN_A" "${A[@]}" --actor-id 2 >"$WORK/a2.out" 2>"$WORK/a2.err" & P2=$!; PIDS+=("$P2")
wait_pid "$LP" 40; rc=$WRC; [ "$rc" = 1 ] || { tail "$WORK/learner.err" >&2; fail "learner exit $rc, want 1 (budget)"; }
wait_pid "$P0" 15; kill "$P1" "$P2" 2>/dev/null || true; wait_pid "$P1" 5; wait_pid "$P2" 5
S="$WORK/learner/summary.json"
seen=$(json_get "$S" actors_seen); steps=$(json_get "$S" env_steps)
echo "measure: curve actors: actors_seen=$seen env_steps=$steps (1 authorized, 1 unauthorized, 1 plain actor)"
[ "$seen" = 1 ] || fail "actors_seen=$seen, want 1 (only the authorized actor)"
[ "$steps" -gt 0 ] || fail "the authorized actor contributed nothing"
grep -q "acting with" "$WORK/a0.err" || fail "authorized actor never got weights"
! grep -q "acting with" "$WORK/a1.err" || fail "unauthorized actor received weights"
! grep -q "acting with" "$WORK/a2.err" || fail "plain actor received weights"
grep -q "CURVE: refused client 127.0.0.1" "$WORK/learner.err" || { cat "$WORK/learner.err" >&2; fail "no refusal line in the learner log"; }
grep -q "handshake failed, client does not use CURVE" "$WORK/learner.err" || fail "plain actor's failed handshake not logged"
line=$(grep "connections admitted" "$WORK/learner.err") || fail "no CURVE counters at exit"
echo "measure: learner $(echo "$line" | sed 's/.*CURVE: //')"
ok "only the authorized actor reached the learner"

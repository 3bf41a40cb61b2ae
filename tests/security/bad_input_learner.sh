# Bad input on the learner's live experience socket while a real learner trains from
# two real actors: garbage, truncated, oversized, wrong version/shape/type, NaN/Inf and
# a flood of 20k. The learner must keep training, count the rejects, stay alive and
# keep its memory bounded.
source "$(dirname "$0")/lib.sh"
FLOOD=${KDQN_FLOOD:-20000}
PE=$(free_port); PW=$(free_port)
timeout 90 "$BIN_L" --no-mpi --bind-experience "tcp://127.0.0.1:$PE" --bind-weights "tcp://127.0.0.1:$PW" \
  --max-seconds 16 --target-return 1e9 --learning-starts 500 --stats-interval 0.5 --eval-interval 1000000000 \
  --run-dir "$WORK/learner" >"$WORK/learner.out" 2>"$WORK/learner.err" & LP=$!; PIDS+=("$LP")
sleep 0.3
A=(--no-mpi --learner "tcp://127.0.0.1:$PE" --weights "tcp://127.0.0.1:$PW" --envs 16 --stats-interval 0 --num-actors 2 --quiet)
timeout 90 "$BIN_A" "${A[@]}" --actor-id 0 >"$WORK/a0.out" 2>"$WORK/a0.err" & P0=$!; PIDS+=("$P0")
timeout 90 "$BIN_A" "${A[@]}" --actor-id 1 >"$WORK/a1.out" 2>"$WORK/a1.err" & P1=$!; PIDS+=("$P1")
sleep 5
alive "$LP" || fail "learner died before the attack"
rss0=$(rss_kb "$LP")
t_attack=$(python3 -c 'import time; print(time.monotonic())')
timeout 100 "$BIN_H" pull "tcp://127.0.0.1:$PE" --flood "$FLOOD" || fail "hostile client failed"
rss1=$(rss_kb "$LP")
alive "$LP" || fail "learner died during the attack"
sleep 2
rss2=$(rss_kb "$LP")
rej_mid=$(tail -n 1 "$WORK/learner/metrics.csv" | cut -d, -f15)
steps_mid=$(tail -n 1 "$WORK/learner/metrics.csv" | cut -d, -f2)
upd_mid=$(tail -n 1 "$WORK/learner/metrics.csv" | cut -d, -f3)
wait_pid "$LP" 40; rc=$WRC
[ "$rc" = 1 ] || { tail "$WORK/learner.err" >&2; fail "learner exit $rc, want 1 (budget exhausted, still running at the end)"; }
wait_pid "$P0" 15; wait_pid "$P1" 15
S="$WORK/learner/summary.json"
rej=$(json_get "$S" rejected_messages); upd=$(json_get "$S" updates); seen=$(json_get "$S" actors_seen)
steps=$(json_get "$S" env_steps)
echo "measure: learner rejected_messages=$rej after $FLOOD flood messages + the bad set"
echo "measure: learner RSS before=${rss0} kB right after=${rss1} kB 2 s later=${rss2} kB (delta $(( (rss2 - rss0) / 1024 )) MiB)"
echo "measure: learner 2 s after the attack: updates=$upd_mid env_steps=$steps_mid rejected=$rej_mid; at the end: updates=$upd env_steps=$steps; actors_seen=$seen"
[ "$steps" -gt "$steps_mid" ] || fail "no experience ingested after the attack"
# The learner reads its PULL socket only while training keeps up (back-pressure), and
# fair-queues the flooder with the actors: junk drains at about the actors' batch rate
# and waits, bounded, in ZeroMQ/TCP buffers. So not all of the flood need be read by the end.
[ "$rej" -ge 25 ] || fail "rejected_messages=$rej, want at least the 25 kinds of bad message"
[ "$upd" -gt "$upd_mid" ] || fail "no updates after the attack ($upd_mid -> $upd)"
[ "$seen" = 2 ] || fail "actors_seen=$seen, want 2 (the hostile hello must not count)"
[ $((rss2 - rss0)) -lt $((128 * 1024)) ] || fail "RSS grew by more than 128 MiB"
grep -q "warn" "$WORK/learner.err" || fail "no warning logged about the bad messages"
n_warn=$(grep -c "warn" "$WORK/learner.err" || true)
echo "measure: learner warning lines=$n_warn (rate-limited)"
[ "$n_warn" -lt 200 ] || fail "warnings not rate-limited ($n_warn lines)"
ok "learner survived the attack and kept training"

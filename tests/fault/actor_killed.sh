#!/usr/bin/env bash
# Fault: an actor is SIGKILLed mid-run under mpirun --enable-recovery
# (1 learner, 3 actors, 4-64-64-2, teacher-training mode). The learner must name
# the lost actor (id, host, pid) within its --actor-timeout, go on training with
# the two others, still reach 475, and mpirun must end.
#
# CartPole is solved after < 1 s of training at the default replay ratio, too
# soon to kill anything. With --replay-ratio 0.01 the learner is ingest-bound:
# the ~10k updates it needs take ~60M transitions, ~8-15 s here, so the kill
# lands while it trains and it must keep training long after it.
source "$(dirname "$0")/lib.sh"
run="$WORK/actor_killed"; rm -rf "$run" "$run".*; mkdir -p "$WORK"
tag=$((41000 + RANDOM % 20000))          # unique --seed: only this job's actors carry it
timeout_s=2
timeout 170 "${MPI[@]}" \
  -np 1 "$BIN_L" --net 4-64-64-2 --name actor_killed --run-dir "$run" --seed 2 --actor-timeout $timeout_s \
        --replay-ratio 0.01 --eval-interval 1000000 --max-env-steps 1000000000 --max-seconds 150 --stats-interval 1 \
  : -np 3 "$BIN_A" --seed $tag --quiet > "$run.out" 2> "$run.log" &
job=$!; PIDS+=($job)
wait_for_line "$run.log" 'actor 2 joined' 30 || { cat "$run.log" >&2; fail "the three actors did not join"; }
wait_for_line "$run.log" 'actor [01] joined' 5 || fail "actors 0/1 did not join"
sleep 0.3
mapfile -t apids < <(pgrep -f "^$BIN_A --seed $tag( |$)")
[ "${#apids[@]}" = 3 ] || { pgrep -af -- "$tag" >&2; fail "expected 3 actor processes tagged --seed $tag, found ${#apids[@]}"; }
victim=${apids[1]}
t_kill=$(now)
kill -9 "$victim"
echo "killed actor pid $victim (SIGKILL)"
wait_for_line "$run.log" "\(pid $victim\) lost" $((timeout_s + 20)) || { tail -20 "$run.log" >&2; fail "the learner never reported actor pid $victim lost"; }
t_det=$(now)
detect=$(elapsed "$t_kill" "$t_det")
line=$(grep -E "\(pid $victim\) lost" "$run.log" | head -1)
echo "learner: $line"
silent=$(sed -E 's/.*silent for ([0-9.]+) s.*/\1/' <<<"$line")
measure actor_kill_detect_seconds "$detect"
measure actor_kill_learner_silence_seconds "$silent"
python3 - "$detect" "$timeout_s" <<'PY' || fail "detection took ${detect} s (actor-timeout ${timeout_s} s)"
import sys; d, t = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if t <= d + 0.05 and d <= t + 3.0 else 1)
PY
echo "ok: loss detected ${detect} s after the kill (--actor-timeout ${timeout_s} s)"
grep -q "training goes on with 2 actor(s)" <<<"$line" || fail "lost line does not say training goes on with 2 actors"
# the run must go on to the target
st=0; wait_exit $job 160 || st=$?
[ $st = 124 ] && fail "mpirun still running"
echo "mpirun exit status $st (with --enable-recovery a dead rank does not fail the job; the summary decides)"
expect_solved "$run"
s="$run/summary.json"
[ "$(json_get "$s" actors_lost)" = 1 ] || fail "summary actors_lost = $(json_get "$s" actors_lost), want 1"
lost=$(json_get "$s" lost)
[[ "$lost" =~ ^[0-2]@.+$ ]] || fail "summary lost = '$lost', want one id@host"
[ "$(json_get "$s" actors_seen)" = 3 ] || fail "actors_seen $(json_get "$s" actors_seen)"
grep -q "actor ${lost%%@*} on ${lost#*@} (pid $victim) lost" "$run.log" || fail "summary's lost '$lost' is not the killed pid $victim"
echo "ok: summary names the lost actor: $lost (pid $victim); solved with the 2 others"
# training went on after the kill: updates in the metrics after detection
upd=$(json_get "$s" updates); [ "$upd" -gt 0 ] || fail "no updates"
measure actor_kill_reached_target "$(json_get "$s" solved)"
measure actor_kill_seconds_to_475 "$(json_get "$s" seconds_to_475)"
expect_no_orphans "$run"; expect_no_orphans "--seed $tag"

#!/usr/bin/env bash
# A host back after a short cut: cut kh3 for 10 s, heal it. kh3's actors
# (--learner-timeout 30 > the cut) must resume without a restart: the learner
# logs "actor N (kh3) is back" and the actors' transitions keep arriving after
# the heal. The target is out of reach (--target-return 1e9) so the run lasts its
# 40 s budget; every process must then end by itself.
# usage: host_back.sh BUILD_DIR WORK_DIR NETNS_CLUSTER
source "$(dirname "$0")/common.sh"
need_teacher
d="$WORK/back"; rm -f "$d.log"
"$RUNJOB" --bin "$BUILD" --mpirun "bash $NC run" --run-dir "$d" --bind-host eth0 \
  --teacher-host kh1 --checkpoint "$TCK" --teacher-args "--max-seconds 150 --quiet" \
  --learner-host kh2 --actors kh1:1,kh2:1,kh3:2 --actor-args "--learner-timeout 30 --stats-interval 2" \
  --timeout 150 --grace 30 \
  -- --net 4-16-2 --kd-loss kl --td-weight 0 --learning-starts 256 --target-return 1e9 --eval-interval 1000000000 --max-env-steps 1000000000000 \
     --actor-timeout 3 --stats-interval 5 --max-seconds 40 > "$d.report" 2>&1 &
job=$!; BG_PIDS+=($job)
wait_for_count "$d.log" 60 "actor . joined from kh3" 2 >/dev/null || { cat "$d.report" "$d.log"; fail "kh3's actors never joined"; }
sleep 2
bash "$NC" cut kh3; echo "kh3 cut at $(date +%T)"
sleep 10
bash "$NC" heal kh3; echo "kh3 healed at $(date +%T)"
lines_at_heal=$(wc -l < "$d.log")
wait_for_count "$d.log" 25 "actor [0-9]+ \(kh3\) is back" 2 >/dev/null || { tail -30 "$d.log"; fail "kh3's actors did not come back within 25 s of the heal"; }
echo "ok: $(grep -E "actor [0-9]+ \(kh3\) is back" "$d.log" | tr '\n' ' ')"
for _ in $(seq 900); do [ -s "$d/summary.json" ] && break; kill -0 $job 2>/dev/null || break; sleep 0.1; done
# every kdqn rank on every host must end by itself once the learner is done
for _ in $(seq 100); do
  left=""; for h in kh1 kh2 kh3; do left+="$(host_procs $h | sed "s/^/$h:/" | tr '\n' ' ')"; done
  [ -z "$left" ] && break; sleep 0.2
done
[ -z "$left" ] || fail "kdqn processes still running 20 s after the learner finished: $left"
echo "ok: every kdqn process ended by itself"
wait $job; rc=$?
cat "$d.report"
s="$d/summary.json"
[ -s "$s" ] || fail "no summary.json"
[ "$(json_get "$s" stop_reason)" = max_seconds ] || fail "stop reason $(json_get "$s" stop_reason), want max_seconds"
[ "$(json_get "$s" actors_lost)" -ge 2 ] || fail "the cut was not noticed (actors_lost $(json_get "$s" actors_lost))"
[ -z "$(json_get "$s" lost)" ] || fail "still lost at the end: $(json_get "$s" lost)"
# kh3's actors' own progress lines after the heal: their env-step counters still rise
for a in 2 3; do
  steps=$(tail -n +$lines_at_heal "$d.log" | grep -E "^\[actor $a\] info: (env_steps [0-9]+|stopping .*: [0-9]+ env steps)" | grep -oE "env_steps [0-9]+|[0-9]+ env steps" | grep -oE "[0-9]+")
  first=$(echo "$steps" | head -1); last=$(echo "$steps" | tail -1)
  [ -n "$first" ] && [ "$last" -gt "$first" ] || fail "actor $a (kh3) made no progress after the heal ($first -> $last)"
  echo "ok: actor $a on kh3: $first -> $last env steps after the heal"
done
grep -q "learner silent" "$d.log" && fail "an actor gave up on the learner"
grep -q "after being stopped" "$d.report" && echo "note: mpirun itself did not return after the heal (stopped by run-job)"
expect_hosts_empty

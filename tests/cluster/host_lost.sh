#!/usr/bin/env bash
# A host lost mid-run. MODE cut: kh3's link taken down (netns-cluster cut kh3);
# MODE freeze: kh3's actor processes stopped with SIGSTOP. Teacher on kh1, learner
# on kh2, two actors on each host. The learner must declare kh3's two actors lost
# within seconds (--actor-timeout 3), keep training on the other four and reach
# 475; summary.json and run-job's report must name kh3 and its ranks. Nothing
# here depends on mpirun's exit status or on mpirun returning.
# usage: host_lost.sh BUILD_DIR WORK_DIR NETNS_CLUSTER cut|freeze
MODE="${4:?cut or freeze}"
source "$(dirname "$0")/common.sh"
need_teacher
d="$WORK/lost-$MODE"; rm -f "$d.log"
"$RUNJOB" --bin "$BUILD" --mpirun "bash $NC run" --run-dir "$d" --bind-host 10.77.0.0/24 \
  --teacher-host kh1 --checkpoint "$TCK" --teacher-args "--max-seconds 150 --quiet" \
  --learner-host kh2 --actors kh1:2,kh2:2,kh3:2 --actor-args "--quiet --learner-timeout 30" --timeout 200 --grace 10 \
  -- --net 4-16-2 --kd-loss kl --td-weight 0 --learning-starts 256 --replay-ratio 64 --eval-interval 1500000 \
     --actor-timeout 3 --stats-interval 5 --max-seconds 120 > "$d.report" 2>&1 &
job=$!; BG_PIDS+=($job)
wait_for_count "$d.log" 60 "actor . joined from kh3" 2 >/dev/null || { cat "$d.report" "$d.log"; fail "kh3's actors never joined"; }
if [ "$MODE" = cut ]; then
  bash "$NC" cut kh3
  echo "kh3 cut"
else
  frozen=$(host_pids_of kh3 kdqn-actor | tr '\n' ' ')
  [ "$(echo $frozen | wc -w)" = 2 ] || fail "expected 2 kdqn-actor processes on kh3, found '$frozen'"
  kill -STOP $frozen
  echo "kh3's actors frozen: pids $frozen"
fi
t_fault=$(date +%s.%N)
t_det=$(wait_for_count "$d.log" 30 "actor [0-9]+ on kh3 .* lost: silent" 2) || { cat "$d.log"; fail "kh3's actors not declared lost within 30 s"; }
lat=$(python3 -c "print(f'{$t_det - $t_fault:.1f}')")
echo "ok: both kh3 actors declared lost ${lat} s after the fault"
echo "detect_seconds=$lat" > "$d.detect"
# the learner finishes on the other hosts; summary.json decides
for _ in $(seq 1200); do [ -s "$d/summary.json" ] && break; kill -0 $job 2>/dev/null || break; sleep 0.1; done
[ -s "$d/summary.json" ] || { cat "$d.report"; tail -20 "$d.log"; fail "no summary.json"; }
if [ "$MODE" = freeze ]; then kill -CONT $frozen 2>/dev/null; echo "kh3's actors continued (SIGCONT)"; fi
wait $job; rc=$?
cat "$d.report"
s="$d/summary.json"
[ $rc = 0 ] && [ "$(json_get "$s" solved)" = true ] || fail "learner did not reach its target (run-job exit $rc)"
l_lost=$(grep -nE "actor [0-9]+ on kh3 .* lost: silent" "$d.log" | tail -1 | cut -d: -f1)
l_eval=$(grep -n "eval @" "$d.log" | tail -1 | cut -d: -f1)
[ "${l_lost:-0}" -lt "${l_eval:-0}" ] || fail "target reached before the loss was detected (raise --eval-interval)"
[ "$(json_get "$s" actors_lost)" = 2 ] || fail "actors_lost = $(json_get "$s" actors_lost), want 2"
lost="$(json_get "$s" lost)"
[ "$(echo "$lost" | tr ',' '\n' | grep -c '@kh3$')" = 2 ] && ! echo "$lost" | grep -q "@kh[12]" \
  || fail "summary lost list '$lost' should name exactly kh3's two actors"
grep -q "LOST: actor 4 = MPI rank 6 on host kh3" "$d.report" && grep -q "LOST: actor 5 = MPI rank 7 on host kh3" "$d.report" \
  || fail "run-job's report does not name kh3's ranks"
echo "ok: summary lost='$lost', report names ranks 6 and 7 on kh3; solved with $(json_get "$s" env_steps) env steps"
# the healthy hosts must be clean by now; kh3 is cleaned up here (heal / SIGCONT + kill)
sleep 1
for h in kh1 kh2; do [ -z "$(host_procs $h)" ] || { host_procs $h; fail "kdqn processes left on $h"; }; done
echo "ok: no kdqn process left on kh1/kh2"
[ "$MODE" = cut ] && bash "$NC" heal kh3
for p in $(ip netns pids kh3); do kill -CONT $p 2>/dev/null; kill -KILL $p 2>/dev/null; done
for h in kh1; do for p in $(ip netns pids $h); do kill -KILL $p 2>/dev/null; done; done   # a hung mpirun/orted
expect_hosts_empty

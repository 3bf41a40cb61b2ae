#!/usr/bin/env bash
# A teacher on another host than its students, as a standalone service: teacher
# on kh1 bound to 10.77.0.1; two separate student jobs at once, learner on kh2
# (actors kh2 + kh1) and learner on kh3 (actors kh3 + kh1), each started by its
# own mpirun inside its learner's host. Both must get answers and solve.
# usage: shared_teacher.sh BUILD_DIR WORK_DIR NETNS_CLUSTER
source "$(dirname "$0")/common.sh"
need_teacher
port=$(( 20000 + RANDOM % 20000 )); ep="tcp://10.77.0.1:$port"
nc_exec kh1 "$BIN_T" --checkpoint "$TCK" --bind "$ep" --stats-interval 5 > "$WORK/shared-teacher.log" 2>&1 &
BG_PIDS+=($!)
for _ in $(seq 50); do grep -q "serving\|listening\|$port" "$WORK/shared-teacher.log" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
[ -n "$(host_pids_of kh1 kdqn-teacher)" ] || { cat "$WORK/shared-teacher.log"; fail "teacher service did not start on kh1"; }
kd=(--net 4-16-2 --kd-loss kl --temperature 0.1 --td-weight 0 --learning-starts 256 --eval-interval 1000 --max-seconds 120 --quiet)
RUN_NS=kh2 "$RUNJOB" --bin "$BUILD" --mpirun "bash $NC run" --run-dir "$WORK/jobA" --bind-host eth0 --teacher "$ep" \
  --learner-host kh2 --actors kh2:1,kh1:1 --actor-args "--quiet --seed 4" --timeout 200 --grace 20 \
  -- --name jobA "${kd[@]}" > "$WORK/jobA.report" 2>&1 &
a=$!; BG_PIDS+=($a)
RUN_NS=kh3 "$RUNJOB" --bin "$BUILD" --mpirun "bash $NC run" --run-dir "$WORK/jobB" --bind-host eth0 --teacher "$ep" \
  --learner-host kh3 --actors kh3:1,kh1:1 --actor-args "--quiet --seed 5" --timeout 200 --grace 20 \
  -- --name jobB --seed 5 "${kd[@]}" > "$WORK/jobB.report" 2>&1 &
b=$!; BG_PIDS+=($b)
wait $a; ra=$?; wait $b; rb=$?
cat "$WORK/jobA.report" "$WORK/jobB.report"
for j in jobA jobB; do
  s="$WORK/$j/summary.json"
  [ -s "$s" ] && [ "$(json_get "$s" solved)" = true ] || fail "$j did not solve"
  n="$(json_get "$s" teacher_queries_answered)"
  [ "$n" -gt 0 ] || fail "$j got no answers from the teacher on kh1"
  [ "$(json_get "$s" teacher_endpoint)" = "$ep" ] || fail "$j used $(json_get "$s" teacher_endpoint)"
  echo "ok: $j solved with $n answers from the teacher on kh1 ($ep)"
done
grep -q "after being stopped" "$WORK/jobA.report" "$WORK/jobB.report" && fail "an mpirun did not return by itself"
tp=$(host_pids_of kh1 kdqn-teacher)
kill -TERM $tp
for _ in $(seq 30); do kill -0 $tp 2>/dev/null || break; sleep 0.1; done
kill -0 $tp 2>/dev/null && fail "teacher still running 3 s after SIGTERM"
wait "${BG_PIDS[0]}"; trc=$?
[ $trc = 0 ] || fail "teacher service exit status $trc"
echo "ok: teacher service on kh1 exited 0 on SIGTERM"; tail -2 "$WORK/shared-teacher.log"
expect_hosts_empty

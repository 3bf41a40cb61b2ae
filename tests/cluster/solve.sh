#!/usr/bin/env bash
# Across hosts: teacher rank on kh1, learner on kh2, actors on kh1, kh2 and kh3,
# from the hostfile launch/cluster/hostfile.example, one real mpirun (netns-cluster
# run) started by launch/cluster/run-job. The student must reach 475 with the
# teacher's answers, mpirun must return by itself and nothing may be left.
# usage: solve.sh BUILD_DIR WORK_DIR NETNS_CLUSTER
source "$(dirname "$0")/common.sh"
need_teacher
d="$WORK/solve"
"$RUNJOB" --bin "$BUILD" --mpirun "bash $NC run" --run-dir "$d" --bind-host eth0 \
  --teacher-host kh1 --checkpoint "$TCK" --teacher-args "--max-seconds 150 --quiet" \
  --learner-host kh2 --actors kh1:1,kh2:1,kh3:1 --actor-args "--quiet" --timeout 200 --grace 20 \
  -- --net 4-16-2 --kd-loss kl --td-weight 0 --learning-starts 256 --eval-interval 1000 --max-seconds 120 --quiet \
  | tee "$d.report"
rc=${PIPESTATUS[0]}
[ $rc = 0 ] || { tail -20 "$d.log"; fail "run-job exit $rc (want 0: solved)"; }
s="$d/summary.json"
grep -q "after being stopped" "$d.report" && fail "mpirun did not return by itself"
[ "$(json_get "$s" actors_seen)" = 3 ] && [ "$(json_get "$s" actors_lost)" = 0 ] || fail "want 3 actors seen, 0 lost"
[ "$(json_get "$s" teacher_queries_answered)" -gt 0 ] || fail "no teacher answers"
case "$(json_get "$s" teacher_endpoint)" in tcp://10.77.0.1:*) ;; *) fail "teacher endpoint not on kh1's address";; esac
grep -q "^experience_endpoint=tcp://10.77.0.2:" "$d/config.txt" || fail "learner did not bind kh2's address"
echo "ok: solved across hosts: eval $(json_get "$s" eval_mean), $(json_get "$s" teacher_queries_answered) teacher answers, teacher $(json_get "$s" teacher_endpoint)"
expect_hosts_empty

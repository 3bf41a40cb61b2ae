#!/usr/bin/env bash
# Fault: the learner is SIGKILLed mid-run and rerun with --resume on the same
# --run-dir: it must continue from checkpoint.ckpt ("resumed from ... env steps"),
# with env steps, updates, policy version and wall time continuing from the
# saved counters. The actor outlives the learner (its --learner-timeout is
# longer than the gap) and feeds the resumed learner.
source "$(dirname "$0")/lib.sh"
run="$WORK/learner_resume"; rm -rf "$run" "$run".*; mkdir -p "$WORK"
p1=$(free_port); p2=$(free_port)
exp="tcp://127.0.0.1:$p1"; wts="tcp://127.0.0.1:$p2"
L=("$BIN_L" --no-mpi --bind-experience "$exp" --bind-weights "$wts" --net 4-64-64-2 --run-dir "$run"
   --target-return 1e9 --max-seconds 16 --eval-interval 200000 --checkpoint-interval 1)
"${L[@]}" > "$run.out1" 2> "$run.log1" &
lp=$!; PIDS+=($lp)
"$BIN_A" --learner "$exp" --weights "$wts" --actor-id 0 --num-actors 1 --seed 31 --learner-timeout 30 2> "$run.a0.log" &
a0=$!; PIDS+=($a0)
wait_for_line "$run.log1" 'actor 0 joined' 15 || fail "actor did not join"
sleep 5
[ -s "$run/checkpoint.ckpt" ] || fail "no checkpoint after 5 s with --checkpoint-interval 1"
kill -9 $lp; wait $lp 2>/dev/null || true
echo "killed learner pid $lp (SIGKILL)"
saved=$("$CKPT_CHECK" "$run/checkpoint.ckpt" 4-64-64-2) || fail "checkpoint after the kill: $saved"
echo "checkpoint on disk: $saved"
kv() { sed -nE "s/.* $1=([0-9.]+).*/\1/p" <<<"$2"; }
s_env=$(kv env_steps "$saved"); s_upd=$(kv updates "$saved"); s_pv=$(kv policy_version "$saved"); s_wall=$(kv wall "$saved")
[ "$s_upd" -gt 0 ] || fail "checkpoint has no updates"
n_before=$(wc -l < "$run/metrics.csv")
sleep 1
"${L[@]}" --resume > "$run.out2" 2> "$run.log2" &
lp2=$!; PIDS+=($lp2)
wait_for_line "$run.log2" 'resumed from' 10 || { cat "$run.log2" >&2; fail "no 'resumed from' line"; }
line=$(grep -m1 'resumed from' "$run.log2"); echo "ok: $line"
grep -q "resumed from $run/checkpoint.ckpt: $s_env env steps, $s_upd updates, policy v$s_pv" <<<"$line" \
  || fail "resume line does not carry the saved counters ($s_env env steps, $s_upd updates, v$s_pv)"
wait_for_line "$run.log2" 'actor 0 joined' 15 || fail "the surviving actor did not reach the resumed learner"
echo "ok: the actor that outlived the learner feeds the resumed one"
st=0; wait_exit $lp2 40 || st=$?
[ $st = 1 ] || fail "resumed learner exit status $st (want 1: budget run)"
s=0; wait_exit $a0 15 || s=$?; [ $s = 0 ] || fail "actor exit status $s"
sj="$run/summary.json"
f_env=$(json_get "$sj" env_steps); f_upd=$(json_get "$sj" updates); f_sec=$(json_get "$sj" seconds)
[ "$f_env" -gt "$s_env" ] && [ "$f_upd" -gt "$s_upd" ] || fail "counters did not continue: env $s_env -> $f_env, updates $s_upd -> $f_upd"
# first metrics row written by the resumed run: counters at or above the checkpoint's, wall time continues
python3 - "$run/metrics.csv" "$n_before" "$s_env" "$s_upd" "$s_pv" "$s_wall" <<'PY' || fail "metrics.csv does not continue from the checkpoint"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
n_before = int(sys.argv[2]) - 1  # data rows written before the resume
env, upd, pv, wall = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
assert len(rows) > n_before, "the resumed run wrote no metrics"
first = rows[n_before]
print("first metrics row after resume: wall %s env %s updates %s policy v%s" % (first["wall_s"], first["env_steps"], first["updates"], first["policy_version"]))
sys.exit(0 if int(first["env_steps"]) >= env and int(first["updates"]) >= upd and int(first["policy_version"]) >= pv and float(first["wall_s"]) >= wall else 1)
PY
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$f_sec" "$s_wall" || fail "seconds went back"
measure resume_env_steps_saved "$s_env"; measure resume_updates_saved "$s_upd"; measure resume_policy_version_saved "$s_pv"
measure resume_env_steps_final "$f_env"; measure resume_updates_final "$f_upd"
echo "ok: resumed at $s_env env steps / $s_upd updates / v$s_pv; finished at $f_env / $f_upd after ${f_sec} s total"
expect_no_orphans "$run"; expect_no_orphans "$exp"

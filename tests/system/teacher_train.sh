#!/usr/bin/env bash
# Teacher-training mode under a real mpirun: 1 learner (no teacher) + 2 actors
# train a 4-64-64-2 Q-network to a greedy mean of 475. Leaves WORK/teacher/best.ckpt
# for the distillation tests (CTest fixture "teacher_ckpt").
source "$(dirname "$0")/common.sh"
rm -rf "$WORK/teacher"; mkdir -p "$WORK"
timeout 240 "${MPI[@]}" \
  -np 1 "$BIN_L" --net 4-64-64-2 --name teacher --run-dir "$WORK/teacher" --seed 2 --max-seconds 180 --quiet \
  : -np 2 "$BIN_A" --seed 2 --quiet || echo "(mpirun exit $? — the summary decides)"
expect_solved "$WORK/teacher"
[ -s "$WORK/teacher/best.ckpt" ] || fail "best.ckpt missing"
for f in config.txt metrics.csv eval.csv checkpoint.ckpt; do [ -s "$WORK/teacher/$f" ] || fail "$f missing"; done
[ "$(json_get "$WORK/teacher/summary.json" actors_seen)" = 2 ] || fail "learner did not see both actors"
expect_no_orphans "$WORK/teacher"

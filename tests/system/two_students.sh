#!/usr/bin/env bash
# One job: 1 teacher rank, 2 learners (students of different sizes and
# temperatures sharing that teacher), 4 actors. Both students must reach 475 and
# both must have been served by the teacher.
source "$(dirname "$0")/common.sh"
ck="$WORK/teacher/best.ckpt"; [ -s "$ck" ] || fail "no teacher checkpoint (fixture teacher_ckpt)"
rm -rf "$WORK/s1" "$WORK/s2"
kd=(--kd-loss kl --td-weight 0 --learning-starts 256 --eval-interval 1000 --max-seconds 120 --quiet)
timeout 200 "${MPI[@]}" \
  -np 1 "$BIN_T" --checkpoint "$ck" --max-seconds 150 --quiet \
  : -np 1 "$BIN_L" --net 4-16-2 --temperature 0.1 --name student16 --run-dir "$WORK/s1" "${kd[@]}" \
  : -np 1 "$BIN_L" --net 4-32-2 --temperature 1.0 --name student32 --run-dir "$WORK/s2" "${kd[@]}" \
  : -np 4 "$BIN_A" --seed 3 --quiet || echo "(mpirun exit $? — the summaries decide)"
for s in s1 s2; do
  expect_solved "$WORK/$s"
  n="$(json_get "$WORK/$s/summary.json" transitions_with_teacher)"
  [ "$n" -gt 0 ] || fail "$s got no teacher targets"
  echo "ok: $s trained on $n transitions with teacher targets"
done
expect_no_orphans "$WORK/s1"; expect_no_orphans "$ck"

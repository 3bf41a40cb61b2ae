#!/usr/bin/env bash
# A standalone teacher service shared by two separate mpirun student jobs at the
# same time; then SIGTERM stops it cleanly.
source "$(dirname "$0")/common.sh"
ck="$WORK/teacher/best.ckpt"; [ -s "$ck" ] || fail "no teacher checkpoint (fixture teacher_ckpt)"
rm -rf "$WORK/j1" "$WORK/j2"
port="$(free_port)"; ep="tcp://127.0.0.1:$port"
"$BIN_T" --checkpoint "$ck" --bind "$ep" --stats-interval 5 > "$WORK/teacher-service.log" 2>&1 &
tpid=$!
trap 'kill -9 $tpid 2>/dev/null || true' EXIT
sleep 0.5
kill -0 $tpid || { cat "$WORK/teacher-service.log"; fail "teacher service did not start"; }
kd=(--teacher "$ep" --kd-loss kl --temperature 0.1 --td-weight 0 --learning-starts 256 --eval-interval 1000 --max-seconds 120 --quiet)
( timeout 200 "${MPI[@]}" -np 1 "$BIN_L" --net 4-16-2 --name jobA --run-dir "$WORK/j1" "${kd[@]}" \
    : -np 1 "$BIN_A" --seed 4 --quiet || true ) &
j1=$!
( timeout 200 "${MPI[@]}" -np 1 "$BIN_L" --net 4-16-2 --name jobB --run-dir "$WORK/j2" --seed 5 "${kd[@]}" \
    : -np 1 "$BIN_A" --seed 5 --quiet || true ) &
j2=$!
wait $j1 $j2
for j in j1 j2; do
  expect_solved "$WORK/$j"
  n="$(json_get "$WORK/$j/summary.json" teacher_queries_answered)"
  [ "$n" -gt 0 ] || fail "$j got no answers from the shared teacher"
  echo "ok: $j: $n teacher queries answered"
done
kill -TERM $tpid
for i in $(seq 1 30); do kill -0 $tpid 2>/dev/null || break; sleep 0.1; done
kill -0 $tpid 2>/dev/null && fail "teacher service still running 3 s after SIGTERM"
wait $tpid && echo "ok: teacher service exited 0 on SIGTERM" || fail "teacher service exit status $?"
trap - EXIT
tail -3 "$WORK/teacher-service.log"
expect_no_orphans "$WORK/j1"

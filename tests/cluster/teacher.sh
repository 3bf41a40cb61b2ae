#!/usr/bin/env bash
# Fixture for the cluster tests: a 4-64-64-2 teacher trained by a quick local
# mpirun job (1 learner + 2 actors on loopback) -> WORK/teacher/best.ckpt.
# usage: teacher.sh BUILD_DIR WORK_DIR
set -uo pipefail
BUILD="$1"; WORK="$2"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
command -v mpirun >/dev/null || { echo "SKIP: no mpirun"; exit 77; }
mkdir -p "$WORK"; rm -rf "$WORK/teacher"
timeout 240 mpirun --oversubscribe --bind-to none --enable-recovery \
  -np 1 "$BUILD/learner/kdqn-learner" --net 4-64-64-2 --name teacher --run-dir "$WORK/teacher" --seed 2 \
        --max-seconds 180 --quiet \
  : -np 2 "$BUILD/actors/kdqn-actor" --seed 2 --quiet || echo "(mpirun exit $? - the summary decides)"
python3 - "$WORK/teacher/summary.json" <<'PY' || exit 1
import json, sys
s = json.load(open(sys.argv[1]))
assert s["solved"], f"teacher did not reach 475: {s}"
print(f"ok: teacher 4-64-64-2 solved: eval {s['eval_mean']} after {s['env_steps']} env steps")
PY
[ -s "$WORK/teacher/best.ckpt" ] || { echo "FAIL: best.ckpt missing"; exit 1; }

# common.sh — sourced by the system tests. Usage in a test: common.sh BUILD_DIR WORK_DIR
set -euo pipefail
BUILD="$1"; WORK="$2"
BIN_L="$BUILD/learner/kdqn-learner"; BIN_A="$BUILD/actors/kdqn-actor"; BIN_T="$BUILD/teacher/kdqn-teacher"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
MPI=(mpirun --oversubscribe --bind-to none --enable-recovery)
fail() { echo "FAIL: $*" >&2; exit 1; }
# json_get FILE KEY -> the value (numbers, true/false/null, strings without quotes)
json_get() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("null" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1" "$2"; }
expect_solved() {  # run_dir
  [ -f "$1/summary.json" ] || fail "$1/summary.json missing"
  [ "$(json_get "$1/summary.json" solved)" = true ] || { cat "$1/summary.json" >&2; fail "$1 did not reach its target"; }
  echo "ok: $(json_get "$1/summary.json" name) solved: eval $(json_get "$1/summary.json" eval_mean) after $(json_get "$1/summary.json" env_steps_to_475) env steps, $(json_get "$1/summary.json" seconds_to_475) s"
}
# no process started with this tag in its arguments may survive the job
expect_no_orphans() {  # tag
  sleep 0.5
  if pgrep -af -- "$1" | grep -v -e pgrep -e "$0" >/dev/null; then
    pgrep -af -- "$1" >&2; pkill -9 -f -- "$1" || true; fail "orphan processes left behind"
  fi
  echo "ok: no orphan processes"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

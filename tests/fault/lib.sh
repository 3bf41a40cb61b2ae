# lib.sh — sourced by tests/fault/*.sh and tests/load/*.sh. Usage: lib.sh BUILD_DIR WORK_DIR
# Builds on tests/system/common.sh (BIN_*, MPI, fail, json_get, free_port, expect_no_orphans).
source "$(dirname "${BASH_SOURCE[0]}")/../system/common.sh"
BIN_MK="$BUILD/teacher/kdqn-teacher-mkckpt"
CKPT_CHECK="$BUILD/tests/ckpt_check"
TEACHER_LOAD="$BUILD/tests/teacher_load"
now() { date +%s.%N; }
# elapsed A B -> B - A with 2 decimals
elapsed() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }
measure() { echo "measure: $1=$2"; }
# wait_for_line FILE REGEX SECONDS -> 0 when a line matches (polls every 50 ms)
wait_for_line() {
  local deadline; deadline=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -le "$deadline" ]; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
# wait_exit PID SECONDS -> the process's exit status, or 124 if it is still running
# (only for children of this shell)
wait_exit() {
  local i
  for ((i = 0; i < $2 * 20; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$1" 2>/dev/null && return 124
  wait "$1"
}
rss_kb() { local v; v=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null); echo "${v:-0}"; }
# every pid started by a test goes in here; cleanup kills only those
PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

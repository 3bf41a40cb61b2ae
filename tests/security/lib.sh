# lib.sh — sourced by the security and bad-input tests. Usage: lib.sh BUILD_DIR WORK_DIR
set -euo pipefail
BUILD="$1"; WORK="$2"
BIN_L="$BUILD/learner/kdqn-learner"; BIN_A="$BUILD/actors/kdqn-actor"; BIN_T="$BUILD/teacher/kdqn-teacher"
BIN_K="$BUILD/proto/kdqn-keygen"; BIN_H="$BUILD/tests/hostile_client"; BIN_MK="$BUILD/teacher/kdqn-teacher-mkckpt"
export OPENBLAS_NUM_THREADS=1
rm -rf "$WORK"; mkdir -p "$WORK"
PIDS=()
# every process started here is killed (by its own pid) when the script ends, however it ends
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
json_get() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("null" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# rss_kb PID: resident set of PID, or of its child when PID is the `timeout` wrapper
rss_kb() { local p="$1" c; c=$(pgrep -P "$p" | head -n 1 || true); [ -n "$c" ] && p="$c"
  awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0; }
alive() { kill -0 "$1" 2>/dev/null; }
# wait_file PATH SECONDS
wait_file() { local i=0; while [ ! -s "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done; [ -s "$1" ]; }
# start_teacher NAME [flags...]: sets TEP (endpoint) and TPID
start_teacher() {
  local name="$1"; shift
  [ -f "$WORK/teacher.ckpt" ] || "$BIN_MK" 4-32-32-2 "$WORK/teacher.ckpt" 3 >/dev/null
  timeout 150 "$BIN_T" --checkpoint "$WORK/teacher.ckpt" --bind 'tcp://127.0.0.1:*' \
    --endpoint-file "$WORK/$name.ep" --stats-interval 0 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  TPID=$!; PIDS+=("$TPID")
  wait_file "$WORK/$name.ep" 20 || { cat "$WORK/$name.err" >&2; fail "teacher $name did not start"; }
  TEP=$(cat "$WORK/$name.ep")
}
# wait_pid PID SECONDS: sets WRC to the exit status of PID (124 if it had to be killed)
wait_pid() { local i=0; while alive "$1" && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  WRC=0; if alive "$1"; then kill "$1"; wait "$1" 2>/dev/null || true; WRC=124; else wait "$1" || WRC=$?; fi; }

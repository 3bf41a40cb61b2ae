# test_tools_common.sh — sourced by tests/test_tools_*.sh: BUILD_DIR WORK_DIR SOURCE_DIR.
set -euo pipefail
BUILD="$1"; WORK="$2"; SRC="$3"
EVAL="$BUILD/tools/kdqn-eval"; EXPORT="$BUILD/tools/kdqn-export"
MKCKPT="$BUILD/teacher/kdqn-teacher-mkckpt"; TEACHER="$BUILD/teacher/kdqn-teacher"
SKIP=77   # CTest SKIP_RETURN_CODE in tests/tools.cmake
mkdir -p "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
# expect_exit CODE CMD... : runs CMD, its stderr into $WORK/stderr, checks the exit status
expect_exit() {
  local want="$1"; shift
  local got=0
  "$@" >"$WORK/stdout" 2>"$WORK/stderr" || got=$?
  [ "$got" = "$want" ] || { cat "$WORK/stderr" >&2; fail "exit $got (wanted $want): $*"; }
}
# pick_python MODULE... : sets PY to the first interpreter ($KDQN_PYTHON, python3,
# /usr/bin/python3) that imports every MODULE; returns 1 if there is none.
pick_python() {
  local imports; imports="$(IFS=,; echo "$*")"
  local cand
  for cand in ${KDQN_PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "import $imports" >/dev/null 2>&1; then
      PY="$cand"; return 0
    fi
  done
  return 1
}
need_python() {  # MODULE... : pick_python or skip the test with a clear message
  pick_python "$@" || { echo "SKIP: no python3 with modules: $* (Debian: python3-numpy python3-zmq python3-msgpack; or set KDQN_PYTHON)"; exit $SKIP; }
  echo "using $PY ($("$PY" --version 2>&1)) for: $*"
}

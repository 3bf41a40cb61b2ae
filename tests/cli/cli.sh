# Every executable's command line: an unknown flag, a bad value and a missing required
# argument print a message on stderr and exit 2; --help and --version exit 0.
set -uo pipefail
BUILD="$1"; WORK="$2"; rm -rf "$WORK"; mkdir -p "$WORK"
FAILS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
# check STATUS STREAM(out|err) PATTERN CMD...
check() { local want="$1" stream="$2" pat="$3"; shift 3; local rc=0
  OMPI_COMM_WORLD_SIZE= timeout 20 env -u OMPI_COMM_WORLD_SIZE "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || rc=$?
  local name="${1##*/} ${*:2}"
  [ "$rc" = "$want" ] || { fail "$name: exit $rc, want $want"; sed 's/^/  | /' "$WORK/err" >&2; return; }
  grep -Eqi -- "$pat" "$WORK/$stream" || { fail "$name: std$stream lacks /$pat/"; sed 's/^/  | /' "$WORK/$stream" >&2; return; }
  if [ "$want" = 2 ]; then [ -s "$WORK/out" ] && fail "$name: usage error printed on stdout"; fi
  echo "ok: exit $rc: $name"; }
L="$BUILD/learner/kdqn-learner"; A="$BUILD/actors/kdqn-actor"; T="$BUILD/teacher/kdqn-teacher"
C="$BUILD/core/kdqn-cartpole"; K="$BUILD/proto/kdqn-keygen"
for exe in "$L" "$A" "$T" "$C" "$K"; do
  n="${exe##*/}"
  check 2 err "$n.*(--help|usage)" "$exe" --no-such-flag
  check 0 out "usage" "$exe" --help
  check 0 out "$n [0-9]" "$exe" --version
done
# bad values
check 2 err "gamma" "$L" --gamma 2
check 2 err "batch-size" "$L" --batch-size abc
check 2 err "td-loss" "$L" --td-loss bogus
check 2 err "needs a value" "$L" --lr
check 2 err "bind-experience" "$L" --bind-experience not-an-endpoint
check 2 err "envs" "$A" --envs 0
check 2 err "gamma" "$A" --gamma nan
check 2 err "learner" "$A" --learner bogus://x
check 2 err "needs a value" "$A" --envs
check 2 err "actor-id" "$A" --no-mpi --actor-id 3 --num-actors 2
check 2 err "max-batch-states" "$T" --checkpoint x --max-batch-states 0
check 2 err "idle-exit" "$T" --checkpoint x --idle-exit -1
check 2 err "bind" "$T" --checkpoint x --bind nonsense
check 2 err "missing value" "$T" --checkpoint
check 2 err "state" "$C" --state 1,2,3 --actions 0
check 2 err "action" "$C" --state 0,0,0,0 --actions 0,2
check 2 err "name" "$K" "$WORK/keys" --role ../evil
check 2 err "missing value" "$K" "$WORK/keys" --role
check 2 err "unexpected" "$K" "$WORK/keys" extra
# missing required arguments
check 2 err "checkpoint.*required" "$T"
check 2 err "DIR.*required" "$K"
check 2 err "state|actions" "$C" --actions 0,1
check 2 err "state|actions" "$C" --state 0,0,0,0
check 2 err "curve-keys" "$A" --curve-keys ""
check 2 err "curve-keys" "$T" --checkpoint x --curve-keys ""
[ "$FAILS" = 0 ] || { echo "$FAILS failures" >&2; exit 1; }
echo "ok: command lines"

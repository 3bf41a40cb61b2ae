# common.sh — sourced by the cluster tests: real mpirun jobs across three
# "hosts" (network namespaces kh1-kh3 made by shared/tools/netns-cluster).
# Usage in a test: source common.sh BUILD_DIR WORK_DIR NETNS_CLUSTER_SCRIPT
# Exit 77 (CTest SKIP_RETURN_CODE) where namespaces cannot be made.
set -uo pipefail
BUILD="$1"; WORK="$2"; NC="$3"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$HERE/../.." && pwd)"
RUNJOB="$SRC/launch/cluster/run-job"
BIN_L="$BUILD/learner/kdqn-learner"; BIN_A="$BUILD/actors/kdqn-actor"; BIN_T="$BUILD/teacher/kdqn-teacher"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
export KDQN_CLUSTER_DIR="$WORK/netns"              # the script's own files (hostfile, agent, /etc/hosts)
export HOSTFILE="$SRC/launch/cluster/hostfile.example"  # kh1-kh3, 2 slots each
TCK="$WORK/teacher/best.ckpt"                      # from the cluster_teacher fixture
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
json_get() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("null" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$1" "$2"; }

# ---- can we make namespaces at all?
[ -f "$NC" ] || skip "netns-cluster script not found at $NC (shared/ must sit beside the repository)"
[ "$(id -u)" = 0 ] || skip "network namespaces need root"
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || skip "no 'ip netns' (iproute2)"
command -v unshare >/dev/null || skip "no unshare (util-linux)"
command -v mpirun >/dev/null || skip "no mpirun"
for b in "$BIN_L" "$BIN_A" "$BIN_T"; do [ -x "$b" ] || fail "$b not built"; done
mkdir -p "$WORK"

# ---- one cluster at a time on this machine (namespace names are global)
exec 9>"${TMPDIR:-/tmp}/kdqn-netns-cluster.lock"
flock -w 900 9 || skip "another netns-cluster test held the lock for 15 min"
for _ in $(seq 60); do ip netns list | grep -qw khbr || break; sleep 1; done
ip netns list | grep -qw khbr && skip "namespaces kh1-kh3/khbr already exist (another user's cluster, or a stale one: '$NC down')"

BG_PIDS=()
cluster_cleanup() {
  local rc=$?
  for p in "${BG_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  # frozen processes first get SIGCONT so that SIGKILL from 'down' is delivered at once
  for h in kh1 kh2 kh3; do for p in $(ip netns pids $h 2>/dev/null); do kill -CONT "$p" 2>/dev/null; done; done
  NHOSTS=3 bash "$NC" down >/dev/null 2>&1
  ip netns list | grep -qE '^kh(1|2|3|br)\b' && echo "WARNING: namespaces left behind" >&2
  exit $rc
}
trap cluster_cleanup EXIT
trap 'exit 130' INT TERM
NHOSTS=3 SLOTS=2 bash "$NC" up > "$WORK/netns-up.log" 2>&1 || true
# 'up' checks with ping; check ourselves too (ping may be missing): a TCP connect kh1 -> kh3
ip netns list | grep -qw kh3 || { cat "$WORK/netns-up.log"; skip "netns-cluster up could not create the namespaces"; }
ip netns exec kh3 python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("10.77.0.3",47000)); s.listen(1); s.settimeout(10); s.accept(); time.sleep(0.1)' &
sleep 0.3
ip netns exec kh1 python3 -c 'import socket; socket.create_connection(("10.77.0.3",47000),5).close()' \
  || { cat "$WORK/netns-up.log"; fail "kh1 cannot reach kh3 over the bridge"; }
wait

nc_run() { bash "$NC" run "$@"; }          # mpirun inside kh1 (RUN_NS=kh2 ... to start it elsewhere)
nc_exec() { bash "$NC" exec "$@"; }
# kdqn-* processes living in one host's namespace: "pid comm" lines
host_procs() { local p; for p in $(ip netns pids "$1" 2>/dev/null); do
  c=$(cat /proc/$p/comm 2>/dev/null) && case "$c" in kdqn-*) echo "$p $c" ;; esac; done; }
host_pids_of() { host_procs "$1" | awk -v c="$2" '$2 == c {print $1}'; }
# nothing at all may still run in the host namespaces (mpirun, orted, ranks)
expect_hosts_empty() {
  local h left=""
  for _ in $(seq 50); do
    left=""; for h in kh1 kh2 kh3; do left+="$(ip netns pids $h 2>/dev/null | tr '\n' ' ')"; done
    [ -z "${left// /}" ] && { echo "ok: no process left on kh1-kh3"; return 0; }
    sleep 0.2
  done
  for p in $left; do echo "left: $p $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | cut -c1-120)" >&2; done
  fail "processes left behind on the hosts"
}
# waits (up to $2 s) until the file $1 contains the pattern $3; prints the time it was seen
wait_for_line() {
  local f="$1" t="$2" pat="$3" end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt $end ]; do
    grep -qE -- "$pat" "$f" 2>/dev/null && { date +%s.%N; return 0; }
    sleep 0.05
  done
  return 1
}
wait_for_count() {  # file seconds pattern count
  local end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt $end ]; do
    local n; n=$(grep -cE -- "$3" "$1" 2>/dev/null)
    [ "${n:-0}" -ge "$4" ] && { date +%s.%N; return 0; }
    sleep 0.05
  done
  return 1
}
need_teacher() { [ -s "$TCK" ] || fail "no teacher checkpoint $TCK (fixture cluster_teacher)"; }

#!/usr/bin/env bash
# A learner that advertises 127.0.0.1 (no --bind-host) to actors on other hosts:
# every rank must stop at start-up with a clear message and exit status 3, no hang.
# Learner on kh2, actors on kh1 and kh3. Each rank runs under a tiny wrapper that
# records its own exit status (mpirun --enable-recovery would hide it).
# usage: misconfig.sh BUILD_DIR WORK_DIR NETNS_CLUSTER
source "$(dirname "$0")/common.sh"
d="$WORK/misconfig"; rm -rf "$d"; mkdir -p "$d"
wrap=(bash -c 'f="$1"; shift; "$@"; rc=$?; echo $rc > "$f"; exit $rc' wrap)
t0=$(date +%s)
timeout -k 5 60 bash "$NC" run --enable-recovery --oversubscribe -x OPENBLAS_NUM_THREADS \
  -np 1 --host kh2 "${wrap[@]}" "$d/rc.learner" "$BIN_L" --net 4-16-2 --run-dir "$d/run" --max-seconds 30 --quiet \
  : -np 1 --host kh1 "${wrap[@]}" "$d/rc.actor-kh1" "$BIN_A" --quiet \
  : -np 1 --host kh3 "${wrap[@]}" "$d/rc.actor-kh3" "$BIN_A" --quiet > "$d/job.log" 2>&1
mrc=$?; t=$(( $(date +%s) - t0 ))
cat "$d/job.log" | grep -v "PMIX ERROR"
[ $mrc = 124 ] || [ $mrc = 137 ] && fail "the job hung (killed by timeout after ${t} s)"
echo "ok: the job ended by itself in ${t} s (mpirun exit $mrc)"
for r in learner actor-kh1 actor-kh3; do
  [ "$(cat "$d/rc.$r" 2>/dev/null)" = 3 ] || fail "$r: exit status '$(cat "$d/rc.$r" 2>/dev/null)', want 3"
done
echo "ok: learner and both actors exited 3"
grep -q "kdqn-learner: rendezvous failed: .*learner 0 on host kh2 advertises loopback endpoint tcp://127.0.0.1:" "$d/job.log" \
  || fail "no clear message from the learner"
[ "$(grep -c "\[actor\] error: .*learner 0 on host kh2 advertises loopback endpoint .* unreachable from actor . on host kh[13]" "$d/job.log")" = 2 ] \
  || fail "no clear message from each actor"
echo "ok: the learner and each actor named the loopback endpoint and the hosts"
[ ! -e "$d/run/summary.json" ] || fail "the learner trained anyway"
expect_hosts_empty

#!/usr/bin/env bash
# Fault: SIGKILL the learner at random moments while it writes checkpoints
# (--checkpoint-interval 0.05), 20 times, resuming each time from what is on
# disk. After every kill checkpoint.ckpt must either load fully (ckpt_check:
# magic, version, sizes, CRC-32C, architecture, full training state, sane
# counters) with counters never going back, or be absent (only before the
# first one was written). Stray checkpoint.ckpt.tmp.* files are tolerated and
# never loaded. Finally --resume with a spent budget loads it and exits.
source "$(dirname "$0")/lib.sh"
run="$WORK/ckpt_kill"; rm -rf "$run" "$run".*; mkdir -p "$WORK"
kills=${KDQN_CKPT_KILLS:-20}
p1=$(free_port); p2=$(free_port)
exp="tcp://127.0.0.1:$p1"; wts="tcp://127.0.0.1:$p2"
L=("$BIN_L" --no-mpi --bind-experience "$exp" --bind-weights "$wts" --net 4-64-64-2 --run-dir "$run"
   --target-return 1e9 --max-seconds 1000 --eval-interval 1000000 --checkpoint-interval 0.05 --quiet)
"$BIN_A" --learner "$exp" --weights "$wts" --actor-id 0 --num-actors 1 --seed 41 --learner-timeout 60 --quiet 2> "$run.a0.log" &
a0=$!; PIDS+=($a0)
prev_env=-1; n_ok=0; n_absent=0; max_tmp=0
RANDOM=$$
for ((i = 1; i <= kills; i++)); do
  resume=(); [ -f "$run/checkpoint.ckpt" ] && resume=(--resume)
  "${L[@]}" "${resume[@]}" > /dev/null 2>> "$run.log" &
  lp=$!; PIDS+=($lp)
  sleep "0.$((300 + RANDOM % 700))"
  kill -0 $lp 2>/dev/null || { tail "$run.log" >&2; fail "kill $i: learner exited by itself"; }
  kill -9 $lp; wait $lp 2>/dev/null || true
  r=0; out=$("$CKPT_CHECK" "$run/checkpoint.ckpt" 4-64-64-2) || r=$?
  ntmp=$(find "$run" -name 'checkpoint.ckpt.tmp.*' | wc -l); [ "$ntmp" -gt "$max_tmp" ] && max_tmp=$ntmp
  case $r in
    0) env=$(sed -nE 's/.*env_steps=([0-9]+).*/\1/p' <<<"$out")
       [ "$env" -ge "$prev_env" ] || fail "kill $i: checkpoint went back: env_steps $prev_env -> $env"
       prev_env=$env; n_ok=$((n_ok + 1)); echo "kill $i: $out (${#resume[@]} = resumed; $ntmp stray tmp)";;
    3) [ $n_ok = 0 ] || fail "kill $i: checkpoint.ckpt vanished after one had been written"
       n_absent=$((n_absent + 1)); echo "kill $i: absent (killed before the first checkpoint)";;
    *) cp "$run/checkpoint.ckpt" "$run.bad.$i" 2>/dev/null || true
       fail "kill $i: checkpoint.ckpt is corrupt: $out (kept as $run.bad.$i)";;
  esac
done
[ $n_ok -gt 0 ] || fail "no checkpoint was ever written"
measure ckpt_kills "$kills"; measure ckpt_valid_after_kill "$n_ok"; measure ckpt_absent_after_kill "$n_absent"
measure ckpt_corrupt_after_kill 0; measure ckpt_stray_tmp_max "$max_tmp"
echo "ok: $kills SIGKILLs during checkpointing: $n_ok valid, $n_absent absent, 0 corrupt; up to $max_tmp stray tmp file(s), never loaded"
# the last one resumes (budget already spent: it loads, writes its final checkpoint, exits 1)
st=0; timeout 60 "$BIN_L" --no-mpi --bind-experience "$exp" --bind-weights "$wts" --net 4-64-64-2 --run-dir "$run" \
  --target-return 1e9 --max-seconds 0.5 --resume 2> "$run.final.log" > /dev/null || st=$?
[ $st = 1 ] || { cat "$run.final.log" >&2; fail "final --resume exit status $st (want 1)"; }
grep -q "resumed from" "$run.final.log" || fail "final --resume did not resume"
echo "ok: $(grep -m1 'resumed from' "$run.final.log")"
"$CKPT_CHECK" "$run/checkpoint.ckpt" 4-64-64-2 >/dev/null || fail "final checkpoint does not load"
kill -TERM $a0; s=0; wait_exit $a0 10 || s=$?; [ $s = 0 ] || fail "actor exit status $s on SIGTERM"
expect_no_orphans "$run"; expect_no_orphans "$exp"

#!/usr/bin/env bash
# examples/python/teacher_client.py against a real standalone kdqn-teacher (ephemeral
# port on 127.0.0.1, started and stopped here): info matches the checkpoint, the
# reply's q equals mlp_infer's (kdqn-eval --print-q) to 1e-6 and p = softmax(q/T).
# Skips (exit 77) without a python3 that has pyzmq and msgpack.
#   test_tools_teacher_client.sh BUILD_DIR WORK_DIR SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/test_tools_common.sh"
need_python zmq msgpack json
W="$WORK/tclient"; rm -rf "$W"; mkdir -p "$W"
CLIENT="$SRC/examples/python/teacher_client.py"
ARCH=4-256-256-2
STATES='0,0,0,0;0.02,-0.1,0.03,0.2;-0.5,0.3,-0.1,-0.4;1,0.5,0.15,0.8;2.3,-1.7,0.2,2.5'
"$MKCKPT" "$ARCH" "$W/teacher.ckpt" 5 || fail mkckpt

TPID="" TRC=""
stop_teacher() {
  if [ -n "$TPID" ] && kill -0 "$TPID" 2>/dev/null; then
    kill -TERM "$TPID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$TPID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$TPID" 2>/dev/null && kill -KILL "$TPID" 2>/dev/null || true
  fi
  if [ -n "$TPID" ]; then TRC=0; wait "$TPID" 2>/dev/null || TRC=$?; fi
}
trap stop_teacher EXIT
# --max-seconds: even if this script is killed outright, the teacher does not outlive it long.
"$TEACHER" --checkpoint "$W/teacher.ckpt" --bind 'tcp://127.0.0.1:*' --endpoint-file "$W/endpoint" \
  --max-seconds 120 --stats-interval 0 --quiet 2>"$W/teacher.log" &
TPID=$!
for _ in $(seq 100); do [ -s "$W/endpoint" ] && break; kill -0 "$TPID" 2>/dev/null || break; sleep 0.1; done
[ -s "$W/endpoint" ] || { cat "$W/teacher.log" >&2; fail "the teacher did not start"; }
EP="$(head -n1 "$W/endpoint")"
ok "teacher pid $TPID listening on $EP"

expect_exit 0 "$EVAL" --checkpoint "$W/teacher.ckpt" --episodes 0 --print-q "$STATES" --json
cp "$WORK/stdout" "$W/ref.json"
for T in 1 0.1 3.5; do
  expect_exit 0 "$PY" "$CLIENT" --endpoint "$EP" --temperature "$T" --states "$STATES" --json --timeout 10
  cp "$WORK/stdout" "$W/client-$T.json"
  "$PY" - "$W/client-$T.json" "$W/ref.json" "$ARCH" "$T" <<'PY' || fail "client answer at T=$T"
import json, math, sys
c, r, arch, T = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3], float(sys.argv[4])
assert c["info"]["arch"] == arch and c["info"]["obs_dim"] == 4 and c["info"]["n_act"] == 2, c["info"]
assert len(c["q"]) == len(r["q"]) == len(c["p"]) == 5
err = 0.0
for qc, qr, p in zip(c["q"], r["q"], c["p"]):
    for a, b in zip(qc, qr):
        err = max(err, abs(a - b) / max(1.0, abs(b)))
    m = max(x / T for x in qr)
    e = [math.exp(x / T - m) for x in qr]
    for pa, ea in zip(p, e):
        assert abs(pa - ea / sum(e)) <= 1e-6, (p, e)
    assert abs(sum(p) - 1) <= 1e-6, p
assert err <= 1e-6, "q differs from mlp_infer by %g" % err
print("ok: T=%g: q matches kdqn-eval's mlp_infer (max error %.2g), p = softmax(q/T)" % (T, err))
PY
done
# The human-readable form works too.
expect_exit 0 "$PY" "$CLIENT" --endpoint "$EP" --temperature 0.5
grep -q "^teacher $ARCH: obs_dim 4, 2 actions" "$WORK/stdout" || { cat "$WORK/stdout"; fail "human output"; }
[ "$(grep -c '^state ' "$WORK/stdout")" = 4 ] || fail "human output: 4 default states"
ok "human output"
# A state of the wrong width is refused by the client (exit 1), and the teacher keeps serving.
expect_exit 1 "$PY" "$CLIENT" --endpoint "$EP" --states '1,2,3' --timeout 10
grep -q "every state needs 4 values" "$WORK/stderr" || fail "wrong-width message: $(cat "$WORK/stderr")"
kill -0 "$TPID" 2>/dev/null || fail "the teacher died"

stop_teacher
[ "$TRC" = 0 ] || { cat "$W/teacher.log" >&2; fail "the teacher exited $TRC on SIGTERM (wanted 0)"; }
kill -0 "$TPID" 2>/dev/null && fail "teacher pid $TPID still alive"
grep -q 'rejected=0' "$W/teacher.log" || { cat "$W/teacher.log" >&2; fail "the teacher rejected messages of the client"; }
TPID=""
ok "teacher stopped (no orphan); $(grep -o 'requests=[0-9]* states=[0-9]* rejected=[0-9]*' "$W/teacher.log")"

# No teacher: the client gives up after --timeout with a clear message.
expect_exit 1 "$PY" "$CLIENT" --endpoint "$EP" --timeout 0.5
grep -q "no answer from the teacher" "$WORK/stderr" || fail "timeout message: $(cat "$WORK/stderr")"
ok "no teacher: $(cat "$WORK/stderr")"

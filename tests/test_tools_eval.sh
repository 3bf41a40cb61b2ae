#!/usr/bin/env bash
# kdqn-eval end to end: a random checkpoint gives a plausible greedy result and
# --json parses; corrupt, truncated, foreign, missing and wrong-shape checkpoints
# and bad flags exit 2 with a message naming the file.
#   test_tools_eval.sh BUILD_DIR WORK_DIR SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/test_tools_common.sh"
W="$WORK/eval"; rm -rf "$W"; mkdir -p "$W"
"$MKCKPT" 4-64-64-2 "$W/rand.ckpt" 11 || fail "mkckpt"

# human line
expect_exit 0 "$EVAL" --checkpoint "$W/rand.ckpt" --episodes 50
grep -Eq '^kdqn-eval: .*rand.ckpt 4-64-64-2 on CartPole-v1, 50 greedy episodes \(seed 0\): mean [0-9.]+ std [0-9.]+ min [0-9]+ max [0-9]+' "$WORK/stdout" \
  || { cat "$WORK/stdout"; fail "human line"; }
ok "human line: $(cat "$WORK/stdout")"

# --json: a parseable object with consistent, plausible figures (python3's json: stdlib only)
pick_python json || { echo "SKIP: no python3"; exit $SKIP; }
check_json() {  # file episodes max_return
  "$PY" - "$@" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); n = int(sys.argv[2]); cap = float(sys.argv[3])
for k in ("checkpoint", "arch", "env", "episodes", "seed", "mean", "std", "min", "max", "solved"):
    assert k in j, "missing key %s" % k
assert j["episodes"] == n and j["arch"] == "4-64-64-2", j
assert 1 <= j["min"] <= j["mean"] <= j["max"] <= cap, j
assert 0 <= j["std"] <= (j["max"] - j["min"]), j
assert j["solved"] == (j["mean"] >= (475 if cap == 500 else 195)), j
print("json ok:", {k: j[k] for k in ("env", "episodes", "mean", "std", "min", "max")})
PY
}
expect_exit 0 "$EVAL" --checkpoint "$W/rand.ckpt" --episodes 40 --seed 5 --json
cp "$WORK/stdout" "$W/a.json"; check_json "$W/a.json" 40 500 || fail "json v1"
expect_exit 0 "$EVAL" --checkpoint="$W/rand.ckpt" --episodes=40 --seed=5 --json
cmp -s <(grep -o '"mean": [0-9.]*' "$W/a.json") <(grep -o '"mean": [0-9.]*' "$WORK/stdout") || fail "same seed, different result"
ok "same seed gives the same result"
expect_exit 0 "$EVAL" --checkpoint "$W/rand.ckpt" --episodes 30 --v0 --json
cp "$WORK/stdout" "$W/v0.json"; check_json "$W/v0.json" 30 200 || fail "json v0"
grep -q '"env": "CartPole-v0"' "$W/v0.json" || fail "--v0 not reported"

# --print-q: Q-values only (the cross-checks against Python live in test_tools_export.sh)
expect_exit 0 "$EVAL" --checkpoint "$W/rand.ckpt" --episodes 0 --print-q '0,0,0,0;0.1,-0.2,0.03,0.4'
[ "$(grep -c '^q ' "$WORK/stdout")" = 2 ] || { cat "$WORK/stdout"; fail "--print-q lines"; }
expect_exit 2 "$EVAL" --checkpoint "$W/rand.ckpt" --print-q '1,2,3'
grep -q 'not a whole number of states' "$WORK/stderr" || fail "--print-q 3 values message"
expect_exit 2 "$EVAL" --checkpoint "$W/rand.ckpt" --print-q '1,x,3,4'
ok "--print-q"

# bad checkpoints: exit 2, the file named, ckpt_strerror's text
bad() {  # file expected-text
  expect_exit 2 "$EVAL" --checkpoint "$1"
  grep -qF "'$1'" "$WORK/stderr" || { cat "$WORK/stderr"; fail "message does not name $1"; }
  grep -qi -- "$2" "$WORK/stderr" || { cat "$WORK/stderr"; fail "message for $1 lacks '$2'"; }
  ok "$(basename "$1"): $(cat "$WORK/stderr")"
}
cp "$W/rand.ckpt" "$W/corrupt.ckpt"
printf '\x5a' | dd of="$W/corrupt.ckpt" bs=1 seek=300 conv=notrunc 2>/dev/null
bad "$W/corrupt.ckpt" "checksum"
head -c 1000 "$W/rand.ckpt" >"$W/truncated.ckpt"; bad "$W/truncated.ckpt" "truncated"
printf 'hello, this is not a checkpoint at all........................................................\n' >"$W/text.ckpt"
bad "$W/text.ckpt" "magic"
: >"$W/empty.ckpt"; bad "$W/empty.ckpt" "checkpoint"
bad "$W/does-not-exist.ckpt" "No such file"
"$MKCKPT" 4-8-3 "$W/three.ckpt" 1 || fail "mkckpt 4-8-3"
bad "$W/three.ckpt" "4-8-3"
expect_exit 0 "$EVAL" --checkpoint "$W/three.ckpt" --episodes 0 --print-q 0,0,0,0   # any shape for --print-q
expect_exit 2 "$EVAL" --checkpoint "$W/rand.ckpt" --target
grep -q 'no target-network' "$WORK/stderr" || fail "--target without target params"

# flags
expect_exit 2 "$EVAL"
grep -q -- '--checkpoint' "$WORK/stderr" || fail "missing --checkpoint message"
expect_exit 2 "$EVAL" --checkpoint "$W/rand.ckpt" --episodes 0
expect_exit 2 "$EVAL" --checkpoint "$W/rand.ckpt" --episodes -3
expect_exit 2 "$EVAL" --checkpoint "$W/rand.ckpt" --episodes many
expect_exit 2 "$EVAL" --checkpoint "$W/rand.ckpt" --no-such-flag
expect_exit 2 "$EVAL" --checkpoint "$W/rand.ckpt" stray
expect_exit 2 "$EVAL" --checkpoint
expect_exit 0 "$EVAL" --help
for f in checkpoint 'episodes X .*\[100\]' 'seed X .*\[0\]' 'v0 ' json print-q; do
  grep -Eq -- "--$f" "$WORK/stdout" || { cat "$WORK/stdout"; fail "--help lacks --$f"; }
done
expect_exit 0 "$EVAL" --version
grep -Eq '^kdqn-eval [0-9]+\.[0-9]+\.[0-9]+' "$WORK/stdout" || fail "--version: $(cat "$WORK/stdout")"
ok "flags, --help, --version"

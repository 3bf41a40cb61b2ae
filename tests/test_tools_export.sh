#!/usr/bin/env bash
# kdqn-export end to end.
#   test_tools_export.sh cli   BUILD_DIR WORK_DIR SOURCE_DIR   flags, bad inputs, zip validity (no numpy)
#   test_tools_export.sh numpy BUILD_DIR WORK_DIR SOURCE_DIR   numpy loads the files; its forward pass
#        equals kdqn-eval --print-q (mlp_infer) to 1e-6, for several architectures
mode="$1"; shift
source "$(dirname "${BASH_SOURCE[0]}")/test_tools_common.sh"
W="$WORK/export-$mode"; rm -rf "$W"; mkdir -p "$W"
STATES='0,0,0,0;0.01,0.02,-0.03,0.04;-0.5,0.3,-0.1,-0.4;2.3,-1.7,0.2,2.5;-2.4,3,-0.2,-3;0.049,-0.049,0.01,-0.02'

if [ "$mode" = cli ]; then
  "$MKCKPT" 4-16-2 "$W/s.ckpt" 2 || fail mkckpt
  expect_exit 0 "$EXPORT" --checkpoint "$W/s.ckpt"
  [ -f "$W/s.npz" ] || fail "default output s.npz missing"
  grep -q "wrote $W/s.npz" "$WORK/stdout" || fail "no 'wrote' line"
  expect_exit 0 "$EXPORT" --checkpoint "$W/s.ckpt" --format npz --out "$W/again.npz" --quiet
  [ ! -s "$WORK/stdout" ] || fail "--quiet printed something"
  cmp -s "$W/s.npz" "$W/again.npz" || fail "two exports of one checkpoint differ"
  ok "npz written, deterministic"
  expect_exit 0 "$EXPORT" --checkpoint "$W/s.ckpt" --format npy
  for f in W0 b0 W1 b1 arch; do [ -f "$W/s-npy/$f.npy" ] || fail "s-npy/$f.npy missing"; done
  [ -f "$W/s-npy/arch.json" ] || fail "arch.json missing"
  ok "npy folder written"
  ls "$W" | grep -q '\.tmp\.' && fail "temporary file left behind"
  # The zip container, checked by Python's zipfile (stdlib: CRC-32 of every entry) and unzip if present.
  if pick_python zipfile; then
    "$PY" - "$W/s.npz" <<'PY' || fail "zipfile rejects the npz"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    assert [i.filename for i in z.infolist()] == ["W0.npy", "b0.npy", "W1.npy", "b1.npy", "arch.npy", "arch.json"]
    for i in z.infolist():
        assert i.compress_type == zipfile.ZIP_STORED
        d = z.read(i)
        if i.filename.endswith(".npy"):
            assert d.startswith(b"\x93NUMPY\x01\x00") and (10 + d[8] + 256 * d[9]) % 64 == 0
    assert b"{'descr': '<f4', 'fortran_order': False, 'shape': (4, 16), }" in z.read("W0.npy")
    assert b"'shape': (16,), }" in z.read("b0.npy")
print("ok: zipfile: entries, CRC-32s, STORED, .npy v1.0 headers")
PY
  fi
  if command -v unzip >/dev/null; then unzip -tq "$W/s.npz" >/dev/null || fail "unzip -t"; ok "unzip -t"; fi
  # bad inputs
  expect_exit 2 "$EXPORT"
  expect_exit 2 "$EXPORT" --checkpoint "$W/s.ckpt" --format zip
  grep -q "'zip' is not npz or npy" "$WORK/stderr" || fail "--format message"
  expect_exit 2 "$EXPORT" --checkpoint "$W/s.ckpt" --out ""
  expect_exit 2 "$EXPORT" --checkpoint "$W/s.ckpt" --bogus
  expect_exit 2 "$EXPORT" --checkpoint "$W/nope.ckpt"
  grep -qF "'$W/nope.ckpt'" "$WORK/stderr" || fail "missing file not named"
  cp "$W/s.ckpt" "$W/bad.ckpt"; printf '\x01' | dd of="$W/bad.ckpt" bs=1 seek=100 conv=notrunc 2>/dev/null
  expect_exit 2 "$EXPORT" --checkpoint "$W/bad.ckpt" --out "$W/bad.npz"
  grep -q "checksum" "$WORK/stderr" || fail "corrupt checkpoint message: $(cat "$WORK/stderr")"
  [ ! -e "$W/bad.npz" ] || fail "output written for a corrupt checkpoint"
  expect_exit 2 "$EXPORT" --checkpoint "$W/s.ckpt" --target
  expect_exit 3 "$EXPORT" --checkpoint "$W/s.ckpt" --out "$W/no/such/dir/x.npz"
  expect_exit 0 "$EXPORT" --help
  grep -Eq -- '--format X .*\[npz\]' "$WORK/stdout" || fail "--help default of --format"
  expect_exit 0 "$EXPORT" --version
  grep -Eq '^kdqn-export [0-9]' "$WORK/stdout" || fail "--version"
  ok "bad inputs exit 2 (3 for an unwritable output), --help, --version"
  exit 0
fi

[ "$mode" = numpy ] || fail "mode must be cli or numpy"
need_python numpy zipfile json
for arch in 4-16-2 4-64-64-2 4-256-256-2 4-32-16-8-2; do
  "$MKCKPT" "$arch" "$W/$arch.ckpt" 7 || fail "mkckpt $arch"
  expect_exit 0 "$EXPORT" --checkpoint "$W/$arch.ckpt" --out "$W/$arch.npz" --quiet
  expect_exit 0 "$EXPORT" --checkpoint "$W/$arch.ckpt" --format npy --out "$W/$arch-npy" --quiet
  expect_exit 0 "$EVAL" --checkpoint "$W/$arch.ckpt" --episodes 0 --print-q "$STATES" --json
  cp "$WORK/stdout" "$W/$arch.q.json"
  expect_exit 0 "$PY" "$SRC/examples/python/load_student.py" "$W/$arch.npz" --states "$STATES" --json
  cp "$WORK/stdout" "$W/$arch.ls.json"
  echo "-- $arch"
  "$PY" "$SRC/tests/test_tools_export.py" "$W/$arch.q.json" "$W/$arch.npz" "$W/$arch-npy" "$arch" "$W/$arch.ls.json" \
    || fail "numpy check for $arch"
done
# load_student.py's numpy CartPole port and kdqn-eval agree on the scale of the greedy returns
# (different reset draws, so only roughly).
expect_exit 0 "$PY" "$SRC/examples/python/load_student.py" "$W/4-64-64-2-npy" --episodes 30 --json
cp "$WORK/stdout" "$W/ls-episodes.json"
expect_exit 0 "$EVAL" --checkpoint "$W/4-64-64-2.ckpt" --episodes 30 --json
"$PY" - "$W/ls-episodes.json" "$WORK/stdout" <<'PY' || fail "load_student.py episodes disagree with kdqn-eval"
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print("load_student.py mean %.2f [%d, %d]; kdqn-eval mean %.2f [%d, %d]" % (a["mean"], a["min"], a["max"], b["mean"], b["min"], b["max"]))
assert abs(a["mean"] - b["mean"]) <= max(3.0, 0.25 * b["mean"])
PY
ok "load_student.py --episodes (npy folder) agrees with kdqn-eval"

# Safe defaults: no all-interface binds without --allow-all-interfaces, loopback
# defaults, and a bad --curve-keys folder stops every executable with status 2.
source "$(dirname "$0")/lib.sh"
"$BIN_MK" 4-32-32-2 "$WORK/teacher.ckpt" 3 >/dev/null
P=$(free_port)
# expect STATUS PATTERN CMD...: exit status and a stderr line matching PATTERN
expect() { local want="$1" pat="$2"; shift 2; local rc=0
  timeout 20 "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ "$rc" = "$want" ] || { cat "$WORK/err" >&2; fail "exit $rc, want $want: $*"; }
  [ -z "$pat" ] || grep -Eq -- "$pat" "$WORK/err" || { cat "$WORK/err" >&2; fail "stderr lacks /$pat/: $*"; }
  echo "ok: exit $rc: ${*#$BUILD/}"; }
T=("$BIN_T" --checkpoint "$WORK/teacher.ckpt" --no-mpi)
for ep in "tcp://0.0.0.0:$P" "tcp://*:$P" "tcp://[::]:$P"; do
  expect 2 "every interface.*--allow-all-interfaces" "${T[@]}" --bind "$ep"
done
expect 0 "" "${T[@]}" --bind "tcp://0.0.0.0:*" --allow-all-interfaces --max-seconds 0.5
L=("$BIN_L" --no-mpi --max-seconds 0.5 --quiet)
expect 2 "every interface.*--allow-all-interfaces" "${L[@]}" --run-dir "$WORK/l1" --bind-experience "tcp://0.0.0.0:$P"
expect 2 "every interface.*--allow-all-interfaces" "${L[@]}" --run-dir "$WORK/l2" --bind-weights "tcp://*:$P"
expect 2 "wants tcp://HOST:PORT" "${L[@]}" --run-dir "$WORK/l3" --bind-experience "ipc:///tmp/x"
P2=$(free_port)
expect 1 "" "${L[@]}" --run-dir "$WORK/l4" --allow-all-interfaces --bind-experience "tcp://0.0.0.0:$P" --bind-weights "tcp://*:$P2"
# the defaults are loopback
"$BIN_T" --help | grep -q "default tcp://127.0.0.1:5555" || fail "teacher default bind is not loopback"
"$BIN_L" --help | grep -q "bind-experience.*tcp://127.0.0.1:5556" || fail "learner default experience bind is not loopback"
"$BIN_L" --help | grep -q "bind-weights.*tcp://127.0.0.1:5557" || fail "learner default weights bind is not loopback"
"$BIN_A" --help | grep -q "default tcp://127.0.0.1:5556" || fail "actor default is not loopback"
ok "default endpoints are loopback"

# key folders: missing, malformed, incomplete -> a clear message and status 2
K="$WORK/keys"; "$BIN_K" "$K" >/dev/null
A=("$BIN_A" --no-mpi --max-env-steps 1 --learner "tcp://127.0.0.1:$P" --weights "tcp://127.0.0.1:$P2")
for exe in T L A; do
  case $exe in T) C=("${T[@]}" --bind "tcp://127.0.0.1:*");; L) C=("${L[@]}" --run-dir "$WORK/lk");; A) C=("${A[@]}");; esac
  expect 2 "curve-keys.*nonexistent" "${C[@]}" --curve-keys "$WORK/nonexistent"
done
cp -r "$K" "$WORK/bad1"; echo "not a key" >"$WORK/bad1/server.key"
expect 2 "server.key.*Z85" "${T[@]}" --bind "tcp://127.0.0.1:*" --curve-keys "$WORK/bad1"
expect 2 "server.key.*Z85" "${L[@]}" --run-dir "$WORK/lk2" --curve-keys "$WORK/bad1"
cp -r "$K" "$WORK/bad2"; rm "$WORK/bad2/authorized/client.pub"
expect 2 "authorized.*no" "${T[@]}" --bind "tcp://127.0.0.1:*" --curve-keys "$WORK/bad2"
cp -r "$K" "$WORK/bad3"; rm "$WORK/bad3/server.pub"
expect 2 "server.pub" "${A[@]}" --curve-keys "$WORK/bad3"
cp -r "$K" "$WORK/bad4"; cp "$WORK/bad4/server.pub" "$WORK/bad4/client.pub"
expect 2 "client.pub.*does not match" "${A[@]}" --curve-keys "$WORK/bad4"
expect 2 "client.pub.*does not match" "${L[@]}" --run-dir "$WORK/lk3" --curve-keys "$WORK/bad4" --teacher "tcp://127.0.0.1:$P"
# keygen refuses to overwrite
expect 2 "exists.*--force" "$BIN_K" "$K"
expect 0 "" "$BIN_K" "$K" --force
[ "$(stat -c %a "$K/server.key")" = 600 ] && [ "$(stat -c %a "$K/client.key")" = 600 ] || fail "secret keys not mode 0600"
ok "safe defaults"

#!/bin/bash
# Secrets do not leak through core dumps, ps or unclear errors:
# - the controller and the agent write no core dumps, whatever ulimit -c
#   says (RLIMIT_CORE 0, not dumpable);
# - --secret K=V warns that the value is in the shell history and ps,
#   recommends --secret K, and the value is gone from ps at once;
# - a 100 KB or non-UTF-8 secret is refused at launch naming the secret
#   and the limit (found: an unclear E2BIG).
. "$(dirname "$0")/lib.sh"
ulimit -c unlimited
SECRET="s3cr3t-$(date +%s%N)"
cat > "$TMP/t.yaml" <<'YAML'
run: |
  echo "len ${#TOKEN}"
  sleep 4
YAML
frugal launch "$TMP/t.yaml" --secret "TOKEN=$SECRET" > "$TMP/out" 2> "$TMP/err" &
launcher=$!
for i in $(seq 200); do grep -q "^len" "$TMP/out" 2>/dev/null && break; sleep 0.05; done
grep -q "^len ${#SECRET}" "$TMP/out" || fail "the job did not get its secret: $(cat $TMP/out $TMP/err)"
ps -eo args ww > "$TMP/ps"
grep -q "$SECRET" "$TMP/ps" && fail "the secret is visible in ps during an attached launch"
ok "the secret left ps while the attached launch runs"
cpid=$(cat "$FRUGAL_HOME/controller.pid")
apid=$(pgrep -f "agent --instance-dir $FRUGAL_HOME/" | head -1)
[ -n "$apid" ] || fail "no agent"
for p in "$cpid" "$apid"; do
	grep -q "^Max core file size *0 *0" /proc/$p/limits ||
		fail "process $p may dump core: $(grep core /proc/$p/limits)"
done
ok "controller and agent write no core dumps (RLIMIT_CORE 0)"
wait $launcher || fail "the attached launch failed: $(cat $TMP/err)"
grep -q "warning: --secret TOKEN=VALUE puts the value in your shell history and, while this runs, in 'ps'.*pass --secret TOKEN instead" "$TMP/err" ||
	fail "no warning for --secret K=V: $(cat $TMP/err)"
ok "--secret K=V warns and recommends --secret K"

BIG=$(head -c 100000 /dev/zero | tr '\0' 'a')
BIG=$BIG frugal launch -d "$TMP/t.yaml" --secret BIG > "$TMP/out" 2>&1 && fail "a 100 KB secret was accepted"
grep -q "secret 'BIG' is 100000 bytes, over the limit of 64 KiB" "$TMP/out" || fail "unclear error: $(cat $TMP/out)"
BIN=$(printf 'a\377\376b') frugal launch -d "$TMP/t.yaml" --secret BIN > "$TMP/out" 2>&1 && fail "a non-UTF-8 secret was accepted"
grep -q "secret 'BIN' is not UTF-8 text" "$TMP/out" || fail "unclear error: $(cat $TMP/out)"
ok "large and binary secrets refused at launch with the name and the limit"

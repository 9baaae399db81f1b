#!/bin/bash
# The dead-man switch: with the controller killed and never restarted, an
# agent still ends its machine when the job ends and on max_runtime.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/short.yaml" <<'YAML'
run: sleep 2; echo finished
YAML
cat > "$TMP/long.yaml" <<'YAML'
run: sleep 100
stop: {max_runtime: 2s}
recovery: {notice_grace: 1s}
YAML
a=$(frugal launch -d "$TMP/short.yaml")
b=$(frugal launch -d "$TMP/long.yaml")
wait_status "$a" RUNNING 20
wait_status "$b" RUNNING 20
pid=$(cat "$FRUGAL_HOME/controller.pid")
kill -9 "$pid"
ok "controller $pid killed"
for i in $(seq 200); do
	[ -z "$(instance_procs)" ] && [ -z "$(ls "$FRUGAL_HOME/instances" 2>/dev/null)" ] && break
	sleep 0.05
done
[ -z "$(instance_procs)" ] || fail "instance processes survive without a controller: $(instance_procs)"
[ -z "$(ls "$FRUGAL_HOME/instances" 2>/dev/null)" ] || fail "instance dirs survive: $(ls $FRUGAL_HOME/instances)"
ok "both machines ended by their agents, controller still dead"
rm -f "$FRUGAL_HOME/controller.pid"
frugal controller >/dev/null
[ "$(wait_terminal "$a" 20)" = SUCCEEDED ] || fail "job a not recorded as SUCCEEDED"
[ "$(wait_terminal "$b" 20)" = FAILED ] || fail "job b not FAILED"
[ "$(attempt_field "$b" 1 outcome)" = timed_out ] || fail "job b outcome $(attempt_field "$b" 1 outcome)"
ok "a restarted controller records both outcomes from storage"

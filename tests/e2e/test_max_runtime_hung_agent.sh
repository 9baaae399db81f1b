#!/bin/bash
# max_runtime with a hung agent: the agent's watchdog process ends the job
# (SIGSTOPped agent: its loop's timer cannot fire) and reports timed_out;
# with the watchdog hung too, the controller's backstop ends the instance
# once started_at + max_runtime + grace has passed.
. "$(dirname "$0")/lib.sh"
write_config 'backends: {local: {heartbeat_timeout: 120s}}'
cat > "$TMP/task.yaml" <<'YAML'
run: sleep 300
stop: {max_runtime: 4s}
recovery: {notice_grace: 1s}
YAML
agent_of() {
	python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['agent_pid'])" \
		"$FRUGAL_HOME/storage/jobs/$1/attempts/1/status.json"
}
# 1. The agent hangs: its watchdog ends the job at 4 s + 1 s + 5 s.
a=$(frugal launch -d "$TMP/task.yaml")
wait_status "$a" RUNNING 20
pa=$(agent_of "$a")
kill -STOP "$pa"
t0=$(date +%s)
[ "$(wait_terminal "$a" 40)" = FAILED ] || fail "job a not FAILED"
t1=$(date +%s)
[ "$(attempt_field "$a" 1 outcome)" = timed_out ] || fail "job a outcome $(attempt_field "$a" 1 outcome)"
frugal status "$a" | grep -q "watchdog" || { frugal status "$a"; fail "the reason does not name the watchdog"; }
[ $((t1 - t0)) -lt 30 ] || fail "job a ended $((t1 - t0))s after the SIGSTOP"
ok "hung agent: the watchdog ended the job ($((t1 - t0))s), timed_out"
[ -z "$(instance_procs "$a")" ] || fail "processes of $a left: $(instance_procs "$a")"
# 2. Agent and watchdog hang (every process of the instance stopped): the
#    controller's backstop ends the instance after 4 s + 1 s + 20 s.
b=$(frugal launch -d "$TMP/task.yaml")
wait_status "$b" RUNNING 20
for p in $(instance_procs "$b-1"); do kill -STOP "$p"; done
ok "every process of $b stopped"
t0=$(date +%s)
[ "$(wait_terminal "$b" 60)" = FAILED ] || fail "job b not FAILED"
t1=$(date +%s)
[ "$(attempt_field "$b" 1 outcome)" = timed_out ] || fail "job b outcome $(attempt_field "$b" 1 outcome)"
frugal status "$b" | grep -q "ended by the controller" || { frugal status "$b"; fail "no backstop event"; }
[ -z "$(instance_procs "$b")" ] || fail "processes of $b left: $(instance_procs "$b")"
ok "hung agent and watchdog: the controller's backstop ended it ($((t1 - t0))s)"

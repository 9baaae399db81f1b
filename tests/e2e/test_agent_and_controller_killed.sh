#!/bin/bash
# Agent and controller both killed: the job must not run on, unwatched and
# billing, until some later command restarts the controller. The agent's
# watchdog sees its agent gone, ends the job and the machine, and stores a
# final status (lost); the next controller recovers the job.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/job.yaml" <<'YAML'
run: |
  if [ "$FRUGAL_ATTEMPT" = 1 ]; then sleep 300; fi
  echo "finished in attempt $FRUGAL_ATTEMPT"
YAML
job=$(frugal launch -d "$TMP/job.yaml")
wait_status "$job" RUNNING 20
for i in $(seq 100); do
	logs=$(frugal logs "$job" 2>/dev/null)
	echo "$logs" | grep -q "run started" && break
	sleep 0.1
done
agent=""
for p in $(instance_procs "$job-1"); do
	[ "$(readlink /proc/$p/exe)" = "$(readlink -f "$FRUGAL_BIN")" ] &&
		grep -q agent /proc/$p/cmdline && { agent=$p; break; }
done
[ -n "$agent" ] || fail "no agent process found for $job"
kill -9 "$(cat "$FRUGAL_HOME/controller.pid")"
kill -9 "$agent"
ok "controller and agent $agent SIGKILLed"
for i in $(seq 100); do
	[ -z "$(instance_procs "$job")" ] && break
	sleep 0.1
done
[ -z "$(instance_procs "$job")" ] || fail "the job runs on with no agent and no controller: $(for p in $(instance_procs "$job"); do ps -o pid,ppid,pgid,stat,args -p $p | tail -1; done; cat $FRUGAL_HOME/logs/agents/*.log | tail -5)"
[ -z "$(ls "$FRUGAL_HOME/instances" 2>/dev/null)" ] || fail "the instance dir outlives its agent"
ok "the watchdog ended the job and its machine within $((i / 10))s"
grep -q '"outcome": *"lost"' "$FRUGAL_HOME/storage/jobs/$job/attempts/1/status.json" ||
	fail "no final status: $(cat "$FRUGAL_HOME/storage/jobs/$job/attempts/1/status.json")"
rm -f "$FRUGAL_HOME/controller.pid"
frugal controller >/dev/null
[ "$(wait_terminal "$job" 40)" = SUCCEEDED ] || fail "the job did not recover: $(frugal status "$job")"
[ "$(attempt_field "$job" 1 outcome)" = lost ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome), not lost"
frugal logs "$job" | grep -q "finished in attempt 2" || fail "attempt 2 did not run"
ok "the next controller recovered the job: attempt 1 lost, attempt 2 finished"

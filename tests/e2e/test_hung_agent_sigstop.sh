#!/bin/bash
# A hung agent (SIGSTOP): its heartbeat stops changing, the controller
# marks the attempt lost after backends.local.heartbeat_timeout (saying how
# old the heartbeat was), ends the instance (the stopped agent included)
# and the job recovers from its last checkpoint on a new attempt.
. "$(dirname "$0")/lib.sh"
write_config 'backends: {local: {heartbeat_timeout: 10s}}'
cat > "$TMP/task.yaml" <<'YAML'
run: |
  if [ -f "$FRUGAL_CHECKPOINT_DIR/step" ]; then
    echo "resumed from $(cat "$FRUGAL_CHECKPOINT_DIR/step") on attempt $FRUGAL_ATTEMPT"
    exit 0
  fi
  echo 1 > "$FRUGAL_CHECKPOINT_DIR/step.tmp" && mv "$FRUGAL_CHECKPOINT_DIR/step.tmp" "$FRUGAL_CHECKPOINT_DIR/step"
  sleep 300
checkpoint: {dir: ckpt, interval: 1s}
YAML
j=$(frugal launch -d "$TMP/task.yaml")
wait_status "$j" RUNNING 20
st="$FRUGAL_HOME/storage/jobs/$j/attempts/1/status.json"
for i in $(seq 100); do
	ls "$FRUGAL_HOME/storage/jobs/$j/checkpoints/" 2>/dev/null | grep -q . && break
	sleep 0.1
done
sleep 1.5	# the checkpoint is committed
pid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['agent_pid'])" "$st")
kill -STOP "$pid"
ok "agent $pid stopped"
t0=$(date +%s)
sleep 6
[ "$(attempt_field "$j" 1 outcome)" = None ] || fail "attempt 1 ended before heartbeat_timeout: $(attempt_field "$j" 1 outcome)"
ok "not lost before heartbeat_timeout"
[ "$(wait_terminal "$j" 60)" = SUCCEEDED ] || fail "job not SUCCEEDED: $(job_field "$j" status)"
t1=$(date +%s)
[ "$(attempt_field "$j" 1 outcome)" = lost ] || fail "attempt 1 outcome $(attempt_field "$j" 1 outcome), expected lost"
[ "$(attempt_field "$j" 2 outcome)" = succeeded ] || fail "attempt 2 outcome $(attempt_field "$j" 2 outcome)"
[ $((t1 - t0)) -lt 45 ] || fail "recovery took $((t1 - t0))s"
ok "attempt 1 lost, attempt 2 succeeded ($((t1 - t0))s after the SIGSTOP)"
frugal status "$j" | grep -q "last heartbeat is [0-9]*s old" || { frugal status "$j"; fail "no event saying how old the heartbeat was"; }
ok "the event says how old the heartbeat was"
frugal logs "$j" 2>/dev/null | grep -q "resumed from 1 on attempt 2" || { frugal logs "$j"; fail "attempt 2 did not resume from the checkpoint"; }
ok "attempt 2 resumed from attempt 1's checkpoint"
# Dead, or a zombie its parent has not reaped yet (kill -0 succeeds on one).
alive() { [ -e /proc/$1 ] && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; }
alive "$pid" && fail "the stopped agent $pid survives the teardown"
[ -z "$(instance_procs)" ] || fail "instance processes left: $(instance_procs)"
ok "the stopped agent and its job are gone"

#!/bin/bash
# stop.orphan_timeout: the controller is SIGKILLed and not restarted; the
# agent, no longer seeing the controller's key change in storage, stops
# the job after orphan_timeout (not before), stores a last checkpoint and
# the outputs, and ends its machine. A controller started later records
# the attempt orphaned and recovers the job.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/task.yaml" <<'YAML'
run: |
  if [ -f "$FRUGAL_CHECKPOINT_DIR/step" ]; then echo "resumed on attempt $FRUGAL_ATTEMPT"; exit 0; fi
  echo 1 > "$FRUGAL_CHECKPOINT_DIR/step"
  mkdir -p out && echo partial > out/progress.txt
  sleep 300
checkpoint: {dir: ckpt}
stop: {orphan_timeout: 8s}
recovery: {notice_grace: 1s}
outputs: {paths: [out]}
YAML
j=$(frugal launch -d "$TMP/task.yaml")
wait_status "$j" RUNNING 20
ls "$FRUGAL_HOME/storage/controllers/"*.json >/dev/null 2>&1 || fail "the controller writes no key"
ok "the controller's key: $(ls "$FRUGAL_HOME/storage/controllers/")"
sleep 2
kill -9 "$(cat "$FRUGAL_HOME/controller.pid")"
t0=$(date +%s)
ok "controller killed"
sleep 5
[ -n "$(instance_procs "$j")" ] || fail "the machine ended before orphan_timeout ($(( $(date +%s) - t0 ))s)"
ok "still running 5s after (orphan_timeout 8s)"
for i in $(seq 300); do [ -z "$(instance_procs "$j")" ] && break; sleep 0.1; done
t1=$(date +%s)
[ -z "$(instance_procs "$j")" ] || fail "the machine still runs $((t1 - t0))s after the controller died"
[ $((t1 - t0)) -ge 7 ] || fail "ended after $((t1 - t0))s, before orphan_timeout"
ok "the agent ended its machine $((t1 - t0))s after the controller died"
st="$FRUGAL_HOME/storage/jobs/$j/attempts/1/status.json"
grep -q '"outcome":"orphaned"' "$st" || fail "status.json: $(cat "$st")"
find "$FRUGAL_HOME/storage/jobs/$j/outputs/" -name progress.txt | grep -q . || fail "outputs not stored"
ls "$FRUGAL_HOME/storage/jobs/$j/checkpoints/" | grep -q . || fail "no checkpoint stored"
ok "final status orphaned, outputs and checkpoint stored"
rm -f "$FRUGAL_HOME/controller.pid"
frugal controller >/dev/null
[ "$(wait_terminal "$j" 40)" = SUCCEEDED ] || fail "job not SUCCEEDED after the restart"
[ "$(attempt_field "$j" 1 outcome)" = orphaned ] || fail "attempt 1 outcome $(attempt_field "$j" 1 outcome)"
frugal logs "$j" 2>/dev/null | grep -q "resumed on attempt 2" || fail "attempt 2 did not resume"
ok "a restarted controller records orphaned and the job resumes on attempt 2"

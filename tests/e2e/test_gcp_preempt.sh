#!/bin/bash
# A spot VM reclaimed midway, the way Compute Engine does it: the fake's
# metadata server flips instance/preempted to TRUE (and stops the VM 30 s
# later). The agent, long-polling that key, signals the trainer, which
# saves a checkpoint; the agent stores it on GCS, reports "preempted" and
# deletes its VM. The controller blocks that zone and recovers the job
# on a new VM in another zone, which resumes from the checkpointed step;
# the final model equals an uninterrupted run's, and nothing is left.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start

mkdir -p "$TMP/proj" "$TMP/ref"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: gcp-preempt
workdir: .
resources: {cloud: gcp, accelerators: T4:1, use_spot: true}
# 15 s of steps: the preemption must land mid-run even when the logs
# reach `frugal logs` late on a loaded machine.
run: python3 train.py --steps 150 --step-sleep 0.1 --ckpt-every 10
checkpoint: {dir: ckpt, interval: 1m}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt python3 "$TMP/proj/train.py" --steps 150 --step-sleep 0 >/dev/null) || fail "reference run"

job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch"
for i in $(seq 400); do
	frugal logs "$job" 2>/dev/null | grep -q "step   60" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step   60" || fail "trainer did not reach step 60: $(frugal logs "$job" | tail -5)"
vm=$(fake_state '[i["zone"] + " " + i["name"] for i in s["instances"]][0]')
zone1=${vm% *}
curl -sf -X POST "$FAKE/_fake/preempt?zone=$zone1&name=${vm#* }" >/dev/null || fail "preempt"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || fail "job did not succeed after the preemption: $(job_field "$job" reason)"

[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(job_field "$job" restarts)" = 1 ] || fail "restarts"
zone2=$(attempt_field "$job" 2 zone)
[ "$zone2" != "$zone1" ] || fail "attempt 2 went back to the preempted zone $zone1"
frugal logs "$job" --attempt 1 | grep -q "notice from gce-preempted" ||
	frugal logs "$job" --attempt 1 | grep -qi "preempt" || fail "no notice in the log"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$saved" -gt 0 ] || fail "attempt 1 saved no checkpoint"
[ "$resumed" = "$saved" ] || fail "resumed at step '$resumed', checkpoint was step $saved"
ok "preempted in $zone1 at step $saved; attempt 2 in $zone2 resumed at step $resumed"

fake_object "frugal/jobs/$job/outputs/weights/model.json" > "$TMP/model.json" || fail "no model on GCS"
python3 - "$TMP/model.json" "$TMP/ref/weights/model.json" <<'PY' || fail "final model differs from an uninterrupted run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
PY
ok "final model equals the uninterrupted run's"

wait_vms_gone 40
no_schema_errors
[ "$(fake_state 's["counters"]["inserts"]')" = 2 ] || fail "inserts: $(fake_state 's["counters"]["inserts"]')"
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows not gone"
ok "two VMs, both gone; ledger closed"

# `frugal debug preempt` on gcp: instances.simulateMaintenanceEvent, which
# preempts a spot VM (the same path through the metadata server).
job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch 2"
for i in $(seq 400); do
	frugal logs "$job" 2>/dev/null | grep -q "step   40" && break
	sleep 0.05
done
frugal debug preempt "$job" --notice 30 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || fail "job 2: $(job_field "$job" status)"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "job 2 attempt 1: $(attempt_field "$job" 1 outcome)"
grep -q "POST /compute/v1/projects/frugal-test/zones/[a-z0-9-]*/instances/frugal-$job-1-[0-9a-f]*/simulateMaintenanceEvent 200" \
	<(fake_state '"\n".join(s["requests"])') || fail "no simulateMaintenanceEvent"
wait_vms_gone 40
no_schema_errors
ok "debug preempt: simulateMaintenanceEvent, attempt 1 preempted, job recovered"

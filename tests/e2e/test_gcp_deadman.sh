#!/bin/bash
# No VM outlives its job, whoever dies:
#  a) the controller is stopped while the job runs: the agent on the VM
#     stores the final status and deletes its own VM through the API; the
#     restarted controller finds the job done and its ledger row closed;
#  b) the agent dies right after storing the final status (a fault point,
#     before it ends its machine): the boot script's EXIT trap, the
#     seed's `trap shutdown EXIT`, deletes the VM.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/task.yaml" <<'YAML'
name: gcp-deadman
resources: {cloud: gcp, cpus: 2+}
run: |
  sleep 3
  echo finished
YAML

# a) The controller goes away; the VM ends itself.
sed 's/sleep 3/sleep 10/' "$TMP/task.yaml" > "$TMP/longer.yaml"
job=$(frugal launch -d "$TMP/longer.yaml") || fail "launch"
wait_status "$job" RUNNING 60
frugal controller --stop >/dev/null
[ "$(fake_state 'len(s["instances"])')" = 1 ] || fail "no VM running"
wait_vms_gone 60
grep -q "ending the machine (gcp" "$FRUGAL_HOME"/logs/agents/gce-*.log || fail "the agent did not end its VM"
frugal controller >/dev/null
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job: $(job_field "$job" status)"
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows left"
ok "controller gone: the agent deleted its own VM; the job is SUCCEEDED"

# b) The agent dies before it ends its machine (FRUGAL_FAULT in the
#    environment of the VMs booted from now on).
curl -sf -X POST "$FAKE/_fake/config" -d '{"vm_env": {"FRUGAL_FAULT": "agent.after_final_status"}}' >/dev/null
job=$(frugal launch -d "$TMP/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job: $(job_field "$job" status)"
wait_vms_gone 30
log=$(grep -l "$job" "$FRUGAL_HOME"/logs/agents/gce-*.log)
grep -q "ending the machine (gcp" $log && fail "the agent ended its machine: the fault did not fire"
grep -q "ending this VM (exit status" $log || fail "the boot script's trap did not run: $(tail -5 $log)"
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows left"
no_schema_errors
ok "agent crashed after its final status: the boot script's trap deleted the VM"

# c) A cancel: the controller deletes the VM after the grace; the agent
#    takes the guest shutdown (SIGTERM) as a notice.
curl -sf -X POST "$FAKE/_fake/config" -d '{"vm_env": {}}' >/dev/null
cat > "$TMP/long.yaml" <<'YAML'
name: gcp-cancel
resources: {cloud: gcp, cpus: 2+}
run: sleep 300
YAML
job=$(frugal launch -d "$TMP/long.yaml") || fail "launch"
wait_status "$job" RUNNING 60
frugal cancel "$job" >/dev/null || fail "cancel"
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "job: $(job_field "$job" status)"
wait_vms_gone 30
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows left"
ok "cancel: VM deleted, job CANCELLED"

# d) The boot fails before the agent starts (the binary in the bucket is
#    not the one launch stored: its SHA-256 check fails): the trap stores
#    the boot's output as attempts/1/boot.log and deletes the VM.
sha=$(sha256sum "$FRUGAL_BIN" | cut -d' ' -f1)
curl -sf -X POST "$FAKE/_fake/put?bucket=$BUCKET&name=frugal/frugal/bin/$sha" --data-binary 'not a binary' >/dev/null
job=$(frugal launch -d "$TMP/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "job: $(job_field "$job" status)"
wait_vms_gone 30
fake_object "frugal/jobs/$job/attempts/1/boot.log" > "$TMP/boot.log" || fail "no boot.log on GCS"
grep -q "FAILED" "$TMP/boot.log" || fail "boot.log: $(cat "$TMP/boot.log")"
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows left"
ok "a boot that fails before the agent: boot.log on GCS, VM deleted, job FAILED"

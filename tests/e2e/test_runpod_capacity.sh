#!/bin/bash
# Runpod: capacity and crash safety, through Prism.
#  1. The cheapest data center (CA-MTL-1) refuses the create (no instances
#     available): the attempt ends launch_failed, that data center is
#     blocked, attempt 2 goes to the next one.
#  2. The controller dies right after the create call, before recording the
#     pod: restarted, it finds the pod by its name and adopts it.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec runpod-docs/api-reference-v2/openapi.json
need_prism
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

KEY="runpod-key-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY FAKE_RUNPOD_NO_CAPACITY=CA-MTL-1
start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
write_config "backends:
  runpod:
    base_url: $API_URL
    shared_storage: true
    ssh_command: $FAKES/fake_ssh.py
    start_sshd: false
    request_interval: 0
    sync_interval: 0
    release_wait: 30"
cat > "$TMP/task.yaml" <<'YAML'
resources: {accelerators: RTX4090:1}
run: echo "ran on attempt $FRUGAL_ATTEMPT"
YAML

job=$(frugal launch -d --backend runpod "$TMP/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job did not succeed"
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(attempt_field "$job" 1 zone)" = CA-MTL-1 ] || fail "attempt 1 zone $(attempt_field "$job" 1 zone)"
z2=$(attempt_field "$job" 2 zone)
[ "$z2" != CA-MTL-1 ] || fail "attempt 2 in the full data center"
[ "$(launched_count)" = 1 ] || fail "$(launched_count) pods, want 1"
ok "no capacity in CA-MTL-1 -> blocked, attempt 2 in $z2"
frugal controller --stop >/dev/null

crash_at controller.after_launch "$TMP/task.yaml" --backend runpod
[ "$(launched_count)" = 2 ] || fail "the crashed create made $(($(launched_count) - 1)) pods"
frugal controller >/dev/null || fail "restart"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job after the crash"
[ "$(launched_count)" = 2 ] || fail "after the restart: $(launched_count) pods in all, want 2"
grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" || fail "the pod was not adopted"
ok "controller crash after the create call: the pod was found by name and adopted, not duplicated"
for i in $(seq 100); do
	[ "$(runpod_pods)" = 0 ] && break
	sleep 0.1
done
[ "$(runpod_pods)" = 0 ] || fail "a pod is left"
ok "nothing left running"
check_prism

#!/bin/bash
# The Lambda SSH bootstrap (upload, then `sh -s` with the bootstrap
# script) on a userland frugal does not control: the fake ssh runs every
# remote command chrooted into the Debian 11 root of
# tests/e2e/foreign_root.sh (with curl; none of frugal's libraries), with
# the test's directory bound at the same path (the shared storage).
#  1. gpu_1x_a10: the static dist/frugal-linux-x86_64 (agent_dist) runs
#     the job there: SUCCEEDED, the instance terminated.
#  2. gpu_1x_gh200 (Grace: frugal-linux-aarch64 is shipped) on a machine
#     that says x86_64: the bootstrap fails with "agent built for aarch64,
#     machine is x86_64", the agent never starts, the instance is ended
#     at once and the reason is in the job's events.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/e2e/foreign_root.sh"
is_root || skip "chroot not available (needs root)"
dist_binaries_or_skip
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec soof-golan-terraform-provider-lambdalabs/openapi.yaml
need_prism
boot_root_make
export FAKE_MACHINE_ROOT=$BOOT_ROOT FAKE_MACHINE_BIND=$TMP

KEY="lambda-key-$(date +%s%N)"
export LAMBDA_API_KEY=$KEY FAKE_LAMBDA_KEY=$KEY
export FAKE_LAMBDA_CAPACITY='{"gpu_1x_a10": ["us-east-1"], "gpu_1x_gh200": ["us-east-1"]}'
start_fake fake_lambda.py
start_prism soof-golan-terraform-provider-lambdalabs/openapi.yaml
write_config "backends:
  lambda:
    base_url: $API_URL
    ssh_key_name: frugal-test
    ssh_command: $FAKES/fake_ssh.py
    shared_storage: true
    agent_dist: $DIST_OUT
    request_interval: 0
    launch_interval: 0
    capacity_cache: 0
    sync_interval: 0
    release_wait: 30"

mkdir -p "$TMP/proj"
echo "data from the laptop" > "$TMP/proj/input.txt"
task() {	# task ACCEL
	cat > "$TMP/proj/task.yaml" <<YAML
name: lambda-foreign
workdir: .
resources: {accelerators: $1:1}
run: |
  echo "input: \$(cat input.txt)"
  echo "on debian \$(cat /etc/debian_version)"
YAML
}
cd "$TMP/proj"

# ---- 1. x86_64, static agent -------------------------------------------------------
task A10
job=$(frugal launch -d --backend lambda "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || {
	frugal logs "$job" >&2; cat "$FAKE_CLOUD_ROOT"/hosts/*/.frugal-agent/*/agent.log >&2 2>/dev/null
	fail "job did not succeed"; }
frugal logs "$job" | grep -q "on debian 11" || fail "not in the Debian 11 root: $(frugal logs "$job")"
frugal logs "$job" | grep -q "input: data from the laptop" || fail "workdir did not reach the machine"
for _ in $(seq 100); do
	curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' || break
	sleep 0.1
done
curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' && fail "an instance is left"
ok "gpu_1x_a10: the static x86_64 agent ran the job in the Debian 11 root over the SSH bootstrap; instance gone"

# ---- 2. a Grace plan on a machine that says x86_64 -------------------------------------
task GH200
job=$(frugal launch -d --backend lambda "$TMP/proj/task.yaml") || fail "launch gh200"
for _ in $(seq 300); do
	log=$(cat "$FAKE_CLOUD_ROOT"/hosts/*/.frugal-agent/"$job"-1/agent.log 2>/dev/null)
	[ -n "$log" ] && break
	sleep 0.2
done
[ "$(attempt_field "$job" 1 instance_type)" = gpu_1x_gh200 ] || fail "GH200 planned on $(attempt_field "$job" 1 instance_type)"
echo "$log" | grep -q "agent built for aarch64, machine is x86_64" ||
	fail "no clear error on the machine: '$log'"
[ ! -e "$(dirname "$(ls -d "$FAKE_CLOUD_ROOT"/hosts/*/.frugal-agent/"$job"-1)")/$job-1/agent.pid" ] ||
	fail "the agent was started"
# The refusal is final: the instance is ended at once (not at the boot
# deadline), the reason is in the job's events, and the job plans again
# (3 times at most) before it fails.
st=$(wait_terminal "$job" 120)
[ "$st" = FAILED ] || fail "the job did not fail within 120s of its boot checks (status '$st'): $(frugal status "$job")"
frugal status "$job" | grep -q "boot check failed: agent built for aarch64, machine is x86_64" ||
	fail "the reason is not in the job's events: $(frugal status "$job")"
[ "$(frugal status "$job" | grep -c "boot check failed")" -ge 2 ] ||
	fail "the job did not plan again after the boot failure: $(frugal status "$job")"
curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' && fail "an instance is left"
ok "gpu_1x_gh200 on an x86_64 machine: the bootstrap refuses with 'agent built for aarch64, machine is x86_64'; the instance ended at once, the reason in the job's events"

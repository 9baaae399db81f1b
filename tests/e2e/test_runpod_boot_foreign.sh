#!/bin/bash
# The Runpod start command (the pod's FRUGAL_START, run by the fake as
# the container's command) and the SSH upload, on a userland frugal does
# not control: both run chrooted into the Debian 11 root of
# tests/e2e/foreign_root.sh (with curl; none of frugal's libraries), with
# the test's directory bound at the same path (the network volume).
#  1. The static dist/frugal-linux-x86_64 (agent_dist): the job SUCCEEDS.
#  2. The dynamic build (no agent_dist): the check the SSH upload makes
#     refuses it ("the agent cannot start on this machine: ..."): the pod
#     is ended at once and the reason is in the job's events.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/e2e/foreign_root.sh"
is_root || skip "chroot not available (needs root)"
dist_binaries_or_skip
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec runpod-docs/api-reference-v2/openapi.json
need_prism
boot_root_make
export FAKE_MACHINE_ROOT=$BOOT_ROOT FAKE_MACHINE_BIND=$TMP

KEY="runpod-key-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY FAKE_RUNPOD_VOLUME="vol1:US-TX-3"
mkdir -p "$TMP/vol"
echo "ssh-ed25519 AAAAfrugaltest test@frugal" > "$TMP/id.pub"
start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
config() {
	frugal controller --stop >/dev/null 2>&1	# it holds the config it started with
	write_config "backends:
  runpod:
    base_url: $API_URL
    network_volume_id: vol1
    volume_mount: $TMP/vol
    ssh_public_key: $TMP/id.pub
    ssh_command: $FAKES/fake_ssh.py
    start_sshd: false
    request_interval: 0
    sync_interval: 0
    release_wait: 30
$*"
}
mkdir -p "$TMP/proj"
echo "data from the laptop" > "$TMP/proj/input.txt"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: runpod-foreign
workdir: .
resources: {accelerators: RTX4090:1}
run: |
  echo "input: $(cat input.txt)"
  echo "on debian $(cat /etc/debian_version)"
YAML
cd "$TMP/proj"

# ---- 1. the static agent -------------------------------------------------------------
config "    agent_dist: $DIST_OUT"
job=$(frugal launch -d --backend runpod "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || {
	frugal logs "$job" >&2; cat "$FAKE_CLOUD_ROOT"/hosts/*/container.log >&2 2>/dev/null
	fail "job did not succeed"; }
frugal logs "$job" | grep -q "on debian 11" || fail "not in the Debian 11 root: $(frugal logs "$job")"
ok "the static x86_64 agent ran the job in the Debian 11 root (start command + SSH upload)"

# ---- 2. the dynamic build ---------------------------------------------------------------
config ""
job=$(frugal launch -d --backend runpod "$TMP/proj/task.yaml") || fail "launch 2"
# The upload's check refuses the pod before the start command is told to
# run the agent: the pod is ended at once (not at the boot deadline), the
# reason is in the job's events, and the job plans again (3 boot failures
# at most) before it fails.
st=$(wait_terminal "$job" 120)
[ "$st" = FAILED ] || fail "the job did not fail within 120s of its boot checks (status '$st'): $(frugal status "$job")"
reason=$(frugal status "$job" | grep -m1 "boot check failed: the agent cannot start on this machine")
echo "$reason" | grep -q "\.so" || fail "no clear reason in the job's events: $(frugal status "$job")"
[ "$(frugal status "$job" | grep -c "boot check failed")" -ge 2 ] ||
	fail "the job did not plan again after the boot failure: $(frugal status "$job")"
curl -s -H "Authorization: Bearer $KEY" "$API_URL/v2/pods" | grep -q '"id"' && fail "a pod is left"
ok "the dynamic build: the upload's check refuses with '$(echo "$reason" | sed 's/.*boot check failed: //' | cut -c1-80)...'; pod ended at once, reason in the job's events"

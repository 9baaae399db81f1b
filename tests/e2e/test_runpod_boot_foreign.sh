#!/bin/bash
# The Runpod start command (the pod's FRUGAL_START, run by the fake as
# the container's command) and the SSH upload, on a userland frugal does
# not control: both run chrooted into the Debian 11 root of
# tests/e2e/foreign_root.sh (with curl; none of frugal's libraries), with
# the test's directory bound at the same path (the network volume).
#  1. The static dist/frugal-linux-x86_64 (agent_dist): the job SUCCEEDS.
#  2. The dynamic build (no agent_dist): the start command refuses to run
#     it, with "the agent cannot start on this machine: ..." in the
#     container's log, and the container exits instead of running an
#     agent that cannot start.
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
for _ in $(seq 300); do
	grep -qs "the agent cannot start on this machine" "$FAKE_CLOUD_ROOT"/hosts/*/container.log && break
	sleep 0.2
done
grep -hs "frugal: the agent cannot start" "$FAKE_CLOUD_ROOT"/hosts/*/container.log | head -1 |
	grep -q "\.so" || fail "no clear error in the container's log: $(cat "$FAKE_CLOUD_ROOT"/hosts/*/container.log 2>/dev/null | tail -5)"
reason=$(grep -hs "frugal: the agent cannot start" "$FAKE_CLOUD_ROOT"/hosts/*/container.log | head -1)
frugal cancel "$job" >/dev/null 2>&1 || true
wait_terminal "$job" 60 >/dev/null
ok "the dynamic build: the start command exits with '$(echo "$reason" | cut -c1-90)...'"

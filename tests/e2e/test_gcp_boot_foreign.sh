#!/bin/bash
# The GCE boot (the startup-script the VM gets, run by the fake as the
# guest environment would) on a userland frugal does not control: the
# Debian 11 root of tests/e2e/foreign_root.sh (with curl) and none of
# frugal's libraries, in pid and mount namespaces of its own.
#  1. An n1 VM with the static dist/frugal-linux-x86_64 (agent_dist): the
#     job SUCCEEDS in the root, and the VM deletes itself.
#  2. An agent that cannot start there (agent_binary: the aarch64 binary
#     on an x86_64 VM): the script stores status.json with outcome
#     launch_failed and the reason, and boot.log, and deletes the VM; the
#     attempt ends launch_failed.
. "$(dirname "$0")/gcp_lib.sh"
. "$FRUGAL_SRC/tests/e2e/foreign_root.sh"
is_root || skip "chroot not available (needs root)"
dist_binaries_or_skip
boot_root_make
ROOT=$BOOT_ROOT
VMS=$ROOT/tmp/frugal-gcpvm-$$
mkdir -p "$VMS"
trap 'st=$?; rm -rf "$VMS" "${ROOT:?}$TMP"; (exit $st); gcp_cleanup' EXIT
gcp_start --vm-root "$VMS" --vm-chroot "$ROOT"
conf=$(cat "$FRUGAL_HOME/config.yaml")
with() { frugal controller --stop >/dev/null 2>&1; printf '%s\n' "${conf%\}}, $1}" > "$FRUGAL_HOME/config.yaml"; }

mkdir -p "$TMP/proj"
echo "hello from the workdir" > "$TMP/proj/input.txt"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: gcp-foreign
workdir: .
resources: {cloud: gcp, accelerators: T4:1, use_spot: true}
run: |
  cat input.txt
  echo "on debian $(cat /etc/debian_version)"
  mkdir -p weights && echo '{"w": 1}' > weights/model.json
outputs: {paths: ["weights/*.json"]}
YAML
cd "$TMP/proj"

# ---- 1. the static agent -------------------------------------------------------------
with "agent_dist: $DIST_OUT"
job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 180)" = SUCCEEDED ] || {
	cat "$FRUGAL_HOME"/logs/agents/gce-*.log >&2; fail "job $(job_field "$job" status)"; }
frugal logs "$job" | grep -q "on debian 11" || fail "not in the Debian 11 root: $(frugal logs "$job")"
[ "$(fake_object "frugal/jobs/$job/outputs/weights/model.json")" = '{"w": 1}' ] || fail "outputs not on GCS"
want=$(sha256sum "$DIST_OUT/frugal-linux-x86_64" | cut -d' ' -f1)
[ "$(fake_object "frugal/frugal/bin/$want" | sha256sum | cut -d' ' -f1)" = "$want" ] ||
	fail "the VM's agent is not frugal-linux-x86_64 (no frugal/frugal/bin/$want in the bucket)"
wait_vms_gone 30
ok "n1 + T4: the static x86_64 agent ran the job in the Debian 11 root; the VM deleted itself"

# ---- 2. an agent that cannot start ----------------------------------------------------
with "agent_binary: $DIST_OUT/frugal-linux-aarch64"
job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch 2"
for _ in $(seq 900); do
	[ -n "$(attempt_field "$job" 1 outcome 2>/dev/null | grep -v None)" ] && break
	sleep 0.1
done
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] || {
	cat "$FRUGAL_HOME"/logs/agents/gce-*.log >&2; fail "attempt: $(attempt_field "$job" 1 outcome)"; }
st=$(fake_object "frugal/jobs/$job/attempts/1/status.json")
echo "$st" | grep -q '"reason": "the agent cannot start on this machine: ' || fail "unclear reason: $st"
fake_object "frugal/jobs/$job/attempts/1/boot.log" | grep -q "the agent cannot start" ||
	fail "boot.log not stored with the reason"
frugal cancel "$job" >/dev/null 2>&1 || true
wait_vms_gone 30
ok "an agent that cannot start: launch_failed '$(echo "$st" | sed -n 's/.*"reason": "\([^"]*\)".*/\1/p' | cut -c1-80)', VM deleted"

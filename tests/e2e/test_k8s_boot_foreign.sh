#!/bin/bash
# The Kubernetes pod command (`frugal_bin agent ...` of the Job's
# container) on a userland frugal does not control: the fake kubelet runs
# the container chrooted into the Debian 11 root of
# tests/e2e/foreign_root.sh (none of frugal's libraries), with the test's
# directory (the PVC) bound at the same path.
#  1. An image whose frugal is the static dist/frugal-linux-x86_64: the
#     job SUCCEEDS there.
#  2. An image with the dynamic build: the container cannot start the
#     agent (the loader's error in the pod log) and the attempt fails.
#  3. arch: arm64 on x86_64 nodes: the Job selects arm64 nodes; the pod
#     command refuses (uname -m) and the reason is in the job's events.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/e2e/foreign_root.sh"
is_root || skip "chroot not available (needs root)"
dist_binaries_or_skip
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
boot_root_make
export FAKE_MACHINE_ROOT=$BOOT_ROOT FAKE_MACHINE_BIND=$TMP
k8s_start
mkdir -p "$TMP/image"
cp "$DIST_OUT/frugal-linux-x86_64" "$TMP/image/frugal-static"
cp "$FRUGAL_BIN" "$TMP/image/frugal-dynamic"
image_bin() {	# image_bin FILE: the frugal the image has
	frugal controller --stop >/dev/null 2>&1	# it holds the config it started with
	sed -i "s|^    frugal_bin: .*|    frugal_bin: $TMP/image/$1|" "$FRUGAL_HOME/config.yaml"
}
mkdir -p "$TMP/proj"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: k8s-foreign
workdir: .
resources: {cpus: 1, memory: 1}
run: echo "on debian $(cat /etc/debian_version)"
YAML
cd "$TMP/proj"

image_bin frugal-static
job=$(frugal launch -d --backend kubernetes "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || { frugal logs "$job" >&2; fail "job did not succeed"; }
frugal logs "$job" | grep -q "on debian 11" || fail "not in the Debian 11 root: $(frugal logs "$job")"
ok "the pod command ran the static agent in the Debian 11 root: SUCCEEDED"

image_bin frugal-dynamic
job=$(frugal launch -d --backend kubernetes "$TMP/proj/task.yaml") || fail "launch 2"
st=$(wait_terminal "$job" 120)
[ "$st" != SUCCEEDED ] || fail "the dynamic build ran in a userland without its libraries"
grep -rqs "error while loading shared libraries" "$TMP/k8s/root" ||
	fail "no loader error in the pod's log"
ok "the dynamic build in the same image: the container cannot start it (loader error), job $st"

# arch: arm64 (what the image's frugal is said to be built for) on nodes
# that are x86_64: the Job asks for arm64 nodes (nodeSelector
# kubernetes.io/arch), the pod command's `uname -m` check refuses before
# the agent runs, and the controller reads the reason from the pod's log
# (boot_log) into the job's events.
image_bin frugal-static
sed -i "s|^    frugal_bin: .*|&\n    arch: arm64|" "$FRUGAL_HOME/config.yaml"
job=$(frugal launch -d --backend kubernetes "$TMP/proj/task.yaml") || fail "launch 3"
st=$(wait_terminal "$job" 180)
[ "$st" = FAILED ] || fail "arch mismatch: job $st: $(frugal status "$job")"
k8s_get /fake/requests | python3 -c '
import json, sys
jobs = [r["body"] for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"].endswith("/jobs")]
sel = jobs[-1]["spec"]["template"]["spec"].get("nodeSelector", {})
assert sel.get("kubernetes.io/arch") == "arm64", sel
' || fail "the Job does not select arm64 nodes"
frugal status "$job" | grep -q "frugal: agent built for aarch64, machine is x86_64" ||
	fail "the reason is not in the job's events: $(frugal status "$job")"
ok "arch arm64 on x86_64 nodes: nodeSelector kubernetes.io/arch arm64; the pod's check refuses, the reason in the job's events ($st)"

#!/bin/bash
# Kubernetes backend, what goes wrong: a job that exits non-zero fails with
# its exit code; a pod that cannot start (bad image name, an image that
# keeps failing to pull past start_timeout, no frugal binary in the image)
# is ended and the job fails with the cluster's reason in `frugal logs`,
# read from the pod's own log and status (the agent never ran); bad
# settings are refused before anything is created.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
K8S_EXTRA_CONFIG="    start_timeout: 2s"
k8s_start
config=$(cat "$FRUGAL_HOME/config.yaml")

cat > "$TMP/exit3.yaml" <<'YAML'
backend: kubernetes
run: echo failing; exit 3
YAML
job=$(frugal launch -d "$TMP/exit3.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "exit 3 did not fail the job"
[ "$(attempt_field "$job" 1 exit_code)" = 3 ] || fail "exit code $(attempt_field "$job" 1 exit_code)"
frugal logs "$job" | grep -q failing || fail "logs"
k8s_wait_gone "$job" 30
ok "non-zero exit: FAILED with exit code 3"

cat > "$TMP/badimage.yaml" <<'YAML'
backend: kubernetes
resources: {image_id: "docker:Not A Valid Image"}
run: echo never
YAML
job=$(frugal launch -d "$TMP/badimage.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "a bad image did not fail the job"
frugal logs "$job" | grep -q "InvalidImageName" || fail "logs do not say why: $(frugal logs "$job")"
k8s_wait_gone "$job" 30
ok "bad image name: FAILED, 'InvalidImageName' in frugal logs"

cat > "$TMP/pull.yaml" <<'YAML'
backend: kubernetes
resources: {image_id: "fake.invalid/no-such-image:1"}
run: echo never
YAML
t0=$(date +%s)
job=$(frugal launch -d "$TMP/pull.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "a failing pull did not fail the job"
frugal logs "$job" | grep -q "ImagePullBackOff" || fail "logs do not say why: $(frugal logs "$job")"
k8s_wait_gone "$job" 30
ok "image pull back-off past start_timeout: FAILED in $(( $(date +%s) - t0 ))s, reason in frugal logs"

frugal controller --stop >/dev/null
write_config "$(printf '%s\n' "$config" | sed "s|frugal_bin: .*|frugal_bin: /nonexistent/frugal|")"
job=$(frugal launch -d "$TMP/exit3.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "a missing agent binary did not fail the job"
frugal logs "$job" | grep -q "agent reported no outcome" || fail "logs: $(frugal logs "$job")"
frugal logs "$job" | grep -q "StartError\|no such file\|No such file\|/nonexistent/frugal: not found" || fail "logs do not say why: $(frugal logs "$job")"
k8s_wait_gone "$job" 30
ok "no frugal in the image: FAILED, the pod's reason in frugal logs"
frugal controller --stop >/dev/null

# Settings refused before anything is made.
n0=$(k8s_get /fake/requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
write_config "$(printf '%s\n' "$config" | sed "s|pvc_mount_path|pvc_mountpath|")"
frugal check "$TMP/exit3.yaml" > "$TMP/out" 2>&1 && fail "a misspelt setting was accepted"
grep -q "backends.kubernetes.pvc_mountpath: unknown setting; did you mean 'pvc_mount_path'" "$TMP/out" ||
	fail "message: $(cat "$TMP/out")"
write_config "$(printf '%s\n' "$config" | grep -v "pvc: ")"
frugal check "$TMP/exit3.yaml" > "$TMP/out" 2>&1 && fail "no pvc was accepted"
grep -q "backends.kubernetes.pvc is not set" "$TMP/out" || fail "message: $(cat "$TMP/out")"
write_config "$config"
printf 'backend: kubernetes\nresources: {use_spot: true}\nrun: "true"\n' > "$TMP/spot.yaml"
frugal check "$TMP/spot.yaml" > "$TMP/out" 2>&1 && fail "spot without spot_label was accepted"
grep -q "spot_label" "$TMP/out" || fail "message: $(cat "$TMP/out")"
write_config "$config
    spot_label: cloud.google.com/gke-spot"
frugal check "$TMP/spot.yaml" > "$TMP/out" 2>&1 || fail "spot check: $(cat "$TMP/out")"
grep -q "spot" "$TMP/out" || fail "the plan does not say spot: $(cat "$TMP/out")"
n1=$(k8s_get /fake/requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n0" = "$n1" ] || fail "check talked to the API server"
ok "bad settings refused with a clear message; check makes no API call"

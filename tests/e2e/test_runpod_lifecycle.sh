#!/bin/bash
# Runpod, end to end against a stateful fake of the REST API v2 behind
# Prism (validating every request and response against Runpod's published
# v2 OpenAPI document): launch -> ledger row -> POST /v2/pods named
# frugal-TAG-JOB-1 with the GPU type, data center of the network volume,
# the volume in mounts.network, the secrets in env and a start command; the
# fake runs that start command in a local sandbox (the "container"), frugal
# uploads the workdir and itself over a fake ssh, the agent runs the job
# storing on the volume; status, log and outputs are mirrored back ->
# SUCCEEDED -> the pod is deleted. Then: no secret where it must not be,
# gc ends an orphan frugal-named pod.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec runpod-docs/api-reference-v2/openapi.json
need_prism

KEY="runpod-key-$(date +%s%N)"
SECRET="job-secret-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY FAKE_RUNPOD_VOLUME="vol1:US-TX-3"
mkdir -p "$TMP/vol"
echo "ssh-ed25519 AAAAfrugaltest test@frugal" > "$TMP/id.pub"
start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
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
    release_wait: 30"

mkdir -p "$TMP/proj"
echo "data from the laptop" > "$TMP/proj/input.txt"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: runpod-e2e
workdir: .
resources: {accelerators: RTX4090:1}
secrets: {MY_TOKEN: null}
run: |
  echo "input: $(cat input.txt)"
  echo "token length ${#MY_TOKEN}"
  mkdir -p weights && echo '{"w": 2}' > weights/model.json
outputs: {paths: ["weights/*.json"]}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
job=$(MY_TOKEN=$SECRET frugal launch -d --backend runpod "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || { frugal logs "$job" >&2; fail "job did not succeed"; }
ok "job $job SUCCEEDED in the fake Runpod pod"

[ "$(attempt_field "$job" 1 zone)" = US-TX-3 ] || fail "zone $(attempt_field "$job" 1 zone): not the volume's"
[ "$(attempt_field "$job" 1 instance_type)" = 1x_RTX4090_SECURE ] || fail "instance type"
frugal logs "$job" | grep -q "input: data from the laptop" || fail "workdir did not reach the pod"
frugal logs "$job" | grep -q "token length ${#SECRET}" || fail "the secret did not reach the job"
ok "in the volume's data center; workdir and secret reached the job; log mirrored back"

[ "$(launched_count)" = 1 ] || fail "$(launched_count) pods created, want 1"
name=$(awk '{print $2}' "$FAKE_CLOUD_ROOT/launched.log")
case $name in frugal-*-"$job"-1) ;; *) fail "pod name '$name' is not frugal-TAG-$job-1";; esac
for i in $(seq 100); do
	[ "$(runpod_pods)" = 0 ] && break
	sleep 0.1
done
[ "$(runpod_pods)" = 0 ] || fail "a pod is left"
open=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE state!='gone'\").fetchone()[0])")
[ "$open" = 0 ] || fail "$open ledger rows not gone"
ok "one pod named $name, deleted; ledger row gone"

url=$(job_field "$job" outputs_url)
[ -f "${url#file://}/weights/model.json" ] || fail "output not mirrored to $url"
[ -f "$TMP/vol/frugal/jobs/$job/outputs/weights/model.json" ] || fail "output not on the volume"
ok "outputs on the network volume and mirrored home"

no_secret "$SECRET" "$FRUGAL_HOME" "$FAKE_CLOUD_ROOT/ssh.log" "$FAKE_CLOUD_ROOT/requests.log" "$TMP/prism.log"
no_secret "$KEY" "$FRUGAL_HOME" "$FAKE_CLOUD_ROOT/ssh.log" "$FAKE_CLOUD_ROOT/requests.log" "$TMP/prism.log" "$FAKE_CLOUD_ROOT/hosts"
ok "neither the API key nor the job's secret in FRUGAL_HOME, on the pod's disk, ssh command lines or logs"

tag=$(echo "$name" | cut -d- -f2)
curl -s -X POST -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
	-d "{\"name\": \"frugal-$tag-orphan1-1\", \"image\": \"busybox\", \"gpu\": {\"id\": \"NVIDIA GeForce RTX 4090\"}, \"args\": \"sleep 600\"}" \
	"$API_URL/v2/pods" | grep -q '"id"' || fail "could not make an orphan"
frugal gc --dry-run | grep -q "orphan1-1" || fail "gc --dry-run did not list the orphan"
frugal gc | grep -q "orphan1-1.*ended" || fail "gc did not end the orphan"
[ "$(runpod_pods)" = 0 ] || fail "orphan left"
ok "gc found the frugal-named orphan pod and deleted it"
check_prism

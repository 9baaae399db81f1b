#!/bin/bash
# The gcp backend end to end against tests/fakes/gcp_fake.py: a spot T4
# job is planned from the catalog, recorded in the ledger, inserted as a
# VM (its body checked against the Compute v1 discovery document), the VM
# boots (its startup-script runs in a sandbox: the agent comes from the
# bucket, runs the job with its secret, stores logs and outputs on GCS)
# and the agent deletes its own VM; the job SUCCEEDS, the ledger row is
# gone, no VM and no VM process is left. The secret reaches the job and
# nothing else. Then gc: a VM of this FRUGAL_HOME that no job owns is
# ended, another owner's is left alone.
. "$(dirname "$0")/gcp_lib.sh"
# One item a page: every listing (instances, objects) goes through pageToken.
gcp_start --page-size 1

SECRET="s3cr3t-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$TMP/proj/data"
echo "hello from the workdir" > "$TMP/proj/data/input.txt"
echo "data/ignored.bin" > "$TMP/proj/.gitignore"
echo "not shipped" > "$TMP/proj/data/ignored.bin"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: gcp-life
workdir: .
resources: {cloud: gcp, accelerators: T4:1, use_spot: true}
secrets: {API_TOKEN: null}
run: |
  cat data/input.txt
  [ -e data/ignored.bin ] && echo "ignored file shipped"
  printf %s "$API_TOKEN" | sha256sum | cut -c1-16 | sed 's/^/secret-sha /'
  echo "gpus=$CUDA_VISIBLE_DEVICES attempt=$FRUGAL_ATTEMPT"
  mkdir -p weights && echo '{"w": 42}' > weights/model.json
outputs: {paths: ["weights/*.json"]}
stop: {max_runtime: 2h}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot

zone=$(API_TOKEN=x frugal launch --dry-run "$TMP/proj/task.yaml" | awk '$1 == "*1" {print $4}')
[ -n "$zone" ] || fail "no plan"
job=$(API_TOKEN=$SECRET frugal launch -d --secret API_TOKEN "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || {
	cat "$FRUGAL_HOME"/logs/agents/gce-*.log >&2; fail "job $(job_field "$job" status): $(job_field "$job" reason 2>/dev/null)"; }
ok "job $job succeeded on a VM of the fake"

[ "$(attempt_field "$job" 1 backend)" = gcp ] || fail "backend"
[ "$(attempt_field "$job" 1 zone)" = "$zone" ] || fail "zone $(attempt_field "$job" 1 zone), plan $zone"
[ "$(attempt_field "$job" 1 instance_type)" = n1-standard-4 ] || fail "instance type"
[ "$(attempt_field "$job" 1 spot)" = True ] || fail "not spot"
frugal logs "$job" > "$TMP/log"
grep -q "hello from the workdir" "$TMP/log" || fail "the workdir did not reach the VM: $(cat "$TMP/log")"
grep -q "ignored file shipped" "$TMP/log" && fail ".gitignore not honoured"
want=$(printf %s "$SECRET" | sha256sum | cut -c1-16)
grep -q "secret-sha $want" "$TMP/log" || fail "the job did not get its secret"
grep -q "gpus=0 attempt=1" "$TMP/log" || fail "CUDA_VISIBLE_DEVICES: $(grep gpus= "$TMP/log")"
ok "logs on GCS: workdir, secret and GPU reached the job"

[ "$(fake_object "frugal/jobs/$job/outputs/weights/model.json")" = '{"w": 42}' ] || fail "outputs not on GCS"
ok "outputs stored on GCS"

# What was sent: one insert, valid against the discovery document.
no_schema_errors
[ "$(fake_state 's["counters"]["inserts"]')" = 1 ] || fail "inserts: $(fake_state 's["counters"]')"
fake_state 'json.dumps(s["insert_bodies"][0])' > "$TMP/body.json"
python3 - "$TMP/body.json" "$job" "$zone" <<'PY' || fail "insert body"
import json, sys
b = json.load(open(sys.argv[1])); job, zone = sys.argv[2], sys.argv[3]
sch = b["scheduling"]
assert sch["provisioningModel"] == "SPOT" and sch["instanceTerminationAction"] == "DELETE", sch
assert sch["onHostMaintenance"] == "TERMINATE" and sch["automaticRestart"] is False, sch
assert int(sch["maxRunDuration"]["seconds"]) == 7200 + 30 + 900, sch
assert b["labels"]["frugal-job"] == job and b["labels"]["frugal-attempt"] == "1", b["labels"]
assert b["labels"]["frugal-owner"], b["labels"]
assert b["name"].startswith("frugal-%s-1-" % job), b["name"]
assert b["guestAccelerators"] == [{"acceleratorType": "zones/%s/acceleratorTypes/nvidia-tesla-t4" % zone,
                                   "acceleratorCount": 1}], b["guestAccelerators"]
assert b["machineType"] == "zones/%s/machineTypes/n1-standard-4" % zone
assert b["disks"][0]["autoDelete"] is True and b["disks"][0]["boot"] is True
keys = [i["key"] for i in b["metadata"]["items"]]
assert keys[:3] == ["startup-script", "frugal-agent-json", "frugal-secrets-key"], keys
key = [i["value"] for i in b["metadata"]["items"] if i["key"] == "frugal-secrets-key"][0]
assert len(key) == 64 and all(c in "0123456789abcdef" for c in key), "not a key"
assert "install-nvidia-driver" in keys
agent = json.loads([i["value"] for i in b["metadata"]["items"] if i["key"] == "frugal-agent-json"][0])
assert agent["backend"] == "gcp" and agent["gpus"] == ["0"] and "controller_socket" not in agent
assert agent["storage_url"].startswith("gs://")
PY
ok "insert body: spot, DELETE on preemption, TERMINATE, maxRunDuration, labels, metadata"

# The VM deleted itself; the controller confirmed it; nothing is left.
wait_vms_gone 30
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows not gone"
[ "$(fake_state 's["counters"]["deletes"] >= 1')" = True ] || fail "no delete"
[ "$(fake_state 's["counters"]["auth_failures"]')" = 0 ] || fail "requests without a valid token"
ok "VM deleted, ledger closed"

# The secret: in the job's environment only; sealed in the bucket until
# teardown deleted it, its key in the metadata, never the value.
! grep -qF "$SECRET" "$TMP/body.json" || fail "the secret is in the insert body (metadata)"
[ "$(fake_state "'$BUCKET/frugal/jobs/$job/attempts/1/status.json' in s['objects']")" = True ] ||
	fail "object names: $(fake_state 's["objects"]')"
[ "$(fake_state "'$BUCKET/frugal/jobs/$job/attempts/1/secrets.sealed' in s['objects']")" = False ] ||
	fail "secrets.sealed left in the bucket after teardown"
grep -rqF "$SECRET" "$FRUGAL_HOME" && fail "the secret is in FRUGAL_HOME: $(grep -rlF "$SECRET" "$FRUGAL_HOME")"
grep -rqF "$SECRET" "$TMP/vms" && fail "the secret was left on the VM's disk: $(grep -rlF "$SECRET" "$TMP/vms")"
ok "the secret is in no log, database or file"

# gc: an orphan of this home is ended, another owner's VM stays.
owner=$(python3 -c "import json; print(json.load(open('$TMP/body.json'))['labels']['frugal-owner'])")
curl -sf -X POST "$FAKE/_fake/vm?zone=us-east1-b&name=frugal-orphan-1&label=frugal-job=zzzzzz&label=frugal-attempt=1&label=frugal-owner=$owner" -d '[]' >/dev/null
curl -sf -X POST "$FAKE/_fake/vm?zone=us-east1-b&name=someone-else&label=frugal-job=yyyyyy&label=frugal-attempt=1&label=frugal-owner=bob-12345678" -d '[]' >/dev/null
frugal gc --dry-run | grep -q "zzzzzz-1.*would end" || fail "gc --dry-run: $(frugal gc --dry-run)"
[ "$(fake_state 'len(s["instances"])')" = 2 ] || fail "dry run ended something"
# gc also asks the local backend, which sees every process of this machine
# (other tests' local jobs too): the real gc runs in a PID namespace.
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
	echo "skipped: the real gc needs a PID namespace (unshare) on a shared machine"
	exit 77
fi
unshare --pid --fork --mount-proc "$FRUGAL_BIN" gc >/dev/null || fail "gc"
[ "$(fake_state '[i["name"] for i in s["instances"]]')" = "['someone-else']" ] || fail "gc: $(fake_state 's["instances"]')"
ok "gc ended the orphan VM and left another owner's"

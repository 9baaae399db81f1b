#!/bin/bash
# Kubernetes backend, the whole life of a job against the fake API server
# (tests/fakes/k8s_fake.py), whose kubelet really runs the pod's command:
# launch -> ledger row -> Secret + Job created -> the pod runs the frugal
# agent on the volume -> SUCCEEDED through the kubernetes backend -> the
# Job (Foreground) and the Secret deleted until gone. Checks the Job as
# sent, that no secret value reaches a log, the database, a Job or pod
# spec or a command line, then `frugal gc` on Jobs no live job owns.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
k8s_start

SECRET="k8s-secret-$$-$RANDOM"
mkdir -p "$TMP/proj"
cat > "$TMP/proj/hello.sh" <<'SH'
echo "hello from the pod, attempt $FRUGAL_ATTEMPT, gpus=[$CUDA_VISIBLE_DEVICES]"
echo "secret has ${#WANDB_API_KEY} characters"
mkdir -p weights && echo '{"w": 1}' > weights/model.json
SH
cat > "$TMP/proj/task.yaml" <<'YAML'
name: k8s-hello
workdir: .
resources: {cpus: 2, memory: 4}
secrets: {WANDB_API_KEY: null}
run: sh hello.sh
outputs: {paths: ["weights/*.json"]}
stop: {max_runtime: 1h}
recovery: {notice_grace: 25s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot

frugal check "$TMP/proj/task.yaml" --backend kubernetes > "$TMP/check.out" 2>&1 ||
	fail "check: $(cat "$TMP/check.out")"
grep -q "kubernetes" "$TMP/check.out" || fail "check does not show the kubernetes plan: $(cat "$TMP/check.out")"

job=$(WANDB_API_KEY=$SECRET frugal launch -d --backend kubernetes "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job is $(job_field "$job" status): $(frugal logs "$job" 2>&1 | tail)"
ok "job $job SUCCEEDED on the kubernetes backend"

[ "$(attempt_field "$job" 1 backend)" = kubernetes ] || fail "attempt 1 ran on $(attempt_field "$job" 1 backend)"
[ "$(attempt_field "$job" 1 outcome)" = succeeded ] || fail "attempt outcome"
frugal logs "$job" | grep -q "hello from the pod, attempt 1, gpus=\[\]" || fail "logs: $(frugal logs "$job")"
frugal logs "$job" | grep -q "secret has ${#SECRET} characters" || fail "the secret did not reach the job"
url=$(job_field "$job" outputs_url)
[ -f "${url#file://}/weights/model.json" ] || fail "output missing at $url"
ok "logs and outputs came back through the volume"

# What was sent: a Secret, then the Job, then the Secret made its dependent.
k8s_get /fake/requests > "$TMP/requests.json"
python3 - "$job" "$TMP/requests.json" <<'PY' || fail "the requests frugal sent are not what they should be"
import json, sys, base64
job, path = sys.argv[1:3]
reqs = json.load(open(path))
name = "frugal-%s-1" % job
posts = [r for r in reqs if r["method"] == "POST"]
kinds = [r["path"].rsplit("/", 1)[1] for r in posts]
assert kinds == ["secrets", "jobs"], kinds
for r in posts:
    assert r["query"] == "fieldValidation=Strict", r["query"]
sec = posts[0]["body"]
assert sec["metadata"]["name"] == name
assert list(sec["data"]) == ["WANDB_API_KEY"]
j = posts[1]["body"]
assert j["metadata"]["name"] == name and j["metadata"]["namespace"] == "ml"
labels = j["metadata"]["labels"]
assert labels["frugal-job"] == job and labels["frugal-attempt"] == "1", labels
assert "frugal-owner" in labels and "frugal-home" in labels
spec = j["spec"]
assert spec["backoffLimit"] == 0
assert spec["activeDeadlineSeconds"] == 3600 + 25 + 600, spec["activeDeadlineSeconds"]
assert spec["ttlSecondsAfterFinished"] == 60
pod = spec["template"]["spec"]
assert pod["restartPolicy"] == "Never"
assert pod["terminationGracePeriodSeconds"] == 25
c = pod["containers"][0]
assert c["image"] == "registry.example/frugal-agent:1"
# The pod command checks the node (uname -m) first, then execs the agent.
assert c["command"][:2] == ["/bin/sh", "-c"] and "uname -m" in c["command"][2], c["command"]
assert 'exec "$1" agent --instance-dir "$2"' in c["command"][2], c["command"]
assert c["command"][5].endswith("/instances/%s-1" % job), c["command"]
assert pod["nodeSelector"]["kubernetes.io/arch"] == "amd64", pod.get("nodeSelector")
assert c["resources"]["requests"] == {"cpu": "2", "memory": "4Gi"}, c["resources"]
env = {e["name"]: e for e in c["env"]}
assert env["WANDB_API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": name, "key": "WANDB_API_KEY"}
assert env["FRUGAL_SIGTERM_NOTICE_WINDOW"]["value"] == "25"
assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "frugal-data"
patch = [r for r in reqs if r["method"] == "PATCH"]
assert patch and patch[0]["body"]["metadata"]["ownerReferences"][0]["kind"] == "Job"
assert patch[0]["content_type"] == "application/merge-patch+json"
dels = [r for r in reqs if r["method"] == "DELETE" and r["path"].endswith("/jobs/" + name)]
assert dels and dels[0]["body"]["propagationPolicy"] == "Foreground", dels
assert dels[0]["body"]["preconditions"]["uid"]
PY
ok "Secret, Job (restartPolicy Never, backoffLimit 0, deadline, TTL, grace, labels), owner patch, Foreground delete"

k8s_wait_gone "$job" 30
[ -d "$FRUGAL_HOME/storage/instances/$job-1" ] && fail "the attempt's directory is left on the volume"
open=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE state!='gone'\").fetchone()[0])")
[ "$open" = 0 ] || fail "$open ledger rows not gone"
ok "Job, pod and Secret gone, ledger closed"

# The secret: nowhere but in the Secret (base64) and the job's environment.
k8s_get /fake/state > "$TMP/state.json"
if grep -rl -- "$SECRET" "$FRUGAL_HOME" "$TMP/state.json" "$TMP/k8s/root" 2>/dev/null |
	grep -v "/storage/jobs/.*/logs/" ; then
	fail "the secret value leaked into a file above"
fi
python3 - "$TMP/requests.json" "$SECRET" <<'PY' || fail "the secret is in clear in a request"
import json, sys
reqs, secret = open(sys.argv[1]).read(), sys.argv[2]
assert secret not in reqs
PY
ok "no secret value in logs, database, manifests or requests"

# gc: a Job this home made that no live job owns, and one of another home.
home=$(python3 -c "import json; print([r for r in json.load(open('$TMP/requests.json')) if r['method']=='POST'][1]['body']['metadata']['labels']['frugal-home'])")
stray() {
	k8s_curl -X POST -H 'Content-Type: application/json' "$FAKE/apis/batch/v1/namespaces/ml/jobs" -d "{
	  \"apiVersion\": \"batch/v1\", \"kind\": \"Job\",
	  \"metadata\": {\"name\": \"frugal-$1-1\", \"labels\": {\"frugal-job\": \"$1\", \"frugal-attempt\": \"1\", \"frugal-home\": \"$2\"}},
	  \"spec\": {\"backoffLimit\": 0, \"template\": {\"metadata\": {\"labels\": {\"frugal-job\": \"$1\", \"frugal-attempt\": \"1\", \"frugal-home\": \"$2\"}},
	    \"spec\": {\"restartPolicy\": \"Never\", \"containers\": [{\"name\": \"job\", \"image\": \"busybox\", \"command\": [\"sleep\", \"300\"]}]}}}}" >/dev/null
}
stray zzorphan "$home"
stray zzother 0badc0de
for i in $(seq 100); do [ "$(k8s_count pods zzorphan)" = 1 ] && break; sleep 0.05; done
frugal gc --dry-run > "$TMP/gc.out" || fail "gc --dry-run"
grep -q "zzorphan-1" "$TMP/gc.out" || fail "gc --dry-run does not list the stray Job: $(cat "$TMP/gc.out")"
grep -q "zzother" "$TMP/gc.out" && fail "gc lists another home's Job"
[ "$(k8s_count jobs zzorphan)" = 1 ] || fail "--dry-run ended something"
for i in $(seq 60); do
	frugal gc > "$TMP/gc.out" 2>&1 && grep -q "Nothing to collect" "$TMP/gc.out" && break
	sleep 0.5
done
grep -q "Nothing to collect" "$TMP/gc.out" || fail "gc did not finish: $(cat "$TMP/gc.out")"
k8s_wait_gone zzorphan 10
[ "$(k8s_count jobs zzother)" = 1 ] || fail "gc ended another home's Job"
ok "gc ended the stray Job of this home, left another home's alone"

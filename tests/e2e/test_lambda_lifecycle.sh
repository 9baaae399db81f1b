#!/bin/bash
# Lambda Cloud, end to end against a stateful fake of the API behind Prism
# (validating every request and response against Lambda's published
# OpenAPI document): launch -> ledger row -> POST launch with the
# deterministic name -> booting -> active -> SSH bootstrap (a fake ssh runs
# it in a local sandbox: the "instance") -> the agent really runs the job,
# with its workdir and a secret, storing on the Lambda file system ->
# status, log and outputs mirrored back -> SUCCEEDED -> terminate until
# gone. Then: no secret anywhere it must not be, gc finds an orphan
# frugal-named instance and ends it, and a changed host key is refused.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec soof-golan-terraform-provider-lambdalabs/openapi.yaml
need_prism

KEY="lambda-key-$(date +%s%N)"
SECRET="job-secret-$(date +%s%N)"
export LAMBDA_API_KEY=$KEY FAKE_LAMBDA_KEY=$KEY
mkdir -p "$TMP/nfs/fs1"
export FAKE_LAMBDA_FS="fs1:us-east-1:$TMP/nfs/fs1"
export FAKE_LAMBDA_CAPACITY='{"gpu_1x_a10": ["us-east-1", "us-west-1"], "gpu_1x_a100": ["us-east-1"]}'
start_fake fake_lambda.py
start_prism soof-golan-terraform-provider-lambdalabs/openapi.yaml
write_config "backends:
  lambda:
    base_url: $API_URL
    ssh_key_name: frugal-test
    ssh_command: $FAKES/fake_ssh.py
    file_system: fs1
    request_interval: 0
    launch_interval: 0
    capacity_cache: 0
    sync_interval: 0
    release_wait: 30"

mkdir -p "$TMP/proj"
echo "data from the laptop" > "$TMP/proj/input.txt"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: lambda-e2e
workdir: .
resources: {accelerators: A10:1}
secrets: {MY_TOKEN: null}
run: |
  echo "input: $(cat input.txt)"
  echo "token length ${#MY_TOKEN}"
  printf '%s\n' "$MY_TOKEN" > /dev/shm/lambda-e2e-pat.$$ 2>/dev/null || printf '%s\n' "$MY_TOKEN" > "${TMPDIR:-/tmp}/lambda-e2e-pat.$$"
  p=$(ls /dev/shm/lambda-e2e-pat.$$ "${TMPDIR:-/tmp}/lambda-e2e-pat.$$" 2>/dev/null | head -n 1)
  grep -rlsF -f "$p" "$HOME/.frugal-agent" | sed 's/^/secret on the machine disk: /'
  rm -f "$p"
  ls "$HOME/.frugal-agent"/*/secrets.* 2>/dev/null | sed 's/^/secrets file left: /'
  [ -d "$HOME/.frugal-agent" ] || echo "secrets file left: no $HOME/.frugal-agent to look in"
  mkdir -p weights && echo '{"w": 1}' > weights/model.json
outputs: {paths: ["weights/*.json"]}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
job=$(MY_TOKEN=$SECRET frugal launch -d --backend lambda "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || { frugal logs "$job" >&2; fail "job did not succeed"; }
ok "job $job SUCCEEDED on the fake Lambda instance"

[ "$(attempt_field "$job" 1 backend)" = lambda ] || fail "attempt backend"
[ "$(attempt_field "$job" 1 region)" = us-east-1 ] || fail "region $(attempt_field "$job" 1 region)"
[ "$(attempt_field "$job" 1 instance_type)" = gpu_1x_a10 ] || fail "instance type"
frugal logs "$job" | grep -q "input: data from the laptop" || fail "workdir did not reach the machine"
frugal logs "$job" | grep -q "token length ${#SECRET}" || fail "the secret did not reach the job"
! frugal logs "$job" | grep -q "secret on the machine disk\|secrets file left" ||
	fail "$(frugal logs "$job" | grep "secret on the machine disk\|secrets file left")"
ok "workdir and secret reached the job, never in clear on the machine's disk; its log was mirrored back"

[ "$(launched_count)" = 1 ] || fail "$(launched_count) instances launched, want 1"
name=$(awk '{print $2}' "$FAKE_CLOUD_ROOT/launched.log")
case $name in frugal-*-"$job"-1) ;; *) fail "instance name '$name' is not frugal-TAG-$job-1";; esac
# Every instance is gone, and the ledger says so.
for i in $(seq 100); do
	curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' || break
	sleep 0.1
done
curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' && fail "an instance is left"
open=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE state!='gone'\").fetchone()[0])")
[ "$open" = 0 ] || fail "$open ledger rows not gone"
[ -z "$(ls "$FRUGAL_HOME/cloud/lambda" 2>/dev/null)" ] || fail "stage left: $(ls $FRUGAL_HOME/cloud/lambda)"
ok "one instance named $name, terminated; ledger row gone; stage removed"

url=$(job_field "$job" outputs_url)
[ -f "${url#file://}/weights/model.json" ] || fail "output not mirrored to $url"
[ -f "$TMP/nfs/fs1/frugal/jobs/$job/outputs/weights/model.json" ] || fail "output not on the file system"
[ -f "$TMP/nfs/fs1/frugal/jobs/$job/attempts/1/status.json" ] || fail "status not on the file system"
ok "outputs on the Lambda file system and mirrored home"

no_secret "$SECRET" "$FRUGAL_HOME" "$FAKE_CLOUD_ROOT/ssh.log" "$FAKE_CLOUD_ROOT/requests.log" "$TMP/prism.log"
no_secret "$KEY" "$FRUGAL_HOME" "$FAKE_CLOUD_ROOT/ssh.log" "$FAKE_CLOUD_ROOT/requests.log" "$TMP/prism.log"
ok "neither the API key nor the job's secret in FRUGAL_HOME, ssh command lines or logs"

# gc: an instance named like frugal's, for an attempt no live job has.
tag=$(echo "$name" | cut -d- -f2)
curl -s -X POST -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \
	-d "{\"region_name\": \"us-east-1\", \"instance_type_name\": \"gpu_1x_a10\", \"ssh_key_names\": [\"k\"], \"name\": \"frugal-$tag-orphan1-1\"}" \
	"$API_URL/instance-operations/launch" | grep -q instance_ids || fail "could not make an orphan"
frugal gc --dry-run | grep -q "orphan1-1" || fail "gc --dry-run did not list the orphan"
frugal gc | grep -q "orphan1-1.*ended" || fail "gc did not end the orphan"
for i in $(seq 50); do
	curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q orphan1 || break
	sleep 0.1
done
curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"status": "active"' && fail "orphan still active"
ok "gc found the frugal-named orphan and terminated it"
check_prism

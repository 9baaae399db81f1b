#!/bin/bash
# Refuse early, keep working:
#  a. check and launch --backend aws|gcp without credentials are refused at
#     plan time with the hint `frugal backends` gives; nothing is recorded;
#  b. a storage the backend cannot use (aws with file:// storage, lambda
#     with file:// and no file system) is refused at plan time;
#  c. an unreachable storage (gs:// without credentials) does not stop the
#     controller: a local job starts, `cancel` ends it, and the controller
#     log says it retries the storage.
. "$(dirname "$0")/lib.sh"
export HOME=$TMP/userhome CLOUDSDK_CONFIG=$TMP/no-gcloud AWS_EC2_METADATA_DISABLED=true
export FRUGAL_DMI_ROOT=$TMP/no-dmi
mkdir -p "$HOME"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
	GOOGLE_APPLICATION_CREDENTIALS LAMBDA_API_KEY RUNPOD_API_KEY

cat > "$TMP/gpu.yaml" <<'YAML'
name: refused
resources: {accelerators: T4:1}
run: echo hi
YAML
count_jobs() { frugal status --all --json 2>/dev/null | python3 -c "import json,sys; print(len(json.load(sys.stdin)['jobs']))" 2>/dev/null || echo 0; }

# ---- a. no credentials ----------------------------------------------------------------------
write_config "storage: s3://some-bucket/home
backends:
  aws: {regions: us-east-1, instance_profile: frugal-agent}"
out=$(frugal check --backend aws "$TMP/gpu.yaml" 2>&1)
[ $? = 3 ] || fail "check --backend aws without credentials: $out"
echo "$out" | grep -q "no credentials for it: set AWS_ACCESS_KEY_ID" || fail "check aws: $out"
echo "$out" | grep -q "frugal backends aws" || fail "no pointer to frugal backends: $out"
out=$(frugal launch -d --backend aws "$TMP/gpu.yaml" 2>&1) && fail "launch --backend aws: $out"
echo "$out" | grep -q "no credentials for it" || fail "launch aws: $out"
write_config "storage: gs://some-bucket/home"
out=$(frugal launch -d --backend gcp "$TMP/gpu.yaml" 2>&1) && fail "launch --backend gcp: $out"
echo "$out" | grep -q "no credentials for it: set backends.gcp.credentials" || fail "launch gcp: $out"
[ "$(count_jobs)" = 0 ] || fail "a refused launch was recorded"
ok "no credentials: check and launch refused at plan time, nothing recorded"

# ---- b. a storage the backend cannot use ---------------------------------------------------------
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=example LAMBDA_API_KEY=example
write_config "backends:
  aws: {regions: us-east-1, instance_profile: frugal-agent}"
out=$(frugal check --backend aws "$TMP/gpu.yaml" 2>&1)
[ $? = 3 ] || fail "check aws with file:// storage: $out"
echo "$out" | grep -q "needs the storage in S3" || fail "aws storage: $out"
out=$(frugal launch -d --backend lambda "$TMP/gpu.yaml" 2>&1) && fail "launch lambda: $out"
echo "$out" | grep -q "cannot reach the storage" || fail "lambda storage: $out"
[ "$(count_jobs)" = 0 ] || fail "a refused launch was recorded"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY LAMBDA_API_KEY
ok "a storage the backend cannot use: refused at plan time"

# ---- c. an unreachable storage ----------------------------------------------------------------------
write_config "storage: gs://no-credentials-bucket/home"
cat > "$TMP/local.yaml" <<'YAML'
name: keeps-working
backend: local
run: sleep 60
YAML
job=$(frugal launch -d "$TMP/local.yaml" 2>&1) || fail "launch local with gs:// storage: $job"
for i in $(seq 200); do
	[ "$(job_field "$job" status 2>/dev/null)" != PENDING ] && break
	sleep 0.05
done
frugal cancel "$job" >/dev/null || fail "cancel"
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "the job is $(job_field "$job" status)"
grep -q "storage gs://no-credentials-bucket/home cannot be opened (trying again in 30 s)" \
	"$FRUGAL_HOME/controller.log" || fail "not logged: $(tail "$FRUGAL_HOME/controller.log")"
ok "gs:// without credentials: the controller runs, a local job starts and is cancelled"

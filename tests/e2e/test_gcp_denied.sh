#!/bin/bash
# A service account IAM denies, against tests/fakes/gcp_fake.py --deny:
#  a. Compute answers 403 to the instance insert: the job's error names the
#     account, the permission (compute.instances.create) and what to grant
#     (roles/compute.instanceAdmin.v1, roles/iam.serviceAccountUser, with
#     the gcloud command) and the organization policy that may deny it;
#  b. GCS answers 403: the storage error names the account, the
#     permission (storage.objects.create) and roles/storage.objectAdmin.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start --deny compute
cat > "$TMP/task.yaml" <<'YAML'
name: denied
backend: gcp
resources: {cpus: 2}
run: echo hi
YAML
job=$(frugal launch -d "$TMP/task.yaml" 2>"$TMP/launch.err") || fail "launch: $(cat "$TMP/launch.err")"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "job: $(job_field "$job" status)"
st=$(frugal status "$job")
for want in "e2e@frugal-test.iam.gserviceaccount.com" "compute.instances.create" \
	"roles/compute.instanceAdmin.v1" "roles/iam.serviceAccountUser" \
	"gcloud projects add-iam-policy-binding frugal-test --member=serviceAccount:e2e@frugal-test.iam.gserviceaccount.com" \
	"constraints/iam.disableServiceAccount"; do
	echo "$st" | grep -qF "$want" || fail "the Compute 403 does not say '$want': $st"
done
ok "Compute 403: the account, the permission, the roles and the org policy named"
frugal controller --stop >/dev/null
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null
rm -f "$TMP/fake.port"

gcp_start --deny storage
out=$(frugal backends 2>&1)
echo "$out" | grep -q "NOT reachable" || fail "backends: storage reachable? $out"
for want in "e2e@frugal-test.iam.gserviceaccount.com" "storage.objects.create" \
	"roles/storage.objectAdmin" "gcloud storage buckets add-iam-policy-binding gs://$BUCKET"; do
	echo "$out" | grep -qF "$want" || fail "the GCS 403 does not say '$want': $out"
done
ok "GCS 403: the account, the permission and roles/storage.objectAdmin named"

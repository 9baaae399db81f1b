#!/bin/bash
# One credential source for Compute and GCS: with the service account key
# only in config.yaml (backends.gcp.credentials, no
# GOOGLE_APPLICATION_CREDENTIALS, no gcloud application default
# credentials), gs:// storage works: a local job's status and log are
# written to the fake's bucket and read back.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start
mv "$TMP/sa.json" "$TMP/key-from-config.json"
unset GOOGLE_APPLICATION_CREDENTIALS
export HOME=$TMP/userhome CLOUDSDK_CONFIG=$TMP/no-gcloud
mkdir -p "$HOME"
write_config "storage: gs://$BUCKET/frugal
backends:
  gcp: {project: frugal-test, credentials: $TMP/key-from-config.json}"

cat > "$TMP/task.yaml" <<'YAML'
name: gcs-creds
run: echo "hello from a job whose storage is GCS"
YAML
job=$(frugal launch -d "$TMP/task.yaml" 2>"$TMP/launch.err") || fail "launch: $(cat "$TMP/launch.err")"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job: $(job_field "$job" status)"
frugal logs "$job" | grep -q "hello from a job whose storage is GCS" || fail "log not read back from GCS"
fake_state 's["objects"]' | grep -q "frugal/jobs/$job/" || fail "nothing of the job in the bucket: $(fake_state 's["objects"]')"
ok "gs:// storage used backends.gcp.credentials (no GOOGLE_APPLICATION_CREDENTIALS, no ADC)"

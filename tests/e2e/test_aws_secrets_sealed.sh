#!/bin/bash
# Finding (issue 14): "the AWS backend stores secrets.env in S3 in clear".
# Now the attempt's secrets are stored sealed (jobs/JOB/attempts/N/
# secrets.sealed, AES-256-GCM under a key that is only in the instance's
# UserData), on the emulated instance of test_aws_boot.sh:
#  1. no object under the job's prefix in S3, no request moto or the
#     proxy logged, and no file of FRUGAL_HOME holds the secret; the
#     sealed object is a FRUGALSEAL1 file; the job still sees the secret
#     (the digest of $SECRET, compared with the one given, decides its
#     exit status), and the sealed
#     file is gone from the machine and from S3 afterwards;
#  2. a sealed object changed in S3 before the boot is refused: the
#     attempt FAILED with a reason naming the file, the job never ran.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto
start_proxy
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s
SECRET_VALUE="sealed-value-$$-$RANDOM"
# The job compares digests: the value itself only travels as the secret.
WANT_SHA=$(printf %s "$SECRET_VALUE" | sha256sum | cut -c1-64)

cat > "$TMP/job.yaml" <<'YAML'
name: sealed
resources: {accelerators: T4:1}
secrets: {SECRET: null}
run: |
  [ "$(printf %s "$SECRET" | sha256sum | cut -c1-64)" = "$WANT_SHA" ] ||
    { echo "the secret is not the one given"; exit 3; }
  [ -z "${FRUGAL_SECRETS_KEY:-}" ] || { echo "the key reached the job"; exit 4; }
  echo "secret seen by the job"
YAML

# ---- 1. sealed in S3, seen by the job ----------------------------------------------
job=$(SECRET="$SECRET_VALUE" frugal launch -d --env WANT_SHA="$WANT_SHA" "$TMP/job.yaml") ||
	fail "launch"
id=$(wait_instance "$job" 1)
sealed_key="home/jobs/$job/attempts/1/secrets.sealed"
s3_has "$sealed_key" || fail "no sealed secrets at $sealed_key: $(s3_keys "home/jobs/$job/")"
! s3_has "home/jobs/$job/attempts/1/secrets.env" || fail "a secrets.env in clear in S3"
s3_get_file "$sealed_key" "$TMP/sealed"
[ "$(head -c 12 "$TMP/sealed")" = "FRUGALSEAL1" ] || fail "not a sealed file: $(head -c 40 "$TMP/sealed" | od -c | head -2)"
for k in $(s3_keys "home/jobs/$job/"); do
	s3_get_file "$k" "$TMP/obj"
	! grep -qaF "$SECRET_VALUE" "$TMP/obj" || fail "object $k holds the secret in clear"
	! grep -qaF "SECRET=" "$TMP/obj" || fail "object $k names the secret with a value"
done
! grep -qaF "$SECRET_VALUE" "$PROXY_LOG" "$TMP/moto.log" || fail "the secret is in a request log"
! grep -rqaF "$SECRET_VALUE" "$FRUGAL_HOME" || fail "the secret is in FRUGAL_HOME in clear"
python3 "$AWSTOOL" userdata "$id" > "$TMP/user-data"
! grep -qF "$SECRET_VALUE" "$TMP/user-data" || fail "the secret is in the user data"
grep -qE "^FRUGAL_SECRETS_KEY=[0-9a-f]{64}$" "$TMP/user-data" || fail "no key in the user data"
ok "S3 holds the secrets sealed (FRUGALSEAL1); no object, request log or state file has the secret"

boot_vm "$job" 1
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] ||
	fail "job $(job_field "$job" status): $(frugal logs "$job" | tail -5) $(cat "$VM_STATE"/root/*.boot.log | tail -20)"
frugal logs "$job" | grep -q "secret seen by the job" || fail "no line from the job: $(frugal logs "$job")"
[ ! -e "$VM_STATE/root/$job-1/secrets.sealed" ] || fail "secrets.sealed left on the machine"
! grep -rqaF "$SECRET_VALUE" "$VM_STATE/root" || fail "the secret was written to the machine's disk"
for i in $(seq 100); do s3_has "$sealed_key" || break; sleep 0.1; done
! s3_has "$sealed_key" || fail "secrets.sealed left in S3 after the job"
ok "the job saw the secret (its digest matched); sealed file deleted on the machine and in S3"

# ---- 2. changed in S3: refused -----------------------------------------------------
job=$(SECRET="$SECRET_VALUE" frugal launch -d --env WANT_SHA="$WANT_SHA" "$TMP/job.yaml") ||
	fail "launch 2"
wait_instance "$job" 1 >/dev/null
sealed_key="home/jobs/$job/attempts/1/secrets.sealed"
s3_get_file "$sealed_key" "$TMP/sealed2"
python3 -c "
import sys
b = bytearray(open(sys.argv[1], 'rb').read()); b[30] ^= 1
open(sys.argv[1], 'wb').write(b)" "$TMP/sealed2"
s3_put_file "$sealed_key" "$TMP/sealed2"
boot_vm "$job" 1
[ "$(wait_terminal "$job" 90)" = FAILED ] || fail "a changed sealed file: job $(job_field "$job" status)"
frugal logs "$job" | grep -q "secrets.sealed' was changed after it was sealed, or sealed under another key" ||
	fail "no clear reason: $(frugal logs "$job" | tail -5)"
! frugal logs "$job" | grep -q "secret seen by the job" || fail "the job ran with a tampered file"
ok "a sealed file changed in S3 is refused: FAILED, 'was changed after it was sealed'"

#!/bin/bash
# frugal backends [NAME] [--json]:
#  a. no credentials at all: every backend but local is "not usable" and
#     says what is missing and how to add it; local says its teardown;
#  b. the emulators' credentials: aws (moto) is usable and its probe
#     (DescribeRegions) answers; the output names where the keys are
#     (AWS_ACCESS_KEY_ID), never their value; lambda and runpod (their
#     fakes) answer GET /instance-types and GET /v2/catalog/gpus;
#  c. a backend that never answers: the probe gives up after 10 s;
#  d. gs:// storage without credentials: "NOT reachable".
. "$(dirname "$0")/lib.sh"
export HOME=$TMP/userhome CLOUDSDK_CONFIG=$TMP/no-gcloud AWS_EC2_METADATA_DISABLED=true
export FRUGAL_DMI_ROOT=$TMP/no-dmi
mkdir -p "$HOME"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION \
	AWS_DEFAULT_REGION GOOGLE_APPLICATION_CREDENTIALS LAMBDA_API_KEY RUNPOD_API_KEY KUBECONFIG

# ---- a. nothing configured -----------------------------------------------------------------
out=$(frugal backends) || fail "backends: $out"
for b in slurm kubernetes aws gcp lambda runpod; do
	echo "$out" | grep -q "^$b  *not usable" || fail "$b is not 'not usable': $out"
done
echo "$out" | grep -q "^local  *usable" || fail "local: $out"
# Decided on this machine: cgroups where root may write a cgroup v2 tree.
if [ "$(id -u)" = 0 ] && grep -q " - cgroup2 " /proc/self/mountinfo &&
	! grep " - cgroup2 " /proc/self/mountinfo | grep -q " ro[, ]"; then
	want_teardown=cgroups
else
	want_teardown="process scan"
fi
echo "$out" | grep -q "teardown     $want_teardown" || fail "teardown is not '$want_teardown': $out"
frugal backends --json > "$TMP/b.json" || fail "--json"
python3 - "$TMP/b.json" "$want_teardown" <<'PY' || fail "json: $(cat "$TMP/b.json")"
import json, sys
d = json.load(open(sys.argv[1]))
names = [b["name"] for b in d["backends"]]
assert names[0] == "local" and len(names) >= 7, names
for b in d["backends"]:
    if b["name"] == "local":
        assert b["usable"] and b["teardown"] == sys.argv[2], b
        continue
    assert not b["usable"] and not b["credentials"]["found"], b
    assert len(b["credentials"]["hint"]) > 10, b      # how to add them
assert d["storage"]["reachable"], d
PY
frugal backends aws > "$TMP/aws.out" && fail "backends aws exited 0 without credentials"
grep -q "none found: set AWS_ACCESS_KEY_ID" "$TMP/aws.out" || fail "aws: $(cat "$TMP/aws.out")"
ok "no credentials: every backend says what is missing and how to add it"

# ---- b. the emulators ---------------------------------------------------------------------
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto
aws_config
out=$(frugal backends aws) || fail "backends aws: $out"
echo "$out" | grep -q "^aws  *usable" || fail "aws not usable: $out"
echo "$out" | grep -q "credentials  AWS_ACCESS_KEY_ID" || fail "where: $out"
echo "$out" | grep -q "probe        ok: region us-east-1: DescribeRegions: [0-9]* regions enabled" || fail "probe: $out"
! echo "$out" | grep -qF "$AWS_SECRET_ACCESS_KEY" || fail "the secret key is shown"
ok "moto: aws usable, DescribeRegions answered, no secret shown"

. "$FRUGAL_SRC/tests/fakes/cloud.sh"
export LAMBDA_API_KEY=lk-$$ FAKE_LAMBDA_KEY=lk-$$
export FRUGAL_SRC
start_fake fake_lambda.py
write_config "storage: s3://$AWS_BUCKET/home
backends:
  lambda: {base_url: http://127.0.0.1:$FAKE_PORT}"
out=$(frugal backends lambda) || fail "backends lambda: $out"
echo "$out" | grep -q "probe        ok: .*GET /instance-types: [1-9][0-9]* instance types" || fail "lambda: $out"
echo "$out" | grep -q "credentials  LAMBDA_API_KEY" || fail "lambda where: $out"
rm -f "$TMP/fake.port"
export RUNPOD_API_KEY=rk-$$ FAKE_RUNPOD_KEY=rk-$$
start_fake fake_runpod.py
write_config "storage: s3://$AWS_BUCKET/home
backends:
  runpod: {base_url: http://127.0.0.1:$FAKE_PORT}"
out=$(frugal backends runpod) || fail "backends runpod: $out"
echo "$out" | grep -q "probe        ok: .*GET /v2/catalog/gpus: 2 GPU types" || fail "runpod: $out"
ok "lambda and runpod fakes: usable, their probes answered"

# ---- c. a backend that never answers --------------------------------------------------------
port=$(free_port)
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(8)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)" &
SILENT=$!
sleep 0.3
write_config "storage: s3://$AWS_BUCKET/home
backends:
  lambda: {base_url: http://127.0.0.1:$port}"
start=$(date +%s)
out=$(frugal backends lambda) && fail "a silent backend is usable: $out"
took=$(( $(date +%s) - start ))
kill $SILENT 2>/dev/null
[ "$took" -le 14 ] || fail "the probe took ${took}s"
echo "$out" | grep -q "probe        failed: no answer within 10 s" || fail "c: $out"
ok "a backend that never answers: the probe gave up after ${took}s"

# ---- d. unreachable storage ---------------------------------------------------------------------
write_config "storage: gs://no-credentials-bucket/home"
out=$(frugal backends) || fail "backends (d): $out"
echo "$out" | grep -q "^storage gs://no-credentials-bucket/home: NOT reachable: .*no Google credentials" || fail "d: $out"
ok "gs:// without credentials: the storage is NOT reachable, and says why"

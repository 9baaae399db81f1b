#!/bin/bash
# The boot of an EC2 instance, emulated: the UserData moto stored for the
# instance runs here in a sandbox, as cloud-init would run it, with no
# credential in its environment, a fake instance metadata service (IMDSv2:
# instance id, the instance profile's credentials, spot notices) and a
# shutdown(8) that terminates the instance in moto (what
# InstanceInitiatedShutdownBehavior=terminate does).
#  1. The agent fetches itself, agent.json, the workdir and the secrets
#     from S3 with presigned URLs, runs the job, stores logs, status and
#     outputs in S3 with the instance profile's credentials, powers off:
#     the job SUCCEEDED through the aws backend and the instance is gone.
#  2. A spot interruption notice from the metadata service preempts a
#     trainer; it checkpoints to S3; the controller launches attempt 2 on a
#     new instance, whose boot resumes from that checkpoint.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto
start_proxy
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

# ---- 1. a job that succeeds ----------------------------------------------------------
mkdir -p "$TMP/wd/sub"
echo "dataset-line" > "$TMP/wd/sub/data.txt"
echo "noise" > "$TMP/wd/big.log"
echo "*.log" > "$TMP/wd/.gitignore"
printf '#!/bin/sh\necho tool ran\n' > "$TMP/wd/tool.sh"
chmod +x "$TMP/wd/tool.sh"
cat > "$TMP/job.yaml" <<YAML
name: boot-ok
workdir: $TMP/wd
resources: {accelerators: T4:1, use_spot: true}
secrets: {HF_TOKEN: null}
envs: {GREETING: hello}
run: |
  cat sub/data.txt
  ./tool.sh
  [ -e big.log ] && echo "ignored file copied" || echo "ignored file left out"
  echo "token-sha \$(printf %s "\$HF_TOKEN" | sha256sum | cut -c1-16)"
  echo "gpus=\$CUDA_VISIBLE_DEVICES greeting=\$GREETING"
  mkdir -p out && echo "model-bytes" > out/model.bin
outputs: {paths: [out]}
stop: {max_runtime: 30m}
YAML
export HF_TOKEN=hf-secret-value-42
want_sha=$(printf %s "$HF_TOKEN" | sha256sum | cut -c1-16)
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
boot_vm "$job" 1
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] ||
	fail "job $(job_field "$job" status): $(cat "$VM_STATE"/root/*.boot.log)"
frugal logs "$job" > "$TMP/log1"
grep -q "dataset-line" "$TMP/log1" || fail "workdir not on the machine: $(cat "$TMP/log1")"
grep -q "tool ran" "$TMP/log1" || fail "executable bit lost"
grep -q "ignored file left out" "$TMP/log1" || fail ".gitignore not honoured"
grep -q "token-sha $want_sha" "$TMP/log1" || fail "the secret did not reach the job"
grep -q "gpus=0 greeting=hello" "$TMP/log1" || fail "job environment: $(grep gpus "$TMP/log1")"
[ "$(s3_get "home/jobs/$job/outputs/out/model.bin")" = model-bytes ] || fail "output not in S3"
ok "the emulated instance ran the job from S3: workdir, secret, env, outputs"

id=$(instance_of "$job" 1)
grep -q -- "-h now" "$VM_STATE/shutdown.log" || fail "the agent did not power off"
grep -q -- "-h +46" "$VM_STATE/shutdown.log" ||
	fail "no hard time limit: $(cat "$VM_STATE/shutdown.log")"
[ "$(live_count)" = 0 ] || fail "instance $id is still there: $(instances_json)"
grep -q "GET /latest/meta-data/iam/security-credentials/frugal-agent 200" "$VM_STATE/requests.log" ||
	fail "the agent did not take the instance profile's credentials"
python3 - "$PROXY_LOG" "$job" "$(cut -d' ' -f1 "$VM_STATE/profile-keys")" <<'PY' || fail "who wrote the status"
import json, sys
log, job, key = sys.argv[1:4]
puts = [json.loads(l) for l in open(log)
        if json.loads(l).get("s3", "").startswith("PUT /frugal-e2e/home/jobs/%s/attempts/1/status.json" % job)]
assert puts and all(p["key_id"] == key for p in puts), puts
PY
ok "powered off (instance terminated), hard cap scheduled, S3 written with the instance profile's keys"

! grep -q "$HF_TOKEN" "$VM_STATE/user-data" || fail "the secret is in the user data"
[ -z "$(s3_keys "home/jobs/$job/attempts/1/secrets.")" ] || fail "secrets left in S3"
[ ! -e "$VM_STATE/root/$job-1/secrets.sealed" ] || fail "secrets.sealed left on the machine"
! grep -rqF "$HF_TOKEN" "$VM_STATE/root" || fail "the secret was written to the machine's disk"
! grep -rq "$HF_TOKEN" "$VM_STATE/root/$job-1/agent.json" "$FRUGAL_HOME" ||
	fail "the secret leaked into agent.json or FRUGAL_HOME"
ok "the secret reached the job only (not user data, agent.json, FRUGAL_HOME, the disk; secrets.sealed deleted)"

# ---- 2. a spot interruption notice ------------------------------------------------------
mkdir -p "$TMP/proj"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: spot-train
workdir: .
resources: {accelerators: T4:1, use_spot: true}
run: python3 train.py --steps 150 --step-sleep 0.04 --ckpt-every 10
checkpoint: {dir: ckpt, interval: 1m}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 20s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch trainer"
boot_vm "$job" 1
vm1=$VM_STATE
for i in $(seq 600); do
	frugal logs "$job" 2>/dev/null | grep -q "step   40" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step   40" || fail "trainer did not reach step 40: $(frugal logs "$job" | tail)"
deadline=$(date -u -d "+20 seconds" +%Y-%m-%dT%H:%M:%SZ)
printf '{"action": "terminate", "time": "%s"}' "$deadline" > "$vm1/instance-action.json"
for i in $(seq 600); do
	[ "$(attempt_field "$job" 1 outcome 2>/dev/null)" = preempted ] && break
	sleep 0.05
done
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
frugal logs "$job" --attempt 1 | grep -q "spot/instance-action" ||
	fail "no notice from the metadata service: $(frugal logs "$job" --attempt 1 | tail)"
boot_vm "$job" 2
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job did not succeed after the notice"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$saved" -gt 0 ] || fail "no checkpoint in attempt 1"
[ "$resumed" = "$saved" ] || fail "resumed at '$resumed', saved at $saved"
[ -n "$(s3_keys "home/jobs/$job/checkpoints/")" ] || fail "no checkpoint in S3"
[ "$(live_count)" = 0 ] || fail "instances left: $(instances_json)"
[ "$(instance_of "$job" 1)" != "$(instance_of "$job" 2)" ] || fail "one instance for two attempts"
ok "spot notice at step >= 40: checkpoint $saved in S3, attempt 2 on a new instance resumed at $resumed"

#!/bin/bash
# FRUGAL storage in S3 (moto), jobs on the local backend: the agent's
# logs, status, checkpoints and outputs go to s3:// unchanged. The
# credentials and endpoint are in ~/.aws/credentials and ~/.aws/config,
# where the agent (started with a clean environment) finds them. A trainer
# is preempted midway (frugal debug preempt), checkpoints to S3, resumes
# from it on attempt 2 and ends with the same model as an uninterrupted
# run; `frugal logs` reads the log from S3; a second job with the same
# outputs.to never overwrites the first one's result (.v2).
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto
aws_profile_files
write_config "storage: s3://$AWS_BUCKET/home"
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

mkdir -p "$TMP/proj" "$TMP/ref"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<YAML
name: s3-train
workdir: .
run: python3 train.py --steps 150 --step-sleep 0.03 --ckpt-every 10
checkpoint: {dir: /ckpt, interval: 1m}
outputs: {paths: ["weights/*.json"], to: "s3://$AWS_BUCKET/results"}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt python3 "$TMP/proj/train.py" --steps 150 \
	--step-sleep 0 >/dev/null) || fail "reference run"

job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch"
for i in $(seq 400); do
	frugal logs "$job" 2>/dev/null | grep -q "step   60" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step   60" || fail "no step 60 in the log read from S3"
frugal debug preempt "$job" --notice 5 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not succeed after preemption"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1: $(attempt_field "$job" 1 outcome)"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$resumed" = "$saved" ] || fail "saved '$saved', resumed '$resumed'"
keys=$(s3_keys "home/jobs/$job/")
for k in logs/attempt-1.log logs/attempt-2.log attempts/1/status.json attempts/2/status.json; do
	echo "$keys" | grep -q "home/jobs/$job/$k" || fail "no $k in S3: $keys"
done
echo "$keys" | grep -q "home/jobs/$job/checkpoints/" || fail "no checkpoint in S3: $keys"
[ ! -e "$FRUGAL_HOME/storage" ] || fail "something went to the file storage"
s3_get results/weights/model.json > "$TMP/model.json" || fail "no output in S3"
python3 - "$TMP/model.json" "$TMP/ref/weights/model.json" <<'PY' || fail "model differs from an uninterrupted run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
PY
ok "logs, status, checkpoints, outputs in S3; preempted at $saved, resumed at $resumed, same model"

# The same outputs again: stored beside, never over.
sed -i 's/--steps 150 --step-sleep 0.03/--steps 20 --step-sleep 0/' "$TMP/proj/task.yaml"
job2=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch 2"
[ "$(wait_terminal "$job2" 60)" = SUCCEEDED ] || fail "job 2"
cmp -s <(s3_get results/weights/model.json) "$TMP/model.json" || fail "the first result was overwritten"
[ -n "$(s3_keys results/weights/model.v2.json)" ] || fail "no model.v2.json: $(s3_keys results/)"
ok "a second job's output went to model.v2.json; the first result is intact"

# frugal pull from S3: the outputs and the newest checkpoint come home.
frugal pull "$job" "$TMP/pulled" >/dev/null 2>"$TMP/pull.err" || fail "pull from S3: $(cat "$TMP/pull.err")"
cmp "$TMP/pulled/weights/model.json" "$TMP/model.json" || fail "pulled model differs"
frugal pull "$job" "$TMP/pulled" >/dev/null 2>&1 || fail "second pull from S3"
[ -f "$TMP/pulled/weights/model.v2.json" ] || fail "second pull replaced the local file"
frugal pull "$job" "$TMP/pulled-ck" --checkpoint >/dev/null 2>"$TMP/pull.err" ||
	fail "pull --checkpoint from S3: $(cat "$TMP/pull.err")"
[ -f "$TMP/pulled-ck/ckpt.json" ] || fail "no checkpoint pulled from S3"
ok "frugal pull from S3: outputs (a second pull kept as .v2) and the newest checkpoint"

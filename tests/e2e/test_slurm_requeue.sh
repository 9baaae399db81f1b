#!/bin/bash
# Slurm: `scontrol requeue` midway is a preemption. slurmd's SIGTERM
# reaches the agent as a notice, the trainer saves a checkpoint, attempt 1
# ends preempted; the requeued Slurm job (same id, SLURM_RESTART_COUNT=1)
# becomes attempt 2 (FRUGAL_RESTART_COUNT=1), resumes from the checkpoint,
# and the final model equals an uninterrupted run's. Its secret reaches
# both attempts: attempt 2 runs in the environment Slurm kept from the
# submission, so its secrets are sealed under attempt 1's key.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
slurm_setup
mkdir -p "$TMP/proj" "$TMP/ref"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: requeue-me
workdir: .
resources: {accelerators: A100:1}
secrets: {RQ_TOKEN: null}
run: |
  echo "restarts: slurm=${SLURM_RESTART_COUNT:-0} frugal=$FRUGAL_RESTART_COUNT job=$SLURM_JOB_ID"
  echo "secret sha: $(printf %s "$RQ_TOKEN" | sha256sum | cut -c1-16)"
  python3 train.py --steps 150 --step-sleep 0.03 --ckpt-every 10
checkpoint: {dir: /ckpt, interval: 1m}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt python3 "$TMP/proj/train.py" --steps 150 --step-sleep 0 >/dev/null) || fail "reference run"

export RQ_TOKEN="rq-secret-$$-$RANDOM"
want_sha=$(printf %s "$RQ_TOKEN" | sha256sum | cut -c1-16)
job=$(frugal launch -d --backend slurm "$TMP/proj/task.yaml") || fail "launch"
for i in $(seq 400); do
	frugal logs "$job" 2>/dev/null | grep -q "step   60" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step   60" || fail "trainer did not reach step 60: $(frugal logs "$job" | tail)"
sid=$(slurm_id "$job" 1)
scontrol requeue "$sid" || fail "scontrol requeue $sid"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || fail "job did not succeed after the requeue: $(frugal status "$job")"

[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(job_field "$job" restarts)" = 1 ] || fail "restarts"
frugal logs "$job" --attempt 1 | grep -q "preemption notice from SIGTERM" || fail "no SIGTERM notice in attempt 1"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$saved" -gt 0 ] || fail "attempt 1 saved no checkpoint"
[ "$resumed" = "$saved" ] || fail "resumed at step '$resumed', checkpoint was step $saved"
ok "requeued at step $saved, attempt 2 resumed at step $resumed"

frugal logs "$job" --attempt 2 | grep -q "restarts: slurm=1 frugal=1 job=$sid" ||
	fail "attempt 2 is not the requeued Slurm job $sid: $(frugal logs "$job" --attempt 2 | grep restarts)"
[ "$(slurm_id "$job" 2)" = "$sid" ] || fail "attempt 2 runs as Slurm job $(slurm_id "$job" 2), not $sid"
ok "attempt 2 is Slurm job $sid requeued: SLURM_RESTART_COUNT=1=FRUGAL_RESTART_COUNT"
for n in 1 2; do
	frugal logs "$job" --attempt $n | grep -q "secret sha: $want_sha" ||
		fail "attempt $n did not see the secret: $(frugal logs "$job" --attempt $n | grep -i 'secret' | head -3)"
done
ok "both attempts saw the secret (attempt 2 sealed under the key of the submission)"

url=$(job_field "$job" outputs_url)
python3 - "${url#file://}/weights/model.json" "$TMP/ref/weights/model.json" <<'PY' || fail "final model differs from an uninterrupted run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
PY
ok "final model equals the uninterrupted run's"
slurm_wait_empty 30

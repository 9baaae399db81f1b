#!/bin/bash
# A preemption midway: the trainer is signalled, saves a checkpoint, the
# attempt ends as preempted, a new attempt resumes from the checkpointed
# step (not zero), and the final model equals an uninterrupted run's.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/proj" "$TMP/ref"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: preempt-me
workdir: .
run: python3 train.py --steps 150 --step-sleep 0.03 --ckpt-every 10
checkpoint: {dir: /ckpt, interval: 1m}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt python3 "$TMP/proj/train.py" --steps 150 --step-sleep 0 >/dev/null) || fail "reference run"

job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch"
for i in $(seq 200); do
	frugal logs "$job" 2>/dev/null | grep -q "step   60" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step   60" || fail "trainer did not reach step 60"
t0=$(date +%s%N)
frugal debug preempt "$job" --notice 5 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not succeed after preemption"

[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(job_field "$job" restarts)" = 1 ] || fail "restarts"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$saved" -gt 0 ] || fail "attempt 1 saved no checkpoint: $(frugal logs $job --attempt 1 | tail)"
[ "$resumed" = "$saved" ] || fail "resumed at step '$resumed', checkpoint was step $saved"
frugal logs "$job" --attempt 2 | grep -q "attempt 2" || fail "FRUGAL_ATTEMPT not 2"
ok "preempted at step $saved, attempt 2 resumed at step $resumed"

url=$(job_field "$job" outputs_url)
python3 - "${url#file://}/weights/model.json" "$TMP/ref/weights/model.json" <<'PY' || fail "final model differs from an uninterrupted run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
PY
ok "final model equals the uninterrupted run's"
[ -z "$(instance_procs "$job")" ] || fail "processes left"

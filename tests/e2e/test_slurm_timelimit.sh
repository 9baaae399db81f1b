#!/bin/bash
# Slurm: a job past its --time (backends.slurm.time_limit: 1 minute, the
# least Slurm has) gets USR1 first (--signal=B:USR1@notice_grace), saves
# a checkpoint and ends its attempt as preempted; the controller submits
# it again and the job finishes with the result of an uninterrupted run.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
SLURM_EXTRA_CONFIG="
    time_limit: 1m"
slurm_setup
mkdir -p "$TMP/proj" "$TMP/ref"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
# About 45 s of work: more than one attempt gets before its notice
# (the notice comes 10 to 40 s after the start: Slurm looks at time
# limits every 30 s).
cat > "$TMP/proj/task.yaml" <<'YAML'
name: time-limit
workdir: .
run: python3 train.py --steps 300 --step-sleep 0.15 --ckpt-every 10
checkpoint: {dir: /ckpt, interval: 1m}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 50s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt python3 "$TMP/proj/train.py" --steps 300 --step-sleep 0 >/dev/null) || fail "reference run"
job=$(frugal launch -d --backend slurm "$TMP/proj/task.yaml") || fail "launch"
wait_status "$job" RUNNING 30
sid=$(slurm_id "$job" 1)
scontrol show job "$sid" | grep -q "TimeLimit=00:01:00" || fail "no --time=1: $(scontrol show job "$sid" | grep TimeLimit)"
[ "$(wait_terminal "$job" 240)" = SUCCEEDED ] || fail "job did not succeed: $(frugal status "$job")"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
frugal logs "$job" --attempt 1 | grep -q "preemption notice from SIGUSR1" || fail "no USR1 notice: $(frugal logs "$job" --attempt 1 | tail)"
# On a loaded machine the first notice can come before the trainer saved
# anything: find the first attempt that saved, and check the next resumed there.
n=$(frugal status "$job" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"][0]["attempts"]))')
saved="" resumed="" k=1
while [ $k -lt "$n" ]; do
	saved=$(frugal logs "$job" --attempt $k | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
	if [ -n "$saved" ]; then
		resumed=$(frugal logs "$job" --attempt $((k + 1)) | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
		break
	fi
	k=$((k + 1))
done
[ -n "$saved" ] && [ "$resumed" = "$saved" ] || fail "saved at '$saved' (attempt $k), next attempt resumed at '$resumed'"
ok "USR1 before the time limit: checkpoint at step $saved on attempt $k, attempt $((k + 1)) resumed there ($(job_field "$job" restarts) restarts)"
url=$(job_field "$job" outputs_url)
python3 - "${url#file://}/weights/model.json" "$TMP/ref/weights/model.json" <<'PY' || fail "final model differs from an uninterrupted run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
PY
ok "final model equals the uninterrupted run's"
slurm_wait_empty 30

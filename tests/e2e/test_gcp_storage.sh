#!/bin/bash
# gs:// storage with the local backend: the job runs on this machine, its
# logs, status, checkpoints and outputs live in the fake's GCS bucket
# (through the JSON API, with a service account token). A preemption
# stores a checkpoint there and the next attempt restores it; outputs
# sent twice to one outputs.to are never overwritten (the second copy is
# NAME.v2.EXT); `frugal logs` reads the log back from GCS.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start

mkdir -p "$TMP/proj"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<YAML
name: gcs-local
workdir: .
run: python3 train.py --steps 150 --step-sleep 0.03 --ckpt-every 10
checkpoint: {dir: /ckpt, interval: 1m}
outputs: {paths: ["weights/*.json"], to: "gs://$BUCKET/results/shared"}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot

job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch"
for i in $(seq 400); do
	frugal logs "$job" 2>/dev/null | grep -q "step   60" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step   60" || fail "no log from GCS: $(frugal logs "$job" 2>&1 | tail -3)"
frugal debug preempt "$job" --notice 5 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job: $(job_field "$job" status)"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1: $(attempt_field "$job" 1 outcome)"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$resumed" = "$saved" ] || fail "resumed at '$resumed', saved '$saved'"
ok "checkpoint stored on GCS at step $saved and restored by attempt 2"

objs=$(fake_state '"\n".join(s["objects"])')
echo "$objs" | grep -q "^$BUCKET/frugal/jobs/$job/attempts/1/status.json$" || fail "no status.json on GCS"
echo "$objs" | grep -q "^$BUCKET/frugal/jobs/$job/logs/attempt-2.log$" || fail "no log on GCS"
echo "$objs" | grep -q "^$BUCKET/frugal/jobs/$job/checkpoints/" || fail "no checkpoint on GCS: $objs"
echo "$objs" | grep -q "\.frugal-tmp/" && fail "temporary append parts left: $objs"
[ -n "$(fake_object "results/shared/weights/model.json")" ] || fail "no output on GCS"
ok "logs, status, checkpoints and outputs are on GCS"

# The same outputs.to again: the first result stays, the second is .v2.
first=$(fake_object "results/shared/weights/model.json")
job2=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch 2"
[ "$(wait_terminal "$job2" 90)" = SUCCEEDED ] || fail "job 2: $(job_field "$job2" status)"
[ "$(fake_object "results/shared/weights/model.json")" = "$first" ] || fail "the first output was replaced"
[ -n "$(fake_object "results/shared/weights/model.v2.json")" ] || fail "no versioned copy: $(fake_state '"\n".join(s["objects"])')"
ok "outputs never overwritten on GCS (second copy model.v2.json)"
[ "$(fake_state 's["counters"]["auth_failures"]')" = 0 ] || fail "requests without a valid token"
[ "$(fake_state 's["counters"]["token_exchanges"] >= 1')" = True ] || fail "no token exchange"

# frugal pull from GCS: outputs and the newest checkpoint.
frugal pull "$job" "$TMP/pulled" >/dev/null 2>"$TMP/pull.err" || fail "pull from GCS: $(cat "$TMP/pull.err")"
[ -f "$TMP/pulled/weights/model.json" ] || fail "nothing pulled from GCS: $(ls -R "$TMP/pulled")"
frugal pull "$job" "$TMP/pulled" >/dev/null 2>&1 || fail "second pull from GCS"
[ -f "$TMP/pulled/weights/model.v2.json" ] || fail "second pull replaced the local file"
frugal pull "$job" "$TMP/pulled-ck" --checkpoint >/dev/null 2>"$TMP/pull.err" ||
	fail "pull --checkpoint from GCS: $(cat "$TMP/pull.err")"
[ -n "$(ls -A "$TMP/pulled-ck")" ] || fail "no checkpoint pulled from GCS"
ok "frugal pull from GCS: outputs (a second pull kept as .v2) and the newest checkpoint"

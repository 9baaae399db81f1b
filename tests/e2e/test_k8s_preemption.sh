#!/bin/bash
# Kubernetes backend, preemption. 1. A pod evicted through the Eviction API
# (what `kubectl drain` and the cluster autoscaler do): the pod gets the
# DisruptionTarget condition and SIGTERM with its grace period
# (recovery.notice_grace); the agent takes the SIGTERM as its notice,
# checkpoints, ends the attempt as preempted; a new Job resumes from the
# checkpoint and the final model equals an uninterrupted run's.
# 2. A spot node that vanishes at once (the pod SIGKILLed, no word from the
# agent): the controller still counts a preemption, from the
# DisruptionTarget condition (the Job's podFailurePolicy), and recovers.
# 3. `frugal debug preempt`: a notice through notice.json on the volume.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
k8s_start

mkdir -p "$TMP/proj" "$TMP/ref"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: k8s-preempt
workdir: .
backend: kubernetes
run: python3 train.py --steps 150 --step-sleep 0.03 --ckpt-every 10
checkpoint: {dir: ckpt, interval: 1s}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt python3 "$TMP/proj/train.py" --steps 150 --step-sleep 0 >/dev/null) || fail "reference run"

wait_step() {
	local i
	for i in $(seq 400); do
		frugal logs "$1" 2>/dev/null | grep -q "step   $2" && return 0
		sleep 0.05
	done
	fail "trainer of $1 did not reach step $2: $(frugal logs "$1" 2>&1 | tail -5)"
}

# 1. Eviction.
job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch"
wait_step "$job" 60
pod=$(k8s_pod "$job")
[ -n "$pod" ] || fail "no pod for $job"
k8s_curl -X POST -H 'Content-Type: application/json' \
	"$FAKE/api/v1/namespaces/ml/pods/$pod/eviction" \
	-d "{\"apiVersion\": \"policy/v1\", \"kind\": \"Eviction\", \"metadata\": {\"name\": \"$pod\", \"namespace\": \"ml\"}}" \
	| grep -q Success || fail "eviction refused"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job did not succeed after the eviction"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(job_field "$job" restarts)" = 1 ] || fail "restarts"
frugal logs "$job" --attempt 1 | grep -q "SIGTERM" || fail "the agent did not take SIGTERM as its notice: $(frugal logs "$job" --attempt 1 | tail)"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$saved" -gt 0 ] || fail "attempt 1 saved no checkpoint"
[ "$resumed" = "$saved" ] || fail "resumed at step '$resumed', checkpoint was step $saved"
url=$(job_field "$job" outputs_url)
python3 - "${url#file://}/weights/model.json" "$TMP/ref/weights/model.json" <<'PY' || fail "final model differs from an uninterrupted run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
PY
k8s_wait_gone "$job" 30
ok "evicted at step $saved: preempted, attempt 2 resumed at step $resumed, same model as uninterrupted"

# 2. The node is gone at once: SIGKILL, no status from the agent.
job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch 2"
wait_step "$job" 80
sleep 1.5	# a periodic checkpoint (interval 1s) has been stored
k8s_control "/fake/reclaim?job=frugal-$job-1&mode=hard" >/dev/null || fail "reclaim"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job did not succeed after the node vanished"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] ||
	fail "attempt 1 is $(attempt_field "$job" 1 outcome), expected preempted: $(tail -20 "$FRUGAL_HOME/controller.log")"
[ "$(job_field "$job" restarts)" = 1 ] || fail "restarts"
frugal status "$job" | grep -q "preempted .*kubernetes: .*DisruptionTarget" ||
	fail "no preemption event naming DisruptionTarget: $(frugal status "$job")"
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$resumed" ] && [ "$resumed" -gt 0 ] || fail "attempt 2 did not resume from the periodic checkpoint: $(frugal logs "$job" --attempt 2 | head)"
k8s_wait_gone "$job" 30
ok "node vanished (SIGKILL, no agent report): counted as preempted from DisruptionTarget, resumed at step $resumed"

# 3. frugal debug preempt (and a budget stop): notice.json on the volume,
# which the agent polls; the pod is not touched until the attempt ends.
job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch 3"
wait_step "$job" 60
frugal debug preempt "$job" --notice 5 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job did not succeed after debug preempt"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
frugal logs "$job" --attempt 1 | grep -q "notice from debug" || fail "no debug notice in the log"
k8s_wait_gone "$job" 30
ok "frugal debug preempt: notice through the volume, preempted, recovered"

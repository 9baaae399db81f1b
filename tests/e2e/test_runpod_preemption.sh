#!/bin/bash
# Runpod: a pod is stopped midway by its host (the fake sends SIGTERM to
# the container, kills it 5 s later and marks the pod EXITED, as Runpod
# does). The agent takes SIGTERM as the notice, the trainer checkpoints,
# the attempt ends as preempted, that data center is blocked, and attempt 2
# runs in another one, resuming from the checkpoint; the final model equals
# an uninterrupted run's. REST API v2 has no interruptible pods: a task
# that requires spot is refused at launch, saying so. All through Prism.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec runpod-docs/api-reference-v2/openapi.json
need_prism

KEY="runpod-key-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY
start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
# No network volume: the storage path is shared with the fake pods (they
# run on this machine), so attempt 2 may run in any data center.
write_config "backends:
  runpod:
    base_url: $API_URL
    shared_storage: true
    ssh_command: $FAKES/fake_ssh.py
    start_sshd: false
    request_interval: 0
    sync_interval: 0
    release_wait: 30"

mkdir -p "$TMP/proj" "$TMP/ref"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: spot-me
workdir: .
resources: {accelerators: RTX4090:1}
run: python3 train.py --steps 150 --step-sleep 0.03 --ckpt-every 10
checkpoint: {dir: ckpt, interval: 1m}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt python3 "$TMP/proj/train.py" --steps 150 --step-sleep 0 >/dev/null) || fail "reference run"

sed 's/accelerators: RTX4090:1}/accelerators: RTX4090:1, use_spot: true}/' "$TMP/proj/task.yaml" > "$TMP/proj/spot.yaml"
frugal launch -d --backend runpod "$TMP/proj/spot.yaml" > "$TMP/spot.out" 2>&1 && fail "a spot-only task was accepted"
grep -q "on-demand pods only" "$TMP/spot.out" || fail "spot refusal does not say why: $(cat "$TMP/spot.out")"
[ "$(launched_count)" = 0 ] || fail "the spot-only task created a pod"
ok "use_spot: true refused at launch: $(head -c 160 "$TMP/spot.out")"

job=$(frugal launch -d --backend runpod "$TMP/proj/task.yaml") || fail "launch"
for i in $(seq 600); do
	frugal logs "$job" 2>/dev/null | grep -q "step   60" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step   60" || fail "trainer did not reach step 60: $(frugal logs $job | tail -5)"
pod=$(awk 'NR == 1 {print $1}' "$FAKE_CLOUD_ROOT/launched.log")
curl -s -X POST "http://127.0.0.1:$FAKE_PORT/_test/interrupt/$pod" | grep -q ok || fail "interrupt"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || { frugal logs "$job" >&2; fail "job did not succeed after the reclaim"; }

[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(attempt_field "$job" 1 spot)" = False ] || fail "attempt 1 was spot: v2 has no interruptible pods"
z1=$(attempt_field "$job" 1 zone)
z2=$(attempt_field "$job" 2 zone)
[ "$z1" != "$z2" ] || fail "attempt 2 ran in the reclaimed data center $z1"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$saved" -gt 0 ] || fail "attempt 1 saved no checkpoint"
[ "$resumed" = "$saved" ] || fail "resumed at step '$resumed', checkpoint was step $saved"
ok "stopped in $z1 at step $saved; attempt 2 in $z2 resumed at step $resumed"

url=$(job_field "$job" outputs_url)
python3 - "${url#file://}/weights/model.json" "$TMP/ref/weights/model.json" <<'PY' || fail "final model differs from an uninterrupted run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, (a, b)
PY
ok "final model equals the uninterrupted run's"
[ "$(launched_count)" = 2 ] || fail "$(launched_count) pods created, want 2"
for i in $(seq 100); do
	[ "$(runpod_pods)" = 0 ] && break
	sleep 0.1
done
[ "$(runpod_pods)" = 0 ] || fail "a pod is left"
ok "two pods, both deleted"
check_prism

#!/bin/bash
# A job runs end to end on the local backend: launch follows its logs and
# exits 0, its output is in storage, status and cost record it.
. "$(dirname "$0")/lib.sh"

mkdir -p "$TMP/proj"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
echo "junk" > "$TMP/proj/ignored.bin"
echo "ignored.bin" > "$TMP/proj/.frugalignore"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: e2e-ok
workdir: .
envs: {STEPS: "40"}
setup: echo "setup sees STEPS=$STEPS"
run: |
  test ! -e ignored.bin || { echo "ignored file was copied"; exit 9; }
  echo "job=$FRUGAL_JOB_ID attempt=$FRUGAL_ATTEMPT restarts=$FRUGAL_RESTART_COUNT gpus=$FRUGAL_NUM_GPUS nodes=$SKYPILOT_NUM_NODES"
  python3 train.py --steps $STEPS --step-sleep 0
outputs: {paths: ["weights/*.json"]}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot

out=$(frugal launch "$TMP/proj/task.yaml" 2>"$TMP/launch.err") || fail "launch exited $?: $(cat "$TMP/launch.err")"
job=$(echo "$out" | head -n 1)
[ -n "$job" ] || fail "launch printed no job id"
echo "$out" | grep -q "setup sees STEPS=40" || fail "setup output missing: $out"
echo "$out" | grep -q "attempt=1 restarts=0 gpus=0 nodes=1" || fail "job environment wrong: $out"
echo "$out" | grep -q "done: 40 steps" || fail "trainer output missing"
grep -q "SUCCEEDED" "$TMP/launch.err" || fail "launch did not report the final status"
ok "launch followed the logs and exited 0"

[ "$(job_field "$job" status)" = SUCCEEDED ] || fail "status is not SUCCEEDED"
[ "$(attempt_field "$job" 1 outcome)" = succeeded ] || fail "attempt outcome"
[ "$(attempt_field "$job" 1 exit_code)" = 0 ] || fail "attempt exit code"
url=$(job_field "$job" outputs_url)
model=${url#file://}/weights/model.json
[ -f "$model" ] || fail "output $model missing"
python3 -c "import json; m=json.load(open('$model')); assert m['steps']==40" || fail "bad model"
ok "output stored at $url"

frugal logs "$job" | grep -q "step   40" || fail "logs do not show the trainer"
frugal logs "$job" --timestamps | grep -qE '^20[0-9-]+T[0-9:.]+Z ' || fail "no timestamps"
frugal status | grep -q "$job" || fail "status table lacks the job"
frugal cost --json | python3 -c "import json,sys; d=json.load(sys.stdin); assert d['rows'][0]['attempts']==1" || fail "cost"
[ ! -d "$FRUGAL_HOME/instances/$job-1" ] || fail "instance dir left behind"
[ -z "$(instance_procs "$job")" ] || fail "processes left behind"
ok "status, logs, cost; instance torn down"

perm=$(stat -c %a "$FRUGAL_HOME"); [ "$perm" = 700 ] || fail "FRUGAL_HOME mode $perm"
perm=$(stat -c %a "$FRUGAL_HOME/state.db"); [ "$perm" = 600 ] || fail "database mode $perm"
ok "FRUGAL_HOME 0700, database 0600"

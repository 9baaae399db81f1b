#!/bin/bash
# A preemption storm: 20 jobs on a 4-GPU pool while random jobs are
# preempted, some more than once. Every job SUCCEEDED with the correct
# final model; no orphan processes or instance directories.
. "$(dirname "$0")/lib.sh"
write_config 'backends:
  local:
    gpus: 4'
mkdir -p "$TMP/proj" "$TMP/ref"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<'YAML'
workdir: .
resources: {accelerators: "GPU:1"}
run: python3 train.py --steps 80 --step-sleep 0.02 --ckpt-every 5
checkpoint: {dir: /ckpt}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 3s}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt python3 "$TMP/proj/train.py" --steps 80 --step-sleep 0 >/dev/null) || fail "reference run"

jobs=""
for i in $(seq 20); do jobs="$jobs $(frugal launch -d "$TMP/proj/task.yaml")"; done
RANDOM=7
preempts=0
end=$((SECONDS + 120))
while [ $SECONDS -lt $end ]; do
	live=$(frugal status --json | python3 -c '
import json, sys
print(" ".join(j["id"] for j in json.load(sys.stdin)["jobs"] if j["status"] == "RUNNING"))')
	all_done=$(frugal status --json | python3 -c '
import json, sys
print(all(j["status"] in ("SUCCEEDED","FAILED","CANCELLED") for j in json.load(sys.stdin)["jobs"]))')
	[ "$all_done" = True ] && break
	for j in $live; do
		if [ $((RANDOM % 4)) = 0 ]; then
			frugal debug preempt "$j" --notice 2 >/dev/null 2>&1 && preempts=$((preempts + 1))
		fi
	done
	sleep 0.4
done
for j in $jobs; do
	s=$(wait_terminal "$j" 60)
	[ "$s" = SUCCEEDED ] || fail "job $j is $s: $(frugal status $j)"
	url=$(job_field "$j" outputs_url)
	cmp -s <(python3 -c "import json; print(json.load(open('${url#file://}/weights/model.json')))") \
	       <(python3 -c "import json; print(json.load(open('$TMP/ref/weights/model.json')))") ||
		fail "job $j: final model differs from the reference"
done
restarts=$(frugal status --all --json | python3 -c '
import json, sys
js = json.load(sys.stdin)["jobs"]
print(sum(j["restarts"] for j in js), max(j["restarts"] for j in js))')
[ "$preempts" -gt 0 ] || fail "no preemption happened"
[ -z "$(instance_procs)" ] || fail "orphan processes: $(instance_procs)"
[ -z "$(ls "$FRUGAL_HOME/instances" 2>/dev/null)" ] || fail "orphan instance dirs: $(ls $FRUGAL_HOME/instances)"
ok "20 jobs SUCCEEDED with correct models after $preempts preemption notices (restarts total/max: $restarts)"

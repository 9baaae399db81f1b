#!/bin/bash
# stop.idle_gpu: the agent samples the job's GPUs (a fake nvidia-smi on
# PATH replays a recorded utilisation trace) and stops the job the graceful
# way (the trainer's preemption signal, then the end) once every GPU stayed
# below the threshold for the whole window -- not before, and setup time
# never counts as idle.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/bin" "$TMP/proj"
ln -s "$FRUGAL_SRC/tests/fakes/fake_nvidia_smi.py" "$TMP/bin/nvidia-smi"
export PATH=$TMP/bin:$PATH FAKE_NVSMI_EPOCH=$TMP/epoch FAKE_NVSMI_TRACE=$TMP/trace
printf 'backends:\n  local:\n    gpus: 1\n' > "$FRUGAL_HOME/config.yaml"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: idle
resources: {accelerators: "GPU:1"}
setup: sleep 2
run: |
  trap 'echo "got SIGTERM: checkpointing"; exit 0' TERM
  for i in $(seq 120); do sleep 0.25; done
stop: {idle_gpu: 3s, idle_gpu_below: 10}
YAML
# Seconds after the epoch of the log line that matches $2.
at() {
	frugal logs "$1" --timestamps | grep -m1 -- "$2" | python3 -c '
import sys, datetime
line = sys.stdin.read().split()[0]
t = datetime.datetime.strptime(line, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
print(round(t.timestamp() - float(open(sys.argv[1]).read()), 2))' "$TMP/epoch"
}

# 1. Busy (90%) through setup and the first seconds of run, idle from 8 s.
printf '0 90\n8 3\n' > "$TMP/trace"
date +%s.%N > "$TMP/epoch"
job=$(frugal launch -d "$TMP/proj/task.yaml" --env FAKE_NVSMI_EPOCH=$TMP/epoch --env FAKE_NVSMI_TRACE=$TMP/trace) || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "job is $(job_field "$job" status)"
[ "$(attempt_field "$job" 1 outcome)" = timed_out ] || fail "outcome $(attempt_field "$job" 1 outcome)"
job_field "$job" reason | grep -q "every GPU below 10% for 3s (stop.idle_gpu)" ||
	fail "reason: $(job_field "$job" reason)"
frugal logs "$job" | grep -q "got SIGTERM: checkpointing" || fail "the trainer got no SIGTERM"
stop=$(at "$job" "stayed below 10%")
run=$(at "$job" "run started")
python3 -c "import sys; s, r = $stop, $run; sys.exit(0 if s >= 10.5 and s < 20 else 1)" ||
	fail "stopped at ${stop}s: idle began at 8s, the window is 3s"
ok "idle from 8s with a 3s window: stopped gracefully at ${stop}s (run started at ${run}s), not before"

# 2. Idle from the start, setup 2 s: only run's idle time counts.
printf '0 0\n' > "$TMP/trace"
date +%s.%N > "$TMP/epoch"
job=$(frugal launch -d "$TMP/proj/task.yaml" --env FAKE_NVSMI_EPOCH=$TMP/epoch --env FAKE_NVSMI_TRACE=$TMP/trace) || fail "launch 2"
wait_terminal "$job" 60 >/dev/null
stop=$(at "$job" "stayed below 10%")
run=$(at "$job" "run started")
python3 -c "import sys; sys.exit(0 if $stop - $run >= 2.9 else 1)" ||
	fail "stopped ${stop}s, run started ${run}s: setup counted as idle"
ok "an idle GPU during setup does not count: stopped $(python3 -c "print(round($stop - $run, 1))")s after run started"

# 3. Never idle: the job ends on its own.
printf '0 80\n' > "$TMP/trace"
sed -i 's/seq 120/seq 24/' "$TMP/proj/task.yaml"
job=$(frugal launch -d "$TMP/proj/task.yaml" --env FAKE_NVSMI_EPOCH=$TMP/epoch --env FAKE_NVSMI_TRACE=$TMP/trace) || fail "launch 3"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "a busy job was stopped: $(job_field "$job" reason)"
ok "a busy GPU is never stopped"

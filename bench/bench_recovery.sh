#!/bin/bash
# bench_recovery: time from a preemption notice to the replacement attempt
# running again, on the local backend. Target: under 1 s of frugal's own
# overhead.
# Method: the quickstart trainer runs; `frugal debug preempt` is sent at
# T0; the trainer saves its checkpoint and exits (its own reaction, T1 =
# its "checkpoint saved" log line); the new attempt's agent logs "run
# started" at T2. frugal's overhead is T2 - T1: final checkpoint upload,
# status, teardown, recovery decision, relaunch, workdir copy, checkpoint
# restore. 10 preemptions, one job each.
set -eu
FRUGAL=$(realpath "${1:-build/frugal}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
export FRUGAL_HOME=$(mktemp -d /tmp/frugal-bench.XXXXXX)
trap '"$FRUGAL" controller --stop >/dev/null 2>&1; rm -rf "$FRUGAL_HOME"' EXIT
mkdir -p "$FRUGAL_HOME/proj"
cp "$SRC/examples/quickstart/train.py" "$FRUGAL_HOME/proj/"
cat > "$FRUGAL_HOME/proj/task.yaml" <<'YAML'
workdir: .
run: python3 train.py --steps 400 --step-sleep 0.02 --ckpt-every 10
checkpoint: {dir: /ckpt}
recovery: {notice_grace: 10s}
YAML
for i in $(seq 10); do
	job=$("$FRUGAL" launch -d "$FRUGAL_HOME/proj/task.yaml")
	until "$FRUGAL" logs "$job" 2>/dev/null | grep -q "step   40"; do sleep 0.02; done
	t0=$(date +%s%3N)
	"$FRUGAL" debug preempt "$job" --notice 10 >/dev/null
	until "$FRUGAL" logs "$job" --attempt 2 2>/dev/null | grep -q "run started"; do sleep 0.02; done
	echo "$job $t0"
	"$FRUGAL" cancel "$job" >/dev/null
done > "$FRUGAL_HOME/runs"
python3 - "$FRUGAL_HOME" <<'PY'
import datetime, statistics, sys, re
home = sys.argv[1]
def ts(line):
    return datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000
total, overhead = [], []
for line in open(home + "/runs"):
    job, t0 = line.split(); t0 = int(t0)
    log1 = open(f"{home}/storage/jobs/{job}/logs/attempt-1.log").read().splitlines()
    log2 = open(f"{home}/storage/jobs/{job}/logs/attempt-2.log").read().splitlines()
    t1 = ts(next(l for l in log1 if "checkpoint saved at step" in l))
    t2 = ts(next(l for l in log2 if "frugal: run started" in l))
    total.append(t2 - t0); overhead.append(t2 - t1)
print(f"bench_recovery: {len(total)} preemptions; notice -> replacement running:"
      f" median {statistics.median(total):.0f} ms (max {max(total):.0f});"
      f" frugal's own overhead (trainer exit -> new run started):"
      f" median {statistics.median(overhead):.0f} ms (max {max(overhead):.0f})")
PY

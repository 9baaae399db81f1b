#!/bin/bash
# bench_teardown: time from the job's process exiting to its instance
# being torn down and the outcome recorded. Target: under 1 s.
# Method: the job writes a nanosecond timestamp as its very last act and
# exits; attempts.ended_at (ms, written after the teardown is confirmed)
# minus that timestamp is the latency. 10 jobs in a row, one at a time.
set -eu
FRUGAL=${1:-build/frugal}
FRUGAL=$(realpath "$FRUGAL")
export FRUGAL_HOME=$(mktemp -d /tmp/frugal-bench.XXXXXX)
trap '"$FRUGAL" controller --stop >/dev/null 2>&1; rm -rf "$FRUGAL_HOME"' EXIT
cat > "$FRUGAL_HOME/t.yaml" <<YAML
run: date +%s%N > $FRUGAL_HOME/exit-\$FRUGAL_JOB_ID
YAML
for i in $(seq 10); do
	job=$("$FRUGAL" launch "$FRUGAL_HOME/t.yaml" 2>/dev/null | head -n 1)
	echo "$job"
done > "$FRUGAL_HOME/jobs"
python3 - "$FRUGAL_HOME" <<'PY'
import sqlite3, sys, statistics
home = sys.argv[1]
db = sqlite3.connect(home + "/state.db")
lat = []
for job in open(home + "/jobs").read().split():
    exit_ns = int(open(f"{home}/exit-{job}").read())
    ended_ms, outcome = db.execute("SELECT ended_at, outcome FROM attempts WHERE job_id=?", (job,)).fetchone()
    assert outcome == "succeeded", outcome
    lat.append(ended_ms - exit_ns / 1e6)
print(f"bench_teardown: {len(lat)} jobs; process exit -> torn down + outcome recorded:"
      f" median {statistics.median(lat):.1f} ms, max {max(lat):.1f} ms")
PY

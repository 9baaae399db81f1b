#!/bin/bash
# bench_status: whole-process time of `frugal status` (and --all, --json)
# with 10,000 jobs in the database. Target: status under 30 ms.
# Method: fill a fresh FRUGAL_HOME with 10,000 finished jobs (one attempt
# each) plus 20 live ones, then run each command 30 times and report the
# median and the worst wall-clock time (fork+exec to exit).
set -eu
FRUGAL=${1:-build/frugal}
FRUGAL=$(realpath "$FRUGAL")
export FRUGAL_HOME=$(mktemp -d /tmp/frugal-bench.XXXXXX)
# The 20 "live" rows are fakes: look at them without starting a controller.
export FRUGAL_NO_AUTOSTART=1
trap '"$FRUGAL" controller --stop >/dev/null 2>&1; rm -rf "$FRUGAL_HOME"' EXIT
N=${N:-10000}
"$FRUGAL" status >/dev/null
python3 - "$FRUGAL_HOME/state.db" "$N" <<'PY'
import sqlite3, sys, time, random
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2])
now = int(time.time() * 1000)
task = '{"name":"bench","run":"python train.py","resources":{}}'
rows, att = [], []
for i in range(n + 20):
    jid = "b%05d" % i
    live = i >= n
    rows.append((jid, i + 1, "bench-%d" % (i % 50), "RUNNING" if live else "SUCCEEDED", task,
                 "local", "A100:1", 1, now - 3600000 + i, now, 0 if live else now, 0.12))
    att.append((jid, 1, "local", now - 3600000 + i, 0 if live else now, None if live else "succeeded"))
db.executemany("INSERT INTO jobs (id, seq, name, status, task_json, backend, accelerators, gpus,"
               " submitted_at, updated_at, ended_at, cost_usd) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
db.executemany("INSERT INTO attempts (job_id, n, backend, started_at, ended_at, outcome)"
               " VALUES (?,?,?,?,?,?)", att)
db.commit()
PY
measure() {
	python3 - "$@" <<'PY'
import subprocess, sys, time, statistics
cmd = sys.argv[1:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
ts = []
for _ in range(30):
    t = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    ts.append((time.perf_counter() - t) * 1000)
print(f"{' '.join(c.split('/')[-1] for c in cmd):28s} median {statistics.median(ts):7.2f} ms   max {max(ts):7.2f} ms")
PY
}
echo "bench_status: $N finished + 20 live jobs in $FRUGAL_HOME/state.db"
measure "$FRUGAL" status
measure "$FRUGAL" status b00042
measure "$FRUGAL" status --json
measure "$FRUGAL" status --all

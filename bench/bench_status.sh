#!/bin/bash
# bench_status: whole-process time and peak memory of the listings at N
# finished jobs (default 100,000) plus 20 live ones.
# Targets (issue 22): `status --all --json` at 100k finished jobs <= 1 s
# and <= 50 MB; `status` (live + the newest 20 finished) in milliseconds.
# Method: bench_status_fill (bench/bench_status_fill.c, linked to the
# store) writes the jobs through the store's own API - one attempt each
# (every tenth with a preempted one before it), the cost ledger, 20 live
# attempts - into a database on tmpfs (the fill is fsync-bound on disk),
# moved into a fresh FRUGAL_HOME; then each command runs RUNS times (5)
# after one warm-up, and the median wall-clock time (fork+exec to exit,
# output to /dev/null), the median CPU time (user + system: what counts on
# a shared machine, where wall time waits for a core) and the peak RSS (/usr/bin/time -v, or getrusage
# without it) are reported.
# Usage: bench_status.sh [build/frugal]   (N=..., RUNS=... override;
# DB=state.db measures a copy of a database filled before, to compare builds)
set -eu
FRUGAL=$(realpath "${1:-build/frugal}")
FILL=$(dirname "$FRUGAL")/bench_status_fill
N=${N:-100000}
RUNS=${RUNS:-5}
if [ -z "${DB:-}" ] && [ ! -x "$FILL" ]; then
	cmake --build "$(dirname "$FRUGAL")" --target bench_status_fill >/dev/null
fi
export FRUGAL_HOME=$(mktemp -d /tmp/frugal-bench.XXXXXX)
SHM=$(mktemp -d "$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp)/frugal-bench-fill.XXXXXX")
# The 20 live jobs are rows only: look at them without starting a controller.
export FRUGAL_NO_AUTOSTART=1
trap 'rm -rf "$FRUGAL_HOME" "$SHM"' EXIT
t0=$(date +%s)
if [ -n "${DB:-}" ]; then
	cp "$DB" "$FRUGAL_HOME/state.db"
	echo "bench_status: a copy of $DB"
else
	"$FILL" "$SHM/state.db" "$N" 20
	mv "$SHM/state.db" "$FRUGAL_HOME/state.db"
	echo "bench_status: $N finished + 20 live jobs, filled through the store in $(( $(date +%s) - t0 )) s"
fi

measure() {
	python3 - "$@" <<'PY'
import os, resource, shutil, statistics, subprocess, sys, time
cmd = sys.argv[1:]
runs = int(os.environ.get("RUNS", "5"))
subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)   # warm-up
ts, cpu = [], []
for _ in range(runs):
    t = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    ts.append((time.perf_counter() - t) * 1000)
    cpu.append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) * 1000)
if shutil.which("/usr/bin/time"):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, check=True)
    rss = next(int(l.split(":")[1]) for l in r.stderr.splitlines()
               if "Maximum resident set size" in l)
else:
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
name = " ".join(c.split("/")[-1] for c in cmd)
print(f"{name:22s} median {statistics.median(ts):7.0f} ms wall, {statistics.median(cpu):7.0f} ms CPU"
      f" (of {runs})  peak RSS {rss / 1024:6.1f} MB")
PY
}
measure "$FRUGAL" status
measure "$FRUGAL" status --all
measure "$FRUGAL" status --all --json
measure "$FRUGAL" cost --json

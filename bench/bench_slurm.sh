#!/bin/bash
# bench_slurm: on the test cluster of tests/slurm/start-cluster, the time
#  (1) from sbatch being run to the job's run step starting under the agent
#      (Slurm scheduling + slurmd/slurmstepd + the batch script + agent
#      start-up and checkpoint restore), and
#  (2) from the job's last instruction to Slurm no longer listing it in
#      squeue (agent final status + exit, slurmstepd, epilog, COMPLETING).
# Method: backends.slurm.bin_dir points at wrappers; the sbatch wrapper
# writes a nanosecond timestamp then execs the real sbatch. The job
# writes timestamps as its first and last acts; the bench polls
# `squeue -j ID` every 10 ms. Five jobs, one at a time. Skips (exit 0)
# when no cluster answers.
set -eu
FRUGAL=${1:-build/frugal}
FRUGAL=$(realpath "$FRUGAL")
N=${N:-5}
export PATH=$PATH:/usr/sbin:/sbin
export SLURM_CONF=${SLURM_CONF:-${FRUGAL_SLURM_DIR:-/tmp/frugal-slurm}/etc/slurm.conf}
if ! timeout 10 sinfo -h >/dev/null 2>&1; then
	echo "bench_slurm: skipped: slurm not available (run tests/slurm/start-cluster as root)"
	exit 0
fi
export FRUGAL_HOME=$(mktemp -d /tmp/frugal-bench.XXXXXX)
trap '"$FRUGAL" controller --stop >/dev/null 2>&1; rm -rf "$FRUGAL_HOME"' EXIT
bin=$FRUGAL_HOME/bin
mkdir -p "$bin"
for c in squeue scontrol scancel sacct; do
	ln -s "$(command -v $c)" "$bin/$c"
done
cat > "$bin/sbatch" <<EOF
#!/bin/sh
date +%s%N >> "$FRUGAL_HOME/sbatch-times"
exec $(command -v sbatch) "\$@"
EOF
chmod +x "$bin/sbatch"
cat > "$FRUGAL_HOME/config.yaml" <<EOF
backends:
  slurm:
    bin_dir: $bin
    teardown_grace: 5s
EOF
cat > "$FRUGAL_HOME/t.yaml" <<YAML
run: |
  date +%s%N > $FRUGAL_HOME/start-\$FRUGAL_JOB_ID
  sleep 1
  date +%s%N > $FRUGAL_HOME/exit-\$FRUGAL_JOB_ID
YAML
: > "$FRUGAL_HOME/results"
for i in $(seq "$N"); do
	before=$(wc -l 2>/dev/null < "$FRUGAL_HOME/sbatch-times" || echo 0)
	job=$("$FRUGAL" launch -d --backend slurm "$FRUGAL_HOME/t.yaml")
	for _ in $(seq 1000); do
		[ "$(wc -l 2>/dev/null < "$FRUGAL_HOME/sbatch-times" || echo 0)" -gt "$before" ] && break
		sleep 0.01
	done
	sb=$(tail -n 1 "$FRUGAL_HOME/sbatch-times")
	sid=""
	for _ in $(seq 1000); do
		sid=$(squeue -h --states=all -n "$job-1" -o %i 2>/dev/null | tail -n 1)
		[ -n "$sid" ] && break
		sleep 0.01
	done
	for _ in $(seq 3000); do
		[ -f "$FRUGAL_HOME/exit-$job" ] && break
		sleep 0.01
	done
	while [ -n "$(squeue -h -j "$sid" 2>/dev/null)" ]; do sleep 0.01; done
	gone=$(date +%s%N)
	echo "$sb $(cat "$FRUGAL_HOME/start-$job") $(cat "$FRUGAL_HOME/exit-$job") $gone" >> "$FRUGAL_HOME/results"
done
python3 - "$FRUGAL_HOME/results" <<'PY'
import statistics, sys
rows = [list(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
start = [(r[1] - r[0]) / 1e6 for r in rows]
gone = [(r[3] - r[2]) / 1e6 for r in rows]
def fmt(xs):
    return "median %.0f ms, min %.0f, max %.0f (n=%d)" % (statistics.median(xs), min(xs), max(xs), len(xs))
print("bench_slurm: sbatch -> job running under the agent: " + fmt(start))
print("bench_slurm: job exit -> gone from squeue:          " + fmt(gone))
PY

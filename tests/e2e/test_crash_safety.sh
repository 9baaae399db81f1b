#!/bin/bash
# Crash safety: the controller is killed (_exit at a fault-injection point)
# at every point in turn, then restarted. Each time: the job finishes, no
# attempt runs twice, nothing is leaked (processes, instance dirs, ledger).
# The agent is crashed the same way at its own points.
. "$(dirname "$0")/lib.sh"
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/job.yaml" <<YAML
run: |
  echo "start \$FRUGAL_JOB_ID \$FRUGAL_ATTEMPT \$(date +%s%N)" >> $TMP/trace
  sleep 0.3
  mkdir -p out && echo ok > out/result.txt
  if [ ! -e $TMP/first-\$FRUGAL_JOB_ID ]; then
    touch $TMP/first-\$FRUGAL_JOB_ID
    echo "end \$FRUGAL_JOB_ID \$FRUGAL_ATTEMPT \$(date +%s%N)" >> $TMP/trace
    exit 33
  fi
  echo "end \$FRUGAL_JOB_ID \$FRUGAL_ATTEMPT \$(date +%s%N)" >> $TMP/trace
outputs: {paths: [out]}
recovery: {recover_on_exit_codes: [33], max_restarts_on_errors: 2}
YAML


# 1. Which points does a normal run reach?
export FRUGAL_FAULT_LOG=$TMP/points
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
[ "$(wait_terminal "$job" 30)" = SUCCEEDED ] || fail "plain run failed"
frugal controller --stop >/dev/null
unset FRUGAL_FAULT_LOG
# Each point as many times as a normal run reaches it: "point@N".
points=$(grep '^controller\.' "$TMP/points" | sort | uniq -c |
	 awk '{for (i = 1; i <= $1; i++) print $2 "@" i}')
[ -n "$points" ] || fail "no controller fault points were reached"

check_clean() {
	local job=$1 what=$2
	[ -z "$(instance_procs "$job")" ] || fail "$what: processes left: $(instance_procs "$job")"
	ls "$FRUGAL_HOME/instances" 2>/dev/null | grep -q "^$job-" && fail "$what: instance dir left"
	open=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE job_id='$job' AND state!='gone'\").fetchone()[0])")
	[ "$open" = 0 ] || fail "$what: $open ledger rows not gone"
	python3 - "$TMP/trace" "$job" <<'PY' || fail "$what: attempts overlapped or ran twice: $(grep $job $TMP/trace)"
import sys
ev = [l.split() for l in open(sys.argv[1]) if l.split()[1] == sys.argv[2]]
starts = [e for e in ev if e[0] == "start"]
assert len(starts) == 2, f"{len(starts)} runs, want 2"
# Never two runs at once: each end comes before the next start.
ev.sort(key=lambda e: int(e[3]))
assert [e[0] for e in ev] == ["start", "end", "start", "end"], ev
PY
}

covered=0
crash_each_point "$TMP/job.yaml" 30 check_clean $points

# 2. The agent crashes at its points; the controller recovers the job.
apoints="agent.before_outputs agent.after_final_status agent.checkpoint.after_objects"
for p in $apoints; do
	rm -f "$TMP"/first-*
	FRUGAL_AGENT_FAULT=$p frugal controller >/dev/null
	unset FRUGAL_AGENT_FAULT
	job=$(frugal launch -d "$TMP/job.yaml") || fail "launch ($p)"
	s=$(wait_terminal "$job" 60)
	[ "$s" = SUCCEEDED ] || [ "$s" = FAILED ] || fail "agent crash at $p: job is $s"
	[ -z "$(instance_procs "$job")" ] || fail "agent crash at $p: processes left"
	ls "$FRUGAL_HOME/instances" 2>/dev/null | grep -q "^$job-" && fail "agent crash at $p: instance dir left"
	frugal controller --stop >/dev/null
	covered=$((covered + 1))
	ok "agent crash at $p: job $s, nothing leaked"
done
echo "crash safety: covered $covered fault-injection points"

#!/bin/bash
# Crash safety of multi-node attempts: the controller is killed at every
# fault point a 3-node job reaches (controller.after_ledger: three rows
# committed, nothing made; controller.after_node_launch@1: ranks 0 and 1
# made, rank 2 not; @2: all made, not recorded; ...), then restarted.
# Each time the job succeeds, every rank ran exactly once (the nodes of a
# half-made attempt never got past the rendezvous), and no process,
# instance directory or ledger row is left.
. "$(dirname "$0")/lib.sh"
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/job.yaml" <<YAML
num_nodes: 3
run: |
  echo "start \$FRUGAL_JOB_ID \$FRUGAL_NODE_RANK \$FRUGAL_ATTEMPT" >> $TMP/trace
  sleep 0.3
  echo "end \$FRUGAL_JOB_ID \$FRUGAL_NODE_RANK \$FRUGAL_ATTEMPT" >> $TMP/trace
YAML

controller_pid() { cat "$FRUGAL_HOME/controller.pid" 2>/dev/null; }

export FRUGAL_FAULT_LOG=$TMP/points
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "plain run failed: $(frugal status "$job")"
frugal controller --stop >/dev/null
unset FRUGAL_FAULT_LOG
grep -q '^controller.after_node_launch' "$TMP/points" || fail "the node launches reached no fault point"
points=$(grep '^controller\.' "$TMP/points" | sort | uniq -c |
	 awk '{for (i = 1; i <= $1; i++) print $2 "@" i}')

check_clean() {
	local job=$1 what=$2
	[ -z "$(instance_procs "$job")" ] || fail "$what: processes left: $(instance_procs "$job")"
	ls "$FRUGAL_HOME/instances" 2>/dev/null | grep -q "^$job-" && fail "$what: instance dir left"
	open=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE job_id='$job' AND state!='gone'\").fetchone()[0])")
	[ "$open" = 0 ] || fail "$what: $open ledger rows not gone"
	for r in 0 1 2; do
		n=$(grep -c "^start $job $r " "$TMP/trace")
		[ "$n" = 1 ] || fail "$what: rank $r ran $n times: $(grep " $job " "$TMP/trace")"
	done
}

for p in $points; do
	FRUGAL_CONTROLLER_FAULT=$p frugal controller >/dev/null || fail "controller with fault $p"
	job=$(frugal launch -d "$TMP/job.yaml") || fail "launch ($p)"
	for i in $(seq 300); do
		pid=$(controller_pid)
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	pid=$(controller_pid)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		fail "controller did not crash at $p"
	fi
	rm -f "$FRUGAL_HOME/controller.pid"
	frugal controller >/dev/null || fail "restart after $p"
	s=$(wait_terminal "$job" 60)
	[ "$s" = SUCCEEDED ] || fail "after a crash at $p the job is $s: $(frugal status "$job")"
	check_clean "$job" "crash at $p"
	frugal controller --stop >/dev/null
	ok "controller crash at $p: 3-node job SUCCEEDED, each rank once, nothing leaked"
done

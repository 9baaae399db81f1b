#!/bin/bash
# Kubernetes backend, crash safety: the controller is killed at every
# fault-injection point a normal run reaches -- its own (after the ledger
# row and before the create, after the launch, around teardown) and the
# backend's (kubernetes.after_secret: the Secret made, the Job not;
# kubernetes.after_job: the Job made, its id not recorded) -- then
# restarted. Each time: the job finishes, no attempt runs twice, no Job is
# created twice under one name (a crash after the create is adopted by
# name, not duplicated), and nothing is left: no Job, pod or Secret, no
# open ledger row, no attempt directory on the volume.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
export FRUGAL_CONTROLLER_IDLE_EXIT=60s
k8s_start

cat > "$TMP/job.yaml" <<YAML
backend: kubernetes
secrets: {TOKEN: null}
run: |
  echo "start \$FRUGAL_JOB_ID \$FRUGAL_ATTEMPT \$(date +%s%N)" >> $TMP/trace
  sleep 0.3
  echo "end \$FRUGAL_JOB_ID \$FRUGAL_ATTEMPT \$(date +%s%N)" >> $TMP/trace
YAML
export TOKEN=t0k3n


# Which points does a normal run reach?
export FRUGAL_FAULT_LOG=$TMP/points
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "plain run failed"
frugal controller --stop >/dev/null
unset FRUGAL_FAULT_LOG
points=$(grep -E '^(controller|kubernetes)\.' "$TMP/points" | sort | uniq -c |
	 awk '{for (i = 1; i <= $1; i++) print $2 "@" i}')
echo "$points" | grep -q "kubernetes.after_secret" || fail "kubernetes.after_secret not reached"
echo "$points" | grep -q "kubernetes.after_job" || fail "kubernetes.after_job not reached"

check_clean() {
	local job=$1 what=$2
	k8s_wait_gone "$job" 30
	[ -z "$(ls "$FRUGAL_HOME/storage/instances" 2>/dev/null | grep "^$job-")" ] ||
		fail "$what: attempt directory left"
	open=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE job_id='$job' AND state!='gone'\").fetchone()[0])")
	[ "$open" = 0 ] || fail "$what: $open ledger rows not gone"
	python3 - "$TMP/trace" "$job" <<'PY' || fail "$what: an attempt ran twice or runs overlapped: $(grep $job $TMP/trace)"
import sys
ev = [l.split() for l in open(sys.argv[1]) if l.split()[1] == sys.argv[2]]
ev.sort(key=lambda e: int(e[3]))
kinds = [e[0] for e in ev]
assert kinds and kinds == ["start", "end"] * (len(kinds) // 2), ev
attempts = [e[2] for e in ev if e[0] == "start"]
assert len(attempts) == len(set(attempts)), attempts
PY
	k8s_get /fake/requests | python3 -c '
import json, sys, collections
n = collections.Counter(r["body"]["metadata"]["name"] for r in json.load(sys.stdin)
                        if r["method"] == "POST" and r["path"].endswith("/jobs"))
dup = [k for k, v in n.items() if v > 1]
assert not dup, dup
' || fail "$what: a Job was created twice under one name"
}

covered=0
crash_each_point "$TMP/job.yaml" 60 check_clean $points
echo "kubernetes crash safety: covered $covered fault-injection points"

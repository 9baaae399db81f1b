#!/bin/bash
# Finding (issue 14, item 3): on Slurm with ProctrackType=proctrack/linuxproc
# (the test cluster's) a daemon the job detaches -- `setsid env -i sleep
# 1000 &`, a Python double fork with an empty environment -- escaped the
# job's end and scancel, and kept the node busy. The agent is a child
# subreaper now: the daemon stays its descendant and is ended when the
# attempt ends, whether the job exits or is cancelled.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
command -v python3 >/dev/null || { echo "skipped: python3 not available"; exit 77; }
slurm_setup
. "$(dirname "$0")/escape_lib.sh"
trap 'rc=$?; slurm_cancel_ours; (exit $rc); escape_cleanup' EXIT

detach='setsid env -i sleep 1000 </dev/null >/dev/null 2>&1 &
echo $! >> "$PIDS"
python3 - <<"PY"
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(os.environ["PIDS"], "a") as f:
            f.write("%d\n" % os.getpid())
        os.execve("/bin/sleep", ["sleep", "1000"], {})
    os._exit(0)
os.wait()
PY
while [ "$(wc -l < "$PIDS")" -lt 2 ]; do sleep 0.05; done'

# slurm_job NAME: escape_job's task file, on a GPU of the Slurm node.
slurm_job() {
	escape_job "$1" "$detach"
	sed -i '1i resources: {accelerators: A100:1}' "$TMP/$1.yaml"
}

# Both daemons recorded (escape_wait_recorded is content with one).
wait_both() {
	local i=0
	while [ "$(wc -l < "$PIDS")" -lt 2 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
	[ "$(wc -l < "$PIDS")" -ge 2 ] || fail "the job recorded $(wc -l < "$PIDS") of its 2 daemons"
	escape_remember
}

# The agent said what it ended in the job's log.
assert_logged() {
	frugal logs "$1" 2>/dev/null | grep -q "ended 2 process(es) the job had detached" ||
		fail "the log does not say the agent ended the 2 daemons: $(frugal logs "$1" 2>&1 | tail -n 15)"
}

proctrack=$(scontrol show config 2>/dev/null | sed -n 's/^ProctrackType *= *//p')
echo "# cluster ProctrackType: ${proctrack:-unknown}"

# The job exits (succeeded) with its daemons still running.
: > "$PIDS"
HOLD=0 slurm_job exit
job=$(frugal launch -d --backend slurm "$TMP/exit.yaml") || fail "launch: $job"
escape_wait_recorded
wait_both
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job $job is $(job_field "$job" status)"
escape_assert_none "slurm job exit"
assert_logged "$job"
slurm_wait_empty 30
ok "slurm: both detached daemons die when the job exits"

# The job is cancelled while it runs.
: > "$PIDS"
HOLD=600 slurm_job cancel
job=$(frugal launch -d --backend slurm "$TMP/cancel.yaml") || fail "launch: $job"
escape_wait_recorded
wait_both
wait_status "$job" RUNNING 30
frugal cancel "$job" >/dev/null || fail "cancel $job"
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "job $job is $(job_field "$job" status)"
escape_assert_none "slurm cancel"
assert_logged "$job"
slurm_wait_empty 30
ok "slurm: both detached daemons die when the job is cancelled"

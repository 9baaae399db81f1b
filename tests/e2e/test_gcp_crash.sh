#!/bin/bash
# Crash safety of the gcp backend. The controller dies (a fault point)
#  a) after the ledger row is committed and before the insert: restarted,
#     it asks the API for the attempt's VM (by its labels), finds none,
#     and launches a new attempt: one VM in all, nothing leaked;
#  b) after the insert and before the VM id is recorded: restarted, it
#     finds the VM by its labels and adopts it: no second insert, the job
#     succeeds on the first attempt.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/task.yaml" <<'YAML'
name: gcp-crash
resources: {cloud: gcp, cpus: 2+}
run: |
  echo "attempt $FRUGAL_ATTEMPT running"
  sleep 4
  echo done
YAML


# a) Between the ledger and the insert.
crash_at controller.after_ledger "$TMP/task.yaml"
[ "$(fake_state 's["counters"]["inserts"]')" = 0 ] || fail "an insert happened before the crash"
frugal controller >/dev/null || fail "restart"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job after a crash: $(job_field "$job" status)"
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] || fail "attempt 1: $(attempt_field "$job" 1 outcome)"
wait_vms_gone 30
[ "$(fake_state 's["counters"]["inserts"]')" = 1 ] || fail "inserts: $(fake_state 's["counters"]["inserts"]')"
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows left"
grep -q "was never created: launching again" "$FRUGAL_HOME/controller.log" || fail "not resolved"
ok "crash between ledger and insert: relaunched, one VM in all, nothing leaked"
frugal controller --stop >/dev/null

# b) Between the insert and recording it.
crash_at controller.after_launch "$TMP/task.yaml"
[ "$(fake_state 's["counters"]["inserts"]')" = 2 ] || fail "the insert did not happen"
frugal controller >/dev/null || fail "restart"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job after a crash: $(job_field "$job" status)"
[ "$(frugal status "$job" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"][0]["attempts"]))')" = 1 ] ||
	fail "attempts: expected one, adopted"
grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" || fail "not adopted"
wait_vms_gone 30
[ "$(fake_state 's["counters"]["inserts"]')" = 2 ] || fail "a second insert for the adopted attempt"
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows left"
no_schema_errors
ok "crash between insert and record: the VM was adopted, no duplicate"

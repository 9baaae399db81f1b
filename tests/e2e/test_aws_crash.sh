#!/bin/bash
# Never leak, never duplicate, on AWS (moto): the controller is killed
#  a. after EC2 took RunInstances and before its answer was recorded
#     (fault point aws.after_run_instances): restarted, it finds the
#     instance by its frugal-token tag and adopts it - one instance, one
#     RunInstances;
#  b. after the ledger row was committed and before RunInstances
#     (controller.after_ledger): restarted, it finds nothing under the
#     token and launches again - still exactly one instance;
#  c. after TerminateInstances, before the teardown was recorded
#     (controller.after_terminate): restarted, the teardown is confirmed
#     and nothing is left.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto --auth
start_proxy
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/job.yaml" <<'YAML'
name: crash
resources: {accelerators: T4:1, use_spot: true}
run: sleep 600
YAML

# a. RunInstances happened, its answer was lost.
crash_at aws.after_run_instances
[ "$(live_count "$job")" = 1 ] || fail "a: $(live_count "$job") instances before the restart"
state=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT state FROM resources WHERE job_id='$job'\").fetchone()[0])")
[ "$state" = creating ] || fail "a: the ledger row is '$state', want creating"
frugal controller >/dev/null || fail "restart"
for i in $(seq 200); do
	grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" && break
	sleep 0.05
done
sleep 2	# a few passes of the controller: no second launch
id=$(instance_of "$job" 1)
[ "$(live_count "$job")" = 1 ] || fail "a: $(live_count "$job") instances after the restart"
[ "$(ec2_calls RunInstances)" = 1 ] || fail "a: $(ec2_calls RunInstances) RunInstances calls"
grep -q "adopting $job-1 (instance us-east-1/$id)" "$FRUGAL_HOME/controller.log" ||
	fail "a: not adopted: $(tail -5 "$FRUGAL_HOME/controller.log")"
frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "a: cancel"
[ "$(live_count "$job")" = 0 ] || fail "a: instance left"
frugal controller --stop >/dev/null
ok "killed after RunInstances: adopted us-east-1/$id by its token tag, one instance"

# b. The ledger row is there, RunInstances never happened.
runs=$(ec2_calls RunInstances)
crash_at controller.after_ledger
[ "$(live_count "$job")" = 0 ] || fail "b: an instance before RunInstances?"
frugal controller >/dev/null || fail "restart"
wait_status "$job" STARTING 30
[ "$(live_count "$job")" = 1 ] || fail "b: $(live_count "$job") instances"
[ "$(ec2_calls RunInstances)" = $((runs + 1)) ] || fail "b: RunInstances calls"
frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "b: cancel"
[ "$(live_count "$job")" = 0 ] || fail "b: instance left"
frugal controller --stop >/dev/null
ok "killed between ledger and RunInstances: launched once after the restart"

# c. TerminateInstances sent, the controller died before recording it.
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch (c)"
wait_instance "$job" >/dev/null
wait_status "$job" STARTING 30
frugal controller --stop >/dev/null
FRUGAL_CONTROLLER_FAULT=controller.after_terminate frugal controller >/dev/null
frugal cancel "$job" >/dev/null
wait_controller_crash controller.after_terminate
frugal controller >/dev/null || fail "restart (c)"
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "c: cancel"
[ "$(live_count)" = 0 ] || fail "c: instances left: $(instances_json)"
[ "$(ledger_open)" = 0 ] || fail "c: $(ledger_open) ledger rows not gone"
! frugal gc --dry-run | grep -q "^aws" || fail "gc: $(frugal gc --dry-run)"
ok "killed after TerminateInstances: teardown confirmed after the restart, nothing left"

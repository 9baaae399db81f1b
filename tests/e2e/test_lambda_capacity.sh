#!/bin/bash
# Lambda: capacity and crash safety, through Prism.
#  1. /instance-types lists capacity in us-east-1 and us-west-1, but the
#     launch in us-east-1 is refused (insufficient-capacity): the attempt
#     ends launch_failed, the region is blocked, attempt 2 goes to us-west-1.
#     That launch's reply is lost (HTTP 500 after the instance was made):
#     frugal finds the instance by its name and adopts it -- one instance.
#  2. The controller dies right after the launch call, before recording the
#     instance: restarted, it finds the instance by name and adopts it.
#  3. Lambda's rate limit (one launch every launch_interval): two jobs at
#     once are launched that far apart, and both succeed.
#  4. Cancel: SIGINT reaches the agent over SSH; the instance is ended.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec soof-golan-terraform-provider-lambdalabs/openapi.yaml
need_prism
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

KEY="lambda-key-$(date +%s%N)"
export LAMBDA_API_KEY=$KEY FAKE_LAMBDA_KEY=$KEY
export FAKE_LAMBDA_CAPACITY='{"gpu_1x_a10": ["us-east-1", "us-west-1"]}'
export FAKE_LAMBDA_LAUNCH_NO_CAPACITY="gpu_1x_a10@us-east-1"
export FAKE_LAMBDA_LAUNCH_500_ONCE=1
start_fake fake_lambda.py
start_prism soof-golan-terraform-provider-lambdalabs/openapi.yaml
write_config "backends:
  lambda:
    base_url: $API_URL
    ssh_key_name: frugal-test
    ssh_command: $FAKES/fake_ssh.py
    shared_storage: true
    request_interval: 0
    launch_interval: 0
    capacity_cache: 0
    sync_interval: 0
    release_wait: 30"
cat > "$TMP/task.yaml" <<'YAML'
resources: {accelerators: A10:1}
run: echo "ran on attempt $FRUGAL_ATTEMPT"
YAML

job=$(frugal launch -d --backend lambda "$TMP/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job did not succeed"
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(attempt_field "$job" 1 region)" = us-east-1 ] || fail "attempt 1 region"
[ "$(attempt_field "$job" 2 region)" = us-west-1 ] || fail "attempt 2 region $(attempt_field "$job" 2 region)"
[ "$(launched_count)" = 1 ] || fail "$(launched_count) instances for one lost reply, want 1"
ok "no capacity in us-east-1 -> blocked, attempt 2 in us-west-1; lost launch reply -> adopted by name (1 instance)"
frugal controller --stop >/dev/null

crash_at controller.after_launch "$TMP/task.yaml" --backend lambda
[ "$(launched_count)" = 2 ] || fail "the crashed launch made $(($(launched_count) - 1)) instances"
frugal controller >/dev/null || fail "restart"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job after the crash"
[ "$(launched_count)" = 2 ] || fail "after the restart: $(launched_count) instances in all, want 2"
grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" || fail "the instance was not adopted"
ok "controller crash after the launch call: the instance was found by name and adopted, not duplicated"
for i in $(seq 100); do
	curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' || break
	sleep 0.1
done
curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' && fail "an instance is left"
ok "nothing left running"
frugal controller --stop >/dev/null

sed -i 's/launch_interval: 0/launch_interval: 3/' "$FRUGAL_HOME/config.yaml"
export FAKE_LAMBDA_CAPACITY
j1=$(frugal launch -d --backend lambda "$TMP/task.yaml") || fail "launch j1"
j2=$(frugal launch -d --backend lambda "$TMP/task.yaml") || fail "launch j2"
[ "$(wait_terminal "$j1" 90)" = SUCCEEDED ] || fail "j1"
[ "$(wait_terminal "$j2" 90)" = SUCCEEDED ] || fail "j2"
gap=$(tail -n 2 "$FAKE_CLOUD_ROOT/launched.log" | awk 'NR == 1 {a = $3} NR == 2 {printf "%.1f", $3 - a}')
python3 -c "import sys; sys.exit(0 if $gap >= 2.9 else 1)" || fail "launches $gap s apart, launch_interval is 3 s"
ok "two launches ${gap} s apart (launch_interval 3 s), both jobs succeeded"
frugal controller --stop >/dev/null
sed -i 's/launch_interval: 3/launch_interval: 0/' "$FRUGAL_HOME/config.yaml"

cat > "$TMP/long.yaml" <<'YAML'
resources: {accelerators: A10:1}
run: |
  trap 'echo "got SIGTERM from the agent"; exit 1' TERM
  echo started; sleep 60 & wait
YAML
job=$(frugal launch -d --backend lambda "$TMP/long.yaml") || fail "launch long"
wait_status "$job" RUNNING 60
for i in $(seq 100); do frugal logs "$job" | grep -q started && break; sleep 0.1; done
frugal cancel "$job" >/dev/null || fail "cancel"
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "not cancelled"
for i in $(seq 100); do
	curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' || break
	sleep 0.1
done
curl -s -H "Authorization: Bearer $KEY" "$API_URL/instances" | grep -q '"id"' && fail "an instance is left"
grep -q "kill -INT" "$FAKE_CLOUD_ROOT/ssh.log" || fail "the cancel did not reach the agent over SSH"
ok "cancel: SIGINT to the agent over SSH, CANCELLED, instance ended"
check_prism

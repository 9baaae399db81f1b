#!/bin/bash
# A launch that spends money asks first when it runs on a terminal (read
# off a tmux screen): "n" launches nothing and records no job; -y does not
# ask; without a terminal (a script) it never asks. The paid backend is
# Lambda against its fake (no Prism needed: nothing is launched here).
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
command -v tmux >/dev/null || skip "tmux not available"
KEY="lambda-key-$(date +%s%N)"
export LAMBDA_API_KEY=$KEY FAKE_LAMBDA_KEY=$KEY
export FAKE_LAMBDA_CAPACITY='{"gpu_1x_a10": ["us-east-1"]}'
start_fake fake_lambda.py
write_config "backends:
  lambda:
    base_url: http://127.0.0.1:$FAKE_PORT
    ssh_key_name: frugal-test
    ssh_command: $FAKES/fake_ssh.py
    shared_storage: true
    request_interval: 0
    launch_interval: 0
    capacity_cache: 0"
cat > "$TMP/task.yaml" <<'YAML'
resources: {cloud: lambda, accelerators: A10:1}
run: "true"
YAML
jobs_count() { frugal status --all --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))'; }

S=frugal-confirm-$$
tmux new-session -d -s "$S" -x 160 -y 40 \
	"cd $TMP && FRUGAL_HOME=$FRUGAL_HOME LAMBDA_API_KEY=$KEY $FRUGAL_BIN launch -d task.yaml; echo EXIT=\$?; sleep 60" ||
	fail "tmux"
trap 'rc=$?; tmux kill-session -t "$S" 2>/dev/null; (exit $rc); cleanup' EXIT
for i in $(seq 200); do
	tmux capture-pane -p -t "$S" | grep -q "Launch on lambda at \$[0-9.]*/h? \[Y/n\]" && break
	sleep 0.05
done
tmux capture-pane -p -t "$S" | grep -q "Launch on lambda at" || fail "no question on the terminal: $(tmux capture-pane -p -t "$S")"
tmux send-keys -t "$S" n Enter
for i in $(seq 100); do
	tmux capture-pane -p -t "$S" | grep -q "EXIT=" && break
	sleep 0.05
done
tmux capture-pane -p -t "$S" | grep -q "Not launched." || fail "answer n: $(tmux capture-pane -p -t "$S")"
tmux capture-pane -p -t "$S" | grep -q "EXIT=1" || fail "answer n did not exit 1"
[ "$(jobs_count)" = 0 ] || fail "answering n recorded a job"
ok "a paid launch on a terminal shows its price and asks; 'n' launches nothing"

out=$(frugal launch -d "$TMP/task.yaml" --dry-run </dev/null 2>&1) || fail "dry run: $out"
echo "$out" | grep -q "Launch on" && fail "a launch without a terminal asked"
ok "without a terminal nothing asks"

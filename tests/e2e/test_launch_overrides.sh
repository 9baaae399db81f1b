#!/bin/bash
# launch options that replace the task's resources (as `sky launch` takes
# them), and --name checked like the task's name.
. "$(dirname "$0")/lib.sh"
printf 'backends:\n  local:\n    gpus: 2\n    cpus: 8\n    memory: 16\n' > "$FRUGAL_HOME/config.yaml"
cat > "$TMP/task.yaml" <<'YAML'
name: over
resources: {accelerators: "GPU:1", cpus: 2}
run: echo "gpus=$FRUGAL_NUM_GPUS"
YAML
plan() { frugal launch "$TMP/task.yaml" --dry-run --json "$@" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['gpus'])"; }
[ "$(plan)" = 1 ] || fail "the task's own plan"
[ "$(plan --gpus GPU:2)" = 2 ] || fail "--gpus GPU:2 did not give 2 GPUs"
[ "$(plan --gpus none)" = 0 ] || fail "--gpus none"
err=$(frugal launch "$TMP/task.yaml" --dry-run --gpus GPU:4 2>&1) && fail "4 GPUs of a 2-GPU pool planned"
echo "$err" | grep -q "4 GPU" || fail "unclear refusal: $err"
err=$(frugal launch "$TMP/task.yaml" --dry-run --cpus 64 2>&1) && fail "--cpus 64 on an 8-cpu machine planned"
err=$(frugal launch "$TMP/task.yaml" --dry-run --gpus 'A100:x' 2>&1) && fail "bad --gpus taken"
echo "$err" | grep -q -- "--gpus wants NAME or NAME:COUNT" || fail "unclear --gpus error: $err"
err=$(frugal launch "$TMP/task.yaml" --dry-run --memory lots 2>&1) && fail "bad --memory taken"
err=$(frugal launch "$TMP/task.yaml" --dry-run --infra 'a/b/c/d' 2>&1) && fail "bad --infra taken"
err=$(frugal launch "$TMP/task.yaml" --dry-run --cloud nosuch 2>&1) && fail "--cloud nosuch planned"
echo "$err" | grep -qi "nosuch" || fail "unclear --cloud error: $err"
ok "--gpus/--cpus/--memory/--infra/--cloud override the task and are checked"

job=$(frugal launch -d "$TMP/task.yaml" --gpus GPU:2) || fail "launch --gpus GPU:2"
[ "$(wait_terminal "$job" 30)" = SUCCEEDED ] || fail "job failed"
frugal logs "$job" | grep -q "gpus=2" || fail "the job did not get 2 GPUs: $(frugal logs "$job")"
ok "a launch with --gpus GPU:2 runs with 2 GPUs"

for bad in "my job" "$(printf 'tab\tname')" "$(printf 'x%.0s' $(seq 100))" "-lead"; do
	err=$(frugal launch -d "$TMP/task.yaml" --name "$bad" 2>&1) && fail "--name '$bad' taken"
	echo "$err" | grep -q "letters, digits" || fail "unclear --name error: $err"
done
[ "$(frugal status --all --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')" = 1 ] ||
	fail "a job was recorded with a bad name"
ok "--name with spaces, tabs, 100 characters or a leading '-' refused; nothing recorded"

#!/bin/bash
# Money on Slurm: a launch that fails (squeue failed) ends its attempt
# launch_failed -- not left `running`, accruing in `frugal cost` while
# `status` says otherwise -- and the ledger row whose teardown could not be
# confirmed is found by `frugal gc`.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
slurm_setup
mkdir -p "$TMP/proj" "$TMP/bin"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: squeue-fails
resources: {accelerators: A100:1}
run: echo never
YAML
# An squeue that fails, first on the PATH of the controller this starts.
cat > "$TMP/bin/squeue" <<'SH'
#!/bin/sh
echo "squeue: error: slurm_load_jobs error: Unable to contact slurm controller" >&2
exit 1
SH
chmod +x "$TMP/bin/squeue"
job=$(PATH=$TMP/bin:$PATH frugal launch -d --backend slurm --estimate 1m "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "job is $(job_field "$job" status)"
out=$(attempt_field "$job" 1 outcome)
[ "$out" = launch_failed ] || fail "attempt outcome '$out', expected launch_failed"
frugal status "$job" | grep -q "squeue failed" || fail "the cause is not shown: $(frugal status $job)"
python3 - "$FRUGAL_BIN" "$job" <<'PY' || fail "cost and status disagree about the failed launch"
import json, subprocess, sys
exe, job = sys.argv[1:3]
st = json.loads(subprocess.check_output([exe, "status", job, "--json"]))["jobs"][0]
rows = [r for r in json.loads(subprocess.check_output([exe, "cost", "--json"]))["rows"] if r["job"] == job]
assert not st["cost_running"], st
assert rows and not rows[0]["running"], rows
assert rows[0]["cost_micro"] == st["cost_micro"] == st["attempts"][0]["cost_micro"], (rows, st)
PY
ok "squeue failed: attempt launch_failed, not running; status and cost agree ($(job_field "$job" cost_micro) micro-dollars)"
# The job is finished only once its teardown is confirmed (scancel by the
# deterministic job name): nothing is left for gc, nothing in Slurm.
frugal gc --dry-run | grep -q "Nothing to collect" || fail "the failed launch left something: $(frugal gc --dry-run)"
[ -z "$(squeue -h -n "$job-1" -o %i 2>/dev/null)" ] || fail "a Slurm job of $job-1 is left: $(squeue -h -n "$job-1")"
ok "the failed launch was torn down before the job finished: nothing for gc, nothing in Slurm"

#!/bin/bash
# Money, one figure everywhere: a job with two attempts, the first
# preempted (`frugal debug preempt`), costs the same to the micro-dollar in
# `status --json`, `cost --json` (by job and by sweep) and `sweep status
# --json`, and that is the sum of its attempts' costs.
. "$(dirname "$0")/lib.sh"
# An odd price, so that float arithmetic would show.
write_config 'backends:
  local:
    price_per_hour: 7.77'
cat > "$TMP/task.yaml" <<'YAML'
name: same
run: |
  if [ "$FRUGAL_ATTEMPT" = 1 ]; then sleep 60; else sleep 1; fi
recovery: {notice_grace: 2s}
sweep: {params: {X: [1]}}
YAML
sw=$(frugal launch -d --estimate 1m "$TMP/task.yaml" 2>"$TMP/err") || fail "launch: $(cat $TMP/err)"
job=$(frugal sweep status "$sw" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["trials"][0]["id"])')
wait_status "$job" RUNNING 20
sleep 1
frugal debug preempt "$job" --notice 2 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not succeed after the preemption"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(attempt_field "$job" 2 outcome)" = succeeded ] || fail "attempt 2 is $(attempt_field "$job" 2 outcome)"

python3 - "$FRUGAL_BIN" "$job" "$sw" <<'PY' || fail "the figures differ"
import json, subprocess, sys
exe, job, sw = sys.argv[1:4]
run = lambda *a: json.loads(subprocess.check_output([exe, *a]))
st = run("status", job, "--json")["jobs"][0]
attempts = sum(a["cost_micro"] for a in st["attempts"])
by_job = [r for r in run("cost", "--json")["rows"] if r["job"] == job][0]
by_sweep = [r for r in run("cost", "--by", "sweep", "--json")["rows"] if r["sweep"] == sw][0]
ss = run("sweep", "status", sw, "--json")
trial = ss["trials"][0]
figures = {"status": st["cost_micro"], "attempts": attempts, "cost --by job": by_job["cost_micro"],
           "cost --by sweep": by_sweep["cost_micro"], "sweep status trial": trial["cost_micro"],
           "sweep status total": ss["cost_micro"]}
print(figures)
assert len(set(figures.values())) == 1, figures
assert st["cost_micro"] > 0
assert by_job["attempts"] == 2 and by_job["seconds"] == sum(a["billed_seconds"] for a in st["attempts"])
for usd in (st["cost_usd"], by_job["cost_usd"], trial["cost_usd"], ss["cost_usd"]):
    assert abs(usd - st["cost_micro"] / 1e6) < 1e-9, usd
PY
ok "status, cost (by job, by sweep) and sweep status agree to the micro-dollar: $(job_field "$job" cost_micro) micro-dollars"

# A launch that fails before a machine exists ends launch_failed and costs 0.
rm -rf "$FRUGAL_HOME/logs/agents"
mkdir -p "$FRUGAL_HOME/logs" && : > "$FRUGAL_HOME/logs/agents"	# the agent log dir cannot be made
cat > "$TMP/one.yaml" <<'YAML'
run: echo hi
YAML
job=$(frugal launch -d --estimate 1m "$TMP/one.yaml") || fail "launch"
[ "$(wait_terminal "$job" 30)" = FAILED ] || fail "job with a failing launch did not fail"
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] || fail "attempt is $(attempt_field "$job" 1 outcome)"
[ "$(attempt_field "$job" 1 cost_micro)" = 0 ] || fail "a launch with no machine cost $(attempt_field "$job" 1 cost_micro)"
frugal cost --json | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin)["rows"] if r["job"] == sys.argv[1]]
assert not any(r["running"] for r in rows), rows' "$job" || fail "cost shows the failed launch as running"
ok "a launch that fails with no machine: launch_failed, \$0, not running"

#!/bin/bash
# Money, reports: `status` shows queued time apart from run time (DURATION
# is the time attempts ran, not time held by max_parallel); a running job's
# cost is shown while it runs, the same in status and cost; `cost` groups
# by job, sweep (with the sweep's name), backend, day and month, over
# --since/--until, with human durations and a TOTAL equal to the sum of
# its rows; a month-to-date line against budgets.monthly.
. "$(dirname "$0")/lib.sh"
# $36/h = $0.01 a second.
write_config 'budgets:
  monthly: 100
backends:
  local:
    price_per_hour: 36'

# Two trials, one at a time: the second waits ~2 s, then runs ~2 s.
cat > "$TMP/trial.yaml" <<'YAML'
name: lr-search
run: sleep 2
sweep: {max_parallel: 1, params: {X: [1, 2]}}
YAML
sw=$(frugal launch -d "$TMP/trial.yaml" --estimate 10s 2>"$TMP/err") || fail "sweep: $(cat $TMP/err)"
ids=$(frugal sweep status "$sw" --json | python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin)["trials"]))')
for t in $ids; do [ "$(wait_terminal "$t" 60)" = SUCCEEDED ] || fail "trial $t"; done
second=${ids##* }
read -r run queued <<<"$(frugal status "$second" --json | python3 -c '
import json, sys; j = json.load(sys.stdin)["jobs"][0]; print(j["run_seconds"], j["queued_seconds"])')"
[ "$run" -ge 2 ] && [ "$run" -le 4 ] || fail "held trial ran ${run}s, expected about 2s (queued ${queued}s)"
[ "$queued" -ge 1 ] || fail "held trial queued ${queued}s, expected the time the first one ran"
frugal status | grep -q "QUEUED.*DURATION" || fail "status table has no QUEUED column: $(frugal status | head -2)"
frugal status "$second" | grep -q "^  queued " || fail "job page has no queued line"
ok "a trial held by max_parallel: ran ${run}s, queued ${queued}s, shown apart"

# The job page lists each attempt's billed time and cost.
frugal status "$second" | grep -qE "RAN +BILLED +COST" || fail "job page lacks per-attempt billed time and cost: $(frugal status $second)"
ok "job page lists each attempt's billed time and cost"

# --by sweep: the sweep's name, not "-".
frugal cost --by sweep | grep -E "^$sw +lr-search " >/dev/null || fail "cost --by sweep: $(frugal cost --by sweep)"
ok "cost --by sweep names the sweep"

# Older ledger rows (a job of 343 billed seconds last year, one of 90 in
# January): human durations, --since/--until, --by month, totals.
python3 - "$FRUGAL_HOME/state.db" "$second" <<'PY'
import sqlite3, sys, calendar
db = sqlite3.connect(sys.argv[1])
jan = calendar.timegm((2025, 1, 15, 12, 0, 0)) * 1000
old = calendar.timegm((2024, 6, 3, 12, 0, 0)) * 1000
for jid, secs, micro, at in (("old1", 343, 3430000, old), ("old2", 90, 900000, jan)):
    db.execute("INSERT INTO jobs (id, seq, name, status, task_json, backend, submitted_at,"
               " updated_at, ended_at, cost_micro) VALUES (?, (SELECT max(seq) + 1 FROM jobs),"
               " ?, 'SUCCEEDED', '{}', 'local', ?, ?, ?, ?)", (jid, jid, at, at, at, micro))
    db.execute("INSERT INTO attempts (job_id, n, backend, started_at, ended_at, outcome)"
               " VALUES (?, 1, 'local', ?, ?, 'succeeded')", (jid, at - secs * 1000, at))
    db.execute("INSERT INTO costs (job_id, attempt, backend, seconds, usd, recorded_at,"
               " billed_seconds, usd_micro) VALUES (?, 1, 'local', ?, ?, ?, ?, ?)",
               (jid, secs, micro / 1e6, at, secs, micro))
db.commit()
PY
frugal cost | grep -E "^old1 +old1 +1 +5m43s +\\\$3.43" >/dev/null || fail "BILLED not human: $(frugal cost | grep old1)"
ok "BILLED shown as 5m43s"
rows=$(frugal cost --since 2024-06-01 --until 2024-06-30 --json | python3 -c '
import json, sys; print(" ".join(r["job"] for r in json.load(sys.stdin)["rows"]))')
[ "$rows" = old1 ] || fail "--since/--until 2024-06: rows '$rows'"
rows=$(frugal cost --since 2025-01-01 --until 2025-01-31 --by month --json | python3 -c '
import json, sys; d = json.load(sys.stdin); print(" ".join("%s=%d" % (r["month"], r["cost_micro"]) for r in d["rows"]))')
[ "$rows" = "2025-01=900000" ] || fail "--by month in January 2025: '$rows'"
rows=$(frugal cost --since 1d --json | python3 -c '
import json, sys; print(" ".join(sorted(r["job"] for r in json.load(sys.stdin)["rows"])))')
case " $rows " in *" old1 "*|*" old2 "*) fail "--since 1d lists old jobs: $rows";; esac
[ -n "$rows" ] || fail "--since 1d lists nothing"
ok "--since/--until (dates and 1d) and --by month select the right rows"

for by in job sweep backend day month; do
	frugal cost --by "$by" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = sum(r["cost_micro"] for r in d["rows"])
assert s == d["total_micro"], (s, d["total_micro"])
assert abs(d["total_usd"] - s / 1e6) < 1e-9
for r in d["rows"]:
    assert abs(r["cost_usd"] - r["cost_micro"] / 1e6) < 1e-9, r' || fail "--by $by: total is not the sum of its rows"
	frugal cost --by "$by" --csv | python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
assert rows and all(int(r["cost_micro"]) == round(float(r["cost_usd"]) * 1e6) for r in rows), rows' ||
		fail "--by $by --csv"
done
ok "TOTAL equals the sum of the rows, to the micro-dollar, for every grouping (json, csv)"

frugal cost | grep -qE '^Month to date: \$[0-9.]+ of budgets.monthly \$100.00' || fail "no month-to-date line: $(frugal cost | tail -2)"
ok "month-to-date line: $(frugal cost | tail -1)"

# A running job: its cost so far, not $0.00, the same in status and cost.
cat > "$TMP/run.yaml" <<'YAML'
run: sleep 30
YAML
job=$(frugal launch -d --estimate 30s "$TMP/run.yaml") || fail "launch"
wait_status "$job" RUNNING 20
sleep 2
frugal status | grep -E "^$job .*\\\$0\\.0[0-9]+ \\(running\\)" >/dev/null || fail "status shows no running cost: $(frugal status | grep $job)"
python3 - "$FRUGAL_BIN" "$job" <<'PY' || fail "status and cost disagree on a running job"
import json, subprocess, sys, time
exe, job = sys.argv[1:3]
for _ in range(20):
    st = json.loads(subprocess.check_output([exe, "status", job, "--json"]))["jobs"][0]
    co = [r for r in json.loads(subprocess.check_output([exe, "cost", "--json"]))["rows"] if r["job"] == job][0]
    assert st["cost_running"] and co["running"]
    # The two reads may straddle a billing increment (they are whole
    # seconds from the attempt's start, not from the wall clock's): read
    # again; a real disagreement differs every time.
    if st["cost_micro"] == co["cost_micro"] > 0:
        sys.exit(0)
    last = (st["cost_micro"], co["cost_micro"])
sys.exit("status and cost never agreed: %r" % (last,))
PY
frugal cancel "$job" >/dev/null
wait_terminal "$job" 30 >/dev/null
ok "a running job's cost shows in status, equal to cost's"

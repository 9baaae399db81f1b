#!/bin/bash
# Money, estimates: --estimate always wins, else stop.max_runtime, else one
# hour -- the same in `check`, `launch --dry-run` and `launch`, each saying
# which it used. `frugal catalog` warns about price tables older than 7 days.
. "$(dirname "$0")/lib.sh"
# $360/h = $0.10 a second.
write_config 'backends:
  local:
    price_per_hour: 360'
cat > "$TMP/task.yaml" <<'YAML'
run: echo done
stop: {max_runtime: 2h}
budget: 1.00
YAML
cat > "$TMP/open.yaml" <<'YAML'
run: echo done
YAML

# Without --estimate: stop.max_runtime (2h), in all three.
frugal check "$TMP/task.yaml" >"$TMP/out" 2>&1 || true
grep -q "estimate       2h00m on local: \$720.00 (local bills per second), from stop.max_runtime" "$TMP/out" ||
	fail "check does not use max_runtime: $(grep estimate $TMP/out)"
frugal launch --dry-run "$TMP/task.yaml" >"$TMP/out" 2>&1 && fail "dry run accepted a \$720 estimate on a \$1 budget"
grep -q "estimate       2h00m on local: \$720.00.*from stop.max_runtime" "$TMP/out" ||
	fail "dry run does not use max_runtime: $(cat $TMP/out)"
frugal launch -d "$TMP/task.yaml" 2>"$TMP/err" && fail "launch accepted a \$720 estimate on a \$1 budget"
grep -q 'the estimate \$720.00 (2h00m from stop.max_runtime' "$TMP/err" || fail "launch: $(cat $TMP/err)"
ok "without --estimate all three use stop.max_runtime (2h): \$720.00"

# --estimate 5s wins over max_runtime, in all three.
frugal check --estimate 5s "$TMP/task.yaml" >"$TMP/out" 2>&1 || fail "check --estimate 5s: $(cat $TMP/out)"
grep -q "estimate       5s on local: \$0.50 (local bills per second), from --estimate" "$TMP/out" ||
	fail "check ignores --estimate: $(grep estimate $TMP/out)"
frugal launch --dry-run --estimate 5s "$TMP/task.yaml" >"$TMP/out" 2>&1 || fail "dry run --estimate 5s refused: $(cat $TMP/out)"
grep -q "estimate       5s on local: \$0.50.*from --estimate" "$TMP/out" || fail "dry run ignores --estimate: $(cat $TMP/out)"
grep -q "would submit one job on local, estimated \$0.50 (5s)" "$TMP/out" || fail "dry run: $(cat $TMP/out)"
d=$(frugal launch --dry-run --json --estimate 5s "$TMP/task.yaml" | python3 -c '
import json, sys; d = json.load(sys.stdin)
print(d["estimate_seconds"], d["estimate_from"], d["estimated_cost_micro"], d["would_launch"])')
[ "$d" = "5 --estimate 500000 True" ] || fail "dry run --json: $d"
job=$(frugal launch -d --estimate 5s "$TMP/task.yaml" 2>"$TMP/err") || fail "launch ignores --estimate 5s: $(cat $TMP/err)"
wait_terminal "$job" 30 >/dev/null
ok "--estimate 5s wins over max_runtime in check, dry run and launch (\$0.50)"

# Neither: the stated default, one hour.
frugal check "$TMP/open.yaml" >"$TMP/out" 2>&1 || fail "check: $(cat $TMP/out)"
grep -q "estimate       1h00m on local: \$360.00 (local bills per second), from the default" "$TMP/out" ||
	fail "check default: $(grep estimate $TMP/out)"
frugal launch --dry-run "$TMP/open.yaml" >"$TMP/out" 2>&1 || fail "dry run: $(cat $TMP/out)"
grep -q "estimate       1h00m on local: \$360.00.*from the default" "$TMP/out" || fail "dry run default: $(cat $TMP/out)"
ok "without either, one hour, said as the default"

# Price freshness: `frugal catalog` warns when a table is older than 7 days.
for c in aws gcp lambda runpod; do
	mkdir -p "$FRUGAL_HOME/catalog/$c"
	cp "$FRUGAL_SRC/catalog/$c/vms.csv" "$FRUGAL_HOME/catalog/$c/vms.csv"
done
frugal catalog >/dev/null 2>"$TMP/err" || fail "catalog: $(cat $TMP/err)"
grep -q "older than 7 days" "$TMP/err" && fail "fresh tables called old: $(cat $TMP/err)"
touch -d '10 days ago' "$FRUGAL_HOME/catalog/aws/vms.csv"
frugal catalog >/dev/null 2>"$TMP/err" || fail "catalog: $(cat $TMP/err)"
grep -q "warning: the price tables of aws are older than 7 days" "$TMP/err" || fail "no warning for a 10-day-old table: $(cat $TMP/err)"
[ "$(frugal catalog --json | python3 -c 'import json,sys; print([t["cloud"] for t in json.load(sys.stdin)["tables"] if t["stale"]])')" = "['aws']" ] ||
	fail "catalog --json stale flags"
ok "frugal catalog warns about a table older than 7 days, and only about it"

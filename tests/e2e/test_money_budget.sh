#!/bin/bash
# Money, budgets: budgets below a cent are kept and shown exactly (not
# rounded to $0.00); a budget stop is its own outcome (budget_stopped),
# logged as a budget stop, not as a preemption; `launch --dry-run` applies
# the budget checks that `launch` applies and says what it would do.
. "$(dirname "$0")/lib.sh"
# $3.60/h = $0.001 a second.
write_config 'backends:
  local:
    price_per_hour: 3.60'

# --budget 0.004 at $1.80/h ($0.0005 a second): stopped after a few
# seconds, and the stop message keeps the sub-cent figures.
cat > "$TMP/long.yaml" <<'YAML'
run: sleep 60
stop: {max_runtime: 20s}
recovery: {notice_grace: 1s}
YAML
write_config 'backends:
  local:
    price_per_hour: 1.80'
job=$(frugal launch -d "$TMP/long.yaml" --budget 0.004 --estimate 5s 2>"$TMP/err") || fail "launch --budget 0.004: $(cat $TMP/err)"
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "job not stopped by its budget: $(frugal status $job)"
reason=$(job_field "$job" reason)
case $reason in
	*'budget $0.0040 reached ($0.00'[0-9]*' spent)'*) ;;
	*) fail "budget reason rounded or missing: '$reason'" ;;
esac
ok "--budget 0.004 kept exactly: $reason"

out=$(attempt_field "$job" 1 outcome)
[ "$out" = budget_stopped ] || fail "attempt outcome '$out', expected budget_stopped"
frugal logs "$job" | grep -q "budget stop" || fail "log does not say budget stop: $(frugal logs $job | tail -5)"
frugal logs "$job" | grep -q "preemption notice" && fail "a budget stop logged as a preemption: $(frugal logs $job | grep preemption)"
frugal status "$job" | grep -q "budget" || fail "job page does not show the budget stop"
ok "a budget stop is budget_stopped and logged as a budget stop"
write_config 'backends:
  local:
    price_per_hour: 3.60'

# budget: 0.001 with a 2 s max_runtime: $0.0020 is above $0.0010, said so.
cat > "$TMP/tiny.yaml" <<'YAML'
run: echo hi
stop: {max_runtime: 2s}
budget: 0.001
YAML
frugal launch -d "$TMP/tiny.yaml" 2>"$TMP/err" && fail "launch above a \$0.001 budget accepted"
grep -q 'estimate \$0.0020' "$TMP/err" || fail "estimate not shown exactly: $(cat $TMP/err)"
grep -q 'above budget \$0.0010' "$TMP/err" || fail "budget shown rounded: $(cat $TMP/err)"
ok "budget 0.001 refused with exact figures: $(head -c 200 $TMP/err)"
# ... and 1 s fits exactly.
job=$(frugal launch -d "$TMP/tiny.yaml" --estimate 1s 2>"$TMP/err") || fail "--estimate 1s within \$0.001 refused: $(cat $TMP/err)"
wait_terminal "$job" 30 >/dev/null
spent=$(job_field "$job" cost_micro)
# Within the budget plus at most one billing increment (1 s = 1000 micro-dollars).
[ "$spent" -le 2000 ] || fail "budget \$0.001 overspent: $spent micro-dollars"
ok "budget 0.001 with --estimate 1s (\$0.0010) accepted; spent $spent micro-dollars"

# The dry run refuses what the launch refuses, and says so.
frugal launch --dry-run "$TMP/tiny.yaml" >"$TMP/dry" 2>"$TMP/dry.err" && fail "dry run passed a launch that is refused"
grep -q "above budget" "$TMP/dry.err" || fail "dry run without the budget message: $(cat $TMP/dry.err)"
grep -q "would be refused" "$TMP/dry" || fail "dry run does not say what the launch would do: $(cat $TMP/dry)"
w=$(frugal launch --dry-run --json "$TMP/tiny.yaml" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["would_launch"])')
[ "$w" = False ] || fail "dry run --json would_launch=$w"
frugal launch --dry-run --estimate 1s "$TMP/tiny.yaml" >"$TMP/dry" 2>&1 || fail "dry run refused a launch that fits: $(cat $TMP/dry)"
grep -q "would submit one job on local, estimated \$0.0010" "$TMP/dry" || fail "dry run: $(cat $TMP/dry)"
ok "dry run applies the budget check: refused above, 'would submit' within"

# The monthly budget too.
write_config 'budgets:
  monthly: 0.005
backends:
  local:
    price_per_hour: 3.60'
frugal launch --dry-run --estimate 1h "$TMP/long.yaml" >"$TMP/dry" 2>"$TMP/dry.err" && fail "dry run above the monthly budget passed"
grep -q "monthly budget" "$TMP/dry.err" || fail "no monthly message: $(cat $TMP/dry.err)"
ok "dry run applies budgets.monthly: $(head -c 200 $TMP/dry.err)"

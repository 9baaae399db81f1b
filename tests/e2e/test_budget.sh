#!/bin/bash
# Budgets: a sweep whose budget covers four trials launches four and
# refuses the rest; a running job that reaches its budget is stopped after
# saving a checkpoint, within one billing increment; a launch above what
# is left of the monthly budget is refused with the numbers.
. "$(dirname "$0")/lib.sh"
# $360/h = $0.10 a second, so budgets bite within seconds.
write_config 'backends:
  local:
    price_per_hour: 360'

cat > "$TMP/trial.yaml" <<'YAML'
run: echo trial $X
stop: {max_runtime: 10s}
YAML
sw=$(frugal sweep -d "$TMP/trial.yaml" --param X=1,2,3,4,5,6 --budget 4.50 2>"$TMP/err") || fail "sweep: $(cat $TMP/err)"
grep -q "covers 4 of 6 trials at \$1.00 each" "$TMP/err" || fail "no clear message: $(cat $TMP/err)"
n=$(frugal sweep status "$sw" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["trials"]), d["refused"])')
[ "$n" = "4 2" ] || fail "trials/refused: $n"
ok "budget \$4.50 at \$1.00 a trial: 4 launched, 2 refused"
for t in $(frugal sweep status "$sw" --json | python3 -c 'import json,sys; print(" ".join(t["id"] for t in json.load(sys.stdin)["trials"]))'); do
	[ "$(wait_terminal "$t" 30)" = SUCCEEDED ] || fail "trial $t within the budget did not succeed"
done
ok "the 4 launched trials all succeeded within the budget"

mkdir -p "$TMP/proj"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/job.yaml" <<'YAML'
workdir: .
run: python3 train.py --steps 100000 --step-sleep 0.02 --ckpt-every 10
checkpoint: {dir: /ckpt}
stop: {max_runtime: 9s}
recovery: {notice_grace: 2s}
budget: 1.00
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
job=$(frugal launch -d "$TMP/proj/job.yaml") || fail "budget job refused"
wait_status "$job" RUNNING 20
sleep 1
frugal cost --json | python3 -c '
import json, sys
assert any(r["running"] and r["cost_usd"] > 0 for r in json.load(sys.stdin)["rows"])' || fail "cost does not show the running job"
ok "cost shows the running job's cost so far"
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "budget job not CANCELLED"
frugal status "$job" | grep -q "budget \$1.00 reached" || fail "reason not shown: $(frugal status $job)"
[ "$(attempt_field "$job" 1 outcome)" = budget_stopped ] || fail "not stopped the graceful way (a budget stop)"
frugal logs "$job" | grep -q "checkpoint saved at step" || fail "trainer did not save a checkpoint"
ls "$FRUGAL_HOME/storage/jobs/$job/checkpoints/manifests/"*.json >/dev/null 2>&1 || fail "no checkpoint stored"
cost=$(job_field "$job" cost_usd)
python3 -c "c=$cost; assert 0.3 <= c <= 1.00 + 0.10, c" || fail "cost \$$cost: budget \$1.00 exceeded by more than one increment"
ok "job stopped at its budget after a checkpoint; cost \$$cost of \$1.00"

write_config 'budgets:
  monthly: 1.50
backends:
  local:
    price_per_hour: 360'
frugal launch -d "$TMP/trial.yaml" --env X=1 2>"$TMP/err" && fail "launch above the monthly budget accepted"
grep -q "monthly budget" "$TMP/err" || fail "message: $(cat $TMP/err)"
grep -q '\$1.00' "$TMP/err" || fail "message lacks the numbers: $(cat $TMP/err)"
ok "launch above what is left of the monthly budget refused: $(head -c 160 $TMP/err)"

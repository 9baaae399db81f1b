#!/bin/bash
# Price freshness on AWS (issue 17, item 6), against moto behind the fault
# proxy: with backends.aws.live_spot_prices a spot plan is priced with
# DescribeSpotPriceHistory (moto answers 0.00001 for every zone), the
# attempt records that price with source aws-spot-price-history, status JOB
# shows both, and the cost is the billed seconds at that price to the
# micro-dollar. Negative control: without the setting no history is asked,
# the price is the shipped table's spot price for the planned zone, source
# catalog.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto --auth
start_proxy
export FRUGAL_CONTROLLER_IDLE_EXIT=60s
cat > "$TMP/job.yaml" <<'YAML'
name: spot-price
resources: {accelerators: T4:1, use_spot: true}
run: sleep 600
YAML

# run_and_cancel: launch job.yaml, wait for its instance, cancel it; the id.
run_and_cancel() {
	local job
	job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
	wait_instance "$job" >/dev/null
	sleep 1
	frugal cancel "$job" >/dev/null
	[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "cancel of $job"
	echo "$job"
}

# check_billing JOB PRICE_MICRO_PER_HOUR: status --json and cost --json
# bill the attempt's billed seconds at that price.
check_billing() {
	frugal status "$1" --json > "$TMP/status.json"
	frugal cost --json > "$TMP/cost.json"
	python3 - "$TMP/status.json" "$TMP/cost.json" "$1" "$2" <<'PY' || fail "billing of $1 does not use the recorded price"
import json, sys
a = json.load(open(sys.argv[1]))["jobs"][0]["attempts"][0]
rows = {r["job"]: r for r in json.load(open(sys.argv[2]))["rows"]}
per_hour = int(sys.argv[4])
want = (per_hour * a["billed_seconds"] + 3599) // 3600
assert a["billed_seconds"] >= 60, a          # AWS: a 60 s minimum
assert a["cost_micro"] == want, (a["cost_micro"], want, a["billed_seconds"])
assert rows[sys.argv[3]]["cost_micro"] == want, (rows[sys.argv[3]], want)
PY
}

# ---- live spot prices on ---------------------------------------------------------------
aws_config "    live_spot_prices: true"
plan=$(frugal check "$TMP/job.yaml" 2>&1) || fail "check: $plan"
echo "$plan" | grep -Eq 'price +.*/h \(aws-spot-price-history\)' ||
	fail "check does not say the price came from the spot price history: $plan"
before=$(ec2_calls DescribeSpotPriceHistory)
[ "$before" -ge 1 ] || fail "check did not ask DescribeSpotPriceHistory"
job=$(run_and_cancel)
[ "$(ec2_calls DescribeSpotPriceHistory)" -gt "$before" ] || fail "the launch's plan did not ask the history"
[ "$(attempt_field "$job" 1 price_per_hour)" = 1e-05 ] ||
	fail "price $(attempt_field "$job" 1 price_per_hour), want moto's 0.00001"
[ "$(attempt_field "$job" 1 price_source)" = aws-spot-price-history ] ||
	fail "price source $(attempt_field "$job" 1 price_source)"
frugal status "$job" | grep -Eq '^ +1 +aws +g4dn\.xlarge .* 0\.000010 +aws-spot-price-history ' ||
	fail "status JOB does not show the price source: $(frugal status "$job")"
check_billing "$job" 10
ok "live spot price 0.00001 from DescribeSpotPriceHistory recorded with its source, shown, billed"

# ---- negative control: the setting off -----------------------------------------------------
frugal controller --stop >/dev/null	# the next one reads the new config
aws_config
plan=$(frugal check "$TMP/job.yaml" 2>&1) || fail "check: $plan"
echo "$plan" | grep -Eq 'price +.*/h \(catalog\)' || fail "check without the setting: $plan"
zone_id=$(echo "$plan" | sed -n 's/.*backend *aws (EC2 spot in \([a-z0-9-]*\)).*/\1/p')
table=$(awk -F, -v z="$zone_id" '$1 == "g4dn.xlarge" && $(NF-2) == "us-east-1" && $(NF-1) == z \
	{ print $(NF-3); exit }' "$FRUGAL_SRC/catalog/aws/vms.csv")
[ -n "$table" ] || fail "no table price for g4dn.xlarge in $zone_id"
before=$(ec2_calls DescribeSpotPriceHistory)
job2=$(run_and_cancel)
[ "$(ec2_calls DescribeSpotPriceHistory)" = "$before" ] || fail "the history was asked with the setting off"
[ "$(attempt_field "$job2" 1 price_source)" = catalog ] || fail "source $(attempt_field "$job2" 1 price_source)"
python3 -c "import sys; assert abs(float(sys.argv[1]) - float(sys.argv[2])) < 1e-9, sys.argv" \
	"$(attempt_field "$job2" 1 price_per_hour)" "$table" || fail "price is not the table's $table"
check_billing "$job2" "$(python3 -c "import sys; print(round(float(sys.argv[1]) * 1e6))" "$table")"
[ "$(live_count)" = 0 ] || fail "instances left"
ok "negative control: setting off -> no history asked, the table's spot price $table, source catalog"

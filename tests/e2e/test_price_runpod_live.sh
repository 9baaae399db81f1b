#!/bin/bash
# Price freshness on Runpod (issue 17, item 6): the price recorded at
# launch is the one Runpod's GPU catalog gives now (GET
# /v2/catalog/gpus/{id}: price.secure per GPU), not the shipped price
# table's, and billing uses it.
#  1. The catalog says $0.47/h where the table says $0.59/h: check plans at
#     0.47 and names the source; the attempt records 0.47 with source
#     runpod-gpu-catalog; status JOB shows both; status --json and cost
#     --json bill the billed seconds at 0.47 to the micro-dollar.
#  2. A live price above resources.max_price refuses the plan although the
#     table's price fits.
#  3. Negative control: a catalog with no price -> the table's 0.59, source
#     catalog.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec runpod-docs/api-reference-v2/openapi.json
need_prism

KEY="runpod-key-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY
runpod_config() {
	write_config "backends:
  runpod:
    base_url: $1
    shared_storage: true
    ssh_command: $FAKES/fake_ssh.py
    start_sshd: false
    request_interval: 0
    sync_interval: 0
    release_wait: 30"
}
TABLE=$(awk -F, '$1 == "1x_RTX4090_SECURE" { print $8; exit }' "$FRUGAL_SRC/catalog/runpod/vms.csv")
[ "$TABLE" = 0.59 ] || fail "the shipped table's RTX4090 price is $TABLE; this test assumes 0.59"
cat > "$TMP/task.yaml" <<'YAML'
resources: {accelerators: RTX4090:1}
run: sleep 2
YAML

# ---- 1. the catalog's price is recorded and billed --------------------------------------
FAKE_RUNPOD_PRICE=0.47,0.21 start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
runpod_config "$API_URL"
frugal check --backend runpod "$TMP/task.yaml" > "$TMP/check.out" 2>&1 || fail "check: $(cat "$TMP/check.out")"
grep -Eq 'price +\$0\.47/h \(runpod-gpu-catalog\)' "$TMP/check.out" ||
	fail "check does not plan at the catalog's price: $(cat "$TMP/check.out")"
job=$(frugal launch -d --backend runpod "$TMP/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job did not succeed"
[ "$(attempt_field "$job" 1 price_per_hour)" = 0.47 ] ||
	fail "attempt priced at $(attempt_field "$job" 1 price_per_hour), want the catalog's 0.47"
[ "$(attempt_field "$job" 1 price_source)" = runpod-gpu-catalog ] ||
	fail "price source $(attempt_field "$job" 1 price_source)"
frugal status "$job" > "$TMP/status.out"
grep -Eq '^ +1 +runpod .* 0\.4700 +runpod-gpu-catalog ' "$TMP/status.out" ||
	fail "status JOB does not show the price and its source: $(cat "$TMP/status.out")"
frugal status "$job" --json > "$TMP/status.json"
frugal cost --json > "$TMP/cost.json"
python3 - "$TMP/status.json" "$TMP/cost.json" <<'PY' || fail "billing does not use the recorded price"
import json, sys
a = json.load(open(sys.argv[1]))["jobs"][0]["attempts"][0]
cost = json.load(open(sys.argv[2]))
billed = a["billed_seconds"]
assert billed > 0, a
want = (470000 * billed + 3599) // 3600          # micro-dollars, rounded up
assert a["cost_micro"] == want, (a["cost_micro"], want, billed)
assert cost["total_micro"] == want, (cost["total_micro"], want)
assert want != (590000 * billed + 3599) // 3600  # the table's price would differ
PY
ok "Runpod's catalog price 0.47 (table 0.59) planned, recorded with its source, shown, billed"

check_prism
rm -f "$TMP/fake.port"

# ---- 2. a live price above max_price ---------------------------------------------------
# The catalog says 0.75 now; the table's 0.59 is under the cap of 0.62.
cat > "$TMP/capped.yaml" <<'YAML'
resources: {accelerators: RTX4090:1, max_price: 0.62}
run: "true"
YAML
FAKE_RUNPOD_PRICE=0.75,0.40 start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
runpod_config "$API_URL"
frugal check --backend runpod "$TMP/capped.yaml" > "$TMP/capped.out" 2>&1 &&
	fail "a plan whose live price is above max_price was accepted: $(cat "$TMP/capped.out")"
grep -q "above resources.max_price" "$TMP/capped.out" ||
	fail "the refusal does not name max_price: $(cat "$TMP/capped.out")"
check_prism
rm -f "$TMP/fake.port"
ok "a live price of 0.75 above max_price 0.62 refuses the plan (the table's 0.59 would fit)"

# ---- 3. negative control: no catalog price -> the table's --------------------------------
FAKE_RUNPOD_PRICE=none start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
runpod_config "$API_URL"
frugal check --backend runpod "$TMP/task.yaml" > "$TMP/check2.out" 2>&1 || fail "check: $(cat "$TMP/check2.out")"
grep -Eq 'price +\$0\.59/h \(catalog\)' "$TMP/check2.out" ||
	fail "without a catalog price the table's is not used: $(cat "$TMP/check2.out")"
frugal check --backend runpod "$TMP/capped.yaml" > "$TMP/capped.out" 2>&1 ||
	fail "max_price 0.62 refused with the table's 0.59: $(cat "$TMP/capped.out")"
check_prism
ok "negative control: no catalog price -> the table's 0.59, source catalog, max_price 0.62 fits"

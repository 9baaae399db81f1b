#!/bin/bash
# Price catalog end to end: `frugal offers` across clouds, sorted and
# filtered as documented; `frugal catalog update` from a local HTTP
# server refuses a malformed table (file:line, the tables in use stay)
# and installs a good one; `frugal check` / `launch --dry-run` print the
# candidates and the cost estimate, and skip a blocked location.
. "$(dirname "$0")/lib.sh"

# No credentials from the developer's machine: a HOME of our own.
export HOME=$TMP/userhome
mkdir -p "$HOME"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_PROFILE AWS_SHARED_CREDENTIALS_FILE GOOGLE_APPLICATION_CREDENTIALS \
	LAMBDA_API_KEY RUNPOD_API_KEY FRUGAL_CATALOG_URL

# py FILE 'python expression over d (the JSON document)': exits 1 when false.
check_json() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
offers = d.get("offers", [])
def key(o, spot=False):
    if spot:
        return o["spot_price_per_hour"]
    return o["price_per_hour"] if o["price_per_hour"] is not None else o["spot_price_per_hour"]
ok = eval(sys.argv[2])
if not ok:
    print("condition failed: " + sys.argv[2], file=sys.stderr)
    sys.exit(1)
PY
}

# ---- frugal offers ----------------------------------------------------------

frugal offers A100:8 --json >"$TMP/a100.json" || fail "offers A100:8 --json exited $?"
check_json "$TMP/a100.json" 'len({o["backend"] for o in offers}) >= 3' ||
	fail "A100:8 offers come from fewer than three clouds"
check_json "$TMP/a100.json" 'all(key(a) <= key(b) for a, b in zip(offers, offers[1:]))' ||
	fail "A100:8 offers are not sorted by price"
check_json "$TMP/a100.json" 'all(o["accelerator"] == "A100" and o["accelerator_count"] == 8 for o in offers)' ||
	fail "A100:8 lists other machines"
check_json "$TMP/a100.json" 'd["count"] == len(offers) and not any(o["configured"] for o in offers if o["backend"] != "local")' ||
	fail "count or configured flags wrong"
ok "offers A100:8 --json: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["offers"]), "offers from", sorted({o["backend"] for o in d["offers"]}))' "$TMP/a100.json")"

frugal offers A100:8 >"$TMP/a100.txt" || fail "offers A100:8 exited $?"
head -n 1 "$TMP/a100.txt" | grep -q "^BACKEND  *REGION  *ZONE  *INSTANCE  *GPU  *GPU MEM  *VCPUS  *MEMORY  *ON-DEMAND  *SPOT$" ||
	fail "table header wrong: $(head -n 1 "$TMP/a100.txt")"
grep -q "no credentials found" "$TMP/a100.txt" || fail "unconfigured clouds are not marked"
ok "offers A100:8 prints an aligned table and marks clouds without credentials"

# --spot: only offers with a spot price, sorted by it.
frugal offers A100:8 --spot --json >"$TMP/spot.json" || fail "--spot exited $?"
check_json "$TMP/spot.json" 'offers and all(o["spot_price_per_hour"] is not None for o in offers) and d["sorted_by"] == "spot"' ||
	fail "--spot lists offers without a spot price"
check_json "$TMP/spot.json" 'all(key(a, True) <= key(b, True) for a, b in zip(offers, offers[1:]))' ||
	fail "--spot is not sorted by spot price"
check_json "$TMP/spot.json" 'all(o["backend"] != "lambda" for o in offers)' ||
	fail "--spot lists lambda, which has no spot prices"
ok "--spot keeps spot offers, cheapest spot first"

# --on-demand: only offers with an on-demand price.
frugal offers H200 --on-demand --json >"$TMP/od.json" || fail "--on-demand exited $?"
check_json "$TMP/od.json" 'offers and all(o["price_per_hour"] is not None for o in offers)' ||
	fail "--on-demand lists offers without an on-demand price"
ok "--on-demand keeps on-demand offers"

# --cloud (repeatable) and --region.
frugal offers A100:8 --cloud aws --cloud GCP --json >"$TMP/cloud.json" || fail "--cloud exited $?"
check_json "$TMP/cloud.json" 'offers and {o["backend"] for o in offers} == {"aws", "gcp"}' ||
	fail "--cloud aws --cloud gcp lists other clouds"
frugal offers A100:8 --region us-east-1 --json >"$TMP/region.json" || fail "--region exited $?"
check_json "$TMP/region.json" 'offers and all(o["region"] == "us-east-1" for o in offers) and len({o["backend"] for o in offers}) >= 2' ||
	fail "--region us-east-1 lists other regions"
ok "--cloud and --region filter"

# --max-price: the price that applies is at most the limit.
frugal offers A100:8 --max-price 20 --json >"$TMP/max.json" || fail "--max-price exited $?"
check_json "$TMP/max.json" 'offers and all(key(o) <= 20 for o in offers)' || fail "--max-price lets dearer offers through"
n_all=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["offers"]))' "$TMP/a100.json")
n_max=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["offers"]))' "$TMP/max.json")
[ "$n_max" -lt "$n_all" ] || fail "--max-price 20 removed nothing ($n_max of $n_all)"
frugal offers A100:8 --spot --max-price 7 --json >"$TMP/maxspot.json" || fail "--spot --max-price exited $?"
check_json "$TMP/maxspot.json" 'offers and all(o["spot_price_per_hour"] <= 7 for o in offers)' ||
	fail "--max-price does not apply to the spot price under --spot"
ok "--max-price filters by the price that applies"

# Names: case-insensitive, aliases, and a helpful error.
frugal offers a100-80gb:1 --json >"$TMP/alias.json" || fail "a100-80gb exited $?"
check_json "$TMP/alias.json" '{o["accelerator"] for o in offers} >= {"A100-80GB", "A100-80GB-SXM"}' ||
	fail "A100-80GB does not take Runpod's A100-80GB-SXM"
frugal offers 4090 --limit 3 >"$TMP/4090.txt" || fail "4090 exited $?"
grep -q "RTX4090 x1" "$TMP/4090.txt" || fail "4090 does not find RTX4090"
grep -q "more (--limit 0 shows all)" "$TMP/4090.txt" || fail "--limit does not say how many more"
if frugal offers H1000 2>"$TMP/bad.err" >/dev/null; then fail "an unknown accelerator exited 0"; fi
grep -q "no accelerator called 'H1000'.*did you mean 'H100'" "$TMP/bad.err" || fail "no suggestion: $(cat "$TMP/bad.err")"
if frugal offers A100:3 2>"$TMP/count.err" >/dev/null; then fail "A100:3 exited 0"; fi
grep -q "A100 is offered with 1, 2, 4, 8" "$TMP/count.err" || fail "no counts listed: $(cat "$TMP/count.err")"
if frugal offers A100 --cloud azure 2>/dev/null; then fail "--cloud azure accepted"; fi
ok "accelerator names: case, aliases, suggestions"

# ---- frugal catalog update ----------------------------------------------------

mkdir -p "$TMP/srv"
for c in aws gcp lambda runpod; do
	mkdir -p "$TMP/srv/$c"
	cp "$FRUGAL_SRC/catalog/$c/vms.csv" "$TMP/srv/$c/vms.csv"
done
# A malformed lambda table: line 3 lost its last fields.
python3 - "$TMP/srv/lambda/vms.csv" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, newline="").read().split("\r\n")
lines[2] = ",".join(lines[2].split(",")[:4])
open(p, "w", newline="").write("\r\n".join(lines))
PY
: >"$TMP/http.log"
python3 -u -m http.server --bind 127.0.0.1 --directory "$TMP/srv" 0 >"$TMP/http.log" 2>&1 &
http_pid=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$TMP/http.log" | head -n 1)
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || fail "the local HTTP server did not start: $(cat "$TMP/http.log")"
# (lib.sh's cleanup ends the server too: it carries this FRUGAL_HOME.)
URL=http://127.0.0.1:$port/

if frugal catalog update --url "$URL" --timeout 20s >"$TMP/upd.out" 2>"$TMP/upd.err"; then
	fail "a malformed table was accepted"
fi
grep -q "${URL}lambda/vms.csv:3: 4 fields but the header has 9" "$TMP/upd.err" ||
	fail "the error does not name file:line: $(cat "$TMP/upd.err")"
grep -q "no table was replaced" "$TMP/upd.err" || fail "the error does not say nothing changed"
[ ! -e "$FRUGAL_HOME/catalog/aws/vms.csv" ] || fail "a table was installed although another was malformed"
frugal catalog >"$TMP/cat.txt" || fail "catalog exited $?"
[ "$(grep -c " shipped " "$TMP/cat.txt")" = 4 ] || fail "the shipped tables are not in use: $(cat "$TMP/cat.txt")"
frugal offers A100:8 --cloud lambda --json >"$TMP/l1.json" || fail "offers after a refused update exited $?"
check_json "$TMP/l1.json" 'offers' || fail "no lambda offers after a refused update"
ok "a malformed table is refused with file:line; the tables in use stay"

# A good table (lambda's 8x A100 now at $1.23) replaces the old one.
cp "$FRUGAL_SRC/catalog/lambda/vms.csv" "$TMP/srv/lambda/vms.csv"
sed -i 's/^\(gpu_8x_a100,A100,8.0,124.0,1800.0,\)[0-9.]*,/\11.23,/' "$TMP/srv/lambda/vms.csv"
frugal catalog update --url "$URL" >"$TMP/upd.out" 2>"$TMP/upd.err" || fail "a good update failed: $(cat "$TMP/upd.err")"
grep -q "4 tables installed" "$TMP/upd.out" || fail "update did not report: $(cat "$TMP/upd.out")"
frugal catalog --json >"$TMP/cat.json" || fail "catalog --json exited $?"
python3 - "$TMP/cat.json" "$URL" <<'PY' || fail "catalog does not show the updated tables"
import json, sys
d = json.load(open(sys.argv[1]))
t = {x["cloud"]: x for x in d["tables"]}
assert all(x["source"] == "updated" for x in t.values()), t
assert t["lambda"]["origin"] == sys.argv[2] + "lambda/vms.csv", t["lambda"]
assert t["lambda"]["rows"] == 408 and t["aws"]["rows"] == 2131, t
assert 0 <= t["aws"]["age_seconds"] < 120, t["aws"]
PY
frugal offers A100:8 --cloud lambda --json >"$TMP/l2.json" || fail "offers after update exited $?"
check_json "$TMP/l2.json" 'offers[0]["price_per_hour"] == 1.23' || fail "the new price is not used"

# Malformed again: the updated table (not the shipped one) stays in use.
printf 'InstanceType,Price\r\nx,1\r\n' >"$TMP/srv/lambda/vms.csv"
if frugal catalog update --url "$URL" --cloud lambda 2>"$TMP/upd.err" >/dev/null; then
	fail "a table without the required columns was accepted"
fi
grep -q "lambda/vms.csv:1: missing column 'AcceleratorName'" "$TMP/upd.err" || fail "missing column not named: $(cat "$TMP/upd.err")"
frugal offers A100:8 --cloud lambda --json >"$TMP/l3.json" || fail "offers exited $?"
check_json "$TMP/l3.json" 'offers[0]["price_per_hour"] == 1.23' || fail "the previous table is no longer in use"
# Unreachable server: a clear network error, nothing changes.
kill "$http_pid" 2>/dev/null
wait "$http_pid" 2>/dev/null
if frugal catalog update --url "$URL" --timeout 5s 2>"$TMP/upd.err" >/dev/null; then fail "update from a dead server exited 0"; fi
grep -q "cannot fetch ${URL}aws/vms.csv" "$TMP/upd.err" || fail "network error unclear: $(cat "$TMP/upd.err")"
ok "a good table replaces the old one; later bad ones leave it in use"
rm -rf "$FRUGAL_HOME/catalog"

# ---- check / launch --dry-run: candidates and estimate ----------------------------

mkdir -p "$TMP/proj"
cat >"$TMP/proj/big.yaml" <<'YAML'
name: big
resources:
  accelerators: A100:8
  spot_policy: auto
checkpoint: {dir: ckpt, interval: 10m}
run: echo train
YAML
write_config 'backends:
  local: {gpus: 8, gpu_type: A100, price_per_gpu_hour: 2.5}'
export AWS_ACCESS_KEY_ID=AKIAEXAMPLE AWS_SECRET_ACCESS_KEY=example-secret
frugal check "$TMP/proj/big.yaml" --estimate 6h >"$TMP/check.out" 2>"$TMP/check.err" ||
	fail "check exited $?: $(cat "$TMP/check.err")"
grep -q "big.yaml: OK" "$TMP/check.out" || fail "check lost its OK line"
grep -q "^  backend        local" "$TMP/check.out" || fail "check lost its plan"
grep -q "^  estimate       6h00m on local: \$120.00 (local bills per second)" "$TMP/check.out" ||
	fail "no estimate: $(cat "$TMP/check.out")"
grep -q "^Candidates for A100:8, best first (expected cost of 6h00m):" "$TMP/check.out" ||
	fail "no candidates: $(cat "$TMP/check.out")"
grep -q "^ 1 .*aws .*p4d.24xlarge .*spot, ~0.3. preemptions" "$TMP/check.out" ||
	fail "the cheapest candidate is not AWS spot: $(cat "$TMP/check.out")"
grep -q "^\*[0-9]* *local .*local-8xA100 .*\$20.00/h *\$120.00 *on-demand" "$TMP/check.out" ||
	fail "the plan's own row is not marked: $(cat "$TMP/check.out")"
grep -q "offers on backends without credentials (gcp, lambda)" "$TMP/check.out" ||
	fail "backends without credentials not mentioned"
ok "check prints the plan, an estimate with the billing rule and the candidates"

frugal check "$TMP/proj/big.yaml" >"$TMP/check1.out" 2>&1 || fail "check without --estimate exited $?"
grep -q "estimate       1h00m on local: \$20.00" "$TMP/check1.out" || fail "default estimate is not 1h"

# The cheapest location blocked: the next one comes first.
first=$(sed -n 's/^ 1  *aws  *\([^ ]*\)  *\([^ ]*\) .*/\1 \2/p' "$TMP/check.out")
[ -n "$first" ] || fail "cannot read the first candidate"
frugal status >/dev/null || fail "status exited $?"
python3 - "$FRUGAL_HOME/state.db" $first <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO blocked (backend, region, zone, until, reason) VALUES (?,?,?,?,?)",
           ("aws", sys.argv[2], sys.argv[3], int(time.time() * 1000) + 3600000, "capacity"))
db.commit()
PY
frugal check "$TMP/proj/big.yaml" --estimate 6h >"$TMP/check2.out" 2>&1 || fail "check exited $?"
second=$(sed -n 's/^ 1  *aws  *\([^ ]*\)  *\([^ ]*\) .*/\1 \2/p' "$TMP/check2.out")
[ -n "$second" ] && [ "$second" != "$first" ] || fail "the blocked location ($first) is still first: $(cat "$TMP/check2.out")"
grep -q " 1  *aws  *$second" "$TMP/check.out" && fail "unexpected: $second was first before"
sed -n 's/^ 2  *aws  *\([^ ]*\)  *\([^ ]*\) .*/\1 \2/p' "$TMP/check.out" | grep -qx "$second" ||
	fail "the next candidate ($second) was not second before the block"
ok "a blocked location is skipped: $first -> $second"

# launch --dry-run: same estimate and candidates; nothing launched.
frugal launch --dry-run --estimate 2h "$TMP/proj/big.yaml" >"$TMP/dry.out" 2>&1 || fail "dry run exited $?"
grep -q "estimate       2h00m on local: \$40.00" "$TMP/dry.out" || fail "dry run has no estimate: $(cat "$TMP/dry.out")"
grep -q "^Candidates for A100:8" "$TMP/dry.out" || fail "dry run has no candidates"
grep -q "Dry run: nothing was launched." "$TMP/dry.out" || fail "dry run lost its last line"
frugal launch --dry-run --json --estimate 2h "$TMP/proj/big.yaml" >"$TMP/dry.json" || fail "dry run --json exited $?"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["estimated_cost_usd"] == 40.0 and d["estimate_seconds"] == 7200, d' "$TMP/dry.json" ||
	fail "dry run JSON has no estimate"
ok "launch --dry-run prints the estimate and candidates"

# Without local A100s the plan fails as before, and says where it could run.
write_config 'backends:
  local: {gpus: 0}'
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
if frugal check "$TMP/proj/big.yaml" >"$TMP/nol.out" 2>"$TMP/nol.err"; then fail "check passed without any A100"; fi
grep -q "cannot plan on backend 'local'" "$TMP/nol.err" || fail "plan error lost"
grep -q "cheaper without credentials here: aws .*p4d.24xlarge" "$TMP/nol.err" ||
	fail "no hint where it could run: $(cat "$TMP/nol.err")"
ok "a task local cannot run says which cloud offers it"

# ---- frugal offers with no accelerator: one line per accelerator -----------
frugal offers >"$TMP/summary.txt" || fail "offers (summary) exited $?"
head -1 "$TMP/summary.txt" | grep -q "^GPU  *COUNTS  *ON-DEMAND \$/GPU-H" || fail "summary header: $(head -1 "$TMP/summary.txt")"
grep -q "^H100  *[0-9,]*8 " "$TMP/summary.txt" || fail "no H100 line with 8 in its counts"
n=$(grep -c . "$TMP/summary.txt")
[ "$n" -lt 100 ] || fail "the summary has $n lines"
grep -q "accelerators. 'frugal offers NAME" "$TMP/summary.txt" || fail "no summary footer"
ok "offers without an accelerator: one line per accelerator ($n lines)"

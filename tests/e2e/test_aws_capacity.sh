#!/bin/bash
# AWS capacity and throttling, with a fault proxy in front of moto:
#  a. RunInstances in the plan's zone answers InsufficientInstanceCapacity:
#     the controller blocks that zone and the job launches in the next
#     candidate zone (one instance);
#  b. EC2 answers RequestLimitExceeded and 500, S3 answers 503 SlowDown:
#     every call is retried with backoff and the job still launches once.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto --auth
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/job.yaml" <<'YAML'
name: capacity
resources: {accelerators: T4:1, use_spot: true}
run: sleep 600
YAML
plan=$(frugal check "$TMP/job.yaml" 2>&1) || fail "check: $plan"
zone_id=$(echo "$plan" | sed -n 's/.*backend *aws (EC2 spot in \([a-z0-9-]*\)).*/\1/p')
zone=$(python3 -c "
import boto3, sys
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
print({z['ZoneId']: z['ZoneName'] for z in ec2.describe_availability_zones()['AvailabilityZones']}[sys.argv[1]])" "$zone_id")
[ -n "$zone" ] || fail "no zone for $zone_id"

# ---- a. no capacity in the first zone --------------------------------------------------
start_proxy --capacity-zone "$zone"
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
id=$(wait_instance "$job" 2)
python3 - "$PROXY_LOG" "$zone" <<'PY' || fail "RunInstances calls: $(grep RunInstances "$PROXY_LOG")"
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l).get("action") == "RunInstances"]
assert len(runs) == 2, [(r["status"], r["params"].get("Placement.AvailabilityZone")) for r in runs]
assert runs[0]["status"] == 500 and runs[0]["params"]["Placement.AvailabilityZone"] == sys.argv[2]
assert runs[1]["status"] == 200 and runs[1]["params"]["Placement.AvailabilityZone"] != sys.argv[2]
PY
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] || fail "attempt 1: $(attempt_field "$job" 1 outcome)"
[ "$(attempt_field "$job" 1 zone)" = "$zone_id" ] || fail "attempt 1 zone $(attempt_field "$job" 1 zone)"
z2=$(attempt_field "$job" 2 zone)
[ "$z2" != "$zone_id" ] || fail "attempt 2 in the blocked zone"
[ "$(live_count "$job")" = 1 ] || fail "$(live_count "$job") instances"
frugal status "$job" | grep -q "InsufficientInstanceCapacity" || fail "the capacity error is not shown"
blocked=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM blocked WHERE backend='aws' AND zone='$zone_id'\").fetchone()[0])")
[ "$blocked" -ge 1 ] || fail "zone $zone_id not blocked"
frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "cancel"
[ "$(live_count)" = 0 ] || fail "instances left"
frugal controller --stop >/dev/null
ok "InsufficientInstanceCapacity in $zone_id: blocked, relaunched in $z2, one instance"

# ---- b. throttling and 5xx ----------------------------------------------------------------
start_proxy --throttle 2 --ec2-5xx 2 --s3-5xx 2
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch (b)"
id=$(wait_instance "$job" 1)
[ "$(live_count "$job")" = 1 ] || fail "b: $(live_count "$job") instances"
[ "$(ec2_calls RunInstances)" = 1 ] || fail "b: RunInstances answered $(ec2_calls RunInstances) times"
python3 - "$PROXY_LOG" <<'PY' || fail "faults not injected: $(head -8 "$PROXY_LOG")"
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
assert sum(1 for l in ls if l.get("action") and l["status"] == 503) == 2
assert sum(1 for l in ls if l.get("action") and l["status"] == 500) == 2
assert sum(1 for l in ls if l.get("s3") and l["status"] == 503) == 2
PY
[ "$(attempt_field "$job" 1 outcome)" = None ] || fail "b: attempt 1 $(attempt_field "$job" 1 outcome)"
frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "b: cancel"
[ "$(live_count)" = 0 ] || fail "b: instances left"
ok "RequestLimitExceeded x2, InternalError x2, S3 SlowDown x2: retried, launched once"

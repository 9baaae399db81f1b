#!/bin/bash
# No capacity: the fake answers the insert in the planned zone with a
# DONE operation whose error is ZONE_RESOURCE_POOL_EXHAUSTED. The attempt
# ends launch_failed, the controller blocks that zone and launches in the
# next one. A QUOTA_EXCEEDED "in region" blocks the whole region: the
# next attempt goes to another region. A task that fits only blocked
# zones waits (PENDING, with the reason) instead of failing.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start

cat > "$TMP/task.yaml" <<'YAML'
name: gcp-stockout
resources: {cloud: gcp, accelerators: T4:1, use_spot: true}
run: echo "ran in $FRUGAL_ATTEMPT"
YAML
first_zone() { frugal launch --dry-run "$1" | awk '$1 ~ /^\*?1$/ {print $3 " " $4; exit}'; }

# 1. A stockout in the zone of the plan: the next zone.
set -- $(first_zone "$TMP/task.yaml")
region1=$1 zone1=$2
[ -n "$zone1" ] || fail "no plan"
curl -sf -X POST "$FAKE/_fake/config" -d "{\"stockout_zones\": [\"$zone1\"]}" >/dev/null
job=$(frugal launch -d "$TMP/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job $(job_field "$job" status)"
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] || fail "attempt 1: $(attempt_field "$job" 1 outcome)"
[ "$(attempt_field "$job" 1 zone)" = "$zone1" ] || fail "attempt 1 zone"
zone2=$(attempt_field "$job" 2 zone)
[ -n "$zone2" ] && [ "$zone2" != "$zone1" ] || fail "attempt 2 zone '$zone2'"
frugal status "$job" --json | grep -q ZONE_RESOURCE_POOL_EXHAUSTED ||
	grep -q ZONE_RESOURCE_POOL_EXHAUSTED "$FRUGAL_HOME/controller.log" || fail "the stockout is not reported"
[ "$(fake_state "s['counters']['insert_attempts'].get('$zone1', 0)")" = 1 ] || fail "zone $zone1 asked more than once"
ok "stockout in $zone1: attempt 2 ran in $zone2"

# 2. A regional quota: another region altogether.
set -- $(first_zone "$TMP/task.yaml")
regionq=$1 zoneq=$2
[ "$zoneq" != "$zone1" ] || fail "the blocked zone is planned again"
curl -sf -X POST "$FAKE/_fake/config" -d "{\"stockout_zones\": [], \"quota_zones\": [\"$zoneq\"]}" >/dev/null
job2=$(frugal launch -d "$TMP/task.yaml") || fail "launch 2"
[ "$(wait_terminal "$job2" 90)" = SUCCEEDED ] || fail "job 2 $(job_field "$job2" status)"
[ "$(attempt_field "$job2" 1 outcome)" = launch_failed ] || fail "job 2 attempt 1"
[ "$(attempt_field "$job2" 2 region)" != "$regionq" ] || fail "job 2 stayed in region $regionq"
ok "quota in region $regionq: attempt 2 ran in $(attempt_field "$job2" 2 region)"

# 3. Only a blocked zone fits: the job waits for capacity.
cat > "$TMP/pinned.yaml" <<YAML
name: gcp-pinned
resources: {cloud: gcp, accelerators: T4:1, use_spot: true, zone: $zone1}
run: echo pinned
YAML
job3=$(frugal launch -d "$TMP/pinned.yaml") || fail "launch 3"
sleep 3
[ "$(job_field "$job3" status)" = PENDING ] || fail "pinned job is $(job_field "$job3" status)"
reason=$(job_field "$job3" reason)
echo "$reason" | grep -q "capacity" || fail "reason: $reason"
frugal cancel "$job3" >/dev/null
[ "$(wait_terminal "$job3" 30)" = CANCELLED ] || fail "cancel"
ok "a task that fits only blocked zones waits: $reason"

wait_vms_gone 30
no_schema_errors
for j in $job $job2 $job3; do [ "$(ledger_open "$j")" = 0 ] || fail "ledger of $j"; done
ok "nothing left"

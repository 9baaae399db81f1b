#!/bin/bash
# What an AWS account allows, against moto behind the fault proxy:
#  a. regions: with no backends.aws.regions, plans stay in the regions
#     DescribeRegions lists (the proxy hides eu-south-1 and af-south-1,
#     the cheapest spot T4s of the shipped catalog, as EC2 hides opt-in
#     regions an account has not enabled); the list is cached under
#     FRUGAL_HOME/catalog/aws/regions.json;
#  b. a stale cache that lists eu-south-1: RunInstances answers
#     OptInRequired, the whole region is blocked (one attempt there, not
#     one per zone) and the job launches in us-east-1;
#  c. gc goes on past a region that fails (eu-south-1) and reports it;
#  d. VcpuLimitExceeded is an account quota, not a stockout: one
#     RunInstances, the message names the quota code and the
#     service-quotas command, the job waits instead of trying zone after zone;
#  e. subnet_id: the plan is in the subnet's zone and RunInstances sends
#     the subnet with that zone;
#  f. no instance_profile: check refuses with the aws iam commands;
#  g. the boot log: a boot that fails (no frugal binary on the image) is
#     stored in S3 before power-off and its end shown in the job's events.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/spot.yaml" <<'YAML'
name: spot
resources: {accelerators: T4:1, use_spot: true}
run: sleep 600
YAML
runs() {	# runs [REGION]: RunInstances calls the proxy saw (signed for REGION)
	python3 - "$PROXY_LOG" "${1:-}" <<'PY'
import json, sys
n = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("action") == "RunInstances":
        n += 1
print(n)
PY
}

# ---- a. only the enabled regions ---------------------------------------------------------
start_proxy --opt-in-region eu-south-1 --opt-in-region af-south-1
write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    image_name: \"Deep Learning AMI Amazon Linux*\"
    instance_profile: frugal-agent"
plan=$(frugal check "$TMP/spot.yaml" 2>&1) || fail "check: $plan"
echo "$plan" | grep -q "backend *aws" || fail "no aws plan: $plan"
! echo "$plan" | grep "backend *aws" | grep -qE "eus1-|afs1-" || fail "planned in a region not enabled: $plan"
[ -f "$FRUGAL_HOME/catalog/aws/regions.json" ] || fail "the enabled regions are not cached"
python3 - "$FRUGAL_HOME/catalog/aws/regions.json" <<'PY' || fail "cache: $(cat "$FRUGAL_HOME/catalog/aws/regions.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert "us-east-1" in d["regions"] and "eu-south-1" not in d["regions"], d
PY
n=$(grep -c '"DescribeRegions"' "$PROXY_LOG")
frugal check "$TMP/spot.yaml" >/dev/null 2>&1 || fail "second check"
[ "$(grep -c '"DescribeRegions"' "$PROXY_LOG")" = "$n" ] || fail "DescribeRegions asked again within the day"
ok "plans leave out the regions DescribeRegions does not list; the list is cached"

# ---- b. a stale list: OptInRequired blocks the whole region --------------------------------
python3 - "$FRUGAL_HOME/catalog/aws/regions.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["regions"] = ["eu-south-1", "us-east-1"]
json.dump(d, open(sys.argv[1], "w"))
PY
write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    regions: eu-south-1,us-east-1
    image_name: \"Deep Learning AMI Amazon Linux*\"
    instance_profile: frugal-agent"
: > "$PROXY_LOG"
job=$(frugal launch -d "$TMP/spot.yaml") || fail "launch (b)"
wait_instance "$job" 2 >/dev/null
[ "$(attempt_field "$job" 1 region)" = eu-south-1 ] || fail "attempt 1 in $(attempt_field "$job" 1 region)"
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] || fail "attempt 1: $(attempt_field "$job" 1 outcome)"
[ "$(attempt_field "$job" 2 region)" = us-east-1 ] || fail "attempt 2 in $(attempt_field "$job" 2 region)"
[ "$(runs)" = 1 ] || fail "RunInstances $(runs) times"
n=$(frugal status "$job" --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)['jobs'][0]['attempts']))")
[ "$n" = 2 ] || fail "$n attempts: eu-south-1 tried zone after zone"
frugal status "$job" | grep -q "region eu-south-1 is not enabled for this AWS account" ||
	fail "the region is not named: $(frugal status "$job")"
frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "cancel (b)"
ok "OptInRequired: eu-south-1 blocked whole after one RunInstances; relaunched in us-east-1"

# ---- c. gc goes on past a failing region ----------------------------------------------------
home=$(instances_json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['tags']['frugal-home'])")
orphan=$(python3 "$AWSTOOL" orphan "$home" zzzzzz-1) || fail "orphan"
out=$(frugal gc --dry-run 2>&1) && fail "gc --dry-run did not say a region failed: $out"
echo "$out" | grep -q "zzzzzz-1.*$orphan.*would end" || fail "the orphan in us-east-1 is not listed: $out"
echo "$out" | grep -q "eu-south-1.*OptInRequired" || fail "the failing region is not reported: $out"
ok "gc lists what us-east-1 holds and reports eu-south-1"
frugal gc >/dev/null 2>&1
frugal controller --stop >/dev/null

# ---- d. an account quota is not a stockout ----------------------------------------------------
start_proxy --quota g4dn
aws_config
job=$(frugal launch -d "$TMP/spot.yaml") || fail "launch (d)"
for i in $(seq 400); do
	frugal status "$job" 2>/dev/null | grep -q "account quota" && break
	sleep 0.05
done
sleep 2
[ "$(runs)" = 1 ] || fail "RunInstances $(runs) times: retried zone after zone"
st=$(frugal status "$job")
echo "$st" | grep -q "L-3819A6DF" || fail "the quota code is not named: $st"
echo "$st" | grep -q "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-3819A6DF --desired-value 4 --region us-east-1" ||
	fail "no command to raise it: $st"
[ "$(job_field "$job" status)" = PENDING ] || fail "job is $(job_field "$job" status)"
frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "cancel (d)"
frugal controller --stop >/dev/null
ok "VcpuLimitExceeded: one RunInstances, the quota (L-3819A6DF) and how to raise it named, the job waits"
# The quota is raised: what was blocked is let in again.
python3 -c "import sqlite3; c = sqlite3.connect('$FRUGAL_HOME/state.db'); c.execute('DELETE FROM blocked'); c.commit()"

# ---- e. the subnet's zone ---------------------------------------------------------------------
start_proxy
read -r subnet zone zone_id <<EOF
$(python3 -c "
import boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
vpc = ec2.create_vpc(CidrBlock='10.9.0.0/16')['Vpc']['VpcId']
zs = ec2.describe_availability_zones()['AvailabilityZones']
z = ([z for z in zs if z['ZoneId'] == 'use1-az1'] or zs)[0]
s = ec2.create_subnet(VpcId=vpc, CidrBlock='10.9.1.0/24', AvailabilityZone=z['ZoneName'])['Subnet']
print(s['SubnetId'], z['ZoneName'], z['ZoneId'])")
EOF
[ -n "$zone_id" ] || fail "no subnet made"
aws_config "    subnet_id: $subnet"
plan=$(frugal check "$TMP/spot.yaml" 2>&1)
if echo "$plan" | grep -q "EC2 spot in"; then
	echo "$plan" | grep -q "EC2 spot in $zone_id" || fail "planned outside the subnet's zone $zone_id: $plan"
	job=$(frugal launch -d "$TMP/spot.yaml") || fail "launch (e)"
	wait_instance "$job" 1 >/dev/null
	python3 - "$PROXY_LOG" "$subnet" "$zone" <<'PY' || fail "RunInstances: $(grep RunInstances "$PROXY_LOG")"
import json, sys
runs = [json.loads(l)["params"] for l in open(sys.argv[1]) if json.loads(l).get("action") == "RunInstances"]
assert runs and all(r.get("SubnetId") == sys.argv[2] for r in runs), runs
assert all(r.get("Placement.AvailabilityZone") in (None, sys.argv[3]) for r in runs), runs
PY
	frugal cancel "$job" >/dev/null
	wait_terminal "$job" 30 >/dev/null
	ok "subnet $subnet: planned in its zone $zone_id, RunInstances sent both consistently"
else
	echo "$plan" | grep -q "without a subnet" || fail "e: $plan"
	ok "subnet $subnet in $zone_id has no T4 offer: the plan says so"
fi
frugal controller --stop >/dev/null

# ---- f. no instance profile ----------------------------------------------------------------------
write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    regions: us-east-1"
out=$(frugal check "$TMP/spot.yaml" 2>&1)
[ $? = 3 ] || fail "check without an instance profile exited $?: $out"
echo "$out" | grep -q "aws iam create-instance-profile --instance-profile-name frugal-agent" ||
	fail "no aws iam commands: $out"
echo "$out" | grep -q "arn:aws:s3:::$AWS_BUCKET/\*" || fail "the policy does not name the bucket: $out"
ok "no instance profile: refused at plan time with the aws iam commands"

# ---- g. the boot log of a failed boot ---------------------------------------------------------------
aws_config "    frugal_bin: /nonexistent/frugal"
job=$(frugal launch -d "$TMP/spot.yaml") || fail "launch (g)"
boot_vm "$job" 1
wait "$VM_PID" 2>/dev/null
# Powered off: the instance ends (the fake shutdown does it too where the
# sandbox's python3 has boto3).
python3 "$AWSTOOL" terminate "$(instance_of "$job" 1)" >/dev/null 2>&1
s3_has "home/jobs/$job/attempts/1/boot.log" || fail "no boot log in S3"
s3_get "home/jobs/$job/attempts/1/boot.log" | grep -q "no frugal binary" || fail "boot log: $(s3_get "home/jobs/$job/attempts/1/boot.log")"
for i in $(seq 600); do
	frugal status "$job" | grep -q "no frugal binary" && break
	sleep 0.05
done
frugal status "$job" | grep -q "no frugal binary" || fail "the boot log is not in the events: $(frugal status "$job")"
frugal cancel "$job" >/dev/null 2>&1 || true
ok "a failed boot: its log stored in S3 before power-off, its end in the job's events"

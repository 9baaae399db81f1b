#!/bin/bash
# frugal gc on AWS (moto): an instance and an unattached volume tagged by
# this FRUGAL_HOME that no live job owns are found (--dry-run lists them,
# ends nothing) and ended; the live job's instance and the instances of
# another FRUGAL_HOME (another frugal-home tag) are left alone.
# Only the rows of backend aws are looked at.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto --auth
aws_config

cat > "$TMP/job.yaml" <<'YAML'
name: keep-me
resources: {accelerators: T4:1}
run: sleep 600
YAML
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
live=$(wait_instance "$job")
home=$(instances_json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['tags']['frugal-home'])")
orphan=$(python3 "$AWSTOOL" orphan "$home" zzzzzz-1) || fail "orphan"
foreign=$(python3 "$AWSTOOL" orphan 0badc0de yyyyyy-1) || fail "foreign"
vol=$(python3 -c "
import boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
v = ec2.create_volume(AvailabilityZone='us-east-1a', Size=10, TagSpecifications=[{
    'ResourceType': 'volume', 'Tags': [{'Key': 'frugal-home', 'Value': '$home'},
                                       {'Key': 'frugal-token', 'Value': 'xxxxxx-2'}]}])
print(v['VolumeId'])")

frugal gc --dry-run > "$TMP/dry" || fail "gc --dry-run: $(cat "$TMP/dry")"
grep -q "zzzzzz-1.*instance us-east-1/$orphan.*would end" "$TMP/dry" || fail "orphan not listed: $(cat "$TMP/dry")"
grep -q "xxxxxx-2.*volume us-east-1/$vol.*would end" "$TMP/dry" || fail "volume not listed: $(cat "$TMP/dry")"
! grep "^aws" "$TMP/dry" | grep -q "$job-1\|yyyyyy" || fail "gc would end what it must not: $(cat "$TMP/dry")"
[ "$(live_count)" = 3 ] || fail "--dry-run ended something"
ok "gc --dry-run lists the orphan instance and volume only"

frugal gc > "$TMP/gc" || fail "gc: $(cat "$TMP/gc")"
state() { instances_json | python3 -c "import json,sys; print({i['id']: i['state'] for i in json.load(sys.stdin)}['$1'])"; }
[ "$(state "$orphan")" = terminated ] || fail "orphan is $(state "$orphan")"
[ "$(state "$live")" = running ] || fail "the live job's instance is $(state "$live")"
[ "$(state "$foreign")" = running ] || fail "another home's instance is $(state "$foreign")"
python3 -c "
import boto3, sys
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
assert '$vol' not in [v['VolumeId'] for v in ec2.describe_volumes()['Volumes']]" ||
	fail "the orphan volume is still there"
! frugal gc --dry-run | grep -q "^aws" || fail "second gc: $(frugal gc --dry-run)"
ok "gc ended the orphan instance and volume; the live job and the other home untouched"

frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "cancel"
[ "$(state "$live")" = terminated ] || fail "not terminated after cancel"

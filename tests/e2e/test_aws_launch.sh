#!/bin/bash
# AWS backend against moto, with moto checking every request's SigV4
# signature (EC2 and S3 calls signed in the Authorization header; moto 5
# cannot check presigned URLs with authentication on - the emulated boot
# fetches them without): a spot launch makes exactly one instance with
# the plan's type and zone, frugal's tags, spot market options, a root
# volume deleted on termination, InstanceInitiatedShutdownBehavior
# terminate, IMDSv2 only, the instance profile and a boot script with no
# secret in it; the ledger has the token before RunInstances has the
# derived ClientToken; status follows it; cancel terminates it; nothing
# tagged is left and gc finds nothing.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto --auth
start_proxy
aws_config "    live_spot_prices: true"
export WANDB_API_KEY=wandb-secret-1234

cat > "$TMP/job.yaml" <<'YAML'
name: spot-t4
resources:
  accelerators: T4:1
  use_spot: true
  disk_size: 50
secrets: {WANDB_API_KEY: null}
run: sleep 600
YAML
plan=$(frugal check "$TMP/job.yaml" 2>&1) || fail "check: $plan"
zone_id=$(echo "$plan" | sed -n 's/.*backend *aws (EC2 spot in \([a-z0-9-]*\)).*/\1/p')
[ -n "$zone_id" ] || fail "no zone in the plan: $plan"
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
id=$(wait_instance "$job")
wait_status "$job" STARTING 30

# Exactly one instance, as planned.
[ "$(live_count)" = 1 ] || fail "$(live_count) instances, want 1"
python3 - "$job" "$zone_id" "$id" "$MOTO_URL" <<'PY' || fail "instance: $(instances_json)"
import json, subprocess, sys, boto3
job, zone_id, iid, url = sys.argv[1:5]
ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1")
zones = {z["ZoneId"]: z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
i = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
tags = {t["Key"]: t["Value"] for t in i["Tags"]}
assert i["InstanceType"] == "g4dn.xlarge", i["InstanceType"]
assert i["Placement"]["AvailabilityZone"] == zones[zone_id], (i["Placement"], zone_id)
assert i.get("InstanceLifecycle") == "spot", i.get("InstanceLifecycle")
assert tags["frugal-job"] == job and tags["frugal-attempt"] == "1", tags
assert tags["frugal-token"] == job + "-1" and tags["frugal-owner"] and tags["frugal-home"], tags
assert i["ClientToken"] == "frugal-%s-%s-1" % (tags["frugal-home"], job), i["ClientToken"]
assert i["IamInstanceProfile"]["Arn"].endswith("/frugal-agent"), i["IamInstanceProfile"]
b = ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")
assert b["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate", b
PY
# moto's spot price history says 0.00001 for every zone.
[ "$(attempt_field "$job" 1 price_per_hour)" = 1e-05 ] ||
	fail "price not from DescribeSpotPriceHistory: $(attempt_field "$job" 1 price_per_hour)"
ok "one spot g4dn.xlarge in the planned zone $zone_id, tagged, ClientToken from the ledger token, live spot price"

# What RunInstances was asked (the proxy saw it).
python3 - "$PROXY_LOG" <<'PY' || fail "RunInstances parameters"
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l).get("action") == "RunInstances"]
assert len(runs) == 1, len(runs)
p = runs[0]["params"]
want = {
    "InstanceMarketOptions.MarketType": "spot",
    "InstanceMarketOptions.SpotOptions.SpotInstanceType": "one-time",
    "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior": "terminate",
    "InstanceInitiatedShutdownBehavior": "terminate",
    "BlockDeviceMapping.1.Ebs.DeleteOnTermination": "true",
    "BlockDeviceMapping.1.Ebs.VolumeSize": "50",
    "MetadataOptions.HttpTokens": "required",
    "TagSpecification.1.ResourceType": "instance",
    "TagSpecification.2.ResourceType": "volume",
    "MinCount": "1", "MaxCount": "1",
}
for k, v in want.items():
    assert p.get(k) == v, (k, p.get(k))
assert p["ClientToken"].startswith("frugal-"), p["ClientToken"]
PY
ok "RunInstances: spot one-time/terminate, root volume DeleteOnTermination, IMDSv2, tags on volume too"

frugal_bin_sha=$(sha256sum "$FRUGAL_BIN" | cut -d' ' -f1)
python3 "$AWSTOOL" userdata "$id" > "$TMP/user-data"
grep -q "agent --instance-dir" "$TMP/user-data" || fail "the boot script does not start the agent"
grep -q "$frugal_bin_sha" "$TMP/user-data" || fail "the boot script does not check the binary"
grep -q "trap '.*shutdown -h now' EXIT" "$TMP/user-data" || fail "no power-off trap"
! grep -q "wandb-secret" "$TMP/user-data" || fail "a secret is in the user data"
! grep -q "frugal-e2e-secret-key\|AWS_SECRET_ACCESS_KEY" "$TMP/user-data" || fail "credentials in the user data"
bash -n "$TMP/user-data" || fail "the boot script is not valid bash"
ok "user data: a boot script that fetches and checks the agent, powers off on exit, no secret"

# The ledger: a row for the token, live, with the instance id.
row=$(python3 -c "import sqlite3; print('|'.join(map(str, sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT token, provider_id, state FROM resources WHERE job_id='$job'\").fetchone())))")
[ "$row" = "$job-1|us-east-1/$id|live" ] || fail "ledger row: $row"
! grep -rq "wandb-secret\|frugal-e2e-secret-key" "$FRUGAL_HOME" || fail "a secret in FRUGAL_HOME (state, logs)"
s3_get "home/jobs/$job/attempts/1/agent.json" | grep -q "wandb-secret" && fail "a secret in agent.json"
s3_get_file "home/jobs/$job/attempts/1/secrets.sealed" "$TMP/sealed" ||
	fail "secrets.sealed not stored for the boot"
[ "$(head -c 12 "$TMP/sealed")" = FRUGALSEAL1 ] && ! grep -qa "wandb-secret" "$TMP/sealed" ||
	fail "secrets.sealed is not sealed"
grep -qE "^FRUGAL_SECRETS_KEY=[0-9a-f]{64}$" "$TMP/user-data" || fail "no key for the sealed secrets"
ok "ledger row $job-1 -> us-east-1/$id; secrets only sealed in the attempt's secrets.sealed"

frugal status "$job" | grep -q "us-east-1" || true
frugal cancel "$job" >/dev/null || fail "cancel"
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "not cancelled"
[ "$(live_count)" = 0 ] || fail "instances left after cancel: $(instances_json)"
[ "$(ec2_calls TerminateInstances)" -ge 1 ] || fail "no TerminateInstances"
open=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE state != 'gone'\").fetchone()[0])")
[ "$open" = 0 ] || fail "$open ledger rows not gone"
! s3_has "home/jobs/$job/attempts/1/secrets.sealed" || fail "secrets.sealed left in S3"
! frugal gc --dry-run | grep -q "^aws" || fail "gc finds something: $(frugal gc --dry-run)"
ok "cancel terminated the instance; ledger gone; secrets.sealed deleted; gc finds nothing"

#!/bin/bash
# volumes on AWS (moto): an EBS snapshot becomes a volume of the attempt's
# instance, in the instance's (the plan's) zone, through RunInstances'
# block device mapping (SnapshotId, DeleteOnTermination, tagged with the
# attempt); the ledger has a "volume" row with the instance's; the price
# has the volume's GB-month share and status shows it; the volume is gone
# with the job. Plans go only to regions that have the snapshot. Then the
# controller is killed at every point around it and, restarted, leaves no
# volume and no open ledger row behind.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto --auth
start_proxy
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

# A 20 GiB snapshot in us-east-1 (made from a volume, as a user would).
snap=$(python3 -c "
import boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
v = ec2.create_volume(AvailabilityZone='us-east-1a', Size=20)
print(ec2.create_snapshot(VolumeId=v['VolumeId'])['SnapshotId'])
ec2.delete_volume(VolumeId=v['VolumeId'])") || fail "snapshot"
cat > "$TMP/job.yaml" <<YAML
name: vol
resources: {accelerators: T4:1}
volumes:
  /data: {source: ebs://$snap, read_only: true}
run: sleep 600
YAML

# vols: "ID AZ STATE SNAPSHOT TOKEN" of every volume made from the snapshot.
vols() {
	python3 -c "
import boto3
for region in ('us-east-1', 'us-west-2'):
    ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name=region)
    for v in ec2.describe_volumes()['Volumes']:
        tags = {t['Key']: t['Value'] for t in v.get('Tags', [])}
        if v.get('SnapshotId') and v['SnapshotId'].startswith('snap-') and tags.get('frugal-token'):
            print(v['VolumeId'], v['AvailabilityZone'], v['State'], v['SnapshotId'], tags['frugal-token'])
"
}
open_rows() {
	python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE state != 'gone'\").fetchone()[0])"
}
controller_pid() { cat "$FRUGAL_HOME/controller.pid" 2>/dev/null; }
wait_crash() {
	local i pid
	for i in $(seq 600); do
		pid=$(controller_pid)
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	pid=$(controller_pid)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then fail "the controller did not crash at $1"; fi
	rm -f "$FRUGAL_HOME/controller.pid"
}
crash_at() {
	FRUGAL_CONTROLLER_FAULT=$1 frugal controller >/dev/null || fail "controller with fault $1"
	job=$(frugal launch -d "$TMP/job.yaml") || fail "launch ($1)"
	wait_crash "$1"
}
end_job() {
	frugal cancel "$job" >/dev/null
	[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "$1: cancel"
	[ "$(live_count)" = 0 ] || fail "$1: instances left"
	for i in $(seq 100); do [ -z "$(vols)" ] && break; sleep 0.1; done
	[ -z "$(vols)" ] || fail "$1: volumes left: $(vols)"
	[ "$(open_rows)" = 0 ] || fail "$1: $(open_rows) ledger rows not gone"
	frugal controller --stop >/dev/null
}

# The whole life.
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
id=$(wait_instance "$job")
wait_status "$job" STARTING 30
v=$(vols)
[ "$(echo "$v" | grep -c "$job-1")" = 1 ] || fail "want one volume of $job-1 from $snap: $v"
set -- $v
inst_az=$(python3 -c "
import boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
i = ec2.describe_instances(InstanceIds=['$id'])['Reservations'][0]['Instances'][0]
print(i['Placement']['AvailabilityZone'])
m = {b['DeviceName']: b['Ebs']['VolumeId'] for b in i['BlockDeviceMappings']}
assert m.get('/dev/sdf') == '$1', m")
[ -n "$inst_az" ] || fail "the volume is not the instance's /dev/sdf"
[ "$2" = "$inst_az" ] || fail "volume in $2, instance in $inst_az"
[ "$4" = "$snap" ] || fail "volume from $4, want $snap"
python3 -c "
import json
for l in open('$PROXY_LOG'):
    r = json.loads(l)
    if r.get('action') != 'RunInstances':
        continue
    p = r.get('params', {})
    assert p.get('BlockDeviceMapping.2.Ebs.SnapshotId') == '$snap', p
    assert p.get('BlockDeviceMapping.2.Ebs.DeleteOnTermination') == 'true', p
    assert p.get('BlockDeviceMapping.2.DeviceName') == '/dev/sdf', p
    assert p.get('TagSpecification.2.ResourceType') == 'volume', p
    break
else:
    raise SystemExit('no RunInstances')
" || fail "RunInstances did not map the snapshot (proxy log)"
kind=$(python3 -c "import sqlite3; print(' '.join(r[0]+':'+r[1] for r in sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT kind, state FROM resources WHERE job_id='$job' ORDER BY id\")))")
[ "$kind" = "instance:live volume:live" ] || fail "ledger rows: $kind"
# 20 GiB gp3 at 0.08 per GB-month: 0.0022 per hour
frugal status "$job" --json | python3 -c "
import json, sys
d = json.load(sys.stdin); a = (d['jobs'][0] if 'jobs' in d else d)['attempts'][0]
assert abs(a['volume_price_per_hour'] - 20 * 0.08 / 730) < 1e-9, a
assert a['price_per_hour'] > a['volume_price_per_hour'], a" || fail "status: no volume price"
frugal status "$job" | grep -q "(vol 0.0022)" || fail "status does not show the volume's price: $(frugal status "$job")"
ok "a volume from $snap in $inst_az (the instance's zone), its /dev/sdf, in the ledger, priced 20 GiB x 0.08/GB-month"
end_job life
ok "cancelled: instance and volume gone, ledger closed"

# Plans only where the snapshot is.
write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    regions: us-west-2
    image_name: \"Deep Learning AMI Amazon Linux*\"
    image_owner: amazon
    instance_profile: frugal-agent"
out=$(frugal launch --dry-run "$TMP/job.yaml" 2>&1) && fail "planned where the snapshot is not: $out"
echo "$out" | grep -q "1 in regions without a volume's snapshot\|in regions without a volume's snapshot" ||
	fail "no reason given: $out"
echo "$out" | grep -q "frugal volume copy" || fail "the error does not say how to make a copy: $out"
ok "no plan in a region without the snapshot, saying how to copy it"

# frugal volume copy: CopySnapshot into us-west-2, tagged with the source;
# a second copy makes nothing; then plans may go to us-west-2.
write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    regions: us-east-1,us-west-2
    image_name: \"Deep Learning AMI Amazon Linux*\"
    image_owner: amazon
    instance_profile: frugal-agent"
copy=$(frugal volume copy "ebs://$snap" --to us-west-2 2>"$TMP/copy.err") || fail "volume copy: $(cat "$TMP/copy.err")"
grep -q "being made in us-west-2" "$TMP/copy.err" || fail "copy did not say: $(cat "$TMP/copy.err")"
python3 -c "
import boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-west-2')
s = ec2.describe_snapshots(SnapshotIds=['$copy'])['Snapshots'][0]
tags = {t['Key']: t['Value'] for t in s.get('Tags', [])}
assert tags.get('frugal-source-snapshot') == '$snap', tags" || fail "the copy $copy is not tagged with its source"
n1=$(grep -c '"CopySnapshot"' "$PROXY_LOG")
again=$(frugal volume copy "$snap" --to us-west-2 2>"$TMP/copy2.err") || fail "second copy"
[ "$again" = "$copy" ] || fail "second copy gave $again, want $copy"
grep -q "nothing copied" "$TMP/copy2.err" || fail "second copy: $(cat "$TMP/copy2.err")"
[ "$(grep -c '"CopySnapshot"' "$PROXY_LOG")" = "$n1" ] || fail "the second copy called CopySnapshot"
write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    regions: us-west-2
    image_name: \"Deep Learning AMI Amazon Linux*\"
    image_owner: amazon
    instance_profile: frugal-agent"
out=$(frugal launch --dry-run "$TMP/job.yaml" 2>&1) || fail "no plan in us-west-2 with the copy: $out"
echo "$out" | grep -q "us-west-2" || fail "dry run not in us-west-2: $out"
ok "volume copy made $copy in us-west-2 (tagged, once); plans go there now"
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

# Killed after the ledger commit: nothing made yet; the restart launches.
crash_at controller.after_ledger
[ -z "$(vols)" ] || fail "after_ledger: a volume already: $(vols)"
frugal controller >/dev/null || fail "restart"
wait_status "$job" STARTING 30
[ "$(vols | wc -l)" = 1 ] || fail "after_ledger: volumes $(vols)"
end_job after_ledger
ok "killed after the ledger commit: launched once after the restart, nothing left"

# Killed after RunInstances (answer lost): adopted, volume ended with it.
crash_at aws.after_run_instances
[ "$(vols | wc -l)" = 1 ] || fail "after_run_instances: volumes $(vols)"
frugal controller >/dev/null || fail "restart"
for i in $(seq 200); do grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" && break; sleep 0.05; done
end_job after_run_instances
ok "killed after RunInstances: adopted, its volume gone at the end"

# Killed after the launch was recorded.
crash_at controller.after_launch_recorded
frugal controller >/dev/null || fail "restart"
wait_status "$job" STARTING 30
end_job after_launch_recorded
ok "killed after the launch was recorded: nothing left"

# Killed after TerminateInstances, before the teardown was recorded.
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch (terminate)"
wait_instance "$job" >/dev/null
wait_status "$job" STARTING 30
frugal controller --stop >/dev/null
FRUGAL_CONTROLLER_FAULT=controller.after_terminate frugal controller >/dev/null
frugal cancel "$job" >/dev/null
wait_crash controller.after_terminate
frugal controller >/dev/null || fail "restart (terminate)"
end_job after_terminate
ok "killed after TerminateInstances: teardown confirmed after the restart"

# A volume from the snapshot that no job owns (left by hand, or by a home
# whose ledger is lost) is found and deleted by gc; the snapshot is kept.
home=$(instances_json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['tags']['frugal-home'])")
left=$(python3 -c "
import boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
v = ec2.create_volume(AvailabilityZone='us-east-1a', SnapshotId='$snap', TagSpecifications=[{
    'ResourceType': 'volume', 'Tags': [{'Key': 'frugal-home', 'Value': '$home'},
                                       {'Key': 'frugal-token', 'Value': 'qqqqqq-1'}]}])
print(v['VolumeId'])")
frugal gc --dry-run | grep -q "qqqqqq-1.*volume us-east-1/$left.*would end" || fail "gc does not list $left: $(frugal gc --dry-run)"
frugal gc >/dev/null || fail "gc"
[ -z "$(vols)" ] || fail "gc left: $(vols)"
python3 -c "
import boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
assert ec2.describe_snapshots(SnapshotIds=['$snap'])['Snapshots']" || fail "the snapshot went"
ok "gc finds and deletes a snapshot volume no job owns; the snapshot stays"

#!/bin/bash
# resources.ports on AWS (moto): each attempt gets its own security group
# (frugal-HOME-JOB-N, in the VPC of the instance, tagged with the job),
# made after its ledger row and before RunInstances, with one ingress rule
# per entry; `frugal endpoints` lists IP:PORT; the group is deleted with
# the instance. Then the controller is killed at each step around it
# (after the ledger commit, after the group was made, after RunInstances,
# after TerminateInstances) and, restarted, leaves no group behind. gc
# ends a stray group of this home no live job owns (its ledger row lost)
# and leaves another home's.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto --auth
start_proxy
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/job.yaml" <<'YAML'
name: ports
resources: {accelerators: T4:1, ports: [8080, "9000-9001"]}
run: sleep 600
YAML

# groups [JOB]: "NAME JOB ATTEMPT RULES" of every frugal group (of JOB).
groups() {
	python3 -c "
import boto3, os, sys
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
job = sys.argv[1] if len(sys.argv) > 1 else ''
for g in ec2.describe_security_groups()['SecurityGroups']:
    tags = {t['Key']: t['Value'] for t in g.get('Tags', [])}
    if not g['GroupName'].startswith('frugal-'):
        continue
    if job and tags.get('frugal-job') != job:
        continue
    rules = ','.join('%s-%s' % (p['FromPort'], p['ToPort']) for p in g['IpPermissions'])
    print(g['GroupName'], tags.get('frugal-job'), tags.get('frugal-attempt'), rules, g['VpcId'])
" "$@"
}
end_job() {
	frugal cancel "$job" >/dev/null
	[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "$1: cancel"
	[ "$(live_count)" = 0 ] || fail "$1: instances left"
	[ -z "$(groups)" ] || fail "$1: groups left: $(groups)"
	[ "$(ledger_open)" = 0 ] || fail "$1: $(ledger_open) ledger rows not gone"
	frugal controller --stop >/dev/null
}

# The whole life.
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
id=$(wait_instance "$job")
wait_status "$job" STARTING 30
g=$(groups "$job")
[ "$(echo "$g" | wc -l)" = 1 ] || fail "want one group for $job: $g"
set -- $g
[ "$2 $3 $4" = "$job 1 8080-8080,9000-9001" ] || fail "group: $g"
home=${1#frugal-}
home=${home%-$job-1}
default_vpc=$(python3 -c "
import boto3
print(boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1').describe_vpcs(Filters=[{'Name': 'isDefault', 'Values': ['true']}])['Vpcs'][0]['VpcId'])")
[ "$5" = "$default_vpc" ] || fail "group in $5, want the default VPC $default_vpc"
python3 -c "
import boto3, sys
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
i = ec2.describe_instances(InstanceIds=['$id'])['Reservations'][0]['Instances'][0]
names = [s['GroupName'] for s in i['SecurityGroups']]
assert '$1' in names, names
" || fail "the instance is not in its group"
python3 -c "
import json, sys
acts = [json.loads(l).get('action') for l in open('$PROXY_LOG')]
assert acts.index('CreateSecurityGroup') < acts.index('RunInstances'), acts
" || fail "the group was not made before RunInstances"
kind=$(python3 -c "import sqlite3; print(' '.join(r[0]+':'+r[1] for r in sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT kind, state FROM resources WHERE job_id='$job' ORDER BY id\")))")
[ "$kind" = "instance:live ports:live" ] || fail "ledger rows: $kind"
ok "a group $1 with 8080 and 9000-9001 open, made before RunInstances, the instance in it, in the ledger"

ip=$(python3 -c "
import boto3
print(boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1').describe_instances(InstanceIds=['$id'])['Reservations'][0]['Instances'][0].get('PublicIpAddress', ''))")
out=$(frugal endpoints "$job") || fail "endpoints: $out"
[ -n "$ip" ] && { echo "$out" | grep -q "^8080 .*$ip:8080" || fail "endpoints: $out (ip $ip)"; }
echo "$out" | grep -q "^9000-9001 .*:9000-9001" || fail "endpoints range: $out"
frugal endpoints "$job" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['endpoints'][0]['forward'] == 'relay' and d['endpoints'][0]['host'], d" || fail "endpoints --json"
ok "endpoints: $ip:8080, $ip:9000-9001"
end_job "life"
ok "cancelled: instance and group gone, ledger closed"

# Killed after the ledger commit: nothing made yet.
crash_at controller.after_ledger
[ -z "$(groups "$job")" ] || fail "after_ledger: a group already"
frugal controller >/dev/null || fail "restart"
wait_status "$job" STARTING 30
[ "$(groups "$job" | wc -l)" = 1 ] || fail "after_ledger: groups $(groups "$job")"
end_job after_ledger
ok "killed after the ledger commit: launched once after the restart, nothing left"

# Killed after the group was made, before RunInstances: the restart finds
# no instance, deletes the group, and launches attempt 2 (its own group).
crash_at controller.after_ports_open
[ "$(groups "$job" | awk '{print $3}')" = 1 ] || fail "after_ports_open: no group of attempt 1: $(groups)"
[ "$(live_count "$job")" = 0 ] || fail "after_ports_open: an instance?"
frugal controller >/dev/null || fail "restart"
wait_status "$job" STARTING 30
[ "$(groups "$job" | awk '{print $3}')" = 2 ] || fail "after_ports_open: groups after restart: $(groups)"
end_job after_ports_open
ok "killed after the group was made: its group deleted, attempt 2 ran, nothing left"

# Killed after RunInstances (answer lost): adopted; the group (its row
# never got the id) is deleted by name with the instance.
crash_at aws.after_run_instances
frugal controller >/dev/null || fail "restart"
for i in $(seq 200); do grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" && break; sleep 0.05; done
[ "$(groups "$job" | wc -l)" = 1 ] || fail "after_run_instances: groups $(groups)"
end_job after_run_instances
ok "killed after RunInstances: adopted, group deleted by name at the end"

# Killed after TerminateInstances, before the teardown was recorded.
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch (terminate)"
wait_instance "$job" >/dev/null
wait_status "$job" STARTING 30
frugal controller --stop >/dev/null
FRUGAL_CONTROLLER_FAULT=controller.after_terminate frugal controller >/dev/null
frugal cancel "$job" >/dev/null
wait_controller_crash controller.after_terminate
frugal controller >/dev/null || fail "restart (terminate)"
end_job after_terminate
! frugal gc --dry-run | grep -q "^aws" || fail "gc: $(frugal gc --dry-run)"
ok "killed after TerminateInstances: teardown confirmed after the restart, 0 groups, 0 instances"

# gc: a group of this home that no live job owns (made by a controller
# killed before its row was written, the row lost) is deleted; another
# home's (tag and name of its own) and a group of this home's live job
# are left alone.
stray_group() {	# HOME TOKEN: the group id
	python3 -c "
import boto3, sys
home, tok = sys.argv[1], sys.argv[2]
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
g = ec2.create_security_group(GroupName='frugal-%s-%s' % (home, tok), Description='stray',
    TagSpecifications=[{'ResourceType': 'security-group', 'Tags': [
        {'Key': 'frugal-home', 'Value': home}, {'Key': 'frugal-token', 'Value': tok},
        {'Key': 'frugal-job', 'Value': tok.rsplit('-', 1)[0]}]}])
print(g['GroupId'])" "$1" "$2"
}
mine=$(stray_group "$home" zzorphan-1) || fail "stray group"
other=$(stray_group 0badc0de zzother-1) || fail "another home's group"
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch (gc)"
wait_instance "$job" >/dev/null
wait_status "$job" STARTING 30
gc_ends_stray aws "zzorphan-1:ports.*security group us-east-1/$mine" "zzother\|$job"
[ -z "$(groups zzorphan)" ] || fail "the stray group is still there: $(groups)"
[ "$(groups zzother | cut -d' ' -f1)" = frugal-0badc0de-zzother-1 ] || fail "another home's group: $(groups)"
[ "$(groups "$job" | wc -l)" = 1 ] || fail "the live job's group: $(groups)"
python3 -c "
import boto3
boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1').delete_security_group(GroupId='$other')"
end_job gc
ok "gc deleted this home's stray group $mine, left another home's and the live job's"

# Helpers of the AWS end-to-end tests (tests/e2e/test_aws_*.sh), sourced
# after tests/e2e/lib.sh. They start moto on 127.0.0.1 (a free port), a
# bucket in it, and point frugal at it the AWS CLI's way
# (AWS_ENDPOINT_URL); FRUGAL_HOME's storage is s3://frugal-e2e/home.
# Without moto the test prints "skipped: moto not available" and exits 77.
AWS_PEERS=$FRUGAL_SRC/tests/peers/aws
AWSTOOL=$AWS_PEERS/awstool.py
AWS_BUCKET=frugal-e2e
AWS_PIDS=""

if ! python3 -c "import moto.server, boto3" >/dev/null 2>&1; then
	echo "skipped: moto not available"
	exit 77
fi

# A free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL: until something answers there (20 s).
wait_http() {
	local i
	for i in $(seq 400); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.05
	done
	fail "nothing answers at $1"
}

aws_stop_peers() {
	local p
	for p in $AWS_PIDS; do
		kill "$p" 2>/dev/null || true
	done
}

# Stop the peers, then the usual cleanup of lib.sh.
aws_cleanup() {
	local rc=$?
	frugal controller --stop >/dev/null 2>&1 || true
	aws_stop_peers
	# Sanitizer reports of the agents on the emulated instances fail the test.
	if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP"/vm-*/root/*.boot.log \
		>/dev/null 2>&1; then
		echo "FAIL: sanitizer report in an emulated instance's boot log:" >&2
		grep -hE -A12 "ERROR: (Address|Leak)Sanitizer|runtime error:" \
			"$TMP"/vm-*/root/*.boot.log | head -60 >&2
		rc=1
	fi
	(exit $rc)
	cleanup
}
trap aws_cleanup EXIT

# start_moto [--auth]: moto on MOTO_PORT, an IAM user for the test, the
# bucket, the instance profile, and the AWS environment (AWS_ENDPOINT_URL,
# the user's keys). With --auth, after the three IAM calls that make the
# user, its access key and its policy, moto checks every request's SigV4
# signature (and IAM policy): a wrongly signed request of frugal's fails
# the test. (moto 5 rejects correctly signed S3 listings whose prefix has
# a '/' - botocore's too - so tests that list with such prefixes run
# without --auth.)
start_moto() {
	local keys auth=
	[ "${1:-}" = --auth ] && auth=3
	MOTO_PORT=$(free_port)
	INITIAL_NO_AUTH_ACTION_COUNT=${auth:-inf} python3 -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" \
		> "$TMP/moto.log" 2>&1 &
	AWS_PIDS="$AWS_PIDS $!"
	MOTO_URL=http://127.0.0.1:$MOTO_PORT
	wait_http "$MOTO_URL/moto-api/"
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
	keys=$(moto_user frugal-e2e) || fail "cannot make the test's IAM user"
	export AWS_ACCESS_KEY_ID=${keys% *} AWS_SECRET_ACCESS_KEY=${keys#* } AWS_REGION=us-east-1
	export AWS_ENDPOINT_URL=$MOTO_URL AWS_EC2_METADATA_DISABLED=true
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
	export HOME=$TMP/userhome
	mkdir -p "$HOME"
	# The bucket, and the instance profile the agent's S3 access comes from.
	python3 -c "
import boto3
boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1').create_bucket(Bucket='$AWS_BUCKET')
iam = boto3.client('iam', endpoint_url='$MOTO_URL', region_name='us-east-1')
iam.create_role(RoleName='frugal-agent', AssumeRolePolicyDocument='{}')
iam.create_instance_profile(InstanceProfileName='frugal-agent')
iam.add_role_to_instance_profile(InstanceProfileName='frugal-agent', RoleName='frugal-agent')
" || fail "cannot make the bucket and the instance profile"
}

# moto_user NAME: an IAM user allowed everything; prints "KEY_ID SECRET".
# The first user is made with moto's unauthenticated calls, the next ones
# with the test's keys.
moto_user() {
	python3 -c "
import boto3, json, os, sys
kw = {}
if not os.environ.get('AWS_ACCESS_KEY_ID'):
    kw = dict(aws_access_key_id='bootstrap', aws_secret_access_key='bootstrap')
iam = boto3.client('iam', endpoint_url='$MOTO_URL', region_name='us-east-1', **kw)
iam.create_user(UserName=sys.argv[1])
k = iam.create_access_key(UserName=sys.argv[1])['AccessKey']
iam.put_user_policy(UserName=sys.argv[1], PolicyName='all', PolicyDocument=json.dumps(
    {'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': '*', 'Resource': '*'}]}))
print(k['AccessKeyId'], k['SecretAccessKey'])" "$1"
}

# aws_profile_files: move the credentials and the endpoint from the
# environment into ~/.aws/credentials and ~/.aws/config (profile
# default), where processes started with a clean environment (the local
# backend's agents) find them the AWS CLI's way.
aws_profile_files() {
	mkdir -p "$HOME/.aws"
	printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
		"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > "$HOME/.aws/credentials"
	printf '[default]\nregion = us-east-1\nendpoint_url = %s\n' "$AWS_ENDPOINT_URL" \
		> "$HOME/.aws/config"
	chmod 600 "$HOME/.aws/credentials"
	unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_ENDPOINT_URL
}

# start_proxy ARGS...: the fault proxy in front of moto; frugal's AWS
# traffic goes through it (PROXY_LOG has one JSON line per call).
start_proxy() {
	PROXY_PORT=$(free_port)
	PROXY_LOG=$TMP/proxy.log
	: > "$PROXY_LOG"
	python3 "$AWS_PEERS/fault_proxy.py" --port "$PROXY_PORT" --upstream "$MOTO_URL" \
		--log "$PROXY_LOG" "$@" > "$TMP/proxy.out" 2>&1 &
	AWS_PIDS="$AWS_PIDS $!"
	wait_http "http://127.0.0.1:$PROXY_PORT/"
	export AWS_ENDPOINT_URL=http://127.0.0.1:$PROXY_PORT
}

# aws_config [EXTRA YAML LINES]: storage in S3, backend aws in us-east-1
# on moto's deep learning image.
aws_config() {
	write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    regions: us-east-1
    image_name: \"Deep Learning AMI Amazon Linux*\"
    image_owner: amazon
    instance_profile: frugal-agent
$*"
}

# instances_json: every instance moto has (awstool.py instances).
instances_json() { python3 "$AWSTOOL" instances; }

# live_count [JOB]: instances not terminated (of JOB when given).
live_count() {
	instances_json | python3 -c "
import json, sys
job = sys.argv[1] if len(sys.argv) > 1 else ''
print(sum(1 for i in json.load(sys.stdin)
          if i['state'] not in ('terminated', 'shutting-down')
          and (not job or i['tags'].get('frugal-job') == job)))" "$@"
}

# instance_of JOB [N]: the id of attempt N's instance (from its tags).
instance_of() {
	instances_json | python3 -c "
import json, sys
job, n = sys.argv[1], sys.argv[2]
ids = [i['id'] for i in json.load(sys.stdin)
       if i['tags'].get('frugal-job') == job and i['tags'].get('frugal-attempt') == n]
print(ids[0] if ids else '')" "$1" "${2:-1}"
}

# wait_instance JOB [N]: until attempt N of JOB has an instance (30 s).
wait_instance() {
	local i id=""
	for i in $(seq 600); do
		id=$(instance_of "$1" "${2:-1}")
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 0.05
	done
	fail "no instance for job $1 attempt ${2:-1}"
}

# ec2_calls ACTION: how many times the proxy saw ACTION answered 200.
ec2_calls() {
	python3 -c "
import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get('action') == sys.argv[2]
          and json.loads(l)['status'] == 200))" "$PROXY_LOG" "$1"
}

# s3_get KEY: an object of the bucket, to stdout.
s3_get() {
	python3 -c "
import boto3, os, sys
s3 = boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1')
sys.stdout.write(s3.get_object(Bucket='$AWS_BUCKET', Key=sys.argv[1])['Body'].read().decode())" "$1"
}

# s3_get_file KEY FILE: an object of the bucket, bytes as they are, into FILE.
s3_get_file() {
	python3 -c "
import boto3, sys
s3 = boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1')
open(sys.argv[2], 'wb').write(s3.get_object(Bucket='$AWS_BUCKET', Key=sys.argv[1])['Body'].read())" "$1" "$2"
}

# s3_put_file KEY FILE: FILE's bytes as an object of the bucket.
s3_put_file() {
	python3 -c "
import boto3, sys
s3 = boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1')
s3.put_object(Bucket='$AWS_BUCKET', Key=sys.argv[1], Body=open(sys.argv[2], 'rb').read())" "$1" "$2"
}

# s3_has KEY: 0 when the object exists (a HEAD; works with --auth).
s3_has() {
	python3 -c "
import boto3, sys
s3 = boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1')
try:
    s3.head_object(Bucket='$AWS_BUCKET', Key=sys.argv[1])
except Exception:
    sys.exit(1)" "$1"
}

# s3_keys PREFIX: the keys under PREFIX, one a line.
s3_keys() {
	python3 -c "
import boto3, sys
s3 = boto3.client('s3', endpoint_url='$MOTO_URL', region_name='us-east-1')
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='$AWS_BUCKET', Prefix=sys.argv[1]):
    for o in page.get('Contents', []):
        print(o['Key'])" "$1"
}

# boot_vm JOB N: run attempt N's UserData as the instance would, in a
# sandbox ($TMP/vm-JOB-N): a clean environment without any credential,
# the fake metadata service (instance id, instance profile credentials,
# spot notices from $VM_STATE/instance-action.json), and a shutdown(8)
# that terminates the instance in moto; CONTAINERS_CONF when the test set
# one (the machine's podman settings) and VM_EXTRA_PATH first on PATH
# (the VM's own programs: test_container_aws.sh's docker). Runs in the background; sets
# VM_STATE and VM_PID. Its processes carry "FRUGAL_HOME=<the test's>" in
# FRUGAL_E2E_MARK, so lib.sh's cleanup ends them too.
boot_vm() {
	local job=$1 n=$2 id port
	id=$(wait_instance "$job" "$n")
	VM_STATE=$TMP/vm-$job-$n
	mkdir -p "$VM_STATE/root"
	echo "$id" > "$VM_STATE/instance-id"
	echo us-east-1 > "$VM_STATE/region"
	# The instance profile's keys the fake metadata service hands out (an
	# IAM user of moto's, so that moto checks the agent's signatures), and
	# the harness's own keys for the fake shutdown, in files: the
	# instance's environment has no credential.
	moto_user "agent-$job-$n" > "$VM_STATE/profile-keys" || fail "no keys for the instance"
	echo "$AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY" > "$VM_STATE/harness-keys"
	python3 "$AWSTOOL" userdata "$id" > "$VM_STATE/user-data" || fail "no user data for $id"
	port=$(free_port)
	python3 "$AWS_PEERS/fake_imds.py" --port "$port" --state "$VM_STATE" \
		> "$VM_STATE/imds.out" 2>&1 &
	AWS_PIDS="$AWS_PIDS $!"
	wait_http "http://127.0.0.1:$port/latest/api/token"
	env -i PATH="${VM_EXTRA_PATH:+$VM_EXTRA_PATH:}$AWS_PEERS/bin:/usr/local/bin:/usr/bin:/bin" \
		FRUGAL_AWS_ROOT="$VM_STATE/root" \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port" \
		FAKE_VM_STATE="$VM_STATE" FAKE_AWSTOOL="$AWSTOOL" FAKE_MOTO_URL="$MOTO_URL" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		FRUGAL_E2E_MARK="FRUGAL_HOME=$FRUGAL_HOME" \
		${CONTAINERS_CONF:+CONTAINERS_CONF="$CONTAINERS_CONF"} \
		bash "$VM_STATE/user-data" &
	VM_PID=$!
	AWS_PIDS="$AWS_PIDS $VM_PID"
}

# boot_vm_in_root ROOT JOB N [MACHINE]: like boot_vm, but the UserData
# runs inside the root directory ROOT (chroot; tests/e2e/foreign_root.sh),
# a userland frugal does not control. Its state is $ROOT/$VM_RUN (the
# machine's path /$VM_RUN). Inside, shutdown(8) only records its calls;
# a watcher here terminates the instance in moto when "now" is asked for
# (what InstanceInitiatedShutdownBehavior=terminate does). MACHINE
# aarch64: `uname -m` on the machine says aarch64 and aarch64 executables
# run under qemu-aarch64-static (a binfmt_misc of a user namespace of its
# own, in_machine): an emulated Graviton. Runs in the background;
# sets VM_STATE (the host's path), VM_RUN and VM_PID.
boot_vm_in_root() {
	local root=$1 job=$2 n=$3 machine=${4:-} id port run
	id=$(wait_instance "$job" "$n")
	run=tmp/frugal-vm-$$-$job-$n
	VM_RUN=$run
	VM_STATE=$root/$run
	mkdir -p "$VM_STATE/root" "$VM_STATE/bin"
	echo "$id" > "$VM_STATE/instance-id"
	echo us-east-1 > "$VM_STATE/region"
	moto_user "agent-$job-$n" > "$VM_STATE/profile-keys" || fail "no keys for the instance"
	python3 "$AWSTOOL" userdata "$id" > "$VM_STATE/user-data" || fail "no user data for $id"
	port=$(free_port)
	python3 "$AWS_PEERS/fake_imds.py" --port "$port" --state "$VM_STATE" \
		> "$TMP/imds-$job-$n.out" 2>&1 &
	AWS_PIDS="$AWS_PIDS $!"
	wait_http "http://127.0.0.1:$port/latest/api/token"
	printf '#!/bin/sh\necho "$*" >> /%s/shutdown.log\n' "$run" > "$VM_STATE/bin/shutdown"
	chmod 755 "$VM_STATE/bin/shutdown"
	if [ "$machine" = aarch64 ]; then
		printf '#!/bin/sh\nif [ "$*" = -m ]; then echo aarch64; else exec /bin/uname "$@"; fi\n' \
			> "$VM_STATE/bin/uname"
		chmod 755 "$VM_STATE/bin/uname"
	fi
	# The watcher: power-off terminates the instance.
	(
		for _ in $(seq 1200); do
			if grep -q -- " now" "$VM_STATE/shutdown.log" 2>/dev/null; then
				python3 "$AWSTOOL" terminate "$id" >/dev/null 2>&1
				echo "terminated $id" >> "$VM_STATE/shutdown.log" 2>/dev/null
				exit 0
			fi
			sleep 0.25
		done
	) &
	AWS_PIDS="$AWS_PIDS $!"
	in_machine "$root" "${machine:-x86_64}" /usr/bin/env -i \
		PATH="/$run/bin:/usr/local/bin:/usr/bin:/bin" \
		FRUGAL_AWS_ROOT="/$run/root" AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$port" \
		FRUGAL_E2E_MARK="FRUGAL_HOME=$FRUGAL_HOME" bash "/$run/user-data" &
	VM_PID=$!
	AWS_PIDS="$AWS_PIDS $VM_PID"
}

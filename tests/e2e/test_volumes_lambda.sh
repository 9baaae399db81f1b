#!/bin/bash
# volumes on Lambda Cloud (the stateful fake behind Prism, validating
# against the Lambda API's OpenAPI document): a file system named in the
# task (lambda-fs://NAME, or SkyPilot's volumes: {PATH: NAME}) puts the
# plan in the file system's region (GET /file-systems); an unknown name,
# two file systems (the launch request's file_system_names holds one), a
# clash with backends.lambda.file_system, a region that is not the file
# system's and another kind are refused at plan time with one line.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec soof-golan-terraform-provider-lambdalabs/openapi.yaml
need_prism

KEY="lambda-key-$(date +%s%N)"
export LAMBDA_API_KEY=$KEY FAKE_LAMBDA_KEY=$KEY
export FAKE_LAMBDA_FS="datasets:us-west-1:/lambda/nfs/datasets"
export FAKE_LAMBDA_CAPACITY='{"gpu_1x_a10": ["us-east-1", "us-west-1"]}'
start_fake fake_lambda.py
start_prism soof-golan-terraform-provider-lambdalabs/openapi.yaml
conf() {
	write_config "storage: s3://frugal-test-bucket/home
backends:
  lambda:
    base_url: $API_URL
    ssh_key_name: frugal-test
    request_interval: 0
    capacity_cache: 0
$1"
}
task() {	# FILE VOLUMES [RESOURCES]
	printf 'resources: {accelerators: A10:1%s}\nvolumes:\n%brun: "true"\n' "${3:-}" "$2" \
		> "$TMP/$1"
}
conf ""
# Without a volume the cheapest region with capacity is us-east-1.
printf 'resources: {accelerators: A10:1}\nrun: "true"\n' > "$TMP/none.yaml"
out=$(frugal check --backend lambda "$TMP/none.yaml" 2>&1) || fail "check: $out"
echo "$out" | grep -q "us-east-1" || fail "no volume, not us-east-1: $out"
for src in lambda-fs://datasets datasets; do
	task t.yaml "  /data: $src\n"
	out=$(frugal check --backend lambda "$TMP/t.yaml" 2>&1) || fail "check $src: $out"
	echo "$out" | grep -q "us-west-1" || fail "$src: the plan is not in the file system's region: $out"
	echo "$out" | grep -q "us-east-1" && fail "$src: planned in us-east-1: $out"
done
ok "a task's file system (lambda-fs://datasets, or the bare name) puts the plan in its region (us-west-1)"

task u.yaml "  /data: lambda-fs://nosuch\n"
out=$(frugal check --backend lambda "$TMP/u.yaml" 2>&1) && fail "an unknown file system planned: $out"
echo "$out" | grep -q "volumes./data: Lambda has no file system named 'nosuch'" || fail "unknown: $out"
task two.yaml "  /a: datasets\n  /b: lambda-fs://other\n"
out=$(frugal check --backend lambda "$TMP/two.yaml" 2>&1) && fail "two file systems planned: $out"
echo "$out" | grep -q "a Lambda instance has one file system" || fail "two: $out"
task east.yaml "  /data: datasets\n" ", region: us-east-1"
out=$(frugal check --backend lambda "$TMP/east.yaml" 2>&1) && fail "another region planned: $out"
echo "$out" | grep -q "file system is in us-west-1 but resources.region is us-east-1" ||
	fail "region: $out"
task ebs.yaml "  /a: ebs://snap-1\n"
out=$(frugal check --backend lambda "$TMP/ebs.yaml" 2>&1) && fail "ebs planned on lambda: $out"
echo "$out" | grep -q "cannot be given by backend lambda" || fail "ebs: $out"
conf "    file_system: other"
out=$(frugal check --backend lambda "$TMP/t.yaml" 2>&1) && fail "a clash planned: $out"
echo "$out" | grep -q "backends.lambda.file_system (other) is set" || fail "clash: $out"
conf "    file_system: datasets"
out=$(frugal check --backend lambda "$TMP/t.yaml" 2>&1) || fail "the same file system twice: $out"
echo "$out" | grep -q "us-west-1" || fail "same file system: $out"
ok "an unknown name, two file systems, another region, ebs:// and a clash with file_system refused in one line; the same name in both planned"

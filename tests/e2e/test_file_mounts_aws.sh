#!/bin/bash
# file_mounts of a local directory into an AWS job (moto EC2 + S3, the
# instance's boot emulated as in test_aws_boot.sh): `frugal launch`
# uploads the data once to the S3 storage, content-addressed; the agent on
# the instance places it (a relative path below the work directory and an
# absolute one: the instance is the job's own) before setup, with the
# instance profile's keys. A second launch of the same data uploads
# nothing new: the launch says so and S3 holds the same objects.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto
start_proxy
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

mkdir -p "$TMP/data/sub"
head -c 50000 /dev/urandom > "$TMP/data/blob.bin"
echo "dataset-line" > "$TMP/data/sub/rows.csv"
sum=$(sha256sum < "$TMP/data/blob.bin" | cut -c1-16)
cat > "$TMP/job.yaml" <<YAML
name: mounts-aws
resources: {accelerators: T4:1, use_spot: true}
file_mounts:
  data: $TMP/data
  $TMP/vm-abs/data: $TMP/data
setup: cat data/sub/rows.csv
run: |
  echo "blob \$(sha256sum < data/blob.bin | cut -c1-16)"
  cat $TMP/vm-abs/data/sub/rows.csv | sed 's/^/abs /'
YAML
n_objects() { s3_keys "home/data/objects/" | wc -l; }

job=$(frugal launch -d "$TMP/job.yaml" 2>"$TMP/err1") || fail "launch: $(cat "$TMP/err1")"
grep -q "data: 2 files, 50013 bytes, 2 files (50013 bytes) uploaded" "$TMP/err1" ||
	fail "first launch did not upload: $(cat "$TMP/err1")"
boot_vm "$job" 1
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] ||
	fail "job $(job_field "$job" status): $(frugal logs "$job"; cat "$VM_STATE"/root/*.boot.log)"
frugal logs "$job" > "$TMP/log1"
grep -q "dataset-line" "$TMP/log1" || fail "setup did not see the data: $(cat "$TMP/log1")"
grep -q "blob $sum" "$TMP/log1" || fail "the data differs on the machine: $(cat "$TMP/log1")"
grep -q "abs dataset-line" "$TMP/log1" || fail "the absolute mount is missing: $(cat "$TMP/log1")"
n1=$(n_objects)
[ "$n1" = 2 ] || fail "expected 2 objects in S3, found $n1: $(s3_keys home/data/)"
[ "$(s3_keys home/data/manifests/ | wc -l)" = 1 ] || fail "manifests: $(s3_keys home/data/manifests/)"
ok "the local directory reached the AWS job through S3 ($n1 objects), before setup"

before=$(wc -l < "$PROXY_LOG")
job2=$(frugal launch -d "$TMP/job.yaml" 2>"$TMP/err2") || fail "second launch"
grep -q "0 files (0 bytes) uploaded, 2 already stored" "$TMP/err2" ||
	fail "second launch uploaded again: $(cat "$TMP/err2")"
grep -q "/$AWS_BUCKET/home/data/manifests/" "$PROXY_LOG" || fail "the proxy saw no S3 request for data/"
! tail -n +"$((before + 1))" "$PROXY_LOG" | grep -q "PUT /$AWS_BUCKET/home/data/" ||
	fail "the second launch PUT data objects: $(tail -n +"$((before + 1))" "$PROXY_LOG" | grep "home/data/")"
boot_vm "$job2" 1
[ "$(wait_terminal "$job2" 90)" = SUCCEEDED ] || fail "second job: $(frugal logs "$job2")"
frugal logs "$job2" | grep -q "blob $sum" || fail "second job lacks the data"
[ "$(n_objects)" = "$n1" ] || fail "the second launch added objects: $(n_objects)"
ok "a second launch of the same data uploaded nothing; its job had the data"

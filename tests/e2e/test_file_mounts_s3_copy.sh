#!/bin/bash
# file_mounts of s3:// buckets (moto) into a local job: every object under
# the URL is copied down before setup (the plain form is COPY, as in
# SkyPilot; {source, mode: COPY} the same), a URL naming one object
# becomes that file, an empty prefix fails the attempt saying nothing is
# stored there, a file already in the way is never replaced, and MOUNT
# on a machine without mountpoint-s3 or rclone fails the attempt naming
# what to install.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
start_moto
aws_profile_files
export FRUGAL_CONTROLLER_IDLE_EXIT=60s
python3 - "$MOTO_URL" "$AWS_BUCKET" <<'PY' || fail "cannot fill the bucket"
import boto3, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
b = sys.argv[2]
s3.put_object(Bucket=b, Key="dataset/train/part-0.csv", Body=b"a,b\n1,2\n")
s3.put_object(Bucket=b, Key="dataset/train/part-1.csv", Body=b"a,b\n3,4\n")
s3.put_object(Bucket=b, Key="dataset/README", Body=b"readme-text\n")
s3.put_object(Bucket=b, Key="datasetother/not-mine", Body=b"x\n")
s3.put_object(Bucket=b, Key="models/base.bin", Body=b"weights\n")
PY
cd "$TMP" || fail "cd"
cat > t.yaml <<YAML
file_mounts:
  data: s3://$AWS_BUCKET/dataset
  ~/again: {source: "s3://$AWS_BUCKET/dataset/train", mode: COPY}
  base.bin: s3://$AWS_BUCKET/models/base.bin
setup: ls data/train
run: |
  cat data/train/part-0.csv data/train/part-1.csv data/README again/part-1.csv base.bin
  [ -e data/../datasetother ] || [ -e data/not-mine ] && echo LEAKED || echo "prefix respected"
YAML
job=$(frugal launch -d t.yaml 2>"$TMP/err") || fail "launch: $(cat "$TMP/err")"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job: $(job_field "$job" status): $(frugal logs "$job")"
frugal logs "$job" > log
for want in "1,2" "3,4" readme-text weights "prefix respected" "part-0.csv"; do
	grep -q -- "$want" log || fail "'$want' not in the job's log: $(cat log)"
done
grep -q "file_mounts data: 3 files (28 bytes) from s3://$AWS_BUCKET/dataset" log ||
	fail "the agent did not say what it copied: $(cat log)"
ok "s3:// prefixes and a single object copied down before setup"

cat > empty.yaml <<YAML
file_mounts: {data: "s3://$AWS_BUCKET/nothing-here"}
run: echo ran
YAML
job=$(frugal launch -d empty.yaml 2>/dev/null) || fail "launch empty"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "an empty prefix: $(job_field "$job" status)"
frugal logs "$job" | grep -q "file_mounts.data: nothing is stored at s3://$AWS_BUCKET/nothing-here" ||
	fail "no clear error for an empty prefix: $(frugal logs "$job")"
! frugal logs "$job" | grep -q "^.* ran$" || fail "run started without its data"
ok "an empty prefix fails the attempt before setup, naming the URL"

mkdir -p wd/data/train && echo "mine" > wd/data/train/part-0.csv
cat > clash.yaml <<YAML
workdir: wd
file_mounts: {data: "s3://$AWS_BUCKET/dataset"}
run: echo ran
YAML
job=$(frugal launch -d clash.yaml 2>/dev/null) || fail "launch clash"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "a file in the way: $(job_field "$job" status)"
frugal logs "$job" | grep -q "data/train/part-0.csv' is in the way (other content); file_mounts never replaces a file" ||
	fail "no clear error for a file in the way: $(frugal logs "$job")"
[ "$(cat wd/data/train/part-0.csv)" = mine ] || fail "the workdir's file changed"
ok "a workdir file in the way is never replaced: the attempt fails naming it"

if command -v mount-s3 >/dev/null || command -v rclone >/dev/null; then
	echo "ok - skipped: MOUNT error (this machine has a FUSE tool)"
	exit 0
fi
cat > mount.yaml <<YAML
file_mounts: {data: {source: "s3://$AWS_BUCKET/dataset", mode: MOUNT}}
run: echo ran
YAML
job=$(frugal launch -d mount.yaml 2>/dev/null) || fail "launch mount"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "MOUNT without a tool: $(job_field "$job" status)"
frugal logs "$job" | grep -q "MOUNT of s3://$AWS_BUCKET/dataset needs mountpoint-s3 (mount-s3) or rclone on the machine" ||
	fail "no clear error for MOUNT without a tool: $(frugal logs "$job")"
ok "MOUNT without mountpoint-s3 or rclone fails the attempt naming what to install"

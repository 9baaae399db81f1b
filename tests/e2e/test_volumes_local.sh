#!/bin/bash
# volumes on the local backend: a directory of this machine linked at a
# work-dir relative path before setup (reads and writes reach the
# directory itself, nothing is copied), the link gone after the job and
# the directory untouched by the teardown; a file in the way fails the
# attempt naming it; a kind local cannot give (ebs://), an absolute path
# and a missing directory are refused with one line each.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/ds/sub" "$TMP/code"
echo hello > "$TMP/ds/sub/a.txt"
cat > "$TMP/code/t.yaml" <<'YAML'
workdir: .
volumes:
  vol/data: ../ds
setup: test -L vol/data && echo "setup sees $(cat vol/data/sub/a.txt)"
run: |
  cat vol/data/sub/a.txt
  echo written-by-job > vol/data/out.txt
YAML
cd "$TMP/code" || fail "cd"
frugal launch t.yaml >"$TMP/out1" 2>"$TMP/err1" || { cat "$TMP/err1"; fail "launch"; }
job=$(head -1 "$TMP/out1")
[ "$(job_field "$job" status)" = SUCCEEDED ] || fail "job: $(job_field "$job" status) $(frugal logs "$job")"
frugal logs "$job" | grep -q "setup sees hello" || fail "setup did not see the volume: $(frugal logs "$job")"
[ "$(cat "$TMP/ds/out.txt")" = written-by-job ] || fail "the job's write did not reach the directory"
[ -f "$TMP/ds/sub/a.txt" ] || fail "the directory lost a file after the teardown"
frugal status "$job" | grep -q "volume vol/data: $TMP/ds" ||
	frugal logs "$job" | grep -q "volume vol/data" || fail "no event or log says where the volume is"
ok "a directory volume is linked before setup, written through, and survives the teardown"

# A file in the way: never replaced.
mkdir -p "$TMP/code2/vol" && echo mine > "$TMP/code2/vol/data"
sed 's#\.\./ds#../ds#' "$TMP/code/t.yaml" > "$TMP/code2/t.yaml"
cd "$TMP/code2" || fail "cd"
frugal launch t.yaml >"$TMP/out2" 2>"$TMP/err2"
job2=$(head -1 "$TMP/out2")
[ "$(job_field "$job2" status)" = FAILED ] || fail "a file in the way did not fail: $(job_field "$job2" status)"
frugal status "$job2" | grep -q "is already there; frugal never replaces it" ||
	frugal logs "$job2" | grep -q "is already there" || fail "no clear error: $(frugal status "$job2")"
[ "$(cat "$TMP/code2/vol/data")" = mine ] || fail "the file in the way was replaced"
ok "a file at the mount path fails the attempt and is kept"

cd "$TMP" || fail "cd"
printf 'volumes:\n  data: ebs://snap-0123456789abcdef0\nrun: ls data\n' > "$TMP/ebs.yaml"
frugal launch "$TMP/ebs.yaml" >"$TMP/out3" 2>&1 && fail "an EBS volume launched on local"
grep -q "volumes: 'data: ebs://snap-0123456789abcdef0' cannot be given by backend local" "$TMP/out3" ||
	fail "no one-line refusal: $(cat "$TMP/out3")"
[ "$(grep -c . "$TMP/out3")" = 1 ] || fail "more than one line: $(cat "$TMP/out3")"
grep -q "run on backend aws" "$TMP/out3" || fail "the refusal does not say where it runs: $(cat "$TMP/out3")"
ok "ebs:// on local is refused at plan time with one line naming aws"

printf 'volumes:\n  /data: ./ds\nrun: ls /data\n' > "$TMP/abs.yaml"
frugal launch "$TMP/abs.yaml" >"$TMP/out4" 2>&1 && fail "an absolute volume path launched on local"
grep -q "volumes./data: backend local runs jobs on a machine other jobs share" "$TMP/out4" ||
	fail "no clear refusal: $(cat "$TMP/out4")"
printf 'run: ls\nvolumes:\n  data: ./nope\n' > "$TMP/missing.yaml"
frugal launch "$TMP/missing.yaml" >"$TMP/out5" 2>&1 && fail "a missing directory launched"
grep -q "missing.yaml:3:9: .*directory './nope' does not exist" "$TMP/out5" ||
	fail "no file:line:col: $(cat "$TMP/out5")"
ok "an absolute path and a missing directory are refused (file:line:col)"

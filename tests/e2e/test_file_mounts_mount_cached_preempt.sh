#!/bin/bash
# A MOUNT_CACHED file mount across a preemption (local backend, a
# file:// bucket): what attempt 1 wrote there, even just before the
# notice, is in the bucket once it is preempted; attempt 2 finds those
# files in its mount (copied down) and adds its own; a file attempt 2
# changes is stored beside the first one's (.v2), never over it.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/bucket/results"
echo "from before" > "$TMP/bucket/results/seed.txt"
cat > "$TMP/t.yaml" <<YAML
file_mounts:
  out: {source: "file://$TMP/bucket/results", mode: MOUNT_CACHED}
recovery: {notice_grace: 10s}
run: |
  cat out/seed.txt
  if [ "\$FRUGAL_ATTEMPT" = 1 ]; then
    mkdir -p out/epoch1 && echo "attempt 1 weights" > out/epoch1/model.bin
    echo "attempt 1" > out/shared.txt
    echo "late line" > out/late.txt
    touch "$TMP/attempt1-wrote"
    sleep 600
  else
    cat out/epoch1/model.bin out/late.txt
    echo "attempt 2" > out/shared.txt
    echo "attempt 2 result" > out/final.txt
  fi
YAML
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
for i in $(seq 400); do [ -e "$TMP/attempt1-wrote" ] && break; sleep 0.05; done
[ -e "$TMP/attempt1-wrote" ] || fail "attempt 1 did not write: $(frugal logs "$job")"
frugal debug preempt "$job" --notice 5 >/dev/null || fail "debug preempt"
for i in $(seq 400); do
	[ "$(attempt_field "$job" 1 outcome 2>/dev/null)" = preempted ] && break
	sleep 0.05
done
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1: $(attempt_field "$job" 1 outcome)"
# Attempt 1 is over: its files are in the bucket, the one written last too.
[ "$(cat "$TMP/bucket/results/epoch1/model.bin")" = "attempt 1 weights" ] ||
	fail "attempt 1's file is not in the bucket after the preemption: $(ls -R "$TMP/bucket"; frugal logs "$job" --attempt 1)"
[ "$(cat "$TMP/bucket/results/late.txt")" = "late line" ] || fail "the file written just before the notice is missing"
frugal logs "$job" --attempt 1 | grep -q "file_mounts out: 3 file(s) stored to file://$TMP/bucket/results (last sync)" ||
	fail "attempt 1's log does not say what it stored: $(frugal logs "$job" --attempt 1)"
ok "files written to the MOUNT_CACHED dir reached storage by the end of the preempted attempt"

[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job: $(job_field "$job" status): $(frugal logs "$job")"
frugal logs "$job" --attempt 2 > "$TMP/log2"
grep -q "attempt 1 weights" "$TMP/log2" && grep -q "late line" "$TMP/log2" ||
	fail "attempt 2 did not find attempt 1's files: $(cat "$TMP/log2")"
grep -q "from before" "$TMP/log2" || fail "the bucket's own file was not in the mount"
[ "$(cat "$TMP/bucket/results/shared.txt")" = "attempt 1" ] || fail "shared.txt was overwritten"
[ "$(cat "$TMP/bucket/results/shared.v2.txt")" = "attempt 2" ] || fail "no shared.v2.txt: $(ls "$TMP/bucket/results")"
[ "$(cat "$TMP/bucket/results/final.txt")" = "attempt 2 result" ] || fail "attempt 2's file missing"
[ "$(cat "$TMP/bucket/results/seed.txt")" = "from before" ] || fail "seed.txt changed"
[ ! -e "$TMP/bucket/results/seed.v2.txt" ] && [ ! -e "$TMP/bucket/results/epoch1/model.v2.bin" ] ||
	fail "an unchanged file was stored again: $(ls -R "$TMP/bucket/results")"
ok "attempt 2 saw attempt 1's files; its change is shared.v2.txt beside the first, unchanged files not sent again"
[ -z "$(instance_procs "$job")" ] || fail "processes left"

#!/bin/bash
# file_mounts with a local directory on the local backend: the data is
# placed at the (work-dir relative) path before setup, and a second launch
# of the same data uploads nothing new (same objects in the storage, the
# launch says 0 uploaded). A file of the source changed later is the only
# one sent again. An absolute path is refused on a shared machine.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/data/sub"
head -c 100000 /dev/urandom > "$TMP/data/big.bin"
echo hello > "$TMP/data/sub/a.txt"
echo single > "$TMP/one.txt"
cat > "$TMP/t.yaml" <<'YAML'
file_mounts:
  ~/mnt/data: ./data
  one.txt: ./one.txt
setup: test -f mnt/data/sub/a.txt && echo "setup sees $(cat mnt/data/sub/a.txt)"
run: |
  cmp mnt/data/big.bin "$SRC/data/big.bin" && cat mnt/data/sub/a.txt one.txt
YAML
cd "$TMP" || fail "cd"
objects() { find "$FRUGAL_HOME/storage/data/objects" -type f | wc -l; }

frugal launch "$TMP/t.yaml" --env SRC="$TMP" >"$TMP/out1" 2>"$TMP/err1" || { cat "$TMP/err1"; fail "first launch"; }
job1=$(head -1 "$TMP/out1")
grep -q "setup sees hello" "$TMP/out1" "$TMP/err1" || frugal logs "$job1" | grep -q "setup sees hello" ||
	fail "setup did not see the mounted file: $(frugal logs "$job1")"
frugal logs "$job1" | grep -q "^.*single" || fail "one file mount missing: $(frugal logs "$job1")"
grep -q "/mnt/data: 2 files, 100006 bytes, 2 files (100006 bytes) uploaded" "$TMP/err1" ||
	fail "first launch did not say it uploaded the data: $(cat "$TMP/err1")"
n1=$(objects)
[ "$n1" = 3 ] || fail "expected 3 objects after the first launch, found $n1"

frugal launch "$TMP/t.yaml" --env SRC="$TMP" >"$TMP/out2" 2>"$TMP/err2" || fail "second launch"
job2=$(head -1 "$TMP/out2")
[ "$(job_field "$job2" status)" = SUCCEEDED ] || fail "second job: $(job_field "$job2" status)"
grep -q "0 files (0 bytes) uploaded, 2 already stored" "$TMP/err2" ||
	fail "second launch uploaded again: $(cat "$TMP/err2")"
[ "$(objects)" = "$n1" ] || fail "second launch added objects: $(objects) != $n1"
frugal status "$job2" | grep -q "0 files (0 bytes) uploaded" ||
	fail "the job's events do not say what was uploaded: $(frugal status "$job2")"
ok "second launch of the same data uploaded nothing ($n1 objects)"

echo changed > "$TMP/data/sub/a.txt"
frugal launch "$TMP/t.yaml" --env SRC="$TMP" >"$TMP/out3" 2>"$TMP/err3" || fail "third launch"
grep -q "1 files (8 bytes) uploaded, 1 already stored" "$TMP/err3" ||
	fail "a changed file was not the only one sent: $(cat "$TMP/err3")"
frugal logs "$(head -1 "$TMP/out3")" | grep -q changed || fail "third job did not see the new content"
ok "a changed file is the only one sent again"

cat > "$TMP/abs.yaml" <<'YAML'
file_mounts: {/data: ./data}
run: ls /data
YAML
frugal launch "$TMP/abs.yaml" >"$TMP/out4" 2>&1 && fail "an absolute path launched on the local backend"
grep -q "file_mounts./data: backend local runs jobs on a machine other jobs share" "$TMP/out4" ||
	fail "no clear refusal: $(cat "$TMP/out4")"
ok "an absolute path is refused on the local backend with a clear error"

#!/bin/bash
# gc removes the partial *.tmp-PID-N files that interrupted uploads leave
# in file:// storage (writer gone, or untouched for an hour), and leaves
# those an upload may still be writing.
. "$(dirname "$0")/lib.sh"
d="$FRUGAL_HOME/storage/jobs/abc123/outputs"
mkdir -p "$d"
dead=999999999
echo part > "$d/model.bin.tmp-$$-1"; touch -d '2 hours ago' "$d/model.bin.tmp-$$-1"		# old
echo part > "$d/a.bin.tmp-$dead-2"; touch -d '20 minutes ago' "$d/a.bin.tmp-$dead-2"	# writer gone
echo part > "$d/b.bin.tmp-$dead-3"							# too fresh
echo part > "$d/c.bin.tmp-$$-4"								# live writer
echo keep > "$d/model.bin"
frugal gc --dry-run > "$TMP/dry" || fail "gc --dry-run: $(cat $TMP/dry)"
grep -q "model.bin.tmp-$$-1 .*would remove" "$TMP/dry" || fail "dry run: $(cat $TMP/dry)"
[ -e "$d/model.bin.tmp-$$-1" ] || fail "--dry-run removed a file"
frugal gc > "$TMP/out" || fail "gc: $(cat $TMP/out)"
[ -e "$d/model.bin.tmp-$$-1" ] && fail "an hour-old temporary file was kept"
[ -e "$d/a.bin.tmp-$dead-2" ] && fail "a temporary file of a dead writer was kept"
[ -e "$d/b.bin.tmp-$dead-3" ] || fail "a fresh temporary file was removed"
[ -e "$d/c.bin.tmp-$$-4" ] || fail "a live writer's temporary file was removed"
[ "$(cat "$d/model.bin")" = keep ] || fail "an object was touched"
ok "gc removed stale upload temporaries and kept fresh ones and objects"

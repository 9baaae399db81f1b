#!/bin/bash
# A FIFO given as task file or as config.yaml is refused at once with a
# clear error. Found: every command hung on it.
. "$(dirname "$0")/lib.sh"
mkfifo "$TMP/task.yaml"
for cmd in "check $TMP/task.yaml" "launch -d $TMP/task.yaml"; do
	timeout 10 "$FRUGAL_BIN" $cmd > "$TMP/out" 2>&1
	rc=$?
	[ $rc -eq 124 ] && fail "'frugal $cmd' hung on a FIFO task file"
	[ $rc -ne 0 ] || fail "'frugal $cmd' accepted a FIFO"
	grep -q "task.yaml' is not a regular file (a FIFO)" "$TMP/out" || fail "unclear error: $(cat $TMP/out)"
done
ok "a FIFO task file is refused with a clear error"
echo "run: true" > "$TMP/ok.yaml"
mkfifo "$FRUGAL_HOME/config.yaml"
timeout 10 "$FRUGAL_BIN" launch -d "$TMP/ok.yaml" > "$TMP/out" 2>&1
rc=$?
[ $rc -eq 124 ] && fail "launch hung on a FIFO config.yaml"
[ $rc -ne 0 ] || fail "launch accepted a FIFO config.yaml"
grep -q "config.yaml' is not a regular file (a FIFO)" "$TMP/out" || fail "unclear error: $(cat $TMP/out)"
ok "a FIFO config.yaml is refused with a clear error"
rm -f "$FRUGAL_HOME/config.yaml"

#!/bin/bash
# A job that empties its checkpoint dir for a moment stores no empty
# checkpoint, and with keep: 1 the good one is not deleted.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/t.yaml" <<'YAML'
run: |
  D=$FRUGAL_CHECKPOINT_DIR
  if [ "$FRUGAL_ATTEMPT" -ge 2 ]; then echo "restored=[$(cat $D/state 2>/dev/null)]"; exit 0; fi
  echo good > $D/state
  sleep 4
  rm -f $D/state
  echo emptied
  sleep 3
  exit 1
checkpoint: {dir: ckpt, interval: 2s, keep: 1}
recovery: {max_restarts_on_errors: 1}
YAML
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not finish: $(frugal status $job)"
logs1=$(frugal logs "$job" --attempt 1)
echo "$logs1" | grep -q "checkpoint 1 stored" || fail "no first checkpoint: $logs1"
echo "$logs1" | grep -q "checkpoint not committed: the directory or a file in it was emptied" ||
	fail "the empty checkpoint was not held: $logs1"
frugal logs "$job" --attempt 2 | grep -q "restored=\[good\]" ||
	fail "attempt 2 did not get the good checkpoint: $(frugal logs $job --attempt 2)"
ok "empty checkpoint held, the good one kept (keep: 1) and restored"

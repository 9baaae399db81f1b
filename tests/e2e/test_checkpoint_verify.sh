#!/bin/bash
# checkpoint.verify runs on a restored copy before a checkpoint is
# committed; a refusal keeps the previous checkpoint and says why.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/t.yaml" <<'YAML'
run: |
  D=$FRUGAL_CHECKPOINT_DIR
  if [ "$FRUGAL_ATTEMPT" -ge 2 ]; then echo "restored=[$(cat $D/state 2>/dev/null)]"; exit 0; fi
  echo good > $D/state
  sleep 4
  echo bad > $D/state
  sleep 4
  exit 1
checkpoint:
  dir: ckpt
  interval: 2s
  keep: 1
  verify: 'echo "checking $PWD"; [ "$PWD" = "$FRUGAL_CHECKPOINT_DIR" ] && grep -q good state'
recovery: {max_restarts_on_errors: 1}
YAML
frugal check "$TMP/t.yaml" >/dev/null || fail "check refuses checkpoint.verify"
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not finish: $(frugal status $job)"
logs1=$(frugal logs "$job" --attempt 1)
echo "$logs1" | grep -q "checkpoint 1 stored" || fail "the good checkpoint was not stored: $logs1"
echo "$logs1" | grep -q "checkpoint.verify: checking " || fail "verify output not logged: $logs1"
echo "$logs1" | grep -q "checkpoint not committed: checkpoint.verify refused it ('it exited with 1')" ||
	fail "the refused checkpoint is not logged: $logs1"
frugal logs "$job" --attempt 2 | grep -q "restored=\[good\]" ||
	fail "attempt 2 did not get the verified checkpoint: $(frugal logs $job --attempt 2)"
ok "checkpoint.verify refused the bad checkpoint; the verified one was restored"

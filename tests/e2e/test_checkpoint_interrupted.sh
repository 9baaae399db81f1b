#!/bin/bash
# A checkpoint interrupted halfway through its upload is never restored;
# the previous complete one is.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/t.yaml" <<'YAML'
run: |
  if [ "$FRUGAL_ATTEMPT" -ge 2 ]; then
    echo "restored=$(cat $FRUGAL_CHECKPOINT_DIR/state 2>/dev/null)"
    exit 0
  fi
  echo v1 > $FRUGAL_CHECKPOINT_DIR/state
  sleep 2.5
  echo v2 > $FRUGAL_CHECKPOINT_DIR/state
  echo more > $FRUGAL_CHECKPOINT_DIR/other
  sleep 30
checkpoint: {dir: /ckpt, interval: 2s}
recovery: {max_restarts_on_errors: 1}
YAML
# The agent dies after sending the objects of its 2nd checkpoint, before
# the manifest that would make it visible.
FRUGAL_AGENT_FAULT=agent.checkpoint.after_objects@2 frugal controller >/dev/null
job=$(frugal launch -d "$TMP/t.yaml")
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not finish: $(frugal status $job)"
frugal logs "$job" --attempt 2 | grep -q "restored=v1" ||
	fail "attempt 2 did not get checkpoint v1: $(frugal logs $job --attempt 2)"
ok "half-uploaded checkpoint ignored; the previous complete one (v1) restored"

#!/bin/bash
# A job killed while it rewrites a checkpoint file in place never makes
# the torn file the newest checkpoint: the previous one is restored.
# Found: the torn file was restored (10/10 tries). Two ways to tear it:
# killed mid-write (the file changed just before the kill), and killed
# after truncating it (an emptied file).
. "$(dirname "$0")/lib.sh"
cat > "$TMP/midwrite.yaml" <<'YAML'
run: |
  D=$FRUGAL_CHECKPOINT_DIR
  if [ "$FRUGAL_ATTEMPT" -ge 2 ]; then echo "restored=[$(cat $D/state)]"; exit 0; fi
  echo good > $D/state
  sleep 4
  exec 3> $D/state
  echo rewriting
  while :; do printf x >&3; sleep 0.02; done
checkpoint: {dir: ckpt, interval: 2s}
recovery: {notice_grace: 5s}
YAML
cat > "$TMP/truncated.yaml" <<'YAML'
run: |
  D=$FRUGAL_CHECKPOINT_DIR
  if [ "$FRUGAL_ATTEMPT" -ge 2 ]; then echo "restored=[$(cat $D/state)]"; exit 0; fi
  echo good > $D/state
  sleep 4
  : > $D/state
  echo rewriting
  sleep 60
checkpoint: {dir: ckpt, interval: 2s}
recovery: {notice_grace: 5s}
YAML
a=$(frugal launch -d "$TMP/midwrite.yaml") || fail "launch"
b=$(frugal launch -d "$TMP/truncated.yaml") || fail "launch"
for job in $a $b; do
	for i in $(seq 400); do frugal logs "$job" 2>/dev/null | grep -q "^rewriting" && break; sleep 0.05; done
	frugal logs "$job" | grep -q "checkpoint 1 stored" || fail "$job: no first checkpoint: $(frugal logs $job)"
done
sleep 2.5	# the truncated file is older than the settle time now
frugal debug preempt "$a" --notice 5 >/dev/null || fail "debug preempt"
frugal debug preempt "$b" --notice 5 >/dev/null || fail "debug preempt"
for job in $a $b; do
	[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not finish: $(frugal status $job)"
	frugal logs "$job" --attempt 2 | grep -q "restored=\[good\]" ||
		fail "$job: attempt 2 restored a torn file: $(frugal logs $job --attempt 2 | grep restored)"
	frugal logs "$job" --attempt 1 | grep -q "last checkpoint not committed" ||
		fail "$job: the hold is not logged: $(frugal logs $job --attempt 1 | tail -5)"
done
frugal logs "$a" --attempt 1 | grep -q "may be torn ('state')" || fail "mid-write hold reason"
frugal logs "$b" --attempt 1 | grep -q "was emptied ('state')" || fail "truncated hold reason"
ok "torn checkpoint files (mid-write, truncated) held; the previous checkpoint restored"

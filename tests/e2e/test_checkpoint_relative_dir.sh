#!/bin/bash
# checkpoint.dir relative to the work dir (as docs/TASKFILE.md documents)
# is what is checkpointed and restored, and $FRUGAL_CHECKPOINT_DIR names
# it. Found: only the instance's own checkpoint dir was checkpointed, so
# after a preemption "no checkpoint to restore".
. "$(dirname "$0")/lib.sh"
cat > "$TMP/t.yaml" <<'YAML'
run: |
  echo "ckptdir=$FRUGAL_CHECKPOINT_DIR pwd=$PWD"
  if [ "$FRUGAL_ATTEMPT" -ge 2 ]; then
    echo "restored=[$(cat ckpt/sub/state 2>/dev/null)]"
    exit 0
  fi
  mkdir -p ckpt/sub
  echo step-41 > ckpt/sub/state
  echo wrote
  sleep 60
checkpoint: {dir: ckpt, interval: 10m}
recovery: {notice_grace: 5s}
YAML
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
for i in $(seq 200); do frugal logs "$job" 2>/dev/null | grep -q "^wrote" && break; sleep 0.05; done
frugal logs "$job" | grep -q "^wrote" || fail "the job did not write its checkpoint"
sleep 1.5	# older than the settle time: not taken as torn by the preemption
frugal debug preempt "$job" --notice 5 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not finish: $(frugal status $job)"
logs=$(frugal logs "$job" --attempt 2)
echo "$logs" | grep -q "restored=\[step-41\]" || fail "attempt 2 did not get the checkpoint: $logs"
echo "$logs" | grep -q "ckptdir=\(.*\)/ckpt pwd=\1$" ||
	fail "FRUGAL_CHECKPOINT_DIR is not the work dir's ckpt: $(echo "$logs" | grep ckptdir)"
ok "relative checkpoint.dir checkpointed, restored and named by FRUGAL_CHECKPOINT_DIR"

#!/bin/bash
# The storage a job was submitted with is the job's: after `storage:` in
# config.yaml changes and the controller restarts, the next attempt
# restores the checkpoint from it, and logs and status still find the
# job's files there. Found: the next attempt restored nothing.
. "$(dirname "$0")/lib.sh"
write_config "storage: file://$TMP/store-a"
cat > "$TMP/t.yaml" <<'YAML'
run: |
  if [ "$FRUGAL_ATTEMPT" -ge 2 ]; then echo "restored=[$(cat $FRUGAL_CHECKPOINT_DIR/state)]"; exit 0; fi
  echo step-9 > $FRUGAL_CHECKPOINT_DIR/state
  echo wrote
  sleep 60
checkpoint: {dir: ckpt, interval: 10m}
recovery: {notice_grace: 5s}
YAML
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
for i in $(seq 200); do frugal logs "$job" 2>/dev/null | grep -q "^wrote" && break; sleep 0.05; done
frugal logs "$job" | grep -q "^wrote" || fail "the job did not start"
sleep 1.5
frugal controller --stop >/dev/null 2>&1
write_config "storage: file://$TMP/store-b"
frugal debug preempt "$job" --notice 5 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not finish: $(frugal status $job)"
frugal logs "$job" --attempt 2 | grep -q "restored=\[step-9\]" ||
	fail "attempt 2 did not restore from the job's storage: $(frugal logs $job --attempt 2)"
[ -d "$TMP/store-a/jobs/$job/attempts/2" ] || fail "attempt 2 did not use the job's storage"
[ -e "$TMP/store-b/jobs/$job" ] && fail "attempt 2 wrote into the new storage"
case $(job_field "$job" outputs_url) in file://$TMP/store-a/*) ;; *) fail "outputs_url $(job_field $job outputs_url)";; esac
ok "storage pinned: attempt 2, logs and status use the storage the job was submitted with"

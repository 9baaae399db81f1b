#!/bin/bash
# Outputs that cannot be stored (here a name with a newline) fail the
# attempt as outputs_failed instead of SUCCEEDED; it is retried like a
# failure (recovery.max_restarts_on_errors), and the local instance's
# files are kept until an attempt succeeds.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/t.yaml" <<'YAML'
run: |
  mkdir -p weights
  echo "attempt $FRUGAL_ATTEMPT" > weights/model.bin
  if [ "$FRUGAL_ATTEMPT" -eq 1 ]; then
    python3 -c 'open("weights/bad\nname.bin", "w").write("x")'
  fi
outputs: {paths: ["weights/*.bin"]}
recovery: {max_restarts_on_errors: 1}
YAML
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "the retry did not succeed: $(frugal status $job)"
[ "$(attempt_field "$job" 1 outcome)" = outputs_failed ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(job_field "$job" restarts)" = 1 ] || fail "not retried"
frugal logs "$job" --attempt 1 | grep -q "outputs could not all be stored" || fail "not logged"
ok "unstorable output: attempt 1 outputs_failed, retried, attempt 2 succeeded"
[ -z "$(ls "$FRUGAL_HOME/kept" 2>/dev/null)" ] || fail "kept files not removed after success: $(ls $FRUGAL_HOME/kept)"
ok "kept instance files removed once an attempt succeeded"

# Without restarts the job fails, and the files stay.
sed -i 's/max_restarts_on_errors: 1/max_restarts_on_errors: 0/' "$TMP/t.yaml"
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "job is not FAILED: $(frugal status $job)"
[ "$(attempt_field "$job" 1 outcome)" = outputs_failed ] || fail "outcome $(attempt_field "$job" 1 outcome)"
for i in $(seq 100); do ls "$FRUGAL_HOME"/kept/$job-1/work/weights/ 2>/dev/null | grep -q bad && break; sleep 0.1; done
ls "$FRUGAL_HOME"/kept/$job-1/work/weights/ 2>/dev/null | grep -q "bad" ||
	fail "the instance's files were not kept: $(ls -R $FRUGAL_HOME/kept 2>&1 | head)"
ok "unstorable output without restarts: FAILED, instance files kept in FRUGAL_HOME/kept"

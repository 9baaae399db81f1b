#!/bin/bash
# recovery.recover_on_exit_codes and recovery.max_restarts_on_errors:
# listed exit codes restart without counting; other failures restart
# until the limit, then the job is FAILED.
. "$(dirname "$0")/lib.sh"

# Exit 33 twice (listed), then succeed: SUCCEEDED after 3 attempts, 0 charged.
cat > "$TMP/codes.yaml" <<'YAML'
run: |
  echo "attempt $FRUGAL_ATTEMPT restart $FRUGAL_RESTART_COUNT"
  [ "$FRUGAL_ATTEMPT" -ge 3 ] || exit 33
recovery: {recover_on_exit_codes: [33], max_restarts_on_errors: 0}
YAML
frugal launch "$TMP/codes.yaml" >"$TMP/out" 2>"$TMP/err" || fail "job with recoverable codes failed: $(cat $TMP/err)"
job=$(head -n 1 "$TMP/out")
[ "$(job_field "$job" restarts)" = 2 ] || fail "restarts $(job_field "$job" restarts), want 2"
[ "$(attempt_field "$job" 1 exit_code)" = 33 ] || fail "attempt 1 exit code"
[ "$(attempt_field "$job" 3 outcome)" = succeeded ] || fail "attempt 3 outcome"
grep -q "attempt 3 restart 2" "$TMP/out" || fail "FRUGAL_ATTEMPT/FRUGAL_RESTART_COUNT not seen: $(cat $TMP/out)"
ok "recover_on_exit_codes: 2 free restarts, then SUCCEEDED"

# Always exit 5 with max_restarts_on_errors: 2 -> 3 attempts, FAILED.
cat > "$TMP/errors.yaml" <<'YAML'
run: exit 5
recovery: {max_restarts_on_errors: 2}
YAML
frugal launch "$TMP/errors.yaml" >"$TMP/out" 2>"$TMP/err" && fail "always-failing job succeeded"
job=$(head -n 1 "$TMP/out")
[ "$(job_field "$job" status)" = FAILED ] || fail "not FAILED"
n=$(frugal status "$job" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"][0]["attempts"]))')
[ "$n" = 3 ] || fail "$n attempts, want 3"
ok "max_restarts_on_errors: 2 -> 3 attempts, then FAILED"

# A listed code with a limit of 0 other errors: exit 1 is not listed -> FAILED at once.
cat > "$TMP/other.yaml" <<'YAML'
run: exit 1
recovery: {recover_on_exit_codes: [33]}
YAML
frugal launch "$TMP/other.yaml" >"$TMP/out" 2>"$TMP/err" && fail "exit 1 succeeded"
job=$(head -n 1 "$TMP/out")
n=$(frugal status "$job" --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"][0]["attempts"]))')
[ "$n" = 1 ] || fail "$n attempts for an unlisted code, want 1"
ok "unlisted exit code with no error restarts: FAILED after 1 attempt"

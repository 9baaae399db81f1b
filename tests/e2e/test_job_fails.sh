#!/bin/bash
# A failing job is FAILED with its exit code; a failing setup stops before run.
. "$(dirname "$0")/lib.sh"

cat > "$TMP/fail.yaml" <<'YAML'
run: echo about to fail; exit 7
YAML
frugal launch "$TMP/fail.yaml" >"$TMP/out" 2>"$TMP/err" && fail "launch of a failing job exited 0"
job=$(head -n 1 "$TMP/out")
[ "$(job_field "$job" status)" = FAILED ] || fail "status not FAILED"
[ "$(attempt_field "$job" 1 exit_code)" = 7 ] || fail "exit code not 7"
[ "$(attempt_field "$job" 1 outcome)" = failed ] || fail "outcome not failed"
ok "failing run: FAILED, exit code 7"

cat > "$TMP/setup.yaml" <<'YAML'
setup: exit 4
run: echo run-should-not-happen
YAML
frugal launch "$TMP/setup.yaml" >"$TMP/out" 2>"$TMP/err" && fail "failing setup exited 0"
job=$(head -n 1 "$TMP/out")
[ "$(attempt_field "$job" 1 exit_code)" = 4 ] || fail "setup exit code not 4"
frugal logs "$job" | grep -q run-should-not-happen && fail "run ran after a failed setup"
ok "failing setup: FAILED with exit code 4, run not started"

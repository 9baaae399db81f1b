#!/bin/bash
# The fallback where cgroups are unavailable (forced here with
# backends.local.cgroups: false): `frugal backends` says "process scan",
# and the marker scan still ends what keeps its environment -- a setsid'd
# child of run -- on exit, on cancel, and in gc. The env-clearing escapes
# (test_escape_setsid_env_i, _double_fork, _scrubbed_environ) the scan
# does not find: the agent's subreaper ends them with the attempt
# (test_escape_scan_setsid_env_i), and gc of one whose agent died first
# needs cgroups: docs/LOCAL.md says so.
# Then a switch of mode under a running job, both ways: a job started in
# a box is still ended through its box by a controller with cgroups off,
# and one started by the scan is still found by a controller with cgroups
# on (its instance has files but no box).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/escape_lib.sh"
keep='setsid sleep 1000 &
echo $! >> "$PIDS"'

escape_mode scan
frugal backends --json | python3 -c '
import json, sys
b = [b for b in json.load(sys.stdin)["backends"] if b["name"] == "local"][0]
assert b["teardown"] == "process scan", b' || fail "backends --json teardown"
escape_exit_case "$keep"; ok "scan: a setsid child with its environment dies at exit"
escape_cancel_case "$keep"; ok "scan: ... and at cancel"

# gc: a marked process no job owns (as test_gc, but in its own session).
: > "$PIDS"
FRUGAL_INSTANCE=orphan$$-2 FRUGAL_HOME=$FRUGAL_HOME setsid sleep 1000 &
echo $! >> "$PIDS"
escape_wait_recorded
frugal gc > "$TMP/gc.out" 2>&1 || fail "gc: $(cat "$TMP/gc.out")"
escape_assert_none "gc (scan)"
ok "scan: gc ends a marked orphan"

escape_need_cgroups
# Started in a box, torn down with cgroups off.
escape_mode cgroups
: > "$PIDS"
HOLD=600 escape_job sw1 'setsid env -i sleep 1000 &
echo $! >> "$PIDS"'
job=$(frugal launch -d "$TMP/sw1.yaml") || fail "launch"
escape_wait_recorded
wait_status "$job" RUNNING 20
escape_mode scan
frugal cancel "$job" >/dev/null || fail "cancel"
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "not cancelled"
escape_assert_none "box ended with cgroups off"
ok "a job started in a box is ended through it after a switch to the scan"

# Started by the scan, torn down with cgroups on.
: > "$PIDS"
HOLD=600 escape_job sw2 "$keep"
job=$(frugal launch -d "$TMP/sw2.yaml") || fail "launch"
escape_wait_recorded
wait_status "$job" RUNNING 20
escape_mode cgroups
frugal cancel "$job" >/dev/null || fail "cancel"
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "not cancelled"
escape_assert_none "scan-started job ended with cgroups on"
ok "a job started without a box is still found after a switch to cgroups"

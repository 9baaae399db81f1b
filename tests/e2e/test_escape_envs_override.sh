#!/bin/bash
# Finding (issue 14): `envs: {FRUGAL_INSTANCE: x}` or `{FRUGAL_HOME: y}`
# in a task replaced the job's marker, so its processes escaped teardown
# and gc. frugal's own variables (FRUGAL_*) are now refused at check time
# with the file:line:col of the key, and so are --env, --secret and sweep
# params with such a name; a job's processes keep their identity (checked
# with the marker scan forced, the mode that relies on it), and with
# cgroups a job that clears every variable still dies with its teardown.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/escape_lib.sh"

for kv in "FRUGAL_INSTANCE: x" "FRUGAL_HOME: /tmp/y"; do
	key=${kv%%:*}
	printf 'envs:\n  OK: 1\n  %s\nrun: sleep 1000\n' "$kv" > "$TMP/override.yaml"
	out=$(frugal check "$TMP/override.yaml" 2>&1) && fail "check accepted envs.$key: $out"
	echo "$out" | grep -q "override.yaml:3:3: error: envs.$key: '$key' is one of frugal's own variables" ||
		fail "check error does not name the key and place: $out"
	out=$(frugal launch -d "$TMP/override.yaml" 2>&1) && fail "launch accepted envs.$key: $out"
	echo "$out" | grep -q "override.yaml:3:3" || fail "launch error: $out"
done
ok "envs: FRUGAL_INSTANCE / FRUGAL_HOME refused at check with file:line:col"

printf 'secrets:\n  FRUGAL_INSTANCE: x\nrun: true\n' > "$TMP/secret.yaml"
out=$(frugal check "$TMP/secret.yaml" 2>&1) && fail "check accepted secrets.FRUGAL_INSTANCE"
echo "$out" | grep -q "secret.yaml:2:3: error: secrets.FRUGAL_INSTANCE" || fail "secret error: $out"
printf 'run: true\n' > "$TMP/plain.yaml"
out=$(frugal launch -d --env FRUGAL_HOME=/tmp/y "$TMP/plain.yaml" 2>&1) && fail "--env FRUGAL_HOME accepted: $out"
echo "$out" | grep -q -- "--env FRUGAL_HOME: FRUGAL_\* names are frugal's own" || fail "--env error: $out"
out=$(frugal launch -d --secret FRUGAL_INSTANCE=x "$TMP/plain.yaml" 2>&1) && fail "--secret accepted: $out"
echo "$out" | grep -q -- "--secret FRUGAL_INSTANCE" || fail "--secret error: $out"
[ -z "$(frugal status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"] or "")')" ] ||
	fail "a refused launch recorded a job"
ok "secrets, --env and --secret with a FRUGAL_ name refused, nothing recorded"

# The marker scan (the fallback) finds a job that names other variables:
# its setsid'd child keeps FRUGAL_INSTANCE and dies with the teardown.
escape_mode scan
escape_exit_case 'setsid sleep 1000 &
echo $! >> "$PIDS"'
ok "process scan: a setsid child that keeps its environment dies with the job"

# With cgroups: a job that unsets frugal's variables itself still dies.
escape_all_cases 'env -u FRUGAL_INSTANCE -u FRUGAL_HOME setsid sleep 1000 &
echo $! >> "$PIDS"'

#!/bin/bash
# SkyPilot's command-line forms: `--env NAME` takes the value from the
# launching shell; `--secret NAME` for a key declared under envs makes it
# a secret (it reaches the job, and no file under FRUGAL_HOME holds it);
# a setup-only task (no run) succeeds.
. "$(dirname "$0")/lib.sh"
TOKEN_VALUE="tok-$(date +%s%N)-value"
cat > "$TMP/t.yaml" <<'YAML'
envs:
  LR:
  API_TOKEN: placeholder
run: |
  echo "lr=$LR token length ${#API_TOKEN}"
YAML
job=$(LR=0.25 API_TOKEN=$TOKEN_VALUE frugal launch -d "$TMP/t.yaml" --env LR --secret API_TOKEN) ||
	fail "launch"
wait_terminal "$job" 30 >/dev/null
frugal logs "$job" | grep -q "lr=0.25 token length ${#TOKEN_VALUE}" ||
	fail "the job did not see --env LR and --secret API_TOKEN: $(frugal logs "$job")"
ok "--env NAME from the shell; --secret NAME moved an envs key to the secrets"
for f in $(find "$FRUGAL_HOME" -type f); do
	grep -qa "$TOKEN_VALUE" "$f" && fail "secret found in $f"
done
ok "the secret is in no file under FRUGAL_HOME"

frugal launch -d "$TMP/t.yaml" --env UNSET_IN_SHELL_XYZ 2>"$TMP/err" && fail "--env of an unset name accepted"
grep -q "UNSET_IN_SHELL_XYZ is not set in this shell" "$TMP/err" || fail "message: $(cat "$TMP/err")"
ok "--env NAME of a name the shell does not have is refused"

cat > "$TMP/s.yaml" <<'YAML'
setup: echo setup ran
YAML
job=$(frugal launch -d "$TMP/s.yaml") || fail "setup-only launch"
[ "$(wait_terminal "$job" 30)" = SUCCEEDED ] || fail "setup-only task did not succeed"
frugal logs "$job" | grep -q "setup ran" || fail "setup did not run"
ok "a setup-only task runs its setup and succeeds"

#!/bin/bash
# A secret reaches the job's environment and nowhere else: not the
# database, not the logs, not any command line (ps).
. "$(dirname "$0")/lib.sh"
SECRET="s3cr3t-$(date +%s%N)-value"
ENVSECRET="envs3cr3t-$(date +%s%N)"
cat > "$TMP/s.yaml" <<'YAML'
secrets: {FROM_ENV: null}
run: |
  echo "token length ${#MY_TOKEN}, env length ${#FROM_ENV}"
  sleep 2
YAML
FROM_ENV=$ENVSECRET frugal launch -d "$TMP/s.yaml" --secret "MY_TOKEN=$SECRET" >"$TMP/id" || fail "launch"
job=$(cat "$TMP/id")
wait_status "$job" RUNNING 20
ps -eo args ww > "$TMP/ps"
grep -q "$SECRET" "$TMP/ps" && fail "secret visible in ps output"
grep -q "$ENVSECRET" "$TMP/ps" && fail "env secret visible in ps output"
wait_terminal "$job" 30 >/dev/null
frugal logs "$job" | grep -q "token length ${#SECRET}, env length ${#ENVSECRET}" || fail "the job did not see its secrets"
ok "job saw both secrets"
for f in $(find "$FRUGAL_HOME" -type f); do
	grep -qa "$SECRET" "$f" && fail "secret found in $f"
	grep -qa "$ENVSECRET" "$f" && fail "env secret found in $f"
done
ok "secrets absent from the database, WAL, logs and every file under FRUGAL_HOME"

cat > "$TMP/m.yaml" <<'YAML'
secrets: {NOT_SET_ANYWHERE: null}
run: true
YAML
frugal launch "$TMP/m.yaml" 2>"$TMP/err" && fail "launch without a secret value succeeded"
grep -q "secret 'NOT_SET_ANYWHERE' has no value" "$TMP/err" || fail "message: $(cat $TMP/err)"
[ "$(frugal status --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')" = 1 ] || fail "a job was recorded anyway"
ok "missing secret refused before anything is recorded"

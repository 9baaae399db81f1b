#!/bin/bash
# A damaged state.db: commands say which file and what to do, and
# `frugal cancel JOB` still ends the job's processes, through the backend's
# list of what it holds (every machine carries its ledger token).
. "$(dirname "$0")/lib.sh"
cat > "$TMP/task.yaml" <<'YAML'
name: survivor
run: sleep 600
YAML
job=$(frugal launch -d "$TMP/task.yaml") || fail "launch"
wait_status "$job" RUNNING 20
[ -n "$(instance_procs "$job")" ] || fail "no processes of the job"
frugal controller --stop >/dev/null
# Damage the database: garbage over its header, its WAL gone.
rm -f "$FRUGAL_HOME/state.db-wal" "$FRUGAL_HOME/state.db-shm"
printf 'this is not a database file at all, not in the least bit.' |
	dd of="$FRUGAL_HOME/state.db" bs=1 seek=0 conv=notrunc 2>/dev/null
err=$(FRUGAL_NO_AUTOSTART=1 frugal status 2>&1) && fail "status on a damaged database exited 0"
echo "$err" | grep -q "state.db" || fail "the error does not name the file: $err"
echo "$err" | grep -q "recover" || fail "the error does not say what to do: $err"
ok "a damaged database is reported with its file and what to do"
out=$(frugal cancel "$job" 2>&1) || fail "cancel on a damaged database failed: $out"
echo "$out" | grep -q "ended $job-1 on local" || fail "cancel did not end the instance: $out"
for i in $(seq 100); do [ -z "$(instance_procs "$job")" ] && break; sleep 0.05; done
[ -z "$(instance_procs "$job")" ] || fail "processes of $job still run after cancel"
ok "cancel ends the job's processes without the database ($job-1)"

#!/bin/bash
# store_begin's result is checked: when the database stays locked past
# the busy timeout right after a launch, the controller records nothing
# half-way and adopts the attempt's ledger row by its token once the
# database is free again; the row ends "live" with the instance's id, as
# when nothing went wrong. (Before: the writes went on outside a
# transaction and the row stayed "creating" while the job ran.)
. "$(dirname "$0")/lib.sh"

cat > "$TMP/task.yaml" <<'YAML'
name: locked
run: sleep 120
YAML

# The controller stops (SIGSTOP) right after the launch, before recording it.
job=$(FRUGAL_FAULT_STOP=controller.after_launch frugal launch -d "$TMP/task.yaml") ||
	fail "launch failed"
pid=""
for _ in $(seq 200); do
	pid=$(cat "$FRUGAL_HOME/controller.pid" 2>/dev/null)
	[ -n "$pid" ] && [ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" = T ] && break
	sleep 0.05
done
[ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" = T ] || fail "controller did not stop at the launch"
ok "controller stopped between the launch and its record"

# Hold the database's write lock past the 10 s busy timeout, twice over.
python3 - "$FRUGAL_HOME/state.db" "$TMP/locked" <<'PY' &
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(25)
db.execute("ROLLBACK")
PY
locker=$!
for _ in $(seq 200); do [ -e "$TMP/locked" ] && break; sleep 0.05; done
[ -e "$TMP/locked" ] || fail "could not lock the database"
kill -CONT "$pid"
wait "$locker"
ok "database locked for 25 s after the launch"

ledger() {
	python3 - "$FRUGAL_HOME/state.db" "$job" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for state, pid in db.execute("SELECT state, coalesce(provider_id, '') FROM resources"
                             " WHERE job_id = ?", (sys.argv[2],)):
    print(state, pid)
PY
}
row=""
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ]; do
	row=$(ledger)
	case $row in "live "?*) break;; esac
	sleep 0.2
done
case $row in "live "?*) ;; *) fail "ledger row is '$row', expected live with the instance id";; esac
[ "$(echo "$row" | wc -l)" = 1 ] || fail "more than one ledger row: $row"
grep -q "not recorded yet" "$FRUGAL_HOME/controller.log" || fail "the failed record was not reported"
wait_status "$job" RUNNING 20
ok "attempt adopted by its token: $row"

frugal cancel "$job" >/dev/null || fail "cancel failed"
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "job did not end cancelled"
[ -z "$(instance_procs "$job")" ] || fail "processes left behind"
[ "$(ledger | cut -d' ' -f1)" = gone ] || fail "ledger row not gone: $(ledger)"
ok "cancelled; nothing left"

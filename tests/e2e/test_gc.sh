#!/bin/bash
# frugal gc: resources frugal made that no live job owns (local backend:
# processes carrying an instance marker, instance directories) are listed
# by --dry-run and ended by gc; a live job's instance is left alone.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/live.yaml" <<'YAML'
run: sleep 60
YAML
live=$(frugal launch -d "$TMP/live.yaml")
wait_status "$live" RUNNING 20

# An orphan: a process and a directory of an attempt no job owns, as a
# crash of an older frugal might have left them.
mkdir -p "$FRUGAL_HOME/instances/orphan1-1/work"
env FRUGAL_INSTANCE=orphan1-1 FRUGAL_HOME="$FRUGAL_HOME" sleep 300 &
orphan_pid=$!
mkdir -p "$FRUGAL_HOME/instances/orphan2-3"

frugal gc --dry-run > "$TMP/dry" || fail "gc --dry-run"
grep -q "orphan1-1.*would end" "$TMP/dry" || fail "dry run does not list the orphan process: $(cat $TMP/dry)"
grep -q "orphan2-3.*would end" "$TMP/dry" || fail "dry run does not list the orphan dir"
grep -q "$live" "$TMP/dry" && fail "dry run lists the live job"
kill -0 $orphan_pid || fail "dry run killed the orphan"
ok "gc --dry-run lists the orphans and touches nothing"

frugal gc > "$TMP/gc" || fail "gc: $(cat $TMP/gc)"
grep -q "orphan1-1.*ended" "$TMP/gc" || fail "gc did not end the orphan: $(cat $TMP/gc)"
sleep 0.2
kill -0 $orphan_pid 2>/dev/null && fail "orphan process survives gc"
[ ! -e "$FRUGAL_HOME/instances/orphan1-1" ] || fail "orphan dir survives gc"
[ ! -e "$FRUGAL_HOME/instances/orphan2-3" ] || fail "second orphan dir survives gc"
[ "$(job_field "$live" status)" = RUNNING ] || fail "gc hurt the live job"
[ -n "$(instance_procs "$live")" ] || fail "gc killed the live job's processes"
ok "gc ended the orphans and left the live job running"
frugal gc | grep -q "Nothing to collect" || fail "a second gc found something"
frugal cancel "$live" >/dev/null

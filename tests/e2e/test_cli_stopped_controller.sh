#!/bin/bash
# A SIGSTOPped controller never hangs the CLI: once its socket's backlog
# is full, status, cancel and launch still answer within seconds and say
# what they waited for. Found: after ~129 calls every command blocked
# forever. Then the resumed controller survives 20,000 connections (its
# descriptors are not used up) and still ends the job.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/t.yaml" <<'YAML'
run: sleep 60
YAML
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
wait_status "$job" RUNNING 30
pid=$(cat "$FRUGAL_HOME/controller.pid")
kill -STOP "$pid"
trap 'kill -CONT $pid 2>/dev/null; cleanup' EXIT
# Fill the backlog (each call leaves a connection the stopped controller
# never accepts), then time the commands that talk to it.
python3 - "$FRUGAL_HOME/controller.sock" <<'PY' &
import socket, sys, time
held = []
for i in range(400):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
        held.append(s)
    except OSError:
        s.close()
time.sleep(30)
PY
filler=$!
sleep 1
for cmd in "status" "cancel $job" "launch -d $TMP/t.yaml"; do
	t0=$(date +%s%N)
	timeout 30 "$FRUGAL_BIN" $cmd > "$TMP/out" 2>&1
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $rc -eq 124 ] && fail "'frugal $cmd' hung with the controller stopped"
	[ $ms -lt 15000 ] || fail "'frugal $cmd' took ${ms}ms"
	grep -q "did not accept a connection on .* within 3s: is it stopped" "$TMP/out" ||
		fail "'frugal $cmd' does not say what it waited for: $(cat $TMP/out)"
	ok "frugal $cmd answered in ${ms}ms with the controller stopped"
done
kill "$filler" 2>/dev/null; wait "$filler" 2>/dev/null
kill -CONT "$pid"

# 20,000 connections: the controller keeps working and ends the job.
python3 - "$FRUGAL_HOME/controller.sock" <<'PY' || fail "connection storm"
import socket, sys
held = []
for i in range(20000):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
    except OSError:
        s.close()
        continue
    held.append(s)
    if len(held) > 900:        # stay under our own descriptor limit
        held.pop(0).close()
PY
kill -0 "$pid" || fail "the controller died under 20,000 connections"
frugal cancel "$job" >/dev/null 2>&1
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "job not cancelled after the storm: $(frugal status $job)"
n=$(ls /proc/$pid/fd | wc -l)
[ "$n" -lt 400 ] || fail "the controller holds $n descriptors"
ok "controller alive after 20,000 connections ($n descriptors) and cancelled the job"

#!/bin/bash
# resources.ports on the local backend: `frugal endpoints` lists where the
# job's port is, and `frugal forward JOB PORT LOCAL` relays a local port
# through to the job's server (a real HTTP request answered by the job).
. "$(dirname "$0")/lib.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
LOCAL=$(free_port)
mkdir -p "$TMP/proj"
echo "served by the job $RANDOM" > "$TMP/proj/hello.txt"
head -c 300000 /dev/urandom > "$TMP/proj/big.bin"	# the workdir is copied at launch
cat > "$TMP/proj/task.yaml" <<YAML
name: ports-local
workdir: .
resources:
  ports: [$PORT, 20000-20002]
run: exec python3 -m http.server $PORT --bind 127.0.0.1
YAML
cd "$TMP/proj"
job=$(frugal launch -d task.yaml 2>"$TMP/launch.err") || fail "launch: $(cat "$TMP/launch.err")"
wait_status "$job" RUNNING 30
for i in $(seq 100); do
	curl -sf "http://127.0.0.1:$PORT/hello.txt" >/dev/null && break
	sleep 0.1
done

out=$(frugal endpoints "$job") || fail "endpoints exited $?: $out"
echo "$out" | grep -q "^$PORT .*127.0.0.1:$PORT" || fail "endpoints lacks port $PORT: $out"
echo "$out" | grep -q "^20000-20002 .*127.0.0.1:20000-20002" || fail "endpoints lacks the range: $out"
frugal endpoints "$job" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
e = d['endpoints']
assert d['job'] == '$job' and d['backend'] == 'local', d
assert e[0]['from'] == $PORT and e[0]['address'] == '127.0.0.1:$PORT', e
assert e[1]['from'] == 20000 and e[1]['to'] == 20002, e
" || fail "endpoints --json"
ok "endpoints lists the port and the range"

out=$(frugal forward "$job" "$PORT") || fail "forward to the same port exited $?"
echo "$out" | grep -q "on this machine already" || fail "forward same port: $out"
out=$(frugal forward "$job" 9 2>&1) && fail "forward of a port not in resources.ports succeeded"
echo "$out" | grep -q "not one of job $job's resources.ports" || fail "forward bad port: $out"
ok "forward: nothing to forward to the same port; a port not opened is refused"

frugal forward "$job" "$PORT" "$LOCAL" > "$TMP/fwd.out" 2>&1 &
fwd=$!
for i in $(seq 100); do grep -q forwarding "$TMP/fwd.out" && break; sleep 0.05; done
got=$(curl -sf "http://127.0.0.1:$LOCAL/hello.txt") || { kill $fwd; fail "no answer through the relay: $(cat "$TMP/fwd.out")"; }
[ "$got" = "$(cat "$TMP/proj/hello.txt")" ] || { kill $fwd; fail "relay answered '$got'"; }
# Several at once, and a larger body (the relay's buffer is 64 KiB).
pids=""
for k in 1 2 3; do curl -sf "http://127.0.0.1:$LOCAL/big.bin" -o "$TMP/big.$k" & pids="$pids $!"; done
for p in $pids; do wait $p; done
for k in 1 2 3; do cmp -s "$TMP/big.$k" "$TMP/proj/big.bin" || { kill $fwd; fail "big body $k differs"; }; done
kill $fwd; wait $fwd 2>/dev/null
ok "forward relays 127.0.0.1:$LOCAL to the job's port $PORT (3 parallel 300 KB bodies intact)"

frugal cancel "$job" >/dev/null
wait_terminal "$job" 30 >/dev/null
out=$(frugal endpoints "$job" 2>&1) && fail "endpoints of an ended job succeeded"
echo "$out" | grep -q "no running machine" || fail "endpoints after the end: $out"
ok "an ended job has no endpoints"

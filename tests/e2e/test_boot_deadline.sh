#!/bin/bash
# Boot deadline: an instance whose agent never reports (the local backend
# starts a program that prints an error and sleeps instead of the agent)
# is ended after backends.local.boot_timeout; the attempt is launch_failed
# with the tail of its boot log in an event, billed (it existed), and the
# job moves on to a next attempt that runs.
. "$(dirname "$0")/lib.sh"
write_config 'backends: {local: {boot_timeout: 3s, price_per_hour: 3.6}}'
cat > "$TMP/fake-agent" <<EOF2
#!/bin/sh
# Attempt 1 never starts the agent; the others do.
case "\$3" in
*-1) echo "frugal: /lib/x86_64-linux-gnu/libc.so.6: version GLIBC_2.34 not found" >&2
     exec sleep 1000 ;;
esac
exec "$FRUGAL_BIN" "\$@"
EOF2
chmod +x "$TMP/fake-agent"
export FRUGAL_DEBUG_LOCAL_AGENT="$TMP/fake-agent"
cat > "$TMP/task.yaml" <<'YAML'
run: echo "ran on attempt $FRUGAL_ATTEMPT"
YAML
j=$(frugal launch -d "$TMP/task.yaml")
[ "$(wait_terminal "$j" 40)" = SUCCEEDED ] || fail "job not SUCCEEDED: $(frugal status "$j")"
[ "$(attempt_field "$j" 1 outcome)" = launch_failed ] || fail "attempt 1 outcome $(attempt_field "$j" 1 outcome)"
[ "$(attempt_field "$j" 2 outcome)" = succeeded ] || fail "attempt 2 outcome $(attempt_field "$j" 2 outcome)"
ok "attempt 1 launch_failed, attempt 2 succeeded"
out=$(frugal status "$j")
echo "$out" | grep -q "did not report within boot_timeout 3s" || { echo "$out"; fail "no boot deadline event"; }
echo "$out" | grep -q "GLIBC_2.34 not found" || { echo "$out"; fail "the boot log's tail is not in the event"; }
ok "the event says why, with the boot log's tail"
pgrep -f "sleep 1000" -u "$(id -u)" | while read -r p; do
	tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -q "^FRUGAL_HOME=$FRUGAL_HOME$" && fail "the never-booted instance survives ($p)"
done
[ -z "$(instance_procs "$j-1")" ] || fail "attempt 1's processes left: $(instance_procs "$j-1")"
ok "the never-booted instance was ended"
billed=$(attempt_field "$j" 1 billed_seconds)
[ "$billed" -ge 3 ] || fail "attempt 1 billed ${billed}s: the machine existed for the boot deadline"
ok "attempt 1 billed ${billed}s"

#!/bin/bash
# A cloud API that hangs delays nothing else. Runpod's API is a local TCP
# server that accepts connections and never answers (tests/fakes/
# hang_server.py; only its GPU catalog answers, 404, so that the plan is
# made). A job on runpod is launched: its launch hangs in that API. A local job launched after it must still reach RUNNING within 2 s,
# and `frugal cancel` of it must be done (its processes gone) within 2 s;
# the times are printed. Then the runpod job is cancelled: it is not
# reported over while its ledger row is unresolved (a machine may exist);
# its launch passes its deadline (FRUGAL_CONTROLLER_OP_DEADLINE=3s); the
# API comes back (the stateful Runpod fake on the same port), the late
# launch makes its pod all the same, the controller finds it by its name,
# deletes it, and the job ends CANCELLED with no pod and no open ledger row.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"

export FRUGAL_CONTROLLER_OP_DEADLINE=3s FRUGAL_CONTROLLER_IDLE_EXIT=60s
KEY="runpod-key-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY FAKE_BOOT_S=3600

ms() { echo $(( $(date +%s%N) / 1000000 )); }
open_rows() {
	python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE job_id='$1' AND state!='gone'\").fetchone()[0])"
}

(FAKE_ANSWER="/v2/catalog 404" python3 "$FAKES/hang_server.py" "$TMP/hang.port" \
	>"$TMP/hang.log" 2>&1 &)
for _ in $(seq 100); do [ -s "$TMP/hang.port" ] && break; sleep 0.05; done
PORT=$(cat "$TMP/hang.port") || fail "the hanging server did not start"
write_config "backends:
  runpod:
    base_url: http://127.0.0.1:$PORT
    start_sshd: false
    shared_storage: true
    request_interval: 0
    sync_interval: 0
    release_wait: 30"

cat > "$TMP/cloud.yaml" <<'YAML'
name: hung-cloud
resources: {accelerators: RTX4090:1}
run: echo never
YAML
cat > "$TMP/local.yaml" <<'YAML'
name: local-after
run: sleep 600
YAML

cloud=$(frugal launch -d --backend runpod "$TMP/cloud.yaml") || fail "launch on runpod"
wait_status "$cloud" PROVISIONING 20
for _ in $(seq 100); do [ -s "$TMP/hang.port.conns" ] && break; sleep 0.05; done
[ -s "$TMP/hang.port.conns" ] || fail "the runpod launch never reached the API"
ok "runpod job $cloud: ledger row committed, its launch hangs in the API"

t0=$(ms)
job=$(frugal launch -d "$TMP/local.yaml") || fail "launch on local"
while [ "$(job_field "$job" status)" != RUNNING ]; do
	[ $(( $(ms) - t0 )) -lt 10000 ] || fail "the local job is $(job_field "$job" status) after 10 s"
	sleep 0.02
done
started=$(( $(ms) - t0 ))
echo "measured: local job RUNNING ${started} ms after launch (runpod API hung)"
[ "$started" -lt 2000 ] || fail "the local job took ${started} ms to start behind a hung API"
ok "local job $job RUNNING in ${started} ms"

t0=$(ms)
frugal cancel "$job" >/dev/null || fail "cancel"
while [ -n "$(instance_procs "$job")" ] || [ "$(job_field "$job" status)" != CANCELLED ]; do
	[ $(( $(ms) - t0 )) -lt 10000 ] || fail "cancel not done after 10 s: $(job_field "$job" status)"
	sleep 0.02
done
cancelled=$(( $(ms) - t0 ))
echo "measured: local job cancelled, processes gone, ${cancelled} ms after frugal cancel"
[ "$cancelled" -lt 2000 ] || fail "cancel took ${cancelled} ms behind a hung API"
ok "local job cancelled in ${cancelled} ms"

# The runpod job: cancelled while its launch hangs. A pod may have been
# made: it is not over until the provider has answered.
frugal cancel "$cloud" >/dev/null 2>&1 || true
sleep 4
[ "$(job_field "$cloud" status)" != CANCELLED ] || fail "cancelled with an unresolved ledger row"
[ "$(open_rows "$cloud")" = 1 ] || fail "the ledger row is $(open_rows "$cloud"), want 1 open"
grep -q "did not answer in 3s" "$FRUGAL_HOME/controller.log" || fail "the launch did not pass its deadline"
ok "runpod job still $(job_field "$cloud" status) while unresolved; its launch passed its deadline"

# The API answers again, on the same port: the stateful fake.
for p in $(grep -l "FRUGAL_HOME=$FRUGAL_HOME" /proc/[0-9]*/environ 2>/dev/null |
	   sed 's|/proc/\([0-9]*\)/environ|\1|'); do
	grep -q hang_server "/proc/$p/cmdline" 2>/dev/null && kill "$p"
done
FAKE_LISTEN_PORT=$PORT start_fake fake_runpod.py
[ "$FAKE_PORT" = "$PORT" ] || fail "the fake listens on $FAKE_PORT, not $PORT"
s=$(wait_terminal "$cloud" 60)
[ "$s" = CANCELLED ] || fail "runpod job ended $s"
[ "$(open_rows "$cloud")" = 0 ] || fail "$(open_rows "$cloud") ledger rows open"
API_URL=http://127.0.0.1:$PORT
for _ in $(seq 100); do
	[ "$(runpod_pods)" = 0 ] && break
	sleep 0.1
done
[ "$(runpod_pods)" = 0 ] || fail "a pod is left"
[ "$(launched_count)" = 1 ] || fail "$(launched_count) pods made, want the late launch's 1"
grep -q "adopting $cloud-1" "$FRUGAL_HOME/controller.log" || fail "the late pod was not found by its token"
ok "runpod job CANCELLED once the API answered: the late launch's pod found by token and deleted; ledger closed"

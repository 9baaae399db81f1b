#!/bin/bash
# Kubernetes backend, cancel: `frugal cancel` deletes the Job with
# propagationPolicy Foreground; the pod gets SIGTERM and its grace period,
# the agent stops the job (keeping a last checkpoint), the job ends
# CANCELLED, and the Job, its pod and its Secret are gone.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
k8s_start

cat > "$TMP/long.yaml" <<'YAML'
backend: kubernetes
secrets: {TOKEN: null}
run: |
  sleep 300 &
  echo started
  sleep 300
checkpoint: {dir: ckpt, interval: 10m}
recovery: {notice_grace: 5s}
YAML
job=$(TOKEN=abc frugal launch -d "$TMP/long.yaml") || fail "launch"
wait_status "$job" RUNNING 30
for i in $(seq 100); do frugal logs "$job" 2>/dev/null | grep -q started && break; sleep 0.05; done
pod=$(k8s_pod "$job")
[ -n "$pod" ] || fail "no pod"
[ "$(k8s_count secrets "$job")" = 1 ] || fail "no Secret for the job"
pids=$(k8s_pod_procs | wc -l)
[ "$pids" -ge 3 ] || fail "the pod's processes are not running ($pids)"

t0=$(date +%s%N)
frugal cancel "$job" >/dev/null || fail "cancel exited non-zero"
[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "job is $(job_field "$job" status)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
k8s_wait_gone "$job" 30
k8s_get /fake/requests | python3 -c '
import json, sys
reqs = json.load(sys.stdin)
d = [r for r in reqs if r["method"] == "DELETE" and "/jobs/" in r["path"]]
assert d and d[0]["body"]["propagationPolicy"] == "Foreground", d
' || fail "no Foreground delete of the Job"
for i in $(seq 50); do
	[ -z "$(k8s_pod_procs)" ] && break
	sleep 0.1
done
[ -z "$(k8s_pod_procs)" ] || fail "pod processes survive the cancel: $(k8s_pod_procs)"
[ -d "$FRUGAL_HOME/storage/instances/$job-1" ] && fail "the attempt's directory is left"
ok "cancelled in ${ms}ms: Job deleted (Foreground), Secret gone with it, no pod process left"

frugal cancel "$job" | grep -q "already CANCELLED" || fail "second cancel"
ok "a second cancel says so"

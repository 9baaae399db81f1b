#!/bin/bash
# resources.ports on Kubernetes (the fake API server): each attempt gets
# its own v1 Service (frugal-JOB-N, the Job's labels, selecting the
# attempt's pod, one TCP port per port with a range expanded, type
# NodePort by default), made after its ledger row and before the Job;
# `frugal endpoints` lists NODE_IP:NODEPORT (the pod's hostIP), `frugal
# forward` runs kubectl port-forward to the Service; the Service is
# deleted with the Job. The controller is killed after the Service was
# made (controller.after_ports_open) and after the Job's create
# (controller.after_launch): restarted, it leaves no Service behind; gc
# ends a stray one of this home and leaves another home's.
# ClusterIP and LoadBalancer (backends.kubernetes.service_type) give the
# cluster's DNS name and the ingress address; more than 100 ports are
# refused before anything is made.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
export FRUGAL_CONTROLLER_IDLE_EXIT=60s
k8s_start

cat > "$TMP/job.yaml" <<'YAML'
backend: kubernetes
resources: {ports: [8080, "9000-9001"]}
run: sleep 600
YAML

# svcs [JOB]: "NAME TYPE PORTS SELECTOR" of every Service (of JOB).
svcs() {
	k8s_get /fake/state | python3 -c '
import json, sys
job = sys.argv[1]
for s in json.load(sys.stdin)["services"]:
    l = s["metadata"].get("labels", {})
    if job and l.get("frugal-job") != job:
        continue
    sp = s["spec"]
    print(s["metadata"]["name"], sp["type"],
          ",".join("%s:%d>%s" % (p["name"], p["port"], p["targetPort"]) for p in sp["ports"]),
          ",".join("%s=%s" % kv for kv in sorted(sp["selector"].items())))
' "${1:-}"
}
end_job() {
	frugal cancel "$job" >/dev/null
	[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "$1: cancel"
	k8s_wait_gone "$job" 30
	[ -z "$(svcs)" ] || fail "$1: Services left: $(svcs)"
	[ "$(ledger_open)" = 0 ] || fail "$1: $(ledger_open) ledger rows not gone"
	frugal controller --stop >/dev/null
}

# The whole life.
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
wait_status "$job" RUNNING 60
home=$(k8s_get /fake/state | python3 -c 'import json, sys; print(json.load(sys.stdin)["jobs"][0]["metadata"]["labels"]["frugal-home"])')
want="frugal-$job-1 NodePort p8080:8080>8080,p9000:9000>9000,p9001:9001>9001 frugal-attempt=1,frugal-home=$home,frugal-job=$job"
[ "$(svcs "$job")" = "$want" ] || fail "Service: $(svcs "$job"), want $want"
k8s_get /fake/state | python3 -c '
import json, sys
s = json.load(sys.stdin)
svc, = s["services"]
pod, = s["pods"]
job, = s["jobs"]
sl = svc["metadata"]["labels"]
assert all(pod["metadata"]["labels"].get(k) == v for k, v in svc["spec"]["selector"].items()), \
    (svc["spec"]["selector"], pod["metadata"]["labels"])
assert {k: v for k, v in job["metadata"]["labels"].items()} == sl, (sl, job["metadata"]["labels"])
' || fail "the Service does not select the pod, or its labels are not the Job's"
k8s_get /fake/requests | python3 -c '
import json, sys
req = [(r["method"], r["path"]) for r in json.load(sys.stdin)]
svc = next(i for i, r in enumerate(req) if r[0] == "POST" and r[1].endswith("/services"))
job = next(i for i, r in enumerate(req) if r[0] == "POST" and r[1].endswith("/jobs"))
assert svc < job, req' || fail "the Service was not made before the Job"
kind=$(python3 -c "import sqlite3; print(' '.join(r[0]+':'+r[1] for r in sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT kind, state FROM resources WHERE job_id='$job' ORDER BY id\")))")
[ "$kind" = "instance:live ports:live" ] || fail "ledger rows: $kind"
ok "Service frugal-$job-1 (NodePort, 8080 9000 9001, selecting the pod) made before the Job, in the ledger"

np() {
	k8s_get /fake/state | python3 -c '
import json, sys
print(next(p["nodePort"] for p in json.load(sys.stdin)["services"][0]["spec"]["ports"] if p["port"] == int(sys.argv[1])))' "$1"
}
out=$(frugal endpoints "$job") || fail "endpoints: $out"
echo "$out" | grep -q "^8080 .*127.0.0.1:$(np 8080) (NodePort" || fail "endpoints: $out"
echo "$out" | grep -q "^9000-9001 .*127.0.0.1:$(np 9000) 127.0.0.1:$(np 9001) (NodePort" ||
	fail "endpoints range: $out"
frugal endpoints "$job" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['backend'] == 'kubernetes' and d['endpoints'][0]['forward'] == 'command', d" ||
	fail "endpoints --json: $(frugal endpoints "$job" --json)"
ok "endpoints: 127.0.0.1:$(np 8080) (the pod's hostIP and the nodePort)"

# frugal forward runs kubectl port-forward to the Service (a stand-in here).
mkdir -p "$TMP/bin"
printf '#!/bin/sh\necho "$@" > %s\n' "$TMP/kubectl.args" > "$TMP/bin/kubectl"
chmod +x "$TMP/bin/kubectl"
out=$(PATH=$TMP/bin:$PATH frugal forward "$job" 9001 19001) || fail "forward: $out"
[ "$(cat "$TMP/kubectl.args")" = "port-forward --kubeconfig=$KUBECONFIG --context=fake -n ml svc/frugal-$job-1 19001:9001" ] ||
	fail "kubectl got: $(cat "$TMP/kubectl.args") ($out)"
ok "forward: kubectl port-forward -n ml svc/frugal-$job-1 19001:9001"
end_job "life"
ok "cancelled: Job and Service gone, ledger closed"

# Killed after the Service was made, before the Job: the restart finds no
# Job, deletes the Service, and launches attempt 2 (its own Service).
crash_at controller.after_ports_open
[ "$(svcs "$job" | cut -d' ' -f1)" = "frugal-$job-1" ] || fail "after_ports_open: Services $(svcs)"
[ "$(k8s_count jobs "$job")" = 0 ] || fail "after_ports_open: a Job already"
frugal controller >/dev/null || fail "restart"
wait_status "$job" RUNNING 60
[ "$(svcs "$job" | cut -d' ' -f1)" = "frugal-$job-2" ] || fail "after_ports_open: Services after restart: $(svcs)"
end_job after_ports_open
ok "killed after the Service was made: it was deleted, attempt 2 ran with its own, nothing left"

# Killed after the Job's create (answer lost): adopted; the Service (its
# row never got the id) is deleted by name with the Job.
crash_at controller.after_launch
frugal controller >/dev/null || fail "restart"
for i in $(seq 200); do grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" && break; sleep 0.05; done
grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" || fail "after_launch: not adopted"
[ "$(svcs | wc -l)" = 1 ] || fail "after_launch: Services $(svcs)"
end_job after_launch
ok "killed after the Job's create: adopted, its Service deleted by name at the end"

# gc: a Service of this home no live job owns (its ledger row lost) is
# ended; another home's of the same kind is left alone.
stray() {
	k8s_curl -X POST -H 'Content-Type: application/json' "$FAKE/api/v1/namespaces/ml/services" -d "{
	  \"apiVersion\": \"v1\", \"kind\": \"Service\",
	  \"metadata\": {\"name\": \"frugal-$1-1\", \"labels\": {\"frugal-job\": \"$1\", \"frugal-attempt\": \"1\", \"frugal-home\": \"$2\"}},
	  \"spec\": {\"type\": \"NodePort\", \"selector\": {\"frugal-job\": \"$1\"}, \"ports\": [{\"name\": \"p80\", \"port\": 80}]}}" >/dev/null
}
stray zzorphan "$home"
stray zzother 0badc0de
[ "$(svcs | wc -l)" = 2 ] || fail "stray Services not made: $(svcs)"
gc_ends_stray kubernetes "zzorphan-1.*kubernetes service frugal-zzorphan-1" zzother
[ "$(svcs | cut -d' ' -f1)" = "frugal-zzother-1" ] || fail "gc left: $(svcs)"
k8s_curl -X DELETE "$FAKE/api/v1/namespaces/ml/services/frugal-zzother-1" >/dev/null
ok "gc ended this home's stray Service, left another home's"

# ClusterIP and LoadBalancer.
cp "$FRUGAL_HOME/config.yaml" "$TMP/config.base"
for type in ClusterIP LoadBalancer; do
	{ cat "$TMP/config.base"; echo "    service_type: $type"; } > "$FRUGAL_HOME/config.yaml"
	frugal controller >/dev/null
	job=$(frugal launch -d "$TMP/job.yaml") || fail "launch ($type)"
	wait_status "$job" RUNNING 60
	[ "$(svcs "$job" | cut -d' ' -f2)" = "$type" ] || fail "$type: $(svcs)"
	out=$(frugal endpoints "$job") || fail "endpoints ($type): $out"
	case $type in
	ClusterIP) echo "$out" | grep -q "^8080 .*frugal-$job-1.ml.svc:8080" || fail "ClusterIP endpoints: $out";;
	LoadBalancer) echo "$out" | grep -q "^8080 *127.0.0.1:8080" || fail "LoadBalancer endpoints: $out";;
	esac
	end_job "$type"
	ok "$type: endpoints $(echo "$out" | sed -n 2p | tr -s ' ')"
done
cp "$TMP/config.base" "$FRUGAL_HOME/config.yaml"

# More than 100 ports: refused at plan time, one line, nothing made.
printf 'backend: kubernetes\nresources: {ports: ["9000-9100"]}\nrun: sleep 1\n' > "$TMP/many.yaml"
if out=$(frugal launch -d "$TMP/many.yaml" 2>&1); then fail "101 ports launched: $out"; fi
echo "$out" | grep -q "101 ports.*at most 100" || fail "101 ports: $out"
[ -z "$(svcs)" ] || fail "101 ports: a Service was made"
ok "101 ports refused: $(echo "$out" | head -1)"

#!/bin/bash
# Kubernetes backend: every request frugal sends is accepted by Prism
# serving the published Kubernetes OpenAPI v3 documents (core/v1 and
# batch/v1, ../shared/specs/kubernetes-client-go), which proxies to the
# stateful fake. Drives every kind of request the backend makes: Secret
# create and merge patch, Job create (fieldValidation=Strict), get and
# labelSelector lists of Jobs, pods and Secrets, pods/log, Job delete with
# DeleteOptions (Foreground, preconditions) -- through a job that succeeds,
# one whose pod cannot start, a cancel and gc -- then reads Prism's log:
# not one request violation, not one path outside the documents.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
K8S_EXTRA_CONFIG="    start_timeout: 1s"
k8s_start --prism

cat > "$TMP/ok.yaml" <<'YAML'
backend: kubernetes
resources: {cpus: 1, memory: 0.5, disk_size: 10}
secrets: {API_KEY: null}
run: echo "key is ${#API_KEY} long"
stop: {max_runtime: 30m}
YAML
job=$(API_KEY=xyz frugal launch -d "$TMP/ok.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job is $(job_field "$job" status): $(job_field "$job" reason)"
k8s_wait_gone "$job" 30

cat > "$TMP/bad.yaml" <<'YAML'
backend: kubernetes
resources: {image_id: "fake.invalid/none:1"}
run: echo never
YAML
job=$(frugal launch -d "$TMP/bad.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = FAILED ] || fail "the pull failure did not fail the job"
k8s_wait_gone "$job" 30

cat > "$TMP/long.yaml" <<'YAML'
backend: kubernetes
run: sleep 300
recovery: {notice_grace: 3s}
YAML
job=$(frugal launch -d "$TMP/long.yaml") || fail "launch"
wait_status "$job" RUNNING 60
frugal cancel "$job" >/dev/null || fail "cancel"
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "cancel"
k8s_wait_gone "$job" 30
frugal gc > "$TMP/gc.out" 2>&1 || fail "gc: $(cat "$TMP/gc.out")"

log=$TMP/k8s/prism.log
grep -q "Violation: request" "$log" && fail "Prism found request violations:
$(grep -B3 "Violation: request" "$log" | head -40)"
for route in "post /api/v1/namespaces/ml/secrets" "patch /api/v1/namespaces/ml/secrets/" \
	     "post /apis/batch/v1/namespaces/ml/jobs" "get /apis/batch/v1/namespaces/ml/jobs/" \
	     "get /apis/batch/v1/namespaces/ml/jobs " "get /api/v1/namespaces/ml/pods " \
	     "get /api/v1/namespaces/ml/secrets " "get /api/v1/namespaces/ml/pods/.*/log" \
	     "delete /apis/batch/v1/namespaces/ml/jobs/"; do
	grep -q "HTTP SERVER\] $route.*Request received" "$log" || fail "Prism saw no '$route' request"
done
n=$(grep -c "Request received" "$log")
ok "Prism accepted all $n requests of frugal against the Kubernetes OpenAPI documents"

# Helpers for the kubernetes backend's end-to-end tests (tests/e2e/test_k8s_*.sh).
# Source after tests/e2e/lib.sh. Starts tests/fakes/k8s_fake.py (the API
# server and its kubelet) on 127.0.0.1, writes a kubeconfig and config.yaml
# for it, and stops it (and every pod process) when the test ends.
#
#   k8s_start [--tls] [--prism]   start; FAKE (its URL), API (what frugal talks to)
#   k8s_get PATH                  GET on the fake (a JSON document)
#   k8s_control PATH              POST a test control (/fake/...)
#   k8s_count KIND [JOB]          objects of kind (jobs, pods, secrets, services) [of a frugal job]
#   k8s_pod JOB                   the name of a pod of a frugal job
#
# The PersistentVolumeClaim "frugal-data" is $FRUGAL_HOME/storage (the
# controller's default storage), mounted in the pod at that same path.

K8S_FAKE_PY=$FRUGAL_SRC/tests/fakes/k8s_fake.py
K8S_OPENAPI=${FRUGAL_SHARED:-$FRUGAL_SRC/../shared}/specs/kubernetes-client-go/openapi/openapitest/testdata
K8S_TOKEN=frugal-test-token-$$-$RANDOM
K8S_FAKE_PID=
K8S_PRISM_PID=

k8s_skip() { echo "skipped: $1 not available"; exit 77; }

command -v python3 >/dev/null 2>&1 || k8s_skip python3
command -v curl >/dev/null 2>&1 || k8s_skip curl
[ -f "$K8S_OPENAPI/apis__batch__v1_openapi.json" ] || k8s_skip "the Kubernetes OpenAPI documents"

k8s_cleanup() {
	local rc=$?
	# The fake ends its pods' processes when it is told to stop.
	if [ -n "$K8S_FAKE_PID" ]; then
		kill "$K8S_FAKE_PID" 2>/dev/null
		wait "$K8S_FAKE_PID" 2>/dev/null
	fi
	if [ -n "$K8S_PRISM_PID" ]; then
		kill "$K8S_PRISM_PID" 2>/dev/null
		wait "$K8S_PRISM_PID" 2>/dev/null
	fi
	# Pods are processes of the fake's kubelet: none may outlive the test.
	for p in $(grep -l "K8S_FAKE_ROOT=$TMP/k8s" /proc/[0-9]*/environ 2>/dev/null |
		   sed 's|/proc/\([0-9]*\)/environ|\1|'); do
		kill -9 "$p" 2>/dev/null || true
	done
	sleep 0.2
	# The agents' stderr is their pod's log: a sanitizer report there fails
	# the test too.
	if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP"/k8s/root/pods/*/log \
		>/dev/null 2>&1; then
		echo "FAIL: sanitizer report in a pod's log:" >&2
		grep -hE -A12 "ERROR: (Address|Leak)Sanitizer|runtime error:" \
			"$TMP"/k8s/root/pods/*/log 2>/dev/null | head -60 >&2
		rc=1
	fi
	(exit $rc)
	cleanup
}
trap k8s_cleanup EXIT

# Wait for a file to appear (the fake writes its port there).
k8s_wait_file() {
	local i
	for i in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}

# A CA, a server certificate for 127.0.0.1 and a client certificate.
k8s_certs() {
	local d=$1
	command -v openssl >/dev/null 2>&1 || k8s_skip openssl
	mkdir -p "$d"
	(
	cd "$d" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
		-subj /CN=frugal-test-ca 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
		-subj /CN=127.0.0.1 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' > san.ext &&
	openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out server.crt -days 2 -extfile san.ext 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr \
		-subj "/CN=frugal-test/O=system:masters" 2>/dev/null &&
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out client.crt -days 2 2>/dev/null
	) || fail "openssl could not make the test certificates"
}

k8s_b64() { base64 -w0 < "$1"; }

k8s_start() {
	local tls=0 prism=0 scheme=http
	while [ $# -gt 0 ]; do
		case $1 in --tls) tls=1;; --prism) prism=1;; esac
		shift
	done
	mkdir -p "$TMP/k8s" "$FRUGAL_HOME/storage"
	local args="--port-file $TMP/k8s/port --root $TMP/k8s/root --openapi $K8S_OPENAPI"
	args="$args --pvc frugal-data=$FRUGAL_HOME/storage --token $K8S_TOKEN"
	if [ $tls = 1 ]; then
		k8s_certs "$TMP/k8s/tls"
		args="$args --tls-dir $TMP/k8s/tls"
		scheme=https
	fi
	# shellcheck disable=SC2086
	K8S_FAKE_ROOT=$TMP/k8s python3 "$K8S_FAKE_PY" $args 2> "$TMP/k8s/fake.log" &
	K8S_FAKE_PID=$!
	k8s_wait_file "$TMP/k8s/port" || fail "the fake API server did not start: $(cat "$TMP/k8s/fake.log")"
	FAKE=$scheme://127.0.0.1:$(cat "$TMP/k8s/port")
	API=$FAKE
	if [ $prism = 1 ]; then
		local prism_bin=$FRUGAL_SRC/tests/peers/node_modules/.bin/prism
		[ -x "$prism_bin" ] || k8s_skip "prism (run tests/peers/prism-install)"
		# The two published documents, merged, cut to the paths frugal may
		# call (Prism starts in seconds instead of a minute); read here, at
		# test time, never copied into the project.
		python3 - "$K8S_OPENAPI" "$TMP/k8s/openapi.json" <<'PY' || fail "cannot prepare the OpenAPI document"
import json, re, sys
d, out = sys.argv[1:3]
core = json.load(open(d + "/api__v1_openapi.json"))
batch = json.load(open(d + "/apis__batch__v1_openapi.json"))
paths = dict(core["paths"]); paths.update(batch["paths"])
schemas = dict(core["components"]["schemas"]); schemas.update(batch["components"]["schemas"])
keep = re.compile(r"^/(api/v1|apis/batch/v1)/namespaces/\{namespace\}/(jobs|pods|secrets|services)"
                  r"(/\{name\}(/(log|eviction|status))?)?$")
paths = {p: v for p, v in paths.items() if keep.match(p)}
need = set()
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "$ref":
                n = v.split("/")[-1]
                if n not in need:
                    need.add(n); walk(schemas[n])
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(paths)
doc = {"openapi": core["openapi"], "info": core["info"], "paths": paths,
       "components": {"schemas": {n: schemas[n] for n in need},
                      "securitySchemes": core["components"]["securitySchemes"]}}
json.dump(doc, open(out, "w"))
PY
		local pport
		pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		"$prism_bin" proxy "$TMP/k8s/openapi.json" "$FAKE" -h 127.0.0.1 -p "$pport" \
			> "$TMP/k8s/prism.log" 2>&1 &
		K8S_PRISM_PID=$!
		local i
		for i in $(seq 1200); do
			grep -q "Prism is listening" "$TMP/k8s/prism.log" 2>/dev/null && break
			kill -0 "$K8S_PRISM_PID" 2>/dev/null || fail "prism died: $(tail -5 "$TMP/k8s/prism.log")"
			sleep 0.1
		done
		grep -q "Prism is listening" "$TMP/k8s/prism.log" || fail "prism did not start in 120s"
		API=http://127.0.0.1:$pport
	fi
	if [ $tls = 1 ]; then
		cat > "$TMP/k8s/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster:
    server: $API
    certificate-authority-data: $(k8s_b64 "$TMP/k8s/tls/ca.crt")
users:
- name: tester
  user:
    client-certificate-data: $(k8s_b64 "$TMP/k8s/tls/client.crt")
    client-key-data: $(k8s_b64 "$TMP/k8s/tls/client.key")
contexts:
- name: fake
  context: {cluster: fake, user: tester, namespace: ml}
EOF
	else
		cat > "$TMP/k8s/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster: {server: "$API"}
users:
- name: tester
  user: {token: $K8S_TOKEN}
contexts:
- name: fake
  context: {cluster: fake, user: tester, namespace: ml}
EOF
	fi
	chmod 600 "$TMP/k8s/kubeconfig"
	export KUBECONFIG=$TMP/k8s/kubeconfig
	write_config "backends:
  kubernetes:
    image: registry.example/frugal-agent:1
    frugal_bin: $FRUGAL_BIN
    pvc: frugal-data
    pvc_mount_path: $FRUGAL_HOME/storage
    price_per_gpu_hour: 1.0
    price_per_hour: 0.1
    ttl_seconds_after_finished: 60
${K8S_EXTRA_CONFIG:-}"
}

k8s_curl() {
	if [ "${FAKE#https}" != "$FAKE" ]; then
		curl -s --cacert "$TMP/k8s/tls/ca.crt" --cert "$TMP/k8s/tls/client.crt" \
			--key "$TMP/k8s/tls/client.key" "$@"
	else
		curl -s -H "Authorization: Bearer $K8S_TOKEN" "$@"
	fi
}

k8s_get() { k8s_curl "$FAKE$1"; }
k8s_control() { k8s_curl -X POST "$FAKE$1"; }

# k8s_count KIND [JOB]: how many objects of KIND (of frugal job JOB) exist.
k8s_count() {
	k8s_get "/fake/state" | python3 -c '
import json, sys
kind, job = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
objs = json.load(sys.stdin)[kind]
print(sum(1 for o in objs if job is None or o["metadata"].get("labels", {}).get("frugal-job") == job))
' "$@"
}

# k8s_pod JOB: the name of the live pod of frugal job JOB ("" when none).
k8s_pod() {
	k8s_get "/fake/state" | python3 -c '
import json, sys
for o in json.load(sys.stdin)["pods"]:
    if o["metadata"]["labels"].get("frugal-job") == sys.argv[1] and "deletionTimestamp" not in o["metadata"]:
        print(o["metadata"]["name"]); break
' "$1"
}

# k8s_pod_procs: pids of the processes of this test's pods (not the fake's own).
k8s_pod_procs() {
	grep -l "K8S_FAKE_ROOT=$TMP/k8s" /proc/[0-9]*/environ 2>/dev/null |
		xargs -r grep -l "K8S_FAKE_POD=" 2>/dev/null |
		sed 's|/proc/\([0-9]*\)/environ|\1|'
}

# k8s_wait_gone JOB [SECONDS]: until no Job, pod, Secret or Service of JOB is left.
k8s_wait_gone() {
	local i n
	for i in $(seq $((${2:-30} * 10))); do
		n=$(( $(k8s_count jobs "$1") + $(k8s_count pods "$1") + $(k8s_count secrets "$1") +
		      $(k8s_count services "$1") ))
		[ "$n" = 0 ] && return 0
		sleep 0.1
	done
	fail "objects of $1 left in the cluster: $(k8s_get /fake/state | head -c 2000)"
}

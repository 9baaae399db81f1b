#!/bin/bash
# Kubernetes backend over HTTPS with a client certificate: a CA, a server
# certificate and a client certificate made with openssl at test time;
# the fake API server accepts the client certificate (no token). 1. The
# kubeconfig holds them inline (*-data): a job runs, and no key is ever
# written to a file. 2. The kubeconfig names files (relative paths): a job
# runs. 3. A CA that did not sign the server: refused, and the job fails
# saying so. 4. No credentials: 401, the job fails saying so. 5. An exec
# credential plugin (what EKS/GKE kubeconfigs use) gives the token: run
# once and its token kept until near its expiry.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/k8s_env.sh"
k8s_start --tls
mkdir -p "$TMP/tmpdir"
export TMPDIR=$TMP/tmpdir

cat > "$TMP/job.yaml" <<'YAML'
backend: kubernetes
run: echo "over tls"
YAML

job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job is $(job_field "$job" status): $(job_field "$job" reason)"
frugal logs "$job" | grep -q "over tls" || fail "logs"
k8s_wait_gone "$job" 30
[ -z "$(ls -A "$TMP/tmpdir")" ] || fail "files written to TMPDIR: $(ls -A "$TMP/tmpdir")"
key=$(sed -n 2p "$TMP/k8s/tls/client.key")
grep -rl -- "$key" "$FRUGAL_HOME" 2>/dev/null && fail "the client key was copied under FRUGAL_HOME"
ok "inline client certificate and CA (kept in memory): job SUCCEEDED"

frugal controller --stop >/dev/null
cp "$TMP/k8s/kubeconfig" "$TMP/k8s/kubeconfig.inline"
cat > "$TMP/k8s/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: files
clusters:
- name: fake
  cluster: {server: "$FAKE", certificate-authority: tls/ca.crt}
users:
- name: tester
  user: {client-certificate: tls/client.crt, client-key: tls/client.key}
contexts:
- name: files
  context: {cluster: fake, user: tester, namespace: ml}
EOF
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job is $(job_field "$job" status): $(job_field "$job" reason)"
k8s_wait_gone "$job" 30
ok "certificate files named relative to the kubeconfig: job SUCCEEDED"

frugal controller --stop >/dev/null
mkdir -p "$TMP/other"
(cd "$TMP/other" && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt \
	-days 2 -subj /CN=someone-else 2>/dev/null) || fail "openssl"
sed "s|certificate-authority: tls/ca.crt|certificate-authority: $TMP/other/ca.crt|" \
	"$TMP/k8s/kubeconfig" > "$TMP/k8s/kubeconfig.bad"
cp "$TMP/k8s/kubeconfig.bad" "$TMP/k8s/kubeconfig"
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "an untrusted server was accepted"
reason=$(job_field "$job" reason)
echo "$reason" | grep -qi "certificate" || fail "reason does not say why: $reason"
[ "$(k8s_count jobs "$job")" = 0 ] || fail "a Job was made"
ok "a server the CA did not sign is refused: $reason"

frugal controller --stop >/dev/null
cat > "$TMP/k8s/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: anon
clusters:
- name: fake
  cluster: {server: "$FAKE", certificate-authority: tls/ca.crt}
contexts:
- name: anon
  context: {cluster: fake, namespace: ml}
EOF
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = FAILED ] || fail "no credentials were accepted"
reason=$(job_field "$job" reason)
echo "$reason" | grep -q "401" || fail "reason does not say 401: $reason"
ok "no credentials: 401, the job fails saying so"

frugal controller --stop >/dev/null
cat > "$TMP/k8s/get-token" <<EOF
#!/bin/sh
echo "called \$KUBERNETES_EXEC_INFO" >> "$TMP/plugin-calls"
[ "\$1" = --cluster ] && [ "\$TEAM" = ml ] || exit 2
exp=\$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$K8S_TOKEN" "\$exp"
EOF
chmod +x "$TMP/k8s/get-token"
cat > "$TMP/k8s/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: plugin
clusters:
- name: fake
  cluster: {server: "$FAKE", certificate-authority: tls/ca.crt}
users:
- name: viaexec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./get-token
      args: [--cluster, fake]
      env: [{name: TEAM, value: ml}]
      interactiveMode: Never
contexts:
- name: plugin
  context: {cluster: fake, user: viaexec, namespace: ml}
EOF
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job is $(job_field "$job" status): $(job_field "$job" reason)"
k8s_wait_gone "$job" 30
calls=$(wc -l < "$TMP/plugin-calls")
[ "$calls" -ge 1 ] && [ "$calls" -le 2 ] || fail "the plugin ran $calls times"
grep -q '"interactive":false' "$TMP/plugin-calls" || fail "KUBERNETES_EXEC_INFO: $(cat "$TMP/plugin-calls")"
grep -rl -- "$K8S_TOKEN" "$FRUGAL_HOME" 2>/dev/null && fail "the plugin's token was written under FRUGAL_HOME"
ok "exec credential plugin: run $calls time(s) for a whole job, its token used, never stored"

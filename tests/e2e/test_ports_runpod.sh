#!/bin/bash
# resources.ports on Runpod (the stateful fake behind Prism, validating
# against Runpod's v2 OpenAPI document): every port is asked for in the
# pod create request as PORT/http beside 22/tcp; `frugal endpoints` gives
# Runpod's proxy URL per port (https://POD-PORT.proxy.runpod.net), `frugal
# forward` says so; the ports go with the pod. More than 10 ports, or 22,
# are refused at plan time with one line.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec runpod-docs/api-reference-v2/openapi.json
need_prism

KEY="runpod-key-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY FAKE_RUNPOD_VOLUME="vol1:US-TX-3"
mkdir -p "$TMP/vol"
echo "ssh-ed25519 AAAAfrugaltest test@frugal" > "$TMP/id.pub"
start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
write_config "backends:
  runpod:
    base_url: $API_URL
    network_volume_id: vol1
    volume_mount: $TMP/vol
    ssh_public_key: $TMP/id.pub
    ssh_command: $FAKES/fake_ssh.py
    start_sshd: false
    request_interval: 0
    sync_interval: 0
    release_wait: 30"

cat > "$TMP/many.yaml" <<'YAML'
resources: {accelerators: RTX4090:1, ports: ["8000-8010"]}
run: "true"
YAML
out=$(frugal check --backend runpod "$TMP/many.yaml" 2>&1) && fail "11 ports planned: $out"
echo "$out" | grep -q "Runpod exposes 10 HTTP ports of a pod at most" || fail "11 ports: $out"
sed 's/8000-8010/22/' "$TMP/many.yaml" > "$TMP/ssh.yaml"
out=$(frugal check --backend runpod "$TMP/ssh.yaml" 2>&1) && fail "port 22 planned: $out"
echo "$out" | grep -q "it is the pod's SSH port" || fail "port 22: $out"
ok "11 ports and port 22 refused at plan time with one line"

cat > "$TMP/task.yaml" <<'YAML'
name: runpod-ports
resources: {accelerators: RTX4090:1, ports: [8888, "7860-7861"]}
run: sleep 300
YAML
job=$(frugal launch -d --backend runpod "$TMP/task.yaml") || fail "launch"
wait_status "$job" RUNNING 60
read -r pod ports < <(curl -s -H "Authorization: Bearer $KEY" "$API_URL/v2/pods" |
	python3 -c 'import json, sys; p = json.load(sys.stdin)["pods"]; assert len(p) == 1, p; print(p[0]["id"], " ".join(sorted(p[0]["ports"])))')
[ "$ports" = "22/tcp 7860/http 7861/http 8888/http" ] || fail "pod ports: $ports"
ok "pod $pod created with ports $ports"

out=$(frugal endpoints "$job") || fail "endpoints: $out"
echo "$out" | grep -q "^8888 *https://$pod-8888.proxy.runpod.net" || fail "endpoints: $out"
echo "$out" | grep -q "^7860-7861 *https://$pod-7860.proxy.runpod.net" || fail "endpoints range: $out"
url=$(frugal endpoints "$job" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["endpoints"][1]["url"])')
[ "$url" = "https://$pod-7860.proxy.runpod.net" ] || fail "endpoints --json url: $url"
out=$(frugal forward "$job" 7861) || fail "forward: $out"
echo "$out" | grep -q "reachable at https://$pod-7861.proxy.runpod.net.*nothing to forward" || fail "forward: $out"
ok "endpoints and forward give Runpod's proxy URLs"

frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "cancel"
[ "$(runpod_pods)" = 0 ] || fail "$(runpod_pods) pods left"
ok "cancelled: the pod (and its ports) gone"

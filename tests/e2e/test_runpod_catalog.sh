#!/bin/bash
# Runpod REST API v2: live capacity from the GPU catalog, through Prism.
#  1. The cheapest data center (CA-MTL-1) has no stock in Runpod's GPU
#     catalog (GET /v2/catalog/gpus/{id}?include=AVAILABILITY&product=POD):
#     the plan skips it, so no create is tried there and attempt 1 runs in
#     the next one; the plan says what the catalog reported.
#  2. Prism really checks: a v1-shaped create (imageName, interruptible) is
#     refused as a contract violation.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec runpod-docs/api-reference-v2/openapi.json
need_prism

KEY="runpod-key-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY FAKE_RUNPOD_NO_STOCK=CA-MTL-1
start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
write_config "backends:
  runpod:
    base_url: $API_URL
    shared_storage: true
    ssh_command: $FAKES/fake_ssh.py
    start_sshd: false
    request_interval: 0
    sync_interval: 0
    release_wait: 30"
cat > "$TMP/task.yaml" <<'YAML'
resources: {accelerators: RTX4090:1}
run: echo "ran on attempt $FRUGAL_ATTEMPT"
YAML

frugal check --backend runpod "$TMP/task.yaml" > "$TMP/check.out" 2>&1 || fail "check: $(cat "$TMP/check.out")"
grep -q "Runpod's catalog: HIGH stock" "$TMP/check.out" || fail "the plan does not say what the catalog reported: $(cat "$TMP/check.out")"
ok "the plan says what Runpod's catalog reported"

job=$(frugal launch -d --backend runpod "$TMP/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "job did not succeed"
z1=$(attempt_field "$job" 1 zone)
[ "$z1" != CA-MTL-1 ] || fail "attempt 1 in CA-MTL-1, which the catalog shows no stock in"
[ "$(attempt_field "$job" 1 outcome)" = succeeded ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
[ "$(launched_count)" = 1 ] || fail "$(launched_count) pods, want 1"
grep -q "CA-MTL-1" "$FAKE_CLOUD_ROOT/launched.log" && fail "a create was tried in CA-MTL-1"
grep -q "/v2/catalog/gpus/NVIDIA GeForce RTX 4090 .*'include': \['AVAILABILITY'\].*'product': \['POD'\]" \
	"$FAKE_CLOUD_ROOT/catalog.log" || fail "no availability read of the catalog: $(cat "$FAKE_CLOUD_ROOT/catalog.log" 2>/dev/null)"
ok "no stock in CA-MTL-1 -> attempt 1 in $z1, one pod, no create in CA-MTL-1"
for i in $(seq 100); do
	[ "$(runpod_pods)" = 0 ] && break
	sleep 0.1
done
[ "$(runpod_pods)" = 0 ] || fail "a pod is left"
check_prism

code=$(curl -s -o "$TMP/bad.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $KEY" \
	-H "Content-Type: application/json" \
	-d '{"name": "x", "imageName": "busybox", "gpu": {"id": "NVIDIA A40"}, "interruptible": true}' \
	"$API_URL/v2/pods")
[ "$code" = 422 ] || fail "Prism let a v1-shaped create through (HTTP $code)"
ok "negative control: Prism refuses a request the v2 spec does not allow (HTTP $code)"

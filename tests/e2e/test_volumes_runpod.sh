#!/bin/bash
# volumes on Runpod (the stateful fake behind Prism, validating against
# Runpod's v2 OpenAPI document): a network volume given by id in the task
# (SkyPilot's volumes: {PATH: NAME}) puts the plan in the volume's data
# center (GET /v2/network-volumes/{id}); a second volume, a clash with
# backends.runpod.network_volume_id, an unknown volume and another kind
# are refused at plan time with one line.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/fakes/cloud.sh"
need_spec runpod-docs/api-reference-v2/openapi.json
need_prism

KEY="runpod-key-$(date +%s%N)"
export RUNPOD_API_KEY=$KEY FAKE_RUNPOD_KEY=$KEY FAKE_RUNPOD_VOLUME="vol7:EU-RO-1"
start_fake fake_runpod.py
start_prism runpod-docs/api-reference-v2/openapi.json
conf() {
	write_config "storage: s3://frugal-test-bucket/home
backends:
  runpod:
    base_url: $API_URL
    request_interval: 0
$1"
}
conf ""
printf 'resources: {accelerators: RTX4090:1}\nvolumes:\n  /data: vol7\nrun: "true"\n' > "$TMP/t.yaml"
out=$(frugal check --backend runpod "$TMP/t.yaml" 2>&1) || fail "check: $out"
echo "$out" | grep -q "EU-RO-1" || fail "the plan is not in the volume's data center: $out"
ok "a task's network volume puts the plan in its data center (EU-RO-1)"

printf 'resources: {accelerators: RTX4090:1}\nvolumes:\n  /data: nosuch\nrun: "true"\n' > "$TMP/u.yaml"
out=$(frugal check --backend runpod "$TMP/u.yaml" 2>&1) && fail "an unknown volume planned: $out"
echo "$out" | grep -q "volumes./data" || fail "unknown volume: $out"
printf 'resources: {accelerators: RTX4090:1}\nvolumes:\n  /a: vol7\n  /b: vol8\nrun: "true"\n' > "$TMP/two.yaml"
out=$(frugal check --backend runpod "$TMP/two.yaml" 2>&1) && fail "two volumes planned: $out"
echo "$out" | grep -q "a Runpod pod has one network volume" || fail "two volumes: $out"
printf 'resources: {accelerators: RTX4090:1}\nvolumes:\n  /a: ebs://snap-1\nrun: "true"\n' > "$TMP/ebs.yaml"
out=$(frugal check --backend runpod "$TMP/ebs.yaml" 2>&1) && fail "ebs planned on runpod: $out"
echo "$out" | grep -q "cannot be given by backend runpod" || fail "ebs: $out"
conf "    network_volume_id: vol7"
out=$(frugal check --backend runpod "$TMP/t.yaml" 2>&1) && fail "a clash planned: $out"
echo "$out" | grep -q "backends.runpod.network_volume_id (vol7) is set" || fail "clash: $out"
ok "an unknown volume, two volumes, ebs:// and a clash with network_volume_id refused in one line"

#!/bin/bash
# The EC2 boot (the UserData moto stored, run as cloud-init would) on a
# userland frugal does not control: the Debian 11 root of
# tests/e2e/foreign_root.sh with curl (as a cloud image has) and none of
# frugal's libraries (no libuv, jansson, libyaml, SQLite).
#  1. g4dn (x86_64): the agent is the static dist/frugal-linux-x86_64
#     (backends.aws.agent_dist), the job SUCCEEDS, its instance is gone.
#  2. g5g (Graviton): the plan picks the arm64 image and ships
#     frugal-linux-aarch64, which runs under qemu-aarch64-static on an
#     emulated aarch64 machine; the job SUCCEEDS.
#  3. The wrong architecture: a g5g attempt whose machine says x86_64.
#     The boot stores a status.json with outcome launch_failed and the
#     reason, and boot.log, and powers off: the attempt ends launch_failed
#     and its instance is terminated.
#  4. The dynamic build (what every backend shipped before make dist) on
#     this userland: the agent cannot start; the same clear error, the
#     machine ends.
#  5. Without agent_dist and no aarch64 binary beside frugal, a g5g plan
#     is refused at launch time, naming make dist.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/e2e/foreign_root.sh"
is_root || skip "chroot not available (needs root)"
dist_binaries_or_skip
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
boot_root_make
ROOT=$BOOT_ROOT
trap 'st=$?; rm -rf "$ROOT"/tmp/frugal-vm-$$-*; (exit $st); aws_cleanup' EXIT
start_moto
start_proxy
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

# Two images of one name, one per architecture: the plan's arch chooses.
images=$(python3 -c "
import boto3
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
out = []
for arch in ('x86_64', 'arm64'):
    r = ec2.register_image(Name='frugal-e2e-dlami-' + arch, Architecture=arch,
                           RootDeviceName='/dev/xvda', VirtualizationType='hvm')
    out.append(r['ImageId'])
print(' '.join(out))") || fail "cannot register the test images"
read -r ami_x86 ami_arm <<< "$images"
owner=$(python3 -c "
import boto3
print(boto3.client('sts', endpoint_url='$MOTO_URL', region_name='us-east-1').get_caller_identity()['Account'])")
config() {
	write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    regions: us-east-1
    image_name: \"frugal-e2e-dlami-*\"
    image_owner: \"$owner\"
    instance_profile: frugal-agent
$*"
}
config "    agent_dist: $DIST_OUT"

mkdir -p "$TMP/wd"
echo "dataset-line" > "$TMP/wd/data.txt"
task() {	# task NAME ACCEL
	cat > "$TMP/$1.yaml" <<YAML
name: $1
workdir: $TMP/wd
resources: {accelerators: $2:1}
run: |
  cat data.txt
  echo "on debian \$(cat /etc/debian_version)"
  mkdir -p out && echo "weights" > out/model.bin
outputs: {paths: [out]}
YAML
}
sha_of_agent() {	# the binary the instance fetched: its key in S3
	s3_keys "bin/" | sed -n 's|^bin/frugal-||p'
}

# ---- 1. x86_64, static agent -------------------------------------------------------
task foreign-x86 T4
job=$(frugal launch -d "$TMP/foreign-x86.yaml") || fail "launch x86"
boot_vm_in_root "$ROOT" "$job" 1
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] ||
	fail "x86 job $(job_field "$job" status): $(cat "$VM_STATE"/root/*.boot.log)"
frugal logs "$job" | grep -q "on debian 11" || fail "not run in the Debian 11 root: $(frugal logs "$job")"
[ "$(s3_get "home/jobs/$job/outputs/out/model.bin")" = weights ] || fail "output not in S3"
want=$(sha256sum "$DIST_OUT/frugal-linux-x86_64" | cut -d' ' -f1)
sha_of_agent | grep -qx "$want" || fail "the instance did not get frugal-linux-x86_64: $(sha_of_agent)"
[ "$(live_count "$job")" = 0 ] || fail "instance left: $(instances_json)"
[ "$(instances_json | python3 -c "import json,sys; print([i['image'] for i in json.load(sys.stdin) if i['tags'].get('frugal-job') == '$job'][0])")" = "$ami_x86" ] ||
	fail "g4dn did not get the x86_64 image"
ok "g4dn: the static x86_64 agent ran the job in the Debian 11 root (x86_64 image, instance gone)"

# ---- 2. aarch64 under qemu ------------------------------------------------------------
task foreign-arm T4g
job=$(frugal launch -d "$TMP/foreign-arm.yaml") || fail "launch arm"
[ "$(instances_json | python3 -c "import json,sys; print([i['type'] for i in json.load(sys.stdin) if i['tags'].get('frugal-job') == '$job'] or [''])" )" != "" ] || true
boot_vm_in_root "$ROOT" "$job" 1 aarch64
[ "$(wait_terminal "$job" 240)" = SUCCEEDED ] ||
	fail "arm job $(job_field "$job" status): $(cat "$VM_STATE"/root/*.boot.log)"
frugal logs "$job" | grep -q "on debian 11" || fail "arm job output: $(frugal logs "$job")"
want=$(sha256sum "$DIST_OUT/frugal-linux-aarch64" | cut -d' ' -f1)
sha_of_agent | grep -qx "$want" || fail "the instance did not get frugal-linux-aarch64: $(sha_of_agent)"
read -r itype image <<< "$(instances_json | python3 -c "
import json, sys
i = [i for i in json.load(sys.stdin) if i['tags'].get('frugal-job') == '$job'][0]
print(i['type'], i['image'])")"
case $itype in g5g.*) ;; *) fail "T4g planned on $itype";; esac
[ "$image" = "$ami_arm" ] || fail "$itype got image $image, not the arm64 one"
[ "$(live_count "$job")" = 0 ] || fail "instance left: $(instances_json)"
ok "$itype: arm64 image, frugal-linux-aarch64 under qemu-aarch64-static ran the job, instance gone"

# ---- 3. the wrong architecture -------------------------------------------------------
task foreign-wrong T4g
job=$(frugal launch -d "$TMP/foreign-wrong.yaml") || fail "launch wrong-arch"
boot_vm_in_root "$ROOT" "$job" 1	# the machine says x86_64
for _ in $(seq 600); do
	[ -n "$(attempt_field "$job" 1 outcome 2>/dev/null | grep -v None)" ] && break
	sleep 0.1
done
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] ||
	fail "wrong-arch attempt: $(attempt_field "$job" 1 outcome): $(cat "$VM_STATE"/root/*.boot.log)"
s3_get "home/jobs/$job/attempts/1/status.json" | grep -q "agent built for aarch64, machine is x86_64" ||
	fail "no clear reason in status.json: $(s3_get "home/jobs/$job/attempts/1/status.json")"
s3_get "home/jobs/$job/attempts/1/boot.log" | grep -q "agent built for aarch64, machine is x86_64" ||
	fail "boot.log not stored with the reason"
grep -q -- "-h now" "$VM_STATE/shutdown.log" || fail "the machine did not power off"
for _ in $(seq 100); do [ "$(live_count "$job")" = 0 ] && break; sleep 0.1; done
[ "$(live_count "$job")" = 0 ] || fail "wrong-arch instance left: $(instances_json)"
frugal status "$job" --json | grep -q "agent built for aarch64, machine is x86_64" ||
	echo "note: the reason is in status.json and boot.log, not (yet) in the job's events"
frugal cancel "$job" >/dev/null 2>&1 || true
ok "wrong arch: launch_failed with 'agent built for aarch64, machine is x86_64' (status.json, boot.log), instance terminated"

# ---- 4. the dynamic build on this userland -------------------------------------------
config ""
task foreign-dyn T4
job=$(frugal launch -d "$TMP/foreign-dyn.yaml") || fail "launch dynamic"
boot_vm_in_root "$ROOT" "$job" 1
for _ in $(seq 600); do
	[ -n "$(attempt_field "$job" 1 outcome 2>/dev/null | grep -v None)" ] && break
	sleep 0.1
done
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] ||
	fail "dynamic agent attempt: $(attempt_field "$job" 1 outcome): $(cat "$VM_STATE"/root/*.boot.log)"
st=$(s3_get "home/jobs/$job/attempts/1/status.json")
echo "$st" | grep -q "the agent cannot start on this machine: .*\.so" || fail "unclear reason: $st"
for _ in $(seq 100); do [ "$(live_count "$job")" = 0 ] && break; sleep 0.1; done
[ "$(live_count "$job")" = 0 ] || fail "instance of the dynamic agent left: $(instances_json)"
frugal cancel "$job" >/dev/null 2>&1 || true
ok "dynamic build: launch_failed '$(echo "$st" | sed -n 's/.*"reason": "\([^"]*\)".*/\1/p' | cut -c1-90)...', instance terminated"

# ---- 5. no aarch64 binary: refused before anything is made ----------------------------
n_before=$(instances_json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
task foreign-none T4g
out=$(frugal launch "$TMP/foreign-none.yaml" 2>&1)
echo "$out" | grep -q "make dist" || fail "no error naming make dist: $out"
echo "$out" | grep -q "aarch64" || fail "the error does not name the arch: $out"
[ "$(instances_json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")" = "$n_before" ] ||
	fail "an instance was made for a plan with no agent"
ok "no aarch64 agent: refused with '$(echo "$out" | grep -o 'no frugal agent for aarch64[^:]*')'"

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

# Any image name: the plan's architecture picks among moto's images
# (DescribeImages filter architecture); image_arch says what was used.
image_arch() {
	python3 -c "
import boto3, sys
ec2 = boto3.client('ec2', endpoint_url='$MOTO_URL', region_name='us-east-1')
print(ec2.describe_images(ImageIds=[sys.argv[1]])['Images'][0]['Architecture'])" "$1"
}
config() {
	write_config "storage: s3://$AWS_BUCKET/home
default_backend: aws
backends:
  aws:
    regions: us-east-1
    image_name: \"*\"
    image_owner: amazon
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
# launched JOB: until attempt 1 has an instance; fails at once when the
# job ends first (a launch refused).
launched() {
	local s
	for _ in $(seq 300); do
		[ -n "$(instance_of "$1" 1)" ] && return 0
		s=$(job_field "$1" status 2>/dev/null)
		case $s in FAILED|CANCELLED|SUCCEEDED)
			fail "job $1 is $s before an instance: $(frugal status "$1" 2>&1 | tail -5)";;
		esac
		sleep 0.2
	done
	fail "no instance for $1"
}
sha_of_agent() {	# the binary the instance fetched: its key in S3
	s3_keys "home/bin/" | sed -n 's|^home/bin/frugal-||p'
}

# ---- 1. x86_64, static agent -------------------------------------------------------
task foreign-x86 T4
job=$(frugal launch -d "$TMP/foreign-x86.yaml") || fail "launch x86"
launched "$job"
boot_vm_in_root "$ROOT" "$job" 1
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] ||
	fail "x86 job $(job_field "$job" status): $(cat "$VM_STATE"/root/*.boot.log)"
frugal logs "$job" | grep -q "on debian 11" || fail "not run in the Debian 11 root: $(frugal logs "$job")"
[ "$(s3_get "home/jobs/$job/outputs/out/model.bin")" = weights ] || fail "output not in S3"
want=$(sha256sum "$DIST_OUT/frugal-linux-x86_64" | cut -d' ' -f1)
sha_of_agent | grep -qx "$want" || fail "the instance did not get frugal-linux-x86_64: $(sha_of_agent)"
[ "$(live_count "$job")" = 0 ] || fail "instance left: $(instances_json)"
image=$(instances_json | python3 -c "import json,sys; print([i['image'] for i in json.load(sys.stdin) if i['tags'].get('frugal-job') == '$job'][0])")
[ "$(image_arch "$image")" = x86_64 ] || fail "g4dn got image $image of $(image_arch "$image")"
ok "g4dn: the static x86_64 agent ran the job in the Debian 11 root (x86_64 image, instance gone)"

# ---- 2. aarch64 under qemu ------------------------------------------------------------
task foreign-arm T4g
job=$(frugal launch -d "$TMP/foreign-arm.yaml") || fail "launch arm"
launched "$job"
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
[ "$(image_arch "$image")" = arm64 ] || fail "$itype got image $image of $(image_arch "$image")"
[ "$(live_count "$job")" = 0 ] || fail "instance left: $(instances_json)"
ok "$itype: arm64 image, frugal-linux-aarch64 under qemu-aarch64-static ran the job, instance gone"

# ---- 3. the wrong architecture -------------------------------------------------------
task foreign-wrong T4g
job=$(frugal launch -d "$TMP/foreign-wrong.yaml") || fail "launch wrong-arch"
launched "$job"
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
first=$(instance_of "$job" 1)
state_of() { instances_json | python3 -c "import json,sys; print([i['state'] for i in json.load(sys.stdin) if i['id'] == '$1'][0])"; }
for _ in $(seq 100); do [ "$(state_of "$first")" = terminated ] && break; sleep 0.1; done
[ "$(state_of "$first")" = terminated ] || fail "wrong-arch instance left: $(instances_json)"
frugal status "$job" | grep -q "boot check failed: agent built for aarch64, machine is x86_64" ||
	fail "the reason is not in the job's events: $(frugal status "$job")"
# The job is not to blame: it moves on to a new machine.
for _ in $(seq 300); do [ -n "$(instance_of "$job" 2)" ] && break; sleep 0.1; done
[ -n "$(instance_of "$job" 2)" ] || fail "no attempt 2 after the boot check failed: $(frugal status "$job")"
frugal cancel "$job" >/dev/null 2>&1 || true
for _ in $(seq 300); do [ "$(live_count "$job")" = 0 ] && break; sleep 0.1; done
[ "$(live_count "$job")" = 0 ] || fail "attempt 2's instance left after the cancel: $(instances_json)"
ok "wrong arch: launch_failed with 'agent built for aarch64, machine is x86_64' (status.json, boot.log, the job's events), instance terminated, attempt 2 launched"

# ---- 4. the dynamic build on this userland -------------------------------------------
frugal controller --stop >/dev/null 2>&1	# it holds the config it started with
config ""
task foreign-dyn T4
job=$(frugal launch -d "$TMP/foreign-dyn.yaml") || fail "launch dynamic"
launched "$job"
boot_vm_in_root "$ROOT" "$job" 1
for _ in $(seq 600); do
	[ -n "$(attempt_field "$job" 1 outcome 2>/dev/null | grep -v None)" ] && break
	sleep 0.1
done
[ "$(attempt_field "$job" 1 outcome)" = launch_failed ] ||
	fail "dynamic agent attempt: $(attempt_field "$job" 1 outcome): $(cat "$VM_STATE"/root/*.boot.log)"
st=$(s3_get "home/jobs/$job/attempts/1/status.json")
echo "$st" | grep -q "the agent cannot start on this machine: .*\.so" || fail "unclear reason: $st"
first=$(instance_of "$job" 1)
for _ in $(seq 100); do [ "$(state_of "$first")" = terminated ] && break; sleep 0.1; done
[ "$(state_of "$first")" = terminated ] || fail "instance of the dynamic agent left: $(instances_json)"
frugal cancel "$job" >/dev/null 2>&1 || true
for _ in $(seq 300); do [ "$(live_count "$job")" = 0 ] && break; sleep 0.1; done
[ "$(live_count "$job")" = 0 ] || fail "an instance left after the cancel: $(instances_json)"
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

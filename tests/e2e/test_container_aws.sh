#!/bin/bash
# image_id docker:IMAGE on AWS, against moto: the plan and RunInstances
# keep the machine image (the AMI from image_name, not the docker image),
# the attempt's agent.json in S3 names the container image, and the
# emulated boot (test_aws_boot.sh's: the instance's UserData run here)
# starts the agent, which runs setup and run in a container of the image
# and stores the output; no container is left. On a real VM the runtime is
# the GPU image's docker with the NVIDIA toolkit; here it is this
# machine's podman (or docker) behind a `docker` that drops --gpus (no GPU
# here), so that part is emulated: what is real is the boot path, the
# agent, the docker command lines it runs and the container runtime.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/peers/aws/lib.sh"
. "$(dirname "$0")/container_lib.sh"
start_moto
start_proxy
aws_config
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

mkdir -p "$TMP/wd"
cat > "$TMP/job.yaml" <<YAML
name: boxed-on-ec2
workdir: $TMP/wd
resources: {accelerators: T4:1, image_id: "docker:localhost/frugal-test:bullseye"}
envs: {GREETING: hello}
setup: touch /setup-was-here
run: |
  echo "run on debian \$(cat /etc/debian_version), \$GREETING, gpus [\$CUDA_VISIBLE_DEVICES]"
  [ -e /setup-was-here ] && echo "setup state kept"
  mkdir -p out && cat /etc/debian_version > out/version.txt
outputs: {paths: [out]}
stop: {max_runtime: 30m}
YAML
plan=$(frugal check "$TMP/job.yaml" 2>&1) || fail "check: $plan"
echo "$plan" | grep -q "backend *aws" || fail "not planned on aws: $plan"
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
id=$(wait_instance "$job")

python3 - "$PROXY_LOG" <<'PY' || fail "RunInstances ImageId"
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l).get("action") == "RunInstances"]
assert len(runs) == 1, len(runs)
img = runs[0]["params"]["ImageId"]
assert img.startswith("ami-"), img
PY
s3_get "home/jobs/$job/attempts/1/agent.json" > "$TMP/agent.json" || fail "no agent.json in S3"
python3 - "$TMP/agent.json" <<'PY' || fail "agent.json: $(cat "$TMP/agent.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["container_image"] == "localhost/frugal-test:bullseye", d.get("container_image")
assert "container_runtime" not in d, d   # the VM's own docker: the agent finds it
assert d["task"]["resources"]["image_id"] == "localhost/frugal-test:bullseye", d["task"]["resources"]
PY
ok "the VM boots the AMI ($(python3 "$AWSTOOL" instances | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["image"])')); agent.json names the container image"

# ---- the emulated boot runs the job in the container. The VM's docker is
# this machine's podman behind a `docker` that logs its command line and
# drops --gpus (there is no GPU here).
container_ready
mkdir -p "$TMP/vmbin"
cat > "$TMP/vmbin/docker" <<SH
#!/bin/bash
echo "docker \$*" >> "$TMP/vmbin/docker.log"
a=(); skip=0
for x in "\$@"; do
	if [ \$skip = 1 ]; then skip=0; continue; fi
	if [ "\$x" = --gpus ]; then skip=1; continue; fi
	a+=("\$x")
done
exec $(command -v $rt) "\${a[@]}"
SH
chmod +x "$TMP/vmbin/docker"
VM_EXTRA_PATH=$TMP/vmbin boot_vm "$job" 1
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] ||
	fail "job $(job_field "$job" status): $(frugal logs "$job" | tail -n 20; cat "$VM_STATE"/root/*.boot.log 2>/dev/null | tail -n 20)"
frugal logs "$job" > "$TMP/log"
grep -q "setup and run in docker container frugal-$job-1 of $IMG" "$TMP/log" || fail "no container: $(cat "$TMP/log")"
grep -q "run on debian 11\..*, hello, gpus \[0\]" "$TMP/log" || fail "run not in the image: $(cat "$TMP/log")"
grep -q "setup state kept" "$TMP/log" || fail "setup's changes gone before run"
grep -q "^docker run -d --rm --name frugal-$job-1 --network host --stop-signal KILL --gpus all -v " "$TMP/vmbin/docker.log" ||
	fail "docker run: $(cat "$TMP/vmbin/docker.log")"
grep -q "^docker exec -e GREETING .* -w .* frugal-$job-1 sh -c" "$TMP/vmbin/docker.log" ||
	fail "docker exec: $(cat "$TMP/vmbin/docker.log")"
s3_get "home/jobs/$job/outputs/out/version.txt" | grep -q '^11\.' || fail "output not in S3"
$rt ps -a --format '{{.Names}}' | grep -q -- "frugal-$job-1" && fail "the container outlived the job"
[ "$(live_count)" = 0 ] || fail "instance left: $(instances_json)"
ok "the emulated instance ran setup and run in $IMG with $rt; output in S3; no container, no instance left"

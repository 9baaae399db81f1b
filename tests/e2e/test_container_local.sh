#!/bin/bash
# image_id docker:IMAGE on the local backend: setup and run run in one
# container of the image (here a Debian 11 image made from the minbase
# root test_dist_static.sh caches, on a Debian 12 host), with the job's
# environment; setup's changes are still there for run; the checkpoint
# and the outputs the job writes in the container reach the agent; a
# preemption midway is restored into the next attempt's container; no
# container is left after the job, and gc removes one that was.
# Needs docker or podman (container_lib.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/container_lib.sh"
container_ready
grep -q '^12\.' /etc/debian_version 2>/dev/null || skip "the host is not Debian 12"

cat > "$TMP/config.yaml" <<YAML
backends:
  local:
    container_runtime: $rt
YAML
cp "$TMP/config.yaml" "$FRUGAL_HOME/config.yaml"

# ---- frugal backends says which runtime it found
frugal backends local | grep -q "containers   $rt" || fail "backends local: $(frugal backends local)"
ok "frugal backends local: containers $rt"

mkdir -p "$TMP/proj"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: in-a-box
workdir: .
resources: {image_id: "docker:localhost/frugal-test:bullseye"}
envs: {GREETING: hello}
setup: |
  echo "setup on debian $(cat /etc/debian_version)"
  touch /setup-was-here
run: |
  echo "run on debian $(cat /etc/debian_version), $GREETING, attempt $FRUGAL_ATTEMPT"
  [ -e /setup-was-here ] && echo "setup state kept"
  [ -z "${HOSTONLY:-}" ] && echo "no host variables"
  n=0
  if [ -f "$FRUGAL_CHECKPOINT_DIR/step" ]; then n=$(cat "$FRUGAL_CHECKPOINT_DIR/step"); echo "resumed at step $n"; fi
  # Saved to a temporary name and renamed: never held as torn.
  save() { echo "$n" > "$FRUGAL_CHECKPOINT_DIR/step.tmp" && mv "$FRUGAL_CHECKPOINT_DIR/step.tmp" "$FRUGAL_CHECKPOINT_DIR/step"; }
  trap 'save; echo "saved at step $n"; exit 143' TERM
  while [ "$n" -lt 60 ]; do
    n=$((n + 1)); echo "step $n"; save
    sleep 0.1 & wait $!
  done
  mkdir -p weights
  echo "done at step $n in attempt $FRUGAL_ATTEMPT on $(cat /etc/debian_version)" > weights/model.txt
checkpoint: {dir: /ckpt, interval: 1m}
outputs: {paths: ["weights/*.txt"]}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"
frugal check task.yaml >"$TMP/check.out" 2>&1 || fail "check: $(cat "$TMP/check.out")"

export HOSTONLY=1	# in the CLI's environment: never in the container's
job=$(frugal launch -d task.yaml) || fail "launch"
for i in $(seq 600); do
	frugal logs "$job" 2>/dev/null | grep -q "step 15$" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step 15$" || fail "run did not reach step 15: $(frugal logs "$job" | tail -n 20)"
frugal logs "$job" | grep -q "setup on debian 11\." || fail "setup not in the image: $(frugal logs "$job" | head -n 20)"
frugal logs "$job" | grep -q "run on debian 11\..*, hello, attempt 1" || fail "run not in the image"
frugal logs "$job" | grep -q "setup state kept" || fail "setup's changes gone before run"
frugal logs "$job" | grep -q "no host variables" || fail "a host variable reached the container"
$rt ps --format '{{.Names}}' | grep -q -- "-$job-1\$" || fail "no running container for attempt 1"
ok "setup and run in $IMG (debian 11 on a debian $(cut -d. -f1 /etc/debian_version) host), one container"

frugal debug preempt "$job" --notice 5 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || fail "job did not succeed: $(frugal logs "$job" | tail -n 30)"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$saved" -gt 0 ] || fail "attempt 1 saved nothing: $(frugal logs "$job" --attempt 1 | tail)"
[ "$resumed" = "$saved" ] || fail "attempt 2 resumed at '$resumed', attempt 1 saved $saved"
ok "preempted in the container at step $saved; attempt 2's container resumed at step $resumed"

url=$(job_field "$job" outputs_url)
grep -q "^done at step 60 in attempt 2 on 11\." "${url#file://}/weights/model.txt" ||
	fail "output: $(cat "${url#file://}/weights/model.txt" 2>&1)"
ok "the output written in the container was stored"

left=$($rt ps -a --format '{{.Names}}' | grep -- "-$job-" || true)
[ -z "$left" ] || fail "containers left after the job: $left"
[ -z "$(instance_procs "$job")" ] || fail "processes left"
ok "no container left after the job ($rt ps -a)"

# ---- the agent dies (SIGKILL) while its job runs in a container: its
# watchdog and the attempt's teardown remove the container; the job is
# recovered in a new one, and a cancel leaves none
cat > "$TMP/proj/long.yaml" <<'YAML'
name: agent-dies
resources: {image_id: "docker:localhost/frugal-test:bullseye"}
run: echo started; sleep 600
recovery: {max_restarts_on_errors: 0}
YAML
job2=$(frugal launch -d long.yaml) || fail "launch long"
for i in $(seq 600); do
	$rt ps --format '{{.Names}}' | grep -q -- "-$job2-1\$" && frugal logs "$job2" 2>/dev/null | grep -q "^started" && break
	sleep 0.05
done
$rt ps --format '{{.Names}}' | grep -q -- "-$job2-1\$" || fail "no container for $job2"
agent=$(frugal status "$job2" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['jobs'][0].get('agent_pid') or '')")
[ -n "$agent" ] || agent=$(pgrep -f "agent --instance-dir $FRUGAL_HOME/instances/$job2-1" | head -n 1)
[ -n "$agent" ] || fail "no agent pid for $job2"
kill -9 "$agent"
for i in $(seq 600); do
	[ "$(attempt_field "$job2" 1 outcome 2>/dev/null)" != None ] &&
		! $rt ps -a --format '{{.Names}}' | grep -q -- "-$job2-1\$" && break
	sleep 0.1
done
$rt ps -a --format '{{.Names}}' | grep -q -- "-$job2-1\$" &&
	fail "attempt 1's container outlived its killed agent (outcome $(attempt_field "$job2" 1 outcome))"
frugal cancel "$job2" >/dev/null || fail "cancel $job2"
wait_terminal "$job2" 60 >/dev/null
left=$($rt ps -a --format '{{.Names}}' | grep -- "-$job2-" || true)
[ -z "$left" ] || fail "containers left after the cancel: $left"
ok "agent SIGKILLed: attempt 1's container went with it ($(attempt_field "$job2" 1 outcome)); none left after the cancel"

# ---- a container of this home that no job owns: gc removes it
tag=$(home_tag_of "$FRUGAL_HOME")
$rt run -d --rm --name "frugal-$tag-zz9zz9-1" "$IMG" sleep 600 >/dev/null || fail "run a stray container"
$rt run -d --rm --name "frugal-00000000-zz9zz9-1" "$IMG" sleep 600 >/dev/null || fail "run another home's"
frugal gc >"$TMP/gc.out" 2>&1 || fail "gc: $(cat "$TMP/gc.out")"
$rt ps -a --format '{{.Names}}' | grep -q "frugal-$tag-zz9zz9-1" && fail "gc left frugal-$tag-zz9zz9-1"
$rt ps -a --format '{{.Names}}' | grep -q "frugal-00000000-zz9zz9-1" || fail "gc removed another home's container"
$rt rm -f "frugal-00000000-zz9zz9-1" >/dev/null 2>&1
ok "gc removed this home's stray container, not another home's"

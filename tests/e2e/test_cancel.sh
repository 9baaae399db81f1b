#!/bin/bash
# cancel ends the job's processes (including ones it forked) and frees its
# GPU within a second.
. "$(dirname "$0")/lib.sh"
write_config 'backends:
  local:
    gpus: 1'
cat > "$TMP/long.yaml" <<'YAML'
resources: {accelerators: "GPU:1"}
run: |
  sleep 300 &
  echo started
  sleep 300
YAML
job=$(frugal launch -d "$TMP/long.yaml") || fail "launch -d"
wait_status "$job" RUNNING 20
sleep 0.5
[ -n "$(instance_procs "$job")" ] || fail "no job processes while RUNNING"
t0=$(date +%s%N)
frugal cancel "$job" >/dev/null || fail "cancel exited non-zero"
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
[ "$(job_field "$job" status)" = CANCELLED ] || fail "status not CANCELLED"
[ -z "$(instance_procs "$job")" ] || fail "processes survive cancel: $(instance_procs "$job")"
[ $ms -lt 1000 ] || fail "cancel took ${ms}ms"
ok "cancelled in ${ms}ms, no processes left"

# The GPU is free again: a new job starts at once.
cat > "$TMP/quick.yaml" <<'YAML'
resources: {accelerators: "GPU:1"}
run: echo gpu=$CUDA_VISIBLE_DEVICES
YAML
job2=$(frugal launch -d "$TMP/quick.yaml")
[ "$(wait_terminal "$job2" 20)" = SUCCEEDED ] || fail "second job did not succeed"
frugal logs "$job2" | grep -q "gpu=0" || fail "second job did not get GPU 0"
ok "GPU freed for the next job"

frugal cancel "$job" | grep -q "already CANCELLED" || fail "second cancel"
frugal cancel nosuchjob 2>&1 | grep -q "no job 'nosuchjob'" || fail "unknown job message"
ok "cancel of finished and unknown jobs"

# cancel A B where A has ended already: one line each, not two; a job
# named twice is cancelled once; cancel --all ends every live job.
cat > "$TMP/quick.yaml" <<'YAML'
name: quick
run: "true"
YAML
cat > "$TMP/long.yaml" <<'YAML'
name: long
run: sleep 600
YAML
done_job=$(frugal launch -d "$TMP/quick.yaml") || fail "launch quick"
wait_terminal "$done_job" 30 >/dev/null
l1=$(frugal launch -d "$TMP/long.yaml") || fail "launch long"
wait_status "$l1" RUNNING 20
out=$(frugal cancel "$done_job" "$l1" "$l1")
[ "$(echo "$out" | grep -c "^$done_job ")" = 1 ] || fail "ended job reported $(echo "$out" | grep -c "^$done_job ") times: $out"
[ "$(echo "$out" | grep -c "^$l1 CANCELLED")" = 1 ] || fail "cancelled job not reported once: $out"
ok "cancel of an ended and a live job (named twice) says one line each"
l2=$(frugal launch -d "$TMP/long.yaml") || fail "launch"
l3=$(frugal launch -d "$TMP/long.yaml") || fail "launch"
wait_status "$l2" RUNNING 20
wait_status "$l3" RUNNING 20
frugal cancel --all >/dev/null || fail "cancel --all"
[ "$(job_field "$l2" status)" = CANCELLED ] && [ "$(job_field "$l3" status)" = CANCELLED ] ||
	fail "cancel --all left a job live"
frugal cancel --all | grep -q "no live jobs" || fail "cancel --all with nothing live"
ok "cancel --all ends every live job"

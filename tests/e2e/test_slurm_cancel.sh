#!/bin/bash
# Slurm: `frugal cancel` ends a running job (SIGINT to the agent, which
# stops the job and reports cancelled) and a queued one (scancel); squeue
# shows nothing of them afterwards.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
slurm_setup
mkdir -p "$TMP/proj"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: cancel-me
resources: {accelerators: A100:1}
run: |
  echo started
  sleep 300
YAML
job=$(frugal launch -d --backend slurm "$TMP/proj/task.yaml") || fail "launch"
wait_status "$job" RUNNING 30
for i in $(seq 100); do frugal logs "$job" 2>/dev/null | grep -q started && break; sleep 0.1; done
sid=$(slurm_id "$job" 1)
[ -n "$(squeue -h -j "$sid" -o %T)" ] || fail "Slurm job $sid not in squeue"
t0=$(date +%s%N)
frugal cancel "$job" >/dev/null || fail "cancel"
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "job is $(job_field "$job" status)"
[ "$(attempt_field "$job" 1 outcome)" = cancelled ] || fail "attempt outcome $(attempt_field "$job" 1 outcome)"
slurm_wait_empty 30
ok "running job cancelled, Slurm job $sid gone from squeue in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# A job Slurm has not started yet (held in the queue) is cancelled there.
job2=$(frugal launch -d --backend slurm "$TMP/proj/task.yaml") || fail "launch 2"
for i in $(seq 100); do sid2=$(slurm_id "$job2" 1); [ -n "$sid2" ] && break; sleep 0.1; done
scontrol hold "$sid2" 2>/dev/null || true
frugal cancel "$job2" >/dev/null || fail "cancel 2"
[ "$(wait_terminal "$job2" 60)" = CANCELLED ] || fail "job 2 is $(job_field "$job2" status)"
slurm_wait_empty 30
[ -z "$(squeue -h -j "$sid2" -o %T 2>/dev/null)" ] || fail "Slurm job $sid2 still listed"
ok "queued job cancelled in Slurm"

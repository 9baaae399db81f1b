#!/bin/bash
# Slurm: a job that asks for A100:2 (gres_map A100 -> the cluster's "fake"
# type) runs as a batch job with two GPUs that Slurm allocated, SUCCEEDED,
# and its logs read with `frugal logs`. Its secret reaches the job but is
# never on a command line, in `scontrol show job`, in the batch script
# Slurm keeps, in slurmctld's state or in FRUGAL_HOME in clear.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
slurm_setup
secret="s3cr3t-$$-$RANDOM-value"
want_sha=$(printf %s "$secret" | sha256sum | cut -c1-16)
# grep reads the secret from a file: on its command line it would be seen.
printf '%s\n' "$secret" > "$TMP/secret.pat"
mkdir -p "$TMP/proj"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: slurm-gpu
resources: {accelerators: A100:2, cpus: 1, memory: 0.5}
secrets: {MY_TOKEN: null}
run: |
  echo "gpus=$CUDA_VISIBLE_DEVICES n=$FRUGAL_NUM_GPUS slurm_job=$SLURM_JOB_ID job_gpus=$SLURM_JOB_GPUS"
  echo "secret sha: $(printf %s "$MY_TOKEN" | sha256sum | cut -c1-16)"
  touch "$FRUGAL_OUTPUT_DIR/running"
  sleep 3
  echo all done
YAML
job=$(MY_TOKEN=$secret frugal launch -d --backend slurm --secret MY_TOKEN "$TMP/proj/task.yaml") ||
	fail "launch"
wait_status "$job" RUNNING 30
for i in $(seq 100); do
	frugal logs "$job" 2>/dev/null | grep -q "secret sha" && break
	sleep 0.1
done
sid=$(slurm_id "$job" 1)
[ -n "$sid" ] || fail "no Slurm job named $job-1"

# What Slurm allocated, while it runs.
detail=$(scontrol show job -d "$sid")
echo "$detail" | grep -q "GRES=gpu:fake:2(IDX:" || fail "Slurm did not allocate gpu:fake:2: $detail"
echo "$detail" | grep -q "Comment=frugal-job=$job,frugal-attempt=1" || fail "comment: $detail"
echo "$detail" | grep -q "Requeue=1" || fail "not requeueable: $detail"
ok "Slurm job $sid allocated $(echo "$detail" | grep -o 'GRES=gpu:fake:2(IDX:[^)]*)')"

# The secret: nowhere but the job's environment.
for where in "scontrol show job -dd $sid" "scontrol write batch_script $sid -" "ps -eo args"; do
	$where 2>/dev/null | grep -qF -f "$TMP/secret.pat" && fail "the secret shows in '$where'"
done
cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' ' ' | grep -qF -f "$TMP/secret.pat" &&
	fail "secret on a command line"
[ -z "$(find "$FRUGAL_HOME/slurm" -name "secrets.*" 2>/dev/null)" ] ||
	fail "secrets left in the spool dir after the job started"
ok "secret not in scontrol show job, the stored batch script, ps or /proc/*/cmdline"

[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not succeed: $(frugal status "$job")"
log=$(frugal logs "$job") || fail "frugal logs"
echo "$log" | grep -q "all done" || fail "log lacks the job's output: $log"
echo "$log" | grep -q "n=2 " || fail "FRUGAL_NUM_GPUS is not 2: $log"
gpus=$(echo "$log" | sed -n 's/.*gpus=\([^ ]*\) n=.*/\1/p')
jgpus=$(echo "$log" | sed -n 's/.*job_gpus=\([^ ]*\).*/\1/p')
[ "$(echo "$gpus" | tr ',' '\n' | grep -c .)" = 2 ] || fail "CUDA_VISIBLE_DEVICES='$gpus'"
[ "$gpus" = "$jgpus" ] || fail "CUDA_VISIBLE_DEVICES '$gpus' is not SLURM_JOB_GPUS '$jgpus'"
echo "$log" | grep -q "secret sha: $want_sha" || fail "the job did not get the secret"
ok "SUCCEEDED with CUDA_VISIBLE_DEVICES=$gpus (= SLURM_JOB_GPUS), logs via frugal logs"

grep -rqF -f "$TMP/secret.pat" "$FRUGAL_HOME" "$SLURM_DIR/state" 2>/dev/null &&
	fail "the secret is stored in clear under FRUGAL_HOME or slurmctld's state"
[ "$(attempt_field "$job" 1 backend)" = slurm ] || fail "attempt backend"
[ "$(attempt_field "$job" 1 instance_type)" = gpu:fake:2 ] || fail "instance_type"
slurm_wait_empty 30
[ ! -d "$FRUGAL_HOME/slurm/$job/attempt-1" ] || fail "attempt directory left on the shared filesystem"
ok "nothing left in Slurm or on the shared filesystem"

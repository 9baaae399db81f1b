#!/bin/bash
# Finding (issue 14): "Slurm: a pending job's secrets.env holds the secret
# in clear until it starts". Now a pending job's attempt dir holds
# secrets.sealed (FRUGALSEAL1, AES-256-GCM) and no file under the work
# root or FRUGAL_HOME has the secret in clear; the key is only in the
# environment Slurm keeps for the job (slurmctld's state, root and
# SlurmUser), never in the spool dir beside the sealed file, not in
# `scontrol show job -dd`, the stored batch script or any command line.
# Once the job starts the agent opens the file and deletes it; the job
# sees the secret (its digest decides the job's exit status) and not the key.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
slurm_setup
secret="sealed-$$-$RANDOM-value"
want_sha=$(printf %s "$secret" | sha256sum | cut -c1-64)
printf '%s\n' "$secret" > "$TMP/secret.pat"	# grep -f: never on a command line
mkdir -p "$TMP/proj"
cat > "$TMP/proj/block.yaml" <<'YAML'
name: blocker
resources: {accelerators: A100:4}
run: |
  while [ ! -e "$RELEASE" ]; do sleep 0.1; done
YAML
cat > "$TMP/proj/task.yaml" <<'YAML'
name: sealed
resources: {accelerators: A100:1}
secrets: {MY_TOKEN: null}
run: |
  [ "$(printf %s "$MY_TOKEN" | sha256sum | cut -c1-64)" = "$WANT_SHA" ] ||
    { echo "the secret is not the one given"; exit 3; }
  [ -z "${FRUGAL_SECRETS_KEY:-}" ] || { echo "the key reached the job"; exit 4; }
  echo "secret seen by the job"
YAML
blocker=$(frugal launch -d --backend slurm --env RELEASE="$TMP/release" "$TMP/proj/block.yaml") ||
	fail "launch blocker"
wait_status "$blocker" RUNNING 60
job=$(MY_TOKEN=$secret frugal launch -d --backend slurm --secret MY_TOKEN \
	--env WANT_SHA="$want_sha" "$TMP/proj/task.yaml") || fail "launch"
for i in $(seq 200); do
	sid=$(slurm_id "$job" 1)
	[ -n "$sid" ] && [ "$(squeue -h -j "$sid" -o %T)" = PENDING ] && break
	sleep 0.1
done
[ "$(squeue -h -j "$sid" -o %T)" = PENDING ] || fail "job $sid is '$(squeue -h -j "$sid" -o %T)', not PENDING"

# Pending: the spool dir holds the secrets sealed, nowhere in clear.
sealed=$(find "$FRUGAL_HOME" -path "*/$job/attempt-1/secrets.sealed")
[ -n "$sealed" ] || fail "no secrets.sealed for the pending job: $(find "$FRUGAL_HOME" -path "*$job*")"
[ "$(stat -c %a "$sealed")" = 600 ] || fail "secrets.sealed is mode $(stat -c %a "$sealed")"
[ "$(head -c 12 "$sealed")" = FRUGALSEAL1 ] || fail "secrets.sealed is not sealed: $(head -c 40 "$sealed" | od -c | head -2)"
[ -z "$(find "$FRUGAL_HOME" -name secrets.env)" ] || fail "a secrets.env: $(find "$FRUGAL_HOME" -name secrets.env)"
! grep -rqaF -f "$TMP/secret.pat" "$FRUGAL_HOME" || fail "the secret in clear in: $(grep -rlaF -f "$TMP/secret.pat" "$FRUGAL_HOME")"
! grep -rqaF "MY_TOKEN=" "$(dirname "$sealed")" || fail "the secret's record in clear in the spool dir"
ok "pending Slurm job $sid: its spool dir holds secrets.sealed (0600, FRUGALSEAL1); no file has the secret in clear"

# The key: in the environment slurmctld keeps, not beside the sealed file.
envfile=$(find "$SLURM_DIR/state" -path "*job.$sid/environment" 2>/dev/null | head -n 1)
[ -n "$envfile" ] || fail "slurmctld keeps no environment for job $sid under $SLURM_DIR/state"
key=$(tr '\0' '\n' < "$envfile" | sed -n 's/^FRUGAL_SECRETS_KEY=//p')
[ ${#key} = 64 ] || fail "the job's environment has no key"
printf '%s\n' "$key" > "$TMP/key.pat"
! grep -rqaF -f "$TMP/key.pat" "$FRUGAL_HOME" || fail "the key is in: $(grep -rlaF -f "$TMP/key.pat" "$FRUGAL_HOME")"
for where in "scontrol show job -dd $sid" "scontrol write batch_script $sid -" "ps -eo args"; do
	$where 2>/dev/null | grep -qF -f "$TMP/key.pat" && fail "the key shows in '$where'"
	$where 2>/dev/null | grep -qF -f "$TMP/secret.pat" && fail "the secret shows in '$where'"
done
cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\0' '\n' | grep -qF -f "$TMP/key.pat" &&
	fail "the key on a command line"
ok "the key is only in slurmctld's copy of the job's environment: not in FRUGAL_HOME, scontrol show job, the batch script, ps"

# It starts: opened, deleted, seen by the job.
touch "$TMP/release"
[ "$(wait_terminal "$blocker" 60)" = SUCCEEDED ] || fail "blocker"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] ||
	fail "job $(job_field "$job" status): $(frugal logs "$job" | tail -5)"
frugal logs "$job" | grep -q "secret seen by the job" || fail "no line from the job: $(frugal logs "$job")"
[ ! -e "$sealed" ] || fail "secrets.sealed left after the job started"
! grep -rqaF -f "$TMP/secret.pat" "$FRUGAL_HOME" || fail "the secret in clear after the run"
ok "once it ran the agent had opened and deleted secrets.sealed; the job saw the secret, not the key"
slurm_wait_empty 30

# Helpers for the Slurm end-to-end tests (tests/e2e/test_slurm_*.sh):
# source after tests/e2e/lib.sh. They run against the cluster of
# tests/slurm/start-cluster: the one SLURM_CONF names, else the one in
# FRUGAL_SLURM_DIR (default /tmp/frugal-slurm) when it answers. Where there
# is none the test says "skipped: slurm not available" and exits 77 (CTest
# SKIP_RETURN_CODE), unless FRUGAL_REQUIRE_SLURM=1 (CI as root), where
# that is a failure.

slurm_skip() {
	if [ -n "${FRUGAL_REQUIRE_SLURM:-}" ]; then
		echo "FAIL: slurm not available ($*) but FRUGAL_REQUIRE_SLURM is set" >&2
		exit 1
	fi
	echo "skipped: slurm not available ($*)"
	exit 77
}

# Cancel the Slurm jobs this test's FRUGAL_HOME made (their work dir lies
# under it), so that none outlives the test.
slurm_cancel_ours() {
	local ids
	ids=$(squeue -h -o '%i %Z' 2>/dev/null | awk -v h="$FRUGAL_HOME/" 'index($2, h) == 1 { print $1 }')
	[ -n "$ids" ] || return 0
	# shellcheck disable=SC2086
	scancel $ids 2>/dev/null || true
}

slurm_setup() {
	export PATH=$PATH:/usr/sbin:/sbin
	if [ -z "${SLURM_CONF:-}" ]; then
		local d=${FRUGAL_SLURM_DIR:-/tmp/frugal-slurm}
		[ -f "$d/etc/slurm.conf" ] || slurm_skip "no cluster: run tests/slurm/start-cluster as root"
		export SLURM_CONF=$d/etc/slurm.conf
	fi
	command -v sbatch >/dev/null 2>&1 || slurm_skip "sbatch not installed"
	timeout 10 sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)' ||
		slurm_skip "the cluster of $SLURM_CONF does not answer"
	SLURM_DIR=$(dirname "$(dirname "$SLURM_CONF")")
	# One Slurm test at a time: they share one node of four GPUs.
	exec 9>>"$SLURM_DIR/tests.lock"
	flock 9
	trap 'rc=$?; slurm_cancel_ours; (exit $rc); cleanup' EXIT
	write_config "backends:
  slurm:
    gres_map: {A100: fake}
    price_per_gpu_hour: 1.5
    teardown_grace: 5s
    adopt_wait: 60s${SLURM_EXTRA_CONFIG:-}"
}

# slurm_id JOB N: the Slurm job id of attempt N (named JOB-N in Slurm).
slurm_id() { squeue -h --states=all -n "$1-$2" -o %i 2>/dev/null | sort -n | tail -n 1; }

# Wait until no Slurm job of this test is pending or running.
slurm_wait_empty() {
	local secs=${1:-60} i
	for i in $(seq $((secs * 10))); do
		[ -z "$(squeue -h -o '%i %Z' | awk -v h="$FRUGAL_HOME/" 'index($2, h) == 1')" ] && return 0
		sleep 0.1
	done
	fail "Slurm jobs left: $(squeue -h -o '%i %j %T %Z')"
}

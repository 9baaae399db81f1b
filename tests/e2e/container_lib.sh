# Shared by the container tests (sourced after lib.sh): container_ready
# finds a working docker or podman (rt), makes the Debian 11 test image
# from the minbase root test_dist_static.sh caches (imported once), and
# checks that this machine can run a container, or skips the test.
# Needs docker or podman (scripts/install-deps installs podman as root).

skip() { echo "skipped: $*"; exit 77; }
IMG=localhost/frugal-test:bullseye

# home_tag_of DIR: FRUGAL_HOME's tag (backend/common/hometag.c), which
# the names of its containers carry: frugal-TAG-JOB-N.
home_tag_of() {
	python3 - "$1" <<'PY'
import os, sys
h = 1469598103934665603
for b in os.path.realpath(sys.argv[1]).encode():
    h = ((h ^ b) * 1099511628211) % (1 << 64)
print("%08x" % ((h ^ (h >> 32)) & 0xffffffff))
PY
}

# Whatever this test's home left behind goes when the test ends, failed
# or not (lib.sh's cleanup runs after, with the test's exit status).
container_cleanup() {
	local n
	for n in $($rt ps -a --format '{{.Names}}' 2>/dev/null | grep "^frugal-$(home_tag_of "$FRUGAL_HOME")-"); do
		$rt rm -f "$n" >/dev/null 2>&1
	done
}

container_ready() {
	if command -v podman >/dev/null && podman version >/dev/null 2>&1; then
		rt=podman
	elif command -v docker >/dev/null && docker version >/dev/null 2>&1; then
		rt=docker
	else
		skip "no docker/podman (install podman)"
	fi

	# ---- the image: the cached Debian 11 root, imported once
	if ! $rt image inspect "$IMG" >/dev/null 2>&1; then
		# The cached root (tests/peers/rootfs-install makes it before make
		# check runs the tests; foreign_root_make when it is not there).
		. "$FRUGAL_SRC/tests/e2e/foreign_root.sh"
		foreign_root_make
		ROOT=$FOREIGN_ROOT
		exec 9>"$BUILD_DIST/rootfs.lock"
		flock 9
		tar -C "$ROOT" -c . | $rt import - "$IMG" >/dev/null || fail "$rt import"
		flock -u 9
		exec 9>&-
	fi

	# ---- can this machine run containers at all? (A sandbox that may not
	# set rlimits or has cgroups in hybrid mode needs podman told so; that
	# is the machine's setting, given here through CONTAINERS_CONF, which the
	# local backend passes on to its agents.)
	if ! $rt run --rm --network host "$IMG" true 2>"$TMP/rt.err"; then
		[ $rt = podman ] || skip "$rt cannot run a container here: $(tail -n 1 "$TMP/rt.err")"
		{
			printf '[containers]\ndefault_ulimits = []\n'
			command -v runc >/dev/null && printf '[engine]\nruntime = "runc"\n'
		} >"$TMP/containers.conf"
		export CONTAINERS_CONF=$TMP/containers.conf
		$rt run --rm --network host "$IMG" true 2>"$TMP/rt.err" ||
			skip "$rt cannot run a container here: $(tail -n 1 "$TMP/rt.err")"
	fi
	trap 'rc=$?; container_cleanup; (exit $rc); cleanup' EXIT
}

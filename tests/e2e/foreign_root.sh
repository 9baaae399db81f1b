# A machine frugal does not control, for the end-to-end tests (sourced
# after lib.sh): a Debian 11 minbase root, made once with debootstrap from
# Debian's archive and kept in $BUILD_DIST/rootfs-bullseye (glibc 2.31, none
# of frugal's libraries), and a copy of it with what a cloud image has
# besides (curl, ca-certificates: the boot scripts fetch with curl) in
# $BUILD_DIST/rootfs-bullseye-boot. Needs root; without it, or without the
# archive, the test is skipped.
BUILD_DIST=${BUILD_DIST:-$FRUGAL_SRC/build-dist}
DIST_OUT=${DIST_OUT:-$FRUGAL_SRC/dist}
FOREIGN_ROOT=$BUILD_DIST/rootfs-bullseye
BOOT_ROOT=$BUILD_DIST/rootfs-bullseye-boot

skip() { echo "skipped: $*"; exit 77; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# foreign_root_make: $FOREIGN_ROOT exists (made once, under a lock).
foreign_root_make() {
	is_root || skip "chroot not available (needs root)"
	if ! command -v debootstrap >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then
		"$FRUGAL_SRC/scripts/install-deps" --dist >/dev/null ||
			skip "debootstrap/qemu-user-static not available"
	fi
	mkdir -p "$BUILD_DIST"
	exec 9>"$BUILD_DIST/rootfs.lock"
	flock 9
	if [ ! -x "$FOREIGN_ROOT/bin/sh" ]; then
		rm -rf "$FOREIGN_ROOT.tmp"
		echo "making a Debian 11 minbase root in $FOREIGN_ROOT (once)"
		debootstrap --variant=minbase bullseye "$FOREIGN_ROOT.tmp" http://deb.debian.org/debian \
			>"$TMP/debootstrap.log" 2>&1 || {
			tail -5 "$TMP/debootstrap.log"
			rm -rf "$FOREIGN_ROOT.tmp"
			flock -u 9
			skip "Debian archive not available for debootstrap"
		}
		mv "$FOREIGN_ROOT.tmp" "$FOREIGN_ROOT"
	fi
	flock -u 9
	grep -q '^11\.' "$FOREIGN_ROOT/etc/debian_version" || fail "$FOREIGN_ROOT is not Debian 11"
}

# boot_root_make: $BOOT_ROOT exists: the minbase root plus curl and
# ca-certificates from Debian 11's archive, and still none of libuv,
# jansson, libyaml, SQLite (what frugal's dynamic build needs).
boot_root_make() {
	foreign_root_make
	exec 9>"$BUILD_DIST/rootfs.lock"
	flock 9
	if [ ! -x "$BOOT_ROOT/usr/bin/curl" ]; then
		rm -rf "$BOOT_ROOT.tmp"
		cp -a "$FOREIGN_ROOT" "$BOOT_ROOT.tmp"
		cp /etc/resolv.conf "$BOOT_ROOT.tmp/etc/resolv.conf" 2>/dev/null || true
		if ! chroot "$BOOT_ROOT.tmp" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			DEBIAN_FRONTEND=noninteractive sh -c \
			'apt-get update -q && apt-get install -y -q --no-install-recommends curl ca-certificates' \
			>"$TMP/boot-root.log" 2>&1; then
			tail -5 "$TMP/boot-root.log"
			rm -rf "$BOOT_ROOT.tmp"
			flock -u 9
			skip "Debian archive not available for curl in the boot root"
		fi
		chroot "$BOOT_ROOT.tmp" apt-get clean >/dev/null 2>&1 || true
		mv "$BOOT_ROOT.tmp" "$BOOT_ROOT"
	fi
	flock -u 9
	for lib in libuv.so.1 libjansson.so.4 libyaml-0.so.2 libsqlite3.so.0; do
		if chroot "$BOOT_ROOT" /sbin/ldconfig -p | grep -q "$lib"; then
			fail "the boot root has $lib: not a test of a bare userland"
		fi
	done
}

# dist_binaries_or_skip: both release binaries exist (make dist).
dist_binaries_or_skip() {
	[ -x "$DIST_OUT/frugal-linux-x86_64" ] && [ -x "$DIST_OUT/frugal-linux-aarch64" ] ||
		skip "dist binaries not available (make dist)"
}

# in_machine ROOT MACHINE CMD...: run CMD (a program of ROOT, with its
# arguments) chrooted into ROOT as a machine of its own: a pid namespace
# and a mount namespace with ROOT/proc mounted (bash's /dev/fd, the
# agent's /proc). MACHINE aarch64: also a user namespace (root mapped to
# root) with a binfmt_misc of its own where aarch64 ELF files run under
# qemu-aarch64-static (flag F: the interpreter is opened at registration,
# so it works inside the chroot); the host's binfmt_misc is not touched.
in_machine() {
	local root=$1 machine=$2 userns=()
	shift 2
	[ "$machine" = aarch64 ] && userns=(--user --map-root-user)
	unshare "${userns[@]}" --mount --pid --fork sh -c '
		root=$1 machine=$2 qemu=$3
		shift 3
		mount -t proc proc "$root/proc" || exit 90
		if [ "$machine" = aarch64 ]; then
			mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || exit 91
			printf "%s" ":qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:$qemu:F" \
				> /proc/sys/fs/binfmt_misc/register || exit 92
		fi
		exec chroot "$root" "$@"' sh "$root" "$machine" "$(command -v qemu-aarch64-static)" "$@"
}

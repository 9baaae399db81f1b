#!/bin/bash
# The release binaries (make dist, docs/DIST.md) are static and run on a
# userland that has none of frugal's libraries: a Debian 11 minbase root
# (glibc 2.31, no libcurl, no libssl). In it the x86_64 binary prints its
# version, checks a task file, and runs a whole job on the local backend
# (controller, agent, file:// storage, outputs); the aarch64 binary, under
# qemu-user, prints the same version and checks the same task.
#
# Needs root (chroot, debootstrap). The root is made once and kept in
# $BUILD_DIST/rootfs-bullseye.
. "$(dirname "$0")/lib.sh"

BUILD_DIST=${BUILD_DIST:-$FRUGAL_SRC/build-dist}
DIST_OUT=${DIST_OUT:-$FRUGAL_SRC/dist}
X86=$DIST_OUT/frugal-linux-x86_64
ARM=$DIST_OUT/frugal-linux-aarch64
ROOT=$BUILD_DIST/rootfs-bullseye

skip() { echo "skipped: $*"; exit 77; }
is_root() { [ "$(id -u)" -eq 0 ]; }

if [ ! -x "$X86" ] || [ ! -x "$ARM" ]; then
	# make check builds them first; a lone ctest run builds them when it can.
	if { is_root || [ -n "${CI:-}" ]; } && command -v musl-gcc >/dev/null &&
	   command -v aarch64-linux-gnu-gcc >/dev/null; then
		"$FRUGAL_SRC/scripts/dist/build" || fail "scripts/dist/build failed"
	else
		skip "dist binaries not available (make dist)"
	fi
fi

# ---- static: no interpreter, no shared libraries
for bin in "$X86" "$ARM"; do
	desc=$(file -b "$bin")
	case $desc in *"statically linked"*) ;; *) fail "$bin: file says: $desc";; esac
	if readelf -lW "$bin" | grep -q "INTERP"; then fail "$bin has a program interpreter"; fi
	if readelf -dW "$bin" 2>/dev/null | grep -q "(NEEDED)"; then fail "$bin needs shared libraries"; fi
done
file -b "$X86" | grep -q "x86-64" || fail "$X86 is not x86-64: $(file -b "$X86")"
file -b "$ARM" | grep -q "ARM aarch64" || fail "$ARM is not aarch64: $(file -b "$ARM")"
ok "both binaries are static (no PT_INTERP, no NEEDED)"

# ---- the Debian 11 root, made once (tests/peers/rootfs-install makes it
# before make check runs the tests)
. "$(dirname "$0")/foreign_root.sh"
foreign_root_make
grep -q '^11\.' "$ROOT/etc/debian_version" || fail "$ROOT is not Debian 11"
for lib in libcurl.so.4 libuv.so.1 libjansson.so.4; do
	if chroot "$ROOT" /sbin/ldconfig -p | grep -q "$lib"; then
		fail "the root has $lib: not a test of a bare userland"
	fi
done

# What each run puts into the root, removed when the test ends.
RUN=tmp/frugal-dist-test.$$
mkdir -p "$ROOT/$RUN"
cp "$X86" "$ARM" "$ROOT/$RUN/"
cp "$(command -v qemu-aarch64-static)" "$ROOT/$RUN/"
trap 'st=$?; rm -rf "${ROOT:?}/$RUN"; (exit $st); cleanup' EXIT
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root "$@"; }

# ---- the same version from both, in the old userland
v86=$(in_root "/$RUN/frugal-linux-x86_64" version) || fail "x86_64 version in the chroot: $v86"
varm=$(in_root "/$RUN/qemu-aarch64-static" "/$RUN/frugal-linux-aarch64" version) ||
	fail "aarch64 version under qemu: $varm"
[ "$v86" = "$varm" ] || fail "x86_64 says '$v86', aarch64 says '$varm'"
case $v86 in "frugal "*" (commit "*")") ;; *) fail "unexpected version line '$v86'";; esac
ok "Debian 11 chroot: $v86 (x86_64 and aarch64)"
dyn=$("$FRUGAL_BIN" version)
[ "$dyn" = "$v86" ] || echo "note: the dist binaries say '$v86', $FRUGAL_BIN says '$dyn' (make dist to refresh)"

for arch in x86_64 aarch64; do
	run=("/$RUN/frugal-linux-$arch")
	[ $arch = aarch64 ] && run=("/$RUN/qemu-aarch64-static" "/$RUN/frugal-linux-$arch")
	json=$(in_root "${run[@]}" version --json) || fail "$arch version --json"
	echo "$json" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['static'] is True, d['static']
assert d['arch'] == '$arch', d['arch']
assert d['libc'].startswith('musl '), d['libc']
names = {s['package'] for s in d['sources']}
for n in ('musl', 'openssl', 'curl', 'sqlite3', 'libyaml', 'jansson', 'libuv1', 'libxml2'):
    assert n in names, n
assert d['libraries']['libcurl_tls'].startswith('OpenSSL/'), d['libraries']
assert d['build_date'].endswith('Z')
" || fail "$arch version --json: $json"
done
ok "version --json: static, arch, musl, the Debian sources"

# ---- a task file checked, then a job run, with no network
mkdir -p "$ROOT/$RUN/proj" "$ROOT/$RUN/home"
cat > "$ROOT/$RUN/proj/task.yaml" <<'YAML'
name: dist-static
workdir: .
setup: echo "setup on $(cat /etc/debian_version)"
run: |
  mkdir -p out
  echo "ran on debian $(cat /etc/debian_version)" > out/result.txt
  cat out/result.txt
outputs: {paths: ["out/*.txt"]}
YAML
echo "input" > "$ROOT/$RUN/proj/data.txt"
for arch in x86_64 aarch64; do
	run=("/$RUN/frugal-linux-$arch")
	[ $arch = aarch64 ] && run=("/$RUN/qemu-aarch64-static" "/$RUN/frugal-linux-$arch")
	out=$(in_root FRUGAL_HOME=/$RUN/home "${run[@]}" check "/$RUN/proj/task.yaml" 2>&1) ||
		fail "$arch check in the chroot: $out"
done
ok "frugal check of a task file in the chroot (x86_64 and aarch64)"

# ---- HTTPS with certificate verification, against a local TLS server
# serving the price tables (frugal catalog update fetches them).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$ROOT/$RUN/ca.pem" \
	>/dev/null 2>&1 || fail "cannot make a test certificate"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other \
	-keyout "$TMP/other.key" -out "$ROOT/$RUN/other.pem" >/dev/null 2>&1 || fail "cannot make a second certificate"
python3 - "$FRUGAL_SRC/catalog" "$ROOT/$RUN/ca.pem" "$TMP/key.pem" "$TMP/port" <<'PY' &
import functools, http.server, ssl, sys
root, cert, key, portfile = sys.argv[1:]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
h.func.log_message = lambda *a: None
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(portfile + ".tmp", "w").write(str(srv.server_address[1]))
import os; os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY
server=$!
trap 'st=$?; kill $server 2>/dev/null; rm -rf "${ROOT:?}/$RUN"; (exit $st); cleanup' EXIT
for _ in $(seq 100); do [ -f "$TMP/port" ] && break; sleep 0.05; done
url=https://127.0.0.1:$(cat "$TMP/port")
for arch in x86_64 aarch64; do
	run=("/$RUN/frugal-linux-$arch")
	[ $arch = aarch64 ] && run=("/$RUN/qemu-aarch64-static" "/$RUN/frugal-linux-$arch")
	home=FRUGAL_HOME=/$RUN/home-$arch
	# The minbase root has no ca-certificates: a clear error naming the places.
	out=$(in_root $home "${run[@]}" catalog update --url "$url" --cloud gcp 2>&1) &&
		fail "$arch: catalog update with no CA bundle succeeded: $out"
	echo "$out" | grep -q "no CA certificate bundle" || fail "$arch: unclear error without a bundle: $out"
	echo "$out" | grep -q "/etc/ssl/certs/ca-certificates.crt" || fail "$arch: error does not name the places: $out"
	echo "$out" | grep -q "/etc/pki/tls/certs/ca-bundle.crt" || fail "$arch: error does not name the places: $out"
	# A bundle without the server's certificate: verification fails.
	out=$(in_root $home SSL_CERT_FILE=/$RUN/other.pem "${run[@]}" catalog update --url "$url" --cloud gcp 2>&1) &&
		fail "$arch: catalog update trusted a server it has no certificate for: $out"
	echo "$out" | grep -qi "certificate" || fail "$arch: unexpected TLS error: $out"
	# The server's certificate: the table is fetched over verified TLS.
	out=$(in_root $home SSL_CERT_FILE=/$RUN/ca.pem "${run[@]}" catalog update --url "$url" --cloud gcp 2>&1) ||
		fail "$arch: catalog update over https: $out"
	echo "$out" | grep -q "1 table installed" || fail "$arch: catalog update: $out"
	# The standard place works too (Debian's path, no environment).
	mkdir -p "$ROOT/etc/ssl/certs"
	cp "$ROOT/$RUN/ca.pem" "$ROOT/etc/ssl/certs/ca-certificates.crt"
	out=$(in_root $home "${run[@]}" catalog update --url "$url" --cloud gcp 2>&1)
	rc=$?
	rm -f "$ROOT/etc/ssl/certs/ca-certificates.crt"
	[ $rc -eq 0 ] || fail "$arch: catalog update with the bundle in /etc/ssl/certs: $out"
done
kill $server 2>/dev/null
ok "https in the chroot: verified against SSL_CERT_FILE and /etc/ssl/certs, refused with a wrong CA, clear error with none"

# The job: the CLI records it, starts the controller, which starts the
# agent; all static, all in the chroot. A pid namespace with its own /proc
# (the local backend reads /proc), so nothing outlives the test.
if ! unshare --pid --fork --mount-proc="$ROOT/proc" true 2>/dev/null; then
	skip "pid namespaces not available: the job part needs unshare --pid --mount-proc"
fi
out=$(timeout 120 unshare --pid --fork --mount-proc="$ROOT/proc" \
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root FRUGAL_HOME=/$RUN/home \
	FRUGAL_CONTROLLER_IDLE_EXIT=2s /bin/sh -c "cd /$RUN/proj && /$RUN/frugal-linux-x86_64 launch task.yaml" 2>&1) ||
	fail "job in the chroot: $out"
echo "$out" | grep -q "ran on debian 11" || fail "job output missing: $out"
echo "$out" | grep -q "SUCCEEDED" || fail "job did not succeed: $out"
found=$(find "$ROOT/$RUN/home" -path "*out/result.txt" | head -n 1)
[ -n "$found" ] && grep -q "ran on debian 11" "$found" || fail "output not stored: $(find "$ROOT/$RUN/home" | head -40)"
ok "a local job ran in the Debian 11 chroot with the static binary (output stored)"

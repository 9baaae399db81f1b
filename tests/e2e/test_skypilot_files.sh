#!/bin/bash
# Task files written in SkyPilot's schema (tests/data/skypilot/*.yaml, one
# or a few keys each, together every key of the schema): `frugal check`
# of each, run from that folder (a relative workdir is relative to the
# current directory, as in SkyPilot), must give what its .expect says:
#   args: --backend NAME    options of frugal check (optional)
#   exit: N                 its exit status (0 planned, 1 refused by the parser, 3 not plannable)
#   errors: N               exactly N error lines (optional)
#   any other line          text that must appear in its output
# No file may crash or hang frugal.
set -u
: "${FRUGAL_BIN:?FRUGAL_BIN must point at the frugal binary}"
FRUGAL_SRC=${FRUGAL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DIR=$FRUGAL_SRC/tests/data/skypilot
TMP=$(mktemp -d /tmp/frugal-sky.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failures=0
checked=0

for yaml in "$DIR"/*.yaml; do
	name=$(basename "$yaml")
	expect=${yaml%.yaml}.expect
	if [ ! -f "$expect" ]; then
		echo "FAIL: $name has no $(basename "$expect")" >&2
		failures=$((failures + 1))
		continue
	fi
	args=$(sed -n 's/^args: //p' "$expect")
	want_rc=$(sed -n 's/^exit: //p' "$expect")
	want_errors=$(sed -n 's/^errors: //p' "$expect")
	home=$(mktemp -d "$TMP/home.XXXXXX")
	# The clouds' plans need credentials (a plan refuses a backend without
	# them) and their settings; nothing is asked of a real API: the AWS
	# endpoint is a closed port (DescribeRegions fails fast: every region).
	case "$args" in
	*aws*) printf 'storage: s3://frugal-test-bucket/prefix\nbackends:\n  aws: {instance_profile: frugal-test}\n' \
		>"$home/config.yaml" ;;
	*gcp*) echo '{"type": "service_account", "project_id": "frugal-test", "client_email": "t@frugal-test.iam.gserviceaccount.com"}' \
		>"$home/sa.json"
	       printf 'storage: gs://frugal-test-bucket/prefix\nbackends:\n  gcp: {project: frugal-test, credentials: %s}\n' \
		"$home/sa.json" >"$home/config.yaml" ;;
	*) printf 'backends:\n  local:\n    gpus: 8\n' >"$home/config.yaml" ;;
	esac
	# shellcheck disable=SC2086
	(cd "$DIR" && KUBECONFIG=$TMP/no-kubeconfig FRUGAL_HOME=$home AWS_ACCESS_KEY_ID=AKIDFRUGALTEST \
		AWS_SECRET_ACCESS_KEY=frugal-test-secret AWS_ENDPOINT_URL=http://127.0.0.1:9 \
		timeout 20 "$FRUGAL_BIN" check $args "$name") >"$TMP/out" 2>&1
	rc=$?
	checked=$((checked + 1))
	if [ "$rc" -ne "${want_rc:-0}" ]; then
		echo "FAIL: $name: frugal check exited $rc, not ${want_rc:-0}" >&2
		cat "$TMP/out" >&2
		failures=$((failures + 1))
		continue
	fi
	if [ -n "$want_errors" ]; then
		n=$(grep -c ': error: ' "$TMP/out")
		if [ "$n" -ne "$want_errors" ]; then
			echo "FAIL: $name: $n error lines, not $want_errors" >&2
			cat "$TMP/out" >&2
			failures=$((failures + 1))
		fi
	fi
	while IFS= read -r want || [ -n "$want" ]; do
		case "$want" in ''|args:*|exit:*|errors:*) continue ;; esac
		if ! grep -qF -- "$want" "$TMP/out"; then
			echo "FAIL: $name: output lacks: $want" >&2
			echo "--- output was:" >&2
			cat "$TMP/out" >&2
			failures=$((failures + 1))
		fi
	done <"$expect"
done

echo "$checked SkyPilot task files checked"
if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "ok - every SkyPilot task file planned or refused as its .expect says"

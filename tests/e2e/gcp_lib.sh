# Helpers for the gcp end-to-end tests (sourced after lib.sh's rules):
# a fresh FRUGAL_HOME whose storage is gs:// on tests/fakes/gcp_fake.py,
# a service account key made for the test (the fake verifies its JWTs),
# and VMs that "boot": the fake runs each VM's startup-script in a sandbox
# under $TMP/vms with its metadata server pointed at the fake. The VMs'
# console output lands in $FRUGAL_HOME/logs/agents/gce-*.log, where
# lib.sh's cleanup looks for sanitizer reports.
. "$(dirname "$0")/lib.sh"

FAKE_PY=$FRUGAL_SRC/tests/fakes/gcp_fake.py
FRUGAL_SHARED=${FRUGAL_SHARED:-$FRUGAL_SRC/../shared}
DISCOVERY=$FRUGAL_SHARED/specs/google-api-nodejs-client/discovery/compute-v1.json
for tool in python3 openssl curl tar sha256sum; do
	command -v $tool >/dev/null || { echo "skipped: $tool not available"; exit 77; }
done
[ -f "$DISCOVERY" ] || { echo "skipped: ../shared/specs (Compute v1 discovery document) not available"; exit 77; }

FAKE_PID=""
BUCKET=frugal-e2e-bucket

gcp_cleanup() {
	local rc=$?
	"$FRUGAL_BIN" controller --stop >/dev/null 2>&1 || true
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null && wait "$FAKE_PID" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] && echo "kept: $TMP"
	(exit $rc)
	cleanup
}
trap gcp_cleanup EXIT

# gcp_start [FAKE ARGS...]: start the fake, write the key and config.yaml.
gcp_start() {
	mkdir -p "$TMP/vms" "$FRUGAL_HOME/logs/agents"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/key.pem" 2>/dev/null &&
		openssl pkey -in "$TMP/key.pem" -pubout -out "$TMP/pub.pem" 2>/dev/null || fail "openssl"
	python3 "$FAKE_PY" --port-file "$TMP/fake.port" --discovery "$DISCOVERY" \
		--public-key "$TMP/pub.pem" --client-email e2e@frugal-test.iam.gserviceaccount.com \
		--bucket $BUCKET --boot --vm-root "$TMP/vms" --serial-dir "$FRUGAL_HOME/logs/agents" \
		--vm-env "FRUGAL_HOME=$FRUGAL_HOME/vm" \
		--vm-env "ASAN_OPTIONS=${ASAN_OPTIONS:-}" --vm-env "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}" \
		"$@" 2>"$TMP/fake.err" &
	FAKE_PID=$!
	for i in $(seq 100); do [ -s "$TMP/fake.port" ] && break; sleep 0.1; done
	[ -s "$TMP/fake.port" ] || fail "the fake did not start: $(cat "$TMP/fake.err")"
	FAKE=http://127.0.0.1:$(cat "$TMP/fake.port")
	python3 - "$TMP/key.pem" "$FAKE/token" > "$TMP/sa.json" <<'PY'
import json, sys
print(json.dumps({"type": "service_account", "project_id": "frugal-test",
                  "private_key_id": "e2e-key", "private_key": open(sys.argv[1]).read(),
                  "client_email": "e2e@frugal-test.iam.gserviceaccount.com", "client_id": "1",
                  "token_uri": sys.argv[2]}))
PY
	chmod 600 "$TMP/sa.json"
	export GOOGLE_APPLICATION_CREDENTIALS=$TMP/sa.json
	export FRUGAL_GCS_ENDPOINT=$FAKE
	export FRUGAL_GCP_COMPUTE_URL=$FAKE/compute/v1
	write_config "storage: gs://$BUCKET/frugal
backends:
  gcp: {project: frugal-test, insert_timeout: 30s, delete_wait: 5s}"
}

# fake_state PYTHON-EXPR: evaluate an expression over the fake's state (s).
fake_state() {
	curl -sf "$FAKE/_fake/state" | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

# fake_object NAME: an object of the bucket, on stdout.
fake_object() { curl -sf "$FAKE/_fake/object?bucket=$BUCKET&name=$1"; }

# wait_vm_gone [SECONDS]: until the fake holds no instance and no VM process.
wait_vms_gone() {
	local secs=${1:-30} i=0
	while [ $i -lt $((secs * 10)) ]; do
		[ "$(fake_state 'len(s["instances"]) + len(s["live_vm_processes"])')" = 0 ] && return 0
		sleep 0.1; i=$((i + 1))
	done
	fail "VMs left: $(fake_state 's["instances"], s["live_vm_processes"]')"
}

# no_schema_errors: every request body matched the discovery schemas.
no_schema_errors() {
	[ "$(fake_state 'len(s["schema_errors"])')" = 0 ] || fail "requests the discovery document refuses: $(fake_state 's["schema_errors"]')"
}

# plan_zone TASK: the zone the plan of TASK picks now.
plan_zone() {
	frugal launch --dry-run --json "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('zone') or d['plan']['zone'])"
}

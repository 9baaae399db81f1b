# Helpers for the Lambda and Runpod end-to-end tests (source after
# tests/e2e/lib.sh). Each test runs a stateful fake of the cloud
# (fake_lambda.py / fake_runpod.py) behind Prism in validation proxy mode,
# serving the provider's published OpenAPI document: a request frugal sends
# that the spec does not allow is answered 422 by Prism (the test then
# fails on the frugal side) and logged, and check_prism fails the test on
# any logged violation, of a request or of a fake's response.
FAKES=$FRUGAL_SRC/tests/fakes
SPECS=${FRUGAL_SHARED:-$FRUGAL_SRC/../shared}/specs
PRISM=$FRUGAL_SRC/tests/peers/node_modules/.bin/prism
export FAKE_CLOUD_ROOT=$TMP/cloud
mkdir -p "$FAKE_CLOUD_ROOT/hosts"

skip() { echo "skipped: $*"; exit 77; }

# need_spec FILE: the published spec, or skip.
need_spec() {
	[ -f "$SPECS/$1" ] || skip "$SPECS/$1 not available (../shared/specs)"
}

need_prism() {
	[ -x "$PRISM" ] || "$FRUGAL_SRC/tests/peers/prism-install" >/dev/null 2>&1 || true
	[ -x "$PRISM" ] || skip "prism not available (tests/peers/prism-install)"
	command -v node >/dev/null 2>&1 || skip "prism not available (no node)"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_fake SCRIPT: run a fake cloud; its port in FAKE_PORT.
start_fake() {
	# In a subshell: not a job of the test's shell (no "Killed" at cleanup).
	(python3 "$FAKES/$1" "$TMP/fake.port" >"$TMP/fake.log" 2>&1 &)
	for _ in $(seq 100); do [ -s "$TMP/fake.port" ] && break; sleep 0.05; done
	FAKE_PORT=$(cat "$TMP/fake.port" 2>/dev/null) || fail "the fake cloud did not start"
}

# start_prism SPEC: Prism proxy in front of the fake; its URL in API_URL.
start_prism() {
	local port i
	port=$(free_port)
	("$PRISM" proxy "$SPECS/$1" "http://127.0.0.1:$FAKE_PORT" --errors -h 127.0.0.1 \
		-p "$port" >"$TMP/prism.log" 2>&1 &)
	for i in $(seq 300); do
		grep -q "Prism is listening" "$TMP/prism.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "Prism is listening" "$TMP/prism.log" || { cat "$TMP/prism.log" >&2; fail "prism did not start"; }
	API_URL=http://127.0.0.1:$port
}

# check_machines: no sanitizer report from an agent on a fake machine (its
# log is on the machine, where lib.sh does not look).
check_machines() {
	local logs
	logs=$(find "$FAKE_CLOUD_ROOT/hosts" \( -name agent.log -o -name container.log \) 2>/dev/null)
	[ -z "$logs" ] && return 0
	if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" $logs >/dev/null 2>&1; then
		grep -hE -A12 "ERROR: (Address|Leak)Sanitizer|runtime error:" $logs | head -60 >&2
		fail "sanitizer report from an agent on a fake machine"
	fi
}

# check_prism: requests went through Prism (none at all means frugal
# talked to something else, and nothing was checked), and Prism found no
# request or response invalid (and no sanitizer report from the machines).
check_prism() {
	local n
	check_machines
	[ -f "$TMP/prism.log" ] || fail "no Prism log: Prism never ran"
	if grep -E "✖|[Vv]iolation|UNPROCESSABLE|is not valid" "$TMP/prism.log" >/dev/null; then
		grep -E -B2 -A4 "✖|[Vv]iolation|UNPROCESSABLE|is not valid" "$TMP/prism.log" | head -40 >&2
		fail "Prism found a request or response that the published spec does not allow"
	fi
	n=$(grep -c "Request received" "$TMP/prism.log")
	[ "${n:-0}" -gt 0 ] || fail "no request went through Prism: nothing was checked against the spec"
	ok "$n requests went through Prism and the spec accepted every one"
}

# runpod_pods: how many pods the Runpod API (v2, through Prism) lists.
runpod_pods() {
	curl -s -H "Authorization: Bearer $KEY" "$API_URL/v2/pods" |
		python3 -c 'import json, sys; print(len(json.load(sys.stdin)["pods"]))'
}

# launched_count: instances/pods the fake created.
launched_count() { [ -f "$FAKE_CLOUD_ROOT/launched.log" ] && wc -l < "$FAKE_CLOUD_ROOT/launched.log" || echo 0; }

# no_secret TEXT WHERE...: TEXT in none of the files under the paths.
no_secret() {
	local s=$1 f
	shift
	for f in $(find "$@" -type f 2>/dev/null); do
		case $f in */self.key) continue;; esac
		grep -qaF "$s" "$f" && fail "a secret is in $f"
	done
	return 0
}

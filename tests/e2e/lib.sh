# Shared helpers for the end-to-end tests: each test sources this, gets a
# fresh FRUGAL_HOME in a temporary directory, and drives the real binary.
set -u
: "${FRUGAL_BIN:?FRUGAL_BIN must point at the frugal binary}"
FRUGAL_SRC=${FRUGAL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=$(mktemp -d /tmp/frugal-e2e.XXXXXX)
export FRUGAL_HOME=$TMP/home
export FRUGAL_CONTROLLER_IDLE_EXIT=${FRUGAL_CONTROLLER_IDLE_EXIT:-20s}
mkdir -p "$FRUGAL_HOME"

frugal() { "$FRUGAL_BIN" "$@"; }

cleanup() {
	local rc=$?
	"$FRUGAL_BIN" controller --stop >/dev/null 2>&1 || true
	# Sanitizer reports from the controller and the agents (their stderr
	# goes to logs, not to this test) fail the test too.
	if grep -lE "ERROR: (Address|Leak)Sanitizer|runtime error:" \
		"$FRUGAL_HOME/controller.log" "$FRUGAL_HOME"/logs/agents/*.log >/dev/null 2>&1; then
		echo "FAIL: sanitizer report in a daemon log:" >&2
		grep -hE -A12 "ERROR: (Address|Leak)Sanitizer|runtime error:" \
			"$FRUGAL_HOME/controller.log" "$FRUGAL_HOME"/logs/agents/*.log 2>/dev/null | head -60 >&2
		rc=1
	fi
	# Nothing a test started may outlive it.
	for p in $(grep -l "FRUGAL_HOME=$FRUGAL_HOME" /proc/[0-9]*/environ 2>/dev/null |
		   sed 's|/proc/\([0-9]*\)/environ|\1|'); do
		kill -9 "$p" 2>/dev/null || true
	done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$FRUGAL_HOME/controller.log" ]; then
		echo "--- controller.log" >&2; tail -n 30 "$FRUGAL_HOME/controller.log" >&2
	fi
	exit 1
}

ok() { echo "ok - $*"; }

# job_field JOB FIELD: a field of `status --json`.
job_field() {
	frugal status "$1" --json | python3 -c "import json,sys; print(json.load(sys.stdin)['jobs'][0]['$2'])"
}

# attempt_field JOB N FIELD
attempt_field() {
	frugal status "$1" --json |
		python3 -c "import json,sys; print(json.load(sys.stdin)['jobs'][0]['attempts'][$2 - 1]['$3'])"
}

# wait_status JOB STATUS [SECONDS]: wait until the job has STATUS.
wait_status() {
	local job=$1 want=$2 secs=${3:-30} i=0 s=""
	while [ $i -lt $((secs * 20)) ]; do
		s=$(job_field "$job" status 2>/dev/null)
		[ "$s" = "$want" ] && return 0
		sleep 0.05; i=$((i + 1))
	done
	fail "job $job is $s, expected $want after ${secs}s"
}

# wait_terminal JOB [SECONDS]
wait_terminal() {
	local job=$1 secs=${2:-60} i=0 s=""
	while [ $i -lt $((secs * 20)) ]; do
		s=$(job_field "$job" status 2>/dev/null)
		case $s in SUCCEEDED|FAILED|CANCELLED) echo "$s"; return 0;; esac
		sleep 0.05; i=$((i + 1))
	done
	fail "job $job did not finish in ${secs}s (status $s)"
}

# instance_procs TOKEN_PREFIX: processes with an instance marker of this home.
instance_procs() {
	grep -l "FRUGAL_HOME=$FRUGAL_HOME" /proc/[0-9]*/environ 2>/dev/null |
		sed 's|/proc/\([0-9]*\)/environ|\1|' |
		while read -r p; do
			if tr '\0' '\n' 2>/dev/null < /proc/$p/environ | grep -q "^FRUGAL_INSTANCE=${1:-}"; then
				state=$(awk '{print $3}' /proc/$p/stat 2>/dev/null)
				[ "$state" = Z ] || echo "$p"
			fi
		done
}

# write_config YAML: $FRUGAL_HOME/config.yaml
write_config() { printf '%s\n' "$1" > "$FRUGAL_HOME/config.yaml"; }

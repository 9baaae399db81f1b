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

# ledger_open [JOB]: resource rows (of JOB, else of every job) not yet gone.
ledger_open() {
	python3 - "$FRUGAL_HOME/state.db" "${1:-}" <<'PY'
import sqlite3, sys
q, args = "SELECT count(*) FROM resources WHERE state != 'gone'", ()
if sys.argv[2]:
    q, args = q + " AND job_id = ?", (sys.argv[2],)
print(sqlite3.connect(sys.argv[1]).execute(q, args).fetchone()[0])
PY
}

# controller_pid: the pid in $FRUGAL_HOME/controller.pid (empty: none).
controller_pid() { cat "$FRUGAL_HOME/controller.pid" 2>/dev/null; }

# wait_controller_crash POINT: wait (30 s at most) for the controller
# started with FRUGAL_CONTROLLER_FAULT=POINT to die there, fail when it
# still runs, and remove the pid file it left.
wait_controller_crash() {
	local i pid
	for i in $(seq 600); do
		pid=$(controller_pid)
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	pid=$(controller_pid)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then fail "the controller did not crash at $1"; fi
	rm -f "$FRUGAL_HOME/controller.pid"
}

# crash_at POINT [TASK [LAUNCH-ARGS...]]: start a controller that dies at
# fault point POINT, launch TASK ($TMP/job.yaml) -- its id in $job -- and
# wait for the death.
crash_at() {
	local point=$1 task=${2:-$TMP/job.yaml}
	shift $(($# < 2 ? $# : 2))
	FRUGAL_CONTROLLER_FAULT=$point frugal controller >/dev/null || fail "controller with fault $point"
	job=$(frugal launch -d "$@" "$task") || fail "launch ($point)"
	wait_controller_crash "$point"
}

# crash_each_point TASK SECONDS CHECK POINT...: for each fault point,
# crash_at it, restart the controller, want the job SUCCEEDED within
# SECONDS, then run `CHECK JOB WHAT` (nothing leaked: it fails the test
# otherwise) and stop the controller. Adds the points covered to $covered.
crash_each_point() {
	local task=$1 secs=$2 check=$3 p s
	shift 3
	for p in "$@"; do
		crash_at "$p" "$task"
		frugal controller >/dev/null || fail "restart after $p"
		s=$(wait_terminal "$job" "$secs")
		[ "$s" = SUCCEEDED ] || fail "after a crash at $p the job is $s"
		"$check" "$job" "crash at $p"
		frugal controller --stop >/dev/null
		covered=$((covered + 1))
		ok "controller crash at $p: job SUCCEEDED, no duplicate attempt, nothing leaked"
	done
}

# gc_ends_stray BACKEND STRAY KEEP: `frugal gc --dry-run` lists a row of
# BACKEND matching STRAY (a regex) to be ended and none matching KEEP;
# `frugal gc` ends it; a second look finds nothing more of BACKEND.
gc_ends_stray() {
	local be=$1 stray=$2 keep=$3
	frugal gc --dry-run > "$TMP/gc.dry" || fail "gc --dry-run: $(cat "$TMP/gc.dry")"
	grep -q "^$be .*$stray.*would end" "$TMP/gc.dry" || fail "gc --dry-run does not list $stray: $(cat "$TMP/gc.dry")"
	! grep "^$be" "$TMP/gc.dry" | grep -q "$keep" || fail "gc would end what it must not: $(cat "$TMP/gc.dry")"
	frugal gc > "$TMP/gc.out" || fail "gc: $(cat "$TMP/gc.out")"
	grep -q "^$be .*$stray.*ended" "$TMP/gc.out" || fail "gc did not end $stray: $(cat "$TMP/gc.out")"
	! frugal gc --dry-run | grep -q "^$be" || fail "a second gc: $(frugal gc --dry-run)"
}

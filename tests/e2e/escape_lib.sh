# Shared by the test_escape_*.sh tests: a job whose process tries to
# outlive its teardown. Source after lib.sh.
#
#   escape_need_cgroups      skip (77) unless root with a writable cgroup v2
#   escape_mode cgroups|scan config.yaml for that teardown, checked in `backends`
#   escape_job NAME SNIPPET  a task file $TMP/NAME.yaml whose run does SNIPPET
#                            (which appends the escapee's pid to $PIDS), then
#                            `sleep ${HOLD:-0}`
#   escape_alive             the recorded pids still alive (same start time)
#   escape_orphan_box CMD    CMD started inside a box of this home no job owns
#                            (what a controller killed mid-teardown leaves)
PIDS=$TMP/escapees
: > "$PIDS"

# Every recorded escapee is ended, whatever the test found: they carry no
# marker, so lib.sh's cleanup would not see them.
escape_cleanup() {
	local rc=$?
	while read -r p start; do
		[ -n "$p" ] && [ "$(escape_start "$p")" = "$start" ] && kill -9 "$p" 2>/dev/null
	done < <(escape_records)
	(exit $rc)
	cleanup
}
trap escape_cleanup EXIT

escape_need_cgroups() {
	if [ "$(id -u)" != 0 ] || ! grep -q " - cgroup2 " /proc/self/mountinfo; then
		echo "skipped: needs root and cgroup v2"
		exit 77
	fi
}

# Start time (field 22 of /proc/PID/stat) of a live, non-zombie PID; empty if gone.
escape_start() {
	local s
	s=$(sed 's/.*) //' /proc/"$1"/stat 2>/dev/null) || return 0
	set -- $s
	[ "$1" = Z ] || echo "${20}"
}

# "PID START" for each pid the job recorded (START read now; the test reads
# it as soon as the job reports, while the escapee surely lives).
escape_records() { cat "$TMP/escapees.start" 2>/dev/null; }

# Remember the start times of the recorded pids (call while they live).
escape_remember() {
	local p n=0
	: > "$TMP/escapees.start"
	for p in $(cat "$PIDS"); do
		echo "$p $(escape_start "$p")" >> "$TMP/escapees.start"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || fail "the job recorded no escapee"
}

escape_alive() {
	local p start
	while read -r p start; do
		[ -n "$start" ] && [ "$(escape_start "$p")" = "$start" ] && echo "$p"
	done < <(escape_records)
}

escape_mode() {
	# The controller reads config.yaml when it starts.
	frugal controller --stop >/dev/null 2>&1 || true
	if [ "$1" = scan ]; then
		write_config "backends: {local: {cgroups: false}}"
		frugal backends local | grep -q "teardown     process scan" ||
			fail "cgroups: false does not give the process scan: $(frugal backends local)"
	else
		rm -f "$FRUGAL_HOME/config.yaml"
		frugal backends local | grep -q "teardown     cgroups" ||
			fail "root with cgroup v2 but teardown is not cgroups: $(frugal backends local)"
	fi
}

escape_job() {
	local name=$1 snippet=$2
	{
		echo "envs: {PIDS: $PIDS}"
		echo "run: |"
		printf '%s\n' "$snippet" | sed 's/^/  /'
		echo "  while [ ! -s \"\$PIDS\" ]; do sleep 0.05; done"
		echo "  sleep ${HOLD:-0}"
	} > "$TMP/$name.yaml"
}

# Wait until the job has written its pids and they run.
escape_wait_recorded() {
	local i=0
	while [ ! -s "$PIDS" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
	[ -s "$PIDS" ] || fail "the job never recorded its escapee"
	sleep 0.3
	escape_remember
}

# After a job ended: nothing it started lives on, and its box is gone.
escape_assert_none() {
	local what=$1 i=0 left
	while [ $i -lt 40 ]; do
		left=$(escape_alive)
		[ -z "$left" ] && break
		sleep 0.05; i=$((i + 1))
	done
	[ -z "$left" ] || fail "$what: escapee(s) $left survive: $(for p in $left; do tr '\0' ' ' < /proc/$p/cmdline; echo; done)"
}

# The cgroup directory of this home's instances (from `frugal backends`).
escape_box_base() {
	frugal backends local | sed -n 's/.*teardown: cgroups under \([^ ;]*\).*/\1/p'
}

# CMD in a box named orphan<N>-1 of this home: a box no job owns.
escape_orphan_box() {
	local base box
	base=$(escape_box_base)
	[ -n "$base" ] || fail "no cgroup base in: $(frugal backends local)"
	box=$base/orphan$$-1
	mkdir -p "$box" || fail "cannot make $box"
	: > "$PIDS"
	PIDS=$PIDS bash -c 'echo $$ > "$1/cgroup.procs" && shift && eval "$@"' _ "$box" "$1" &
	wait $!
	escape_wait_recorded
	ORPHAN_BOX=$box
}

# gc ends the orphan box's escapee and removes the box.
escape_gc_case() {
	escape_orphan_box "$1"
	frugal gc > "$TMP/gc.out" 2>&1 || fail "gc: $(cat "$TMP/gc.out")"
	grep -q "orphan$$-1" "$TMP/gc.out" || fail "gc did not name the orphan box: $(cat "$TMP/gc.out")"
	escape_assert_none "gc"
	[ ! -e "$ORPHAN_BOX" ] || fail "gc left the box $ORPHAN_BOX"
}

# The three ways the job ends: exit, cancel. Each with a fresh pid file.
escape_exit_case() {
	local snippet=$1 job
	: > "$PIDS"
	HOLD=0 escape_job exit "$snippet"
	job=$(frugal launch -d "$TMP/exit.yaml") || fail "launch: $job"
	escape_wait_recorded
	[ "$(wait_terminal "$job" 30)" = SUCCEEDED ] || fail "job $job did not succeed"
	escape_assert_none "job exit"
}

escape_cancel_case() {
	local snippet=$1 job
	: > "$PIDS"
	HOLD=600 escape_job cancel "$snippet"
	job=$(frugal launch -d "$TMP/cancel.yaml") || fail "launch: $job"
	escape_wait_recorded
	wait_status "$job" RUNNING 20
	frugal cancel "$job" >/dev/null || fail "cancel $job"
	[ "$(wait_terminal "$job" 30)" = CANCELLED ] || fail "job $job not cancelled"
	escape_assert_none "cancel"
}

# All of it, with cgroups: exit, cancel, gc.
escape_all_cases() {
	escape_need_cgroups
	escape_mode cgroups
	escape_exit_case "$1"; ok "cgroups: the escapee dies with its job's teardown (exit)"
	escape_cancel_case "$1"; ok "cgroups: the escapee dies with its job's teardown (cancel)"
	escape_gc_case "$1"; ok "cgroups: gc ends an orphan box's escapee and removes the box"
	[ -z "$(ls -d "$(escape_box_base)"/*/ 2>/dev/null)" ] ||
		fail "boxes left: $(ls -d "$(escape_box_base)"/*/)"
	ok "cgroups: no box of this home is left"
}

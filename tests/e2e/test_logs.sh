#!/bin/bash
# frugal logs: every attempt under a header, --attempt N alone, --tail N,
# the newest job when none is named, and progress output redrawn with
# '\r' stored and shown as it comes (not held until a newline).
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/proj"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: logs
run: |
  for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i attempt $FRUGAL_ATTEMPT"; done
  printf 'progress 10%%\rprogress 50%%\rprogress 100%%\n'
  if [ "$FRUGAL_ATTEMPT" = 1 ]; then exit 3; fi
recovery: {max_restarts_on_errors: 1}
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
job=$(frugal launch -d "$TMP/proj/task.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not succeed"

out=$(frugal logs "$job")
echo "$out" | grep -q "^=== attempt 1: local.*failed ===" || fail "no header of attempt 1: $out"
echo "$out" | grep -q "^=== attempt 2: local.*succeeded ===" || fail "no header of attempt 2: $out"
echo "$out" | grep -q "line 3 attempt 1" || fail "attempt 1's lines missing"
echo "$out" | grep -q "line 3 attempt 2" || fail "attempt 2's lines missing"
ok "logs shows every attempt under a header"

out=$(frugal logs "$job" --attempt 1)
echo "$out" | grep -q "attempt 2" && fail "--attempt 1 shows attempt 2"
echo "$out" | grep -q "line 10 attempt 1" || fail "--attempt 1 lacks its lines"
ok "--attempt N shows that attempt alone"

# Records from "line 10" to the end of attempt 2 (progress records count).
k=$(frugal logs "$job" --attempt 2 | tr '\r' '\n' | sed -n '/line 10 attempt 2/,$p' | wc -l)
n=$((k + 1))
out=$(frugal logs "$job" --tail $n | tr '\r' '\n')
echo "$out" | grep -q "line 9 attempt 2" || fail "--tail $n lacks line 9: $out"
echo "$out" | grep -q "line 8 attempt 2" && fail "--tail $n shows more than $n records: $out"
echo "$out" | grep -q "line . attempt 1" && fail "--tail shows attempt 1"
ok "--tail $n gives the last $n records of the last attempt"

# The progress records keep their '\r': 10% and 50% end in CR, 100% in LF.
frugal logs "$job" --attempt 2 | python3 -c 'import sys; d = sys.stdin.buffer.read(); sys.exit(0 if b"progress 10%\rprogress 50%\rprogress 100%\n" in d else 1)' ||
	fail "progress records lost their carriage returns: $(frugal logs "$job" --attempt 2 | od -c | tail -8)"
frugal logs "$job" --attempt 2 --timestamps | grep -aq $'Z progress 50%\r' ||
	fail "progress record not stored with its own timestamp"
ok "progress output redrawn with CR is stored and shown record by record"

# Without a job id: the newest job.
job2=$(frugal launch -d "$TMP/proj/task.yaml" --name newest) || fail "second launch"
wait_terminal "$job2" 60 >/dev/null
frugal logs | grep -q "=== attempt" || fail "logs without a job id showed nothing"
[ "$(frugal logs --attempt 1 | head -1)" = "$(frugal logs "$job2" --attempt 1 | head -1)" ] ||
	fail "logs without a job id is not the newest job"
ok "logs without a job id shows the newest job ($job2)"

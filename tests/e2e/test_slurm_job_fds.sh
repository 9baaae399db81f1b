#!/bin/bash
# Slurm: a job inherits no descriptor of frugal's: its setup and run see only 0,
# 1 and 2 (before, fd 7 of a job was controller.log, open for writing, and
# other descriptors of the controller and the agent came along).
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
slurm_setup

cat > "$TMP/task.yaml" <<'YAML'
name: fds
setup: ls -l /proc/self/fd
run: |
  python3 - <<'PY'
  import os
  for fd in sorted(os.listdir("/proc/self/fd"), key=int):
      try:
          print("fd", fd, os.readlink("/proc/self/fd/" + fd))
      except OSError:
          print("fd", fd, "(the listing itself)")
  PY
YAML

out=$(frugal launch --backend slurm "$TMP/task.yaml" 2>"$TMP/launch.err") || fail "launch exited $?: $(cat "$TMP/launch.err")"
job=$(echo "$out" | head -n 1)
echo "$out" | grep -q "^fd 0 " || fail "the job listed no descriptors: $out"
extra=$(echo "$out" | grep '^fd ' | grep -vE '^fd [012] |\(the listing itself\)$')
[ -z "$extra" ] || fail "descriptors leaked into the job:
$extra"
ok "run sees only fds 0, 1, 2"

# setup's `ls -l`: its own listing fd (3, /proc/PID/fd) and nothing more.
setup=$(frugal logs "$job" | grep -E ' [0-9]+ -> ' | sed 's/.* \([0-9]*\) -> \(.*\)/\1 \2/')
[ -n "$setup" ] || fail "setup listed no descriptors"
extra=$(echo "$setup" | grep -vE '^[012] ' | grep -vE '^[0-9]+ /proc/[0-9]+/fd$')
[ -z "$extra" ] || fail "descriptors leaked into setup:
$extra"
ok "setup sees only fds 0, 1, 2 (and ls's own listing)"

#!/bin/bash
# Finding (issue 14): a process that scrubs FRUGAL_INSTANCE from its own
# environ (here: zeroes the environment block in its memory, so
# /proc/PID/environ shows nothing, without an exec) survived teardown and
# gc. With a cgroup per instance it dies with the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/escape_lib.sh"
command -v python3 >/dev/null || { echo "skipped: python3 not available"; exit 77; }
escape_all_cases 'python3 - <<"PY"
import os, time
pids = os.environ["PIDS"]
if os.fork() == 0:
    os.setsid()
    # Fields after the command name start at field 3: env_start is 50, env_end 51.
    st = open("/proc/self/stat").read().rsplit(")", 1)[1].split()
    start, end = int(st[47]), int(st[48])
    with open("/proc/self/mem", "r+b") as m:
        m.seek(start)
        m.write(b"\0" * (end - start))
    assert b"FRUGAL_INSTANCE" not in open("/proc/self/environ", "rb").read()
    with open(pids, "a") as f:
        f.write("%d\n" % os.getpid())
    while True:
        time.sleep(1000)
PY'

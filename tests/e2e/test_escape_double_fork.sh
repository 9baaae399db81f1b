#!/bin/bash
# Finding (issue 14): a Python double fork (fork, setsid, fork, the middle
# one exits) whose grandchild execs with an empty environment survived
# teardown and gc. With a cgroup per instance it dies with the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/escape_lib.sh"
command -v python3 >/dev/null || { echo "skipped: python3 not available"; exit 77; }
escape_all_cases 'python3 - <<"PY"
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(os.environ["PIDS"], "a") as f:
            f.write("%d\n" % os.getpid())
        os.execve("/bin/sleep", ["sleep", "1000"], {})
    os._exit(0)
os.wait()
PY'

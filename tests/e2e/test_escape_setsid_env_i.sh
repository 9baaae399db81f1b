#!/bin/bash
# Finding (issue 14): `setsid env -i sleep 1000 &` in run: -- a new session
# and an empty environment (no FRUGAL_INSTANCE marker) -- survived
# teardown and gc. With a cgroup per instance it dies when the job exits,
# when it is cancelled, and gc ends it in a box no job owns.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/escape_lib.sh"
escape_all_cases 'setsid env -i sleep 1000 &
echo $! >> "$PIDS"'

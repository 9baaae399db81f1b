#!/bin/bash
# Finding (issue 14, item 3): where the local backend has no cgroups
# (forced here with backends.local.cgroups: false, the process scan) a
# `setsid env -i sleep 1000 &` carries no marker, so the scan missed it and
# it outlived its job. The agent is a child subreaper now: the daemon stays
# its descendant and is ended when the attempt ends (exit and cancel). What
# the scan still cannot find is such a daemon whose agent was SIGKILLed
# first (docs/LOCAL.md): only cgroups catch that.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/escape_lib.sh"
detach='setsid env -i sleep 1000 </dev/null >/dev/null 2>&1 &
echo $! >> "$PIDS"'

escape_mode scan
escape_exit_case "$detach"
ok "scan: setsid env -i dies when the job exits"
escape_cancel_case "$detach"
ok "scan: setsid env -i dies when the job is cancelled"

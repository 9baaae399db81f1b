#!/bin/bash
# Live feedback on a terminal, read off the screen with tmux: an attached
# `frugal launch` says why the job waits (the PENDING reason), and a
# tqdm-style progress bar (redrawn with '\r', no newline until the end)
# advances on screen while it runs, not only when its line ends.
. "$(dirname "$0")/lib.sh"
command -v tmux >/dev/null || { echo "skipped: tmux not available"; exit 77; }
printf 'backends:\n  local:\n    gpus: 1\n' > "$FRUGAL_HOME/config.yaml"
mkdir -p "$TMP/proj"
cat > "$TMP/proj/hold.yaml" <<'YAML'
name: hold
resources: {accelerators: "GPU:1"}
run: sleep 3
YAML
cat > "$TMP/proj/bar.yaml" <<'YAML'
name: bar
resources: {accelerators: "GPU:1"}
run: |
  python3 -c '
  import sys, time
  for i in range(1, 61):
      sys.stdout.write(f"\rtraining {i}/60 [" + "#" * (i // 6) + "]")
      sys.stdout.flush()
      time.sleep(0.1)
  print()
  print("all done")'
YAML
hold=$(frugal launch -d "$TMP/proj/hold.yaml") || fail "launch hold"
wait_status "$hold" RUNNING 20
S=frugal-tty-$$
tmux new-session -d -s "$S" -x 160 -y 40 \
	"cd $TMP/proj && FRUGAL_HOME=$FRUGAL_HOME $FRUGAL_BIN launch bar.yaml; sleep 60" ||
	fail "tmux"
trap 'rc=$?; tmux kill-session -t "$S" 2>/dev/null; (exit $rc); cleanup' EXIT
screen() { tmux capture-pane -p -t "$S"; }
pending=0 first="" later="" done_seen=0
for i in $(seq 400); do
	s=$(screen)
	echo "$s" | grep -q "PENDING: waiting for 1 GPU" && pending=1
	if echo "$s" | grep -q "all done"; then done_seen=1; break; fi
	n=$(echo "$s" | sed -n 's/.*training \([0-9]*\)\/60.*/\1/p' | tail -1)
	if [ -n "$n" ]; then
		[ -z "$first" ] && first=$n
		[ "$n" -gt "${later:-0}" ] && later=$n
	fi
	sleep 0.05
done
[ $pending = 1 ] || fail "the PENDING reason never showed: $(screen)"
ok "an attached launch shows why the job waits (PENDING: waiting for 1 GPU)"
[ -n "$first" ] || fail "no progress on screen before the line ended: $(screen)"
[ "$later" -gt "$((first + 10))" ] || fail "progress did not advance before the newline ($first -> $later)"
[ $done_seen = 1 ] || fail "the job did not finish on screen: $(screen)"
ok "the progress bar advanced on screen before its newline ($first/60 -> $later/60)"

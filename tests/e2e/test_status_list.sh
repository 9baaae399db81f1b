#!/bin/bash
# frugal status never hides rows silently: past the newest finished jobs
# it says how many more there are; --watch redraws the table.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/task.yaml" <<'YAML'
name: many
run: "true"
sweep: {params: {I: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]}, max_parallel: 8}
YAML
frugal launch -d "$TMP/task.yaml" >/dev/null || fail "sweep launch"
for i in $(seq 600); do
	[ "$(frugal status --all --json | python3 -c 'import json,sys; print(sum(j["status"]=="SUCCEEDED" for j in json.load(sys.stdin)["jobs"]))')" = 24 ] && break
	sleep 0.1
done
out=$(frugal status)
rows=$(echo "$out" | grep -c SUCCEEDED)
echo "$out" | grep -q "^$((24 - rows)) more finished jobs; frugal status --all$" ||
	fail "no 'N more' line ($rows rows shown): $(echo "$out" | tail -3)"
[ "$(frugal status --all | grep -c SUCCEEDED)" = 24 ] || fail "--all does not show all 24"
ok "status shows $rows rows and says $((24 - rows)) more; --all shows 24"
n=$(timeout 5 "$FRUGAL_BIN" status --watch | grep -c "^Every 2s: frugal status")
[ "$n" -ge 2 ] || fail "--watch drew $n times in 5s"
ok "--watch redraws ($n times in 5s)"

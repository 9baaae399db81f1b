#!/bin/bash
# bench_storm: the attack the "nothing lost" promise is measured by. Jobs
# that train and checkpoint run on the local backend while, at random, the
# controller is SIGKILLed (and restarted the way a user's next command
# does), jobs get preemption notices, jobs are cancelled, and agents are
# SIGKILLed. At the end every job must be terminal, and:
#   leaks       processes of an instance (each run also starts a daemon
#               with setsid env -i), instance dirs, frugal cgroups or
#               ledger rows left after the jobs ended (0)
#   duplicates  two attempts of one job running at once (0): each run holds
#               an flock on a per-job file, so a second run at the same
#               time records itself
#   lost        jobs not terminal at the end, jobs that ended SUCCEEDED with
#               a model different from an uninterrupted run, or CANCELLED
#               jobs nobody cancelled (0)
#   money       attempts whose cost disagrees between `status --json` and
#               `cost --json` (0)
# Usage: bench/bench_storm.sh [FRUGAL] [SECONDS] [JOBS]
set -u
FRUGAL=$(realpath "${1:-build/frugal}")
DURATION=${2:-${STORM_SECONDS:-180}}
NJOBS=${3:-${STORM_JOBS:-24}}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/frugal-storm.XXXXXX)
export FRUGAL_HOME=$T/home
export FRUGAL_CONTROLLER_IDLE_EXIT=120s
mkdir -p "$FRUGAL_HOME" "$T/proj" "$T/ref" "$T/locks"
f() { "$FRUGAL" "$@"; }
cleanup() {
	f controller --stop >/dev/null 2>&1
	for p in $(grep -l "FRUGAL_HOME=$FRUGAL_HOME" /proc/[0-9]*/environ 2>/dev/null |
		   sed 's|/proc/\([0-9]*\)/environ|\1|'); do kill -9 "$p" 2>/dev/null; done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
printf 'backends:\n  local:\n    gpus: 4\n    price_per_gpu_hour: 1.5\n' > "$FRUGAL_HOME/config.yaml"
cp "$SRC/examples/quickstart/train.py" "$T/proj/"
cat > "$T/proj/task.yaml" <<YAML
workdir: .
resources: {accelerators: "GPU:1"}
run: |
  exec 9>$T/locks/\$FRUGAL_JOB_ID
  flock -n 9 || echo "\$FRUGAL_JOB_ID \$FRUGAL_ATTEMPT" >> $T/duplicates
  setsid env -i sleep 7777 < /dev/null > /dev/null 2>&1 9>&- &	# a daemon that escapes the marker
  python3 train.py --steps 400 --step-sleep 0.03 --ckpt-every 5
checkpoint: {dir: ckpt}
outputs: {paths: ["weights/*.json"]}
recovery: {notice_grace: 3s, max_restarts_on_errors: 1000}
YAML
cd "$T/proj"
(cd "$T/ref" && FRUGAL_CHECKPOINT_DIR=$T/ref/ckpt python3 "$T/proj/train.py" --steps 400 --step-sleep 0 >/dev/null) ||
	{ echo "bench_storm: the reference run failed"; exit 1; }

jobs=()
for i in $(seq "$NJOBS"); do jobs+=("$(f launch -d "$T/proj/task.yaml")"); done
running() {
	f status --json 2>/dev/null | python3 -c '
import json, sys
print(" ".join(j["id"] for j in json.load(sys.stdin)["jobs"] if j["status"] == "RUNNING"))' 2>/dev/null
}
pick() { local a=($*); [ ${#a[@]} -gt 0 ] && echo "${a[$((RANDOM % ${#a[@]}))]}"; }
agent_of() {	# the agent process of a job's live instance
	for p in $(grep -l "FRUGAL_INSTANCE=$1-" /proc/[0-9]*/environ 2>/dev/null |
		   sed 's|/proc/\([0-9]*\)/environ|\1|'); do
		[ "$(readlink /proc/$p/exe 2>/dev/null)" = "$FRUGAL" ] && { echo "$p"; return; }
	done
}
RANDOM=${STORM_SEED:-11}
ckill=0 preempts=0 cancels=0 akills=0
cancelled=" "
end=$((SECONDS + DURATION))
while [ $SECONDS -lt $end ]; do
	r=$((RANDOM % 100))
	if [ $r -lt 8 ]; then
		pid=$(cat "$FRUGAL_HOME/controller.pid" 2>/dev/null)
		if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
			ckill=$((ckill + 1))
			sleep 0.$((RANDOM % 10))
			f controller >/dev/null 2>&1
		fi
	elif [ $r -lt 30 ]; then
		j=$(pick $(running)) && f debug preempt "$j" --notice 2 >/dev/null 2>&1 && preempts=$((preempts + 1))
	elif [ $r -lt 33 ]; then
		j=$(pick $(running))
		if [ -n "$j" ] && [ "${cancelled/ $j /}" = "$cancelled" ] && f cancel "$j" >/dev/null 2>&1; then
			cancels=$((cancels + 1)); cancelled="$cancelled$j "
		fi
	elif [ $r -lt 43 ]; then
		j=$(pick $(running)) && p=$(agent_of "$j") && [ -n "$p" ] && kill -9 "$p" 2>/dev/null && akills=$((akills + 1))
	fi
	sleep 0.3
	# Keep the storm going: once every job has ended, stop early.
	left=$(f status --json 2>/dev/null | python3 -c '
import json, sys
print(sum(j["status"] not in ("SUCCEEDED","FAILED","CANCELLED") for j in json.load(sys.stdin)["jobs"]))' 2>/dev/null)
	[ "$left" = 0 ] && break
done
f controller >/dev/null 2>&1
lost=0 wrong=0 failed=0 succeeded=0 cancelled_n=0
for j in "${jobs[@]}"; do
	s=""
	for i in $(seq 600); do
		s=$(f status "$j" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["status"])' 2>/dev/null)
		case $s in SUCCEEDED|FAILED|CANCELLED) break;; esac
		sleep 0.2
	done
	case $s in
	SUCCEEDED)
		succeeded=$((succeeded + 1))
		url=$(f status "$j" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0]["outputs_url"])')
		cmp -s <(python3 -c "import json; print(json.load(open('${url#file://}/weights/model.json')))" 2>/dev/null) \
		       <(python3 -c "import json; print(json.load(open('$T/ref/weights/model.json')))") ||
			{ wrong=$((wrong + 1)); echo "bench_storm: $j SUCCEEDED with a wrong model"; } ;;
	CANCELLED)
		cancelled_n=$((cancelled_n + 1))
		[ "${cancelled/ $j /}" != "$cancelled" ] || { lost=$((lost + 1)); echo "bench_storm: $j CANCELLED by nobody"; } ;;
	FAILED) failed=$((failed + 1)); lost=$((lost + 1)); echo "bench_storm: $j FAILED: $(f status "$j" 2>&1 | tail -3)" ;;
	*) lost=$((lost + 1)); echo "bench_storm: $j never ended ($s)" ;;
	esac
done
sleep 2
procs=$(grep -l "FRUGAL_HOME=$FRUGAL_HOME" /proc/[0-9]*/environ 2>/dev/null |
	sed 's|/proc/\([0-9]*\)/environ|\1|' | while read -r p; do
		tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -q '^FRUGAL_INSTANCE=' &&
			[ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ] && echo "$p"
	done 2>/dev/null | wc -l)
procs=$((procs + $(pgrep -fx "sleep 7777" | wc -l)))
dirs=$(ls "$FRUGAL_HOME/instances" 2>/dev/null | wc -l)
cgroups=0
for j in "${jobs[@]}"; do
	cgroups=$((cgroups + $(find /sys/fs/cgroup -maxdepth 5 -type d -path "*/frugal/*" -name "$j-*" 2>/dev/null | wc -l)))
done
rows=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE state!='gone'\").fetchone()[0])")
dups=$(cat "$T/duplicates" 2>/dev/null | wc -l)
money=$(python3 - "$FRUGAL" <<'PY'
import json, subprocess, sys
st = json.loads(subprocess.run([sys.argv[1], "status", "--all", "--json"], capture_output=True, text=True).stdout)
co = json.loads(subprocess.run([sys.argv[1], "cost", "--by", "job", "--json"], capture_output=True, text=True).stdout)
s = {j["id"]: j["cost_micro"] for j in st["jobs"]}
c = {r["job"]: r["cost_micro"] for r in co["rows"]}
bad = sum(1 for k in s if s[k] != c.get(k, 0)) + sum(1 for k in c if k not in s)
bad += sum(1 for j in st["jobs"] for a in j["attempts"] if a.get("ended_at") is None)
bad += (sum(c.values()) != co["total_micro"])
print(bad)
PY
)
attempts=$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute('SELECT count(*) FROM attempts').fetchone()[0])")
echo "bench_storm: $NJOBS jobs, ${DURATION}s storm, $attempts attempts: $ckill controller SIGKILLs, $preempts preemptions, $cancels cancels, $akills agent SIGKILLs"
echo "bench_storm: ended SUCCEEDED $succeeded, CANCELLED $cancelled_n, FAILED $failed;" \
	"leaks: $procs processes, $dirs instance dirs, $cgroups cgroups, $rows ledger rows;" \
	"duplicates $dups; lost $lost; wrong models $wrong; cost mismatches $money"
[ $((procs + dirs + cgroups + rows + dups + lost + wrong + money)) = 0 ]

#!/bin/bash
# Sweeps: a 3x2 grid with max_parallel 2 runs six trials, never more than
# two at once, reports each trial's final loss and names the best; a
# random sweep with the same seed makes the same trials twice; cancelling
# a sweep ends all its trials.
. "$(dirname "$0")/lib.sh"
write_config 'backends:
  local:
    gpus: 4'
mkdir -p "$TMP/proj"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<YAML
name: grid
workdir: .
resources: {accelerators: "GPU:1"}
run: |
  echo "start \$FRUGAL_JOB_ID \$(date +%s%N)" >> $TMP/trace
  python3 train.py --steps 40 --lr \$LR --step-sleep 0.01 > out.txt
  tail -n 1 out.txt
  python3 -c "import json; m=json.load(open('weights/model.json')); print(json.dumps({'step': m['steps'], 'loss': m['loss'], 'bs': int('\$BS')}))" >> \$FRUGAL_METRICS_FILE
  echo "end \$FRUGAL_JOB_ID \$(date +%s%N)" >> $TMP/trace
YAML
cd "$TMP/proj"	# workdir: . is this folder: relative to the current directory, as in SkyPilot
frugal sweep "$TMP/proj/task.yaml" --param LR=0.1,0.5,1.0 --param BS=16,32 --max-parallel 2 \
	>"$TMP/out" 2>"$TMP/err" || fail "sweep failed: $(cat $TMP/err)"
sw=$(head -n 1 "$TMP/out")
case $sw in sw*) ;; *) fail "sweep printed '$sw', not a sweep id";; esac
grep -q "^best: " "$TMP/out" || fail "no best trial named: $(cat $TMP/out)"
frugal sweep status "$sw" --json > "$TMP/st.json"
python3 - "$TMP/st.json" "$TMP/trace" <<'PY' || fail "sweep results wrong"
import json, sys
d = json.load(open(sys.argv[1]))
trials = d["trials"]
assert len(trials) == 6, len(trials)
assert all(t["status"] == "SUCCEEDED" for t in trials), trials
assert sorted((t["params"]["LR"], t["params"]["BS"]) for t in trials) == sorted(
    (lr, bs) for lr in ("0.1", "0.5", "1.0") for bs in ("16", "32"))
losses = [t["metrics"]["loss"] for t in trials]
assert all(isinstance(x, float) for x in losses)
assert [t["metrics"]["bs"] for t in trials if t["params"]["BS"] == "32"] == [32, 32, 32]
best = min(trials, key=lambda t: t["metrics"]["loss"])
assert d["best"] == best["id"], (d["best"], best["id"])
# Never more than two at once.
ev = sorted((int(l.split()[2]), l.split()[0]) for l in open(sys.argv[2]))
cur = peak = 0
for _, kind in ev:
    cur += 1 if kind == "start" else -1
    peak = max(peak, cur)
assert peak <= 2, f"{peak} trials at once"
print(f"peak parallel {peak}")
PY
ok "grid 3x2, max_parallel 2: six trials, losses reported, best named"
err=$(frugal sweep status "$sw" --sort loos 2>&1) && fail "--sort by a metric nobody reported exited 0"
echo "$err" | grep -q "no trial of sweep $sw reported 'loos' (did you mean 'loss'?)" || fail "unclear --sort error: $err"
frugal sweep status "$sw" --sort -bs | grep -q "^best: .* bs=" || fail "--sort -bs names no best"
ok "sweep status --sort of an unknown metric says which exist; a known one names the best"
frugal status "$sw" | grep -q "best:" || fail "status SWEEP does not show the sweep"
frugal cost --by sweep | grep -q "$sw" || fail "cost --by sweep lacks the sweep"
ok "status and cost accept the sweep"

cat > "$TMP/r.yaml" <<'YAML'
run: echo "LR=$LR N=$N"
sweep: {method: random, params: {LR: "loguniform(1e-5,1e-1)", N: "int(1,8)"}, trials: 5, seed: 11}
YAML
a=$(frugal launch -d "$TMP/r.yaml") || fail "random sweep a"
b=$(frugal launch -d "$TMP/r.yaml") || fail "random sweep b"
pa=$(frugal sweep status "$a" --json | python3 -c 'import json,sys; print(sorted(json.dumps(t["params"], sort_keys=True) for t in json.load(sys.stdin)["trials"]))')
pb=$(frugal sweep status "$b" --json | python3 -c 'import json,sys; print(sorted(json.dumps(t["params"], sort_keys=True) for t in json.load(sys.stdin)["trials"]))')
[ "$pa" = "$pb" ] || fail "same seed, different trials: $pa vs $pb"
ok "random sweep with seed 11 makes the same 5 trials twice"

cat > "$TMP/long.yaml" <<'YAML'
resources: {accelerators: "GPU:1"}
run: sleep 300
YAML
sw=$(frugal sweep -d "$TMP/long.yaml" --param X=1,2,3,4 --max-parallel 2) || fail "long sweep"
for i in $(seq 100); do
	[ "$(frugal sweep status "$sw" --json | python3 -c 'import json,sys; print(sum(t["status"]=="RUNNING" for t in json.load(sys.stdin)["trials"]))')" = 2 ] && break
	sleep 0.1
done
frugal cancel "$sw" >/dev/null || fail "cancel sweep"
frugal sweep status "$sw" --json | python3 -c '
import json, sys
assert all(t["status"] == "CANCELLED" for t in json.load(sys.stdin)["trials"])' || fail "trials not all CANCELLED"
[ -z "$(instance_procs)" ] || fail "processes left after cancelling the sweep"
ok "cancelling the sweep ended all its trials and freed their GPUs"

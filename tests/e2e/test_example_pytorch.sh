#!/bin/bash
# examples/pytorch-digits end to end: a real PyTorch CNN launched from the
# example's own task file, preempted midway; attempt 2 resumes from the
# checkpoint attempt 1 saved, and the final test accuracy and weights are
# bit-identical to an uninterrupted run's. Also `frugal check` of every
# example task file. Needs python3 with torch and sklearn (Debian's
# python3-torch python3-sklearn: scripts/install-deps --examples).
. "$(dirname "$0")/lib.sh"

for f in "$FRUGAL_SRC"/examples/*/*.yaml; do
	# from the example's folder: its workdir: . is relative to the current directory
	(cd "$(dirname "$f")" && frugal check "$(basename "$f")") >"$TMP/check.out" 2>&1 ||
		{ cat "$TMP/check.out" >&2; fail "frugal check $f"; }
done
# The seeds' tasks name cloud backends this machine has no settings for:
# the file must be valid (status 0, or 3: valid but not plannable here).
n=0
for f in "$FRUGAL_SRC"/examples/seeds/*/task.yaml; do
	(cd "$(dirname "$f")" && WANDB_API_KEY=test frugal check task.yaml) >"$TMP/check.out" 2>&1
	rc=$?
	[ $rc = 0 ] || [ $rc = 3 ] || { cat "$TMP/check.out" >&2; fail "frugal check $f exited $rc"; }
	grep -q "task.yaml:[0-9]*:[0-9]*: error" "$TMP/check.out" && { cat "$TMP/check.out" >&2; fail "$f has errors"; }
	n=$((n + 1))
done
[ $n -ge 5 ] || fail "only $n seed examples"
ok "frugal check passes on every example task file ($n seed tasks valid)"

# Debian's python3-torch lives in /usr/bin/python3's path; put it first.
PY=""
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import torch, sklearn' 2>/dev/null; then PY=$(command -v "$p"); break; fi
done
if [ -z "$PY" ]; then
	echo "skipped: python3-torch not available (scripts/install-deps --examples)"
	exit 77
fi
export PATH=$(dirname "$PY"):$PATH

EX=$FRUGAL_SRC/examples/pytorch-digits
mkdir -p "$TMP/ref"
(cd "$TMP/ref" && FRUGAL_CHECKPOINT_DIR=$TMP/ref/ckpt FRUGAL_METRICS_FILE= \
	"$PY" "$EX/train.py" --steps 400 >/dev/null) || fail "reference run"

job=$(cd "$EX" && frugal launch -d task.yaml --env STEPS=400 --env STEP_SLEEP=0.01) || fail "launch"
for i in $(seq 1200); do
	frugal logs "$job" 2>/dev/null | grep -q "step  150" && break
	sleep 0.05
done
frugal logs "$job" | grep -q "step  150" || fail "trainer did not reach step 150: $(frugal logs "$job" | tail -5)"
frugal debug preempt "$job" --notice 10 >/dev/null || fail "debug preempt"
[ "$(wait_terminal "$job" 240)" = SUCCEEDED ] || fail "job did not succeed: $(frugal logs "$job" | tail -20)"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
saved=$(frugal logs "$job" --attempt 1 | sed -n 's/.*checkpoint saved at step \([0-9]*\).*/\1/p' | tail -n 1)
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*resumed from checkpoint at step \([0-9]*\).*/\1/p')
[ -n "$saved" ] && [ "$saved" -gt 150 ] || fail "attempt 1 saved no checkpoint after step 150"
[ "$resumed" = "$saved" ] || fail "resumed at step '$resumed', checkpoint was step $saved"
ok "PyTorch job preempted at step $saved, attempt 2 resumed at step $resumed"

url=$(job_field "$job" outputs_url)
"$PY" - "${url#file://}/weights/result.json" "$TMP/ref/weights/result.json" <<'PY' || fail "final result differs from an uninterrupted run"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(f"accuracy {a['accuracy']:.4f} (uninterrupted {b['accuracy']:.4f}), param_sum {a['param_sum']}")
assert a == b, (a, b)
PY
[ -f "${url#file://}/weights/model.pt" ] || fail "no model.pt in the outputs"
acc=$(frugal status "$job" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["jobs"][0].get("metrics",{}).get("accuracy",""))')
[ -n "$acc" ] || fail "no accuracy metric reported"
ok "final accuracy and weights equal the uninterrupted run's; metrics reported (accuracy $acc)"

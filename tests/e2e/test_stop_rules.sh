#!/bin/bash
# stop.max_runtime ends a job that runs too long (timed_out); stop.on_output
# ends a job as soon as its output appears (the seeds' cron terminator).
. "$(dirname "$0")/lib.sh"
cat > "$TMP/slow.yaml" <<'YAML'
run: sleep 100
stop: {max_runtime: 2s}
recovery: {notice_grace: 1s}
YAML
t0=$(date +%s)
frugal launch "$TMP/slow.yaml" >"$TMP/out" 2>"$TMP/err" && fail "timed-out job exited 0"
t1=$(date +%s)
job=$(head -n 1 "$TMP/out")
[ "$(job_field "$job" status)" = FAILED ] || fail "status not FAILED"
[ "$(attempt_field "$job" 1 outcome)" = timed_out ] || fail "outcome not timed_out"
[ $((t1 - t0)) -lt 10 ] || fail "max_runtime took $((t1 - t0))s"
ok "max_runtime: timed_out after $((t1 - t0))s"

cat > "$TMP/out.yaml" <<'YAML'
run: |
  sleep 1
  mkdir -p weights && echo trained > weights/final.pt
  sleep 100
stop: {on_output: "weights/*.pt"}
outputs: {paths: [weights]}
YAML
t0=$(date +%s)
frugal launch "$TMP/out.yaml" >"$TMP/out" 2>"$TMP/err" || fail "on_output job did not succeed: $(cat $TMP/out)"
t1=$(date +%s)
job=$(head -n 1 "$TMP/out")
[ $((t1 - t0)) -lt 10 ] || fail "on_output took $((t1 - t0))s"
url=$(job_field "$job" outputs_url)
[ "$(cat "${url#file://}/weights/final.pt")" = trained ] || fail "output not stored"
ok "on_output: stopped after $((t1 - t0))s, output stored"

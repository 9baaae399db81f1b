#!/bin/bash
# Two jobs on a one-GPU pool run one after the other, in submission order.
. "$(dirname "$0")/lib.sh"
write_config 'backends:
  local:
    gpus: 1
    price_per_gpu_hour: 3.60'
cat > "$TMP/gpu.yaml" <<YAML
resources: {accelerators: "GPU:1"}
run: |
  echo "\$FRUGAL_JOB_ID start \$(date +%s%N) gpu=\$CUDA_VISIBLE_DEVICES" >> $TMP/trace
  sleep 1.5
  echo "\$FRUGAL_JOB_ID end \$(date +%s%N)" >> $TMP/trace
YAML
a=$(frugal launch -d "$TMP/gpu.yaml")
b=$(frugal launch -d "$TMP/gpu.yaml")
wait_status "$a" RUNNING 20
[ "$(job_field "$b" status)" = PENDING ] || fail "second job should wait PENDING"
frugal status "$b" | grep -q "waiting for 1 GPU" || fail "no reason shown for waiting"
ok "second job PENDING while the GPU is taken"
wait_terminal "$b" 30 >/dev/null
[ "$(job_field "$a" status)" = SUCCEEDED ] && [ "$(job_field "$b" status)" = SUCCEEDED ] || fail "not both succeeded"
python3 - "$TMP/trace" "$a" "$b" <<'PY' || fail "jobs overlapped or ran out of order: $(cat $TMP/trace)"
import sys
ev = [l.split() for l in open(sys.argv[1])]
a, b = sys.argv[2], sys.argv[3]
t = {(e[0], e[1]): int(e[2]) for e in ev}
assert t[(a, 'end')] <= t[(b, 'start')], "overlap"
assert all('gpu=0' in l for l in open(sys.argv[1]) if 'start' in l)
PY
ok "ran one after the other on GPU 0"
cost=$(job_field "$a" cost_usd)
python3 -c "c=$cost; assert 0.0014 < c < 0.01, c" || fail "cost $cost not about 1.5s at \$3.60/h"
ok "cost recorded: \$$cost"

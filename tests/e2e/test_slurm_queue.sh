#!/bin/bash
# Slurm: four jobs of one GPU each run at once on the node's four GPUs,
# each with a GPU of its own; a fifth waits in Slurm's queue (Resources)
# until one ends, then runs; all five succeed.
. "$(dirname "$0")/lib.sh"
. "$FRUGAL_SRC/tests/slurm/lib.sh"
slurm_setup
mkdir -p "$TMP/proj"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: one-gpu
resources: {accelerators: A100:1}
run: |
  echo "gpu=$CUDA_VISIBLE_DEVICES"
  while [ ! -e "$RELEASE" ]; do sleep 0.1; done
  echo released
YAML
jobs=""
for i in 1 2 3 4 5; do
	j=$(frugal launch -d --backend slurm --env RELEASE="$TMP/release-$i" "$TMP/proj/task.yaml") || fail "launch $i"
	jobs="$jobs $j"
	[ $i = 4 ] && { for j4 in $jobs; do wait_status "$j4" RUNNING 60; done; }
done
set -- $jobs
fifth=$5
for i in $(seq 100); do
	sid5=$(slurm_id "$fifth" 1)
	[ -n "$sid5" ] && [ "$(squeue -h -j "$sid5" -o %r)" = Resources ] && break
	sleep 0.1
done
[ "$(squeue -h -j "$sid5" -o '%T %r')" = "PENDING Resources" ] ||
	fail "fifth job is '$(squeue -h -j "$sid5" -o '%T %r')' in Slurm"
sleep 2
[ "$(squeue -h -j "$sid5" -o %T)" = PENDING ] || fail "the fifth job started with four GPUs taken"
gpus=""
for j in $1 $2 $3 $4; do
	for i in $(seq 100); do frugal logs "$j" 2>/dev/null | grep -q "gpu=" && break; sleep 0.1; done
	gpus="$gpus $(frugal logs "$j" | sed -n 's/.*gpu=\([0-9,]*\)$/\1/p')"
done
[ "$(echo $gpus | tr ' ' '\n' | sort -u | wc -l)" = 4 ] || fail "GPUs of the four: '$gpus'"
ok "four 1-GPU jobs run at once on GPUs$gpus; the fifth waits (PENDING Resources)"
touch "$TMP/release-1"
[ "$(wait_terminal "$1" 60)" = SUCCEEDED ] || fail "first job"
wait_status "$fifth" RUNNING 60
touch "$TMP/release-2" "$TMP/release-3" "$TMP/release-4" "$TMP/release-5"
for j in $jobs; do
	[ "$(wait_terminal "$j" 60)" = SUCCEEDED ] || fail "job $j is $(job_field "$j" status)"
done
ok "the fifth ran once a GPU was free; all five SUCCEEDED"
slurm_wait_empty 30

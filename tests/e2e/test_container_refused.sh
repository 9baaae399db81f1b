#!/bin/bash
# image_id docker:IMAGE is planned only where a container runtime runs it:
# refused at plan time with one line on Slurm without
# backends.slurm.container_runtime, on the local backend without a working
# docker or podman, and for a runtime that is not docker or podman;
# accepted on Slurm with one, and on the VM and pod backends (the check
# gets past the image to the credentials).
. "$(dirname "$0")/lib.sh"

cat > "$TMP/slurm.yaml" <<'YAML'
name: boxed
backend: slurm
resources: {image_id: "docker:pytorch/pytorch:2.3"}
run: echo hi
YAML
printf 'backends:\n  slurm:\n    bin_dir: /nonexistent\n' >"$FRUGAL_HOME/config.yaml"
frugal check "$TMP/slurm.yaml" >"$TMP/out" 2>"$TMP/err" && fail "slurm without a runtime was planned"
grep -qx "frugal: error: $TMP/slurm.yaml: cannot plan on backend 'slurm': slurm: image_id docker:pytorch/pytorch:2.3 needs a container runtime; set backends.slurm.container_runtime (docker or podman on its nodes) or remove image_id" "$TMP/err" ||
	fail "slurm refusal: $(cat "$TMP/err")"
[ "$(grep -c "image_id" "$TMP/err")" = 1 ] || fail "more than one line about image_id: $(cat "$TMP/err")"
ok "slurm without backends.slurm.container_runtime: one line at plan time"

printf 'backends:\n  slurm:\n    bin_dir: /nonexistent\n    container_runtime: lxc\n' >"$FRUGAL_HOME/config.yaml"
frugal check "$TMP/slurm.yaml" >"$TMP/out" 2>"$TMP/err" && fail "slurm with runtime lxc was planned"
grep -q "backends.slurm.container_runtime is 'lxc'; expected docker or podman" "$TMP/err" ||
	fail "lxc: $(cat "$TMP/err")"
ok "a runtime that is not docker or podman is refused"

printf 'backends:\n  slurm:\n    bin_dir: /nonexistent\n    container_runtime: podman\n' >"$FRUGAL_HOME/config.yaml"
frugal check "$TMP/slurm.yaml" >"$TMP/out" 2>"$TMP/err"
grep -q "image_id" "$TMP/err" && fail "slurm with a runtime still refused: $(cat "$TMP/err")"
frugal backends slurm | grep -q "containers   podman" || fail "backends slurm: $(frugal backends slurm)"
ok "slurm with container_runtime: podman plans it; frugal backends says so"

# The local backend with no working runtime: PATH without docker or podman.
rm -f "$FRUGAL_HOME/config.yaml"
mkdir -p "$TMP/bin"
sed 's/^backend: slurm/backend: local/' "$TMP/slurm.yaml" >"$TMP/local.yaml"
PATH=$TMP/bin frugal check "$TMP/local.yaml" >"$TMP/out" 2>"$TMP/err" && fail "local without a runtime was planned"
grep -q "local: image_id docker:pytorch/pytorch:2.3 needs a container runtime, and no working docker or podman is on PATH" "$TMP/err" ||
	fail "local refusal: $(cat "$TMP/err")"
PATH=$TMP/bin frugal backends local | grep -q "containers   none: no working docker or podman" ||
	fail "backends local: $(PATH=$TMP/bin frugal backends local)"
# A docker client whose daemon does not answer is no runtime either.
printf '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n' >"$TMP/bin/docker"
chmod +x "$TMP/bin/docker"
PATH=$TMP/bin frugal check "$TMP/local.yaml" >"$TMP/out" 2>"$TMP/err" && fail "local with a dead docker was planned"
grep -q "no working docker or podman" "$TMP/err" || fail "dead docker: $(cat "$TMP/err")"
ok "local without a working docker or podman: one line at plan time"

for b in aws gcp lambda kubernetes runpod; do
	sed "s/^backend: slurm/backend: $b/" "$TMP/slurm.yaml" >"$TMP/$b.yaml"
	frugal check "$TMP/$b.yaml" >"$TMP/out" 2>"$TMP/err"
	grep -q "image_id" "$TMP/err" && fail "$b refused image_id docker:: $(cat "$TMP/err")"
done
ok "aws, gcp, lambda (docker on the VM), kubernetes, runpod (the pod's image) accept it"

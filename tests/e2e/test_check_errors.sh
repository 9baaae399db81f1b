#!/bin/bash
# `frugal check` on every malformed task file of tests/data/bad_tasks:
# each must be refused (non-zero exit, no crash) with every line of its
# .expect file somewhere on stderr (file:line:col, key, expectation,
# suggestion). A good task file must pass with exit status 0.
set -u
: "${FRUGAL_BIN:?FRUGAL_BIN must point at the frugal binary}"
FRUGAL_SRC=${FRUGAL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BAD_DIR=$FRUGAL_SRC/tests/data/bad_tasks
TMP=$(mktemp -d /tmp/frugal-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

failures=0
checked=0

# fresh_home: a new, empty FRUGAL_HOME for one command
fresh_home() { mktemp -d "$TMP/home.XXXXXX"; }

for yaml in "$BAD_DIR"/*.yaml; do
	name=$(basename "$yaml")
	expect=${yaml%.yaml}.expect
	if [ ! -f "$expect" ]; then
		echo "FAIL: $name has no $(basename "$expect")" >&2
		failures=$((failures + 1))
		continue
	fi
	FRUGAL_HOME=$(fresh_home) "$FRUGAL_BIN" check "$yaml" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	checked=$((checked + 1))
	if [ "$rc" -eq 0 ]; then
		echo "FAIL: $name: check exited 0 for a malformed file" >&2
		failures=$((failures + 1))
		continue
	fi
	if [ "$rc" -ge 126 ]; then
		echo "FAIL: $name: check exited $rc (crash or not runnable)" >&2
		cat "$TMP/err" >&2
		failures=$((failures + 1))
		continue
	fi
	while IFS= read -r want || [ -n "$want" ]; do
		[ -n "$want" ] || continue
		if ! grep -qF -- "$want" "$TMP/err"; then
			echo "FAIL: $name: stderr lacks: $want" >&2
			echo "--- stderr was:" >&2
			cat "$TMP/err" >&2
			failures=$((failures + 1))
		fi
	done <"$expect"
done

# A good task file passes.
mkdir -p "$TMP/good/src"
cat >"$TMP/good/train.yaml" <<'YAML'
name: good-task
workdir: src
envs: {LR: "0.001", EPOCHS: 2}
setup: |
  echo setting up
run: |
  echo "training with $LR"
checkpoint: {dir: ckpt, interval: 10m, keep: 2}
outputs: {paths: ["weights/*.pth", "logs/"]}
stop: {max_runtime: 1h}
recovery: {max_restarts_on_errors: 1, recover_on_exit_codes: [33], preemption_signal: SIGTERM}
YAML
(cd "$TMP/good" && FRUGAL_HOME=$(fresh_home) "$FRUGAL_BIN" check train.yaml) >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: check of a good task file exited $rc" >&2
	cat "$TMP/err" >&2
	failures=$((failures + 1))
fi

echo "$checked malformed task files checked"
if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "ok - every malformed task file refused with its diagnostics; the good one passes"

#!/bin/bash
# Outputs never overwrite: a second job writing the same name to the same
# place gets a new version beside the first.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/results"
cat > "$TMP/t.yaml" <<YAML
run: mkdir -p weights && echo "\$RUN_TAG" > weights/model.pth
outputs: {paths: ["weights/*.pth"], to: "file://$TMP/results"}
YAML
frugal launch "$TMP/t.yaml" --env RUN_TAG=first >/dev/null 2>&1 || fail "first job"
frugal launch "$TMP/t.yaml" --env RUN_TAG=second >/dev/null 2>&1 || fail "second job"
frugal launch "$TMP/t.yaml" --env RUN_TAG=third >/dev/null 2>&1 || fail "third job"
[ "$(cat "$TMP/results/weights/model.pth")" = first ] || fail "first output was replaced"
[ "$(cat "$TMP/results/weights/model.v2.pth")" = second ] || fail "second output missing"
[ "$(cat "$TMP/results/weights/model.v3.pth")" = third ] || fail "third output missing"
ok "model.pth kept; model.v2.pth and model.v3.pth stored beside it"

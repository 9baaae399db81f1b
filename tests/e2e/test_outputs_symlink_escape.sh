#!/bin/bash
# Output globs never follow a link out of the work dir or the output dir:
# weights/x.bin -> a secret file is skipped with a warning, not copied
# into storage. Links that stay inside are still stored.
. "$(dirname "$0")/lib.sh"
SECRET="shadow-$(date +%s%N)"
echo "$SECRET" > "$TMP/secret-file"
cat > "$TMP/t.yaml" <<YAML
run: |
  mkdir -p weights
  echo real > weights/model.bin
  ln -s model.bin weights/alias.bin
  ln -s $TMP/secret-file weights/x.bin
  ln -s $TMP weights/outside-dir
  ln -s $TMP/secret-file \$FRUGAL_OUTPUT_DIR/leak.txt
outputs: {paths: ["weights/*.bin", "weights/outside-dir"]}
YAML
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job did not succeed: $(frugal status $job)"
url=$(job_field "$job" outputs_url)
dir=${url#file://}
[ "$(cat "$dir/weights/model.bin")" = real ] || fail "model.bin not stored"
[ "$(cat "$dir/weights/alias.bin")" = real ] || fail "a link inside the work dir was not stored"
grep -rqa "$SECRET" "$FRUGAL_HOME" && fail "the link's target was copied: $(grep -rla "$SECRET" "$FRUGAL_HOME")"
[ -e "$dir/weights/x.bin" ] && fail "weights/x.bin stored"
logs=$(frugal logs "$job")
echo "$logs" | grep -q "output 'weights/x.bin' is a link that leads outside" || fail "no warning: $logs"
echo "$logs" | grep -q "output 'weights/outside-dir' is a link that leads outside" || fail "no dir warning: $logs"
echo "$logs" | grep -q "output 'leak.txt' is a link that leads outside" || fail "no output-dir warning: $logs"
ok "links out of the work and output dirs skipped with a warning; links inside stored"

#!/bin/bash
# frugal pull: a job's outputs, and its newest checkpoint, come home into
# DEST; an existing local file is never replaced (the new copy is kept
# beside it as NAME.vN.EXT), so pulling twice keeps both.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/proj"
cp "$FRUGAL_SRC/examples/quickstart/train.py" "$TMP/proj/"
cat > "$TMP/proj/task.yaml" <<'YAML'
name: pull-me
workdir: .
run: |
  python3 train.py --steps 40 --step-sleep 0.1 --ckpt-every 10
  mkdir -p logs && echo "a log line" > logs/run.txt
checkpoint: {dir: /ckpt, interval: 1s}
outputs: {paths: ["weights/*.json", "logs/"]}
YAML
job=$(cd "$TMP/proj" && frugal launch -d task.yaml) || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job failed"
url=$(job_field "$job" outputs_url)

out=$(frugal pull "$job" "$TMP/home-copy" 2>"$TMP/pull.err") || fail "pull: $(cat "$TMP/pull.err")"
cmp "$TMP/home-copy/weights/model.json" "${url#file://}/weights/model.json" || fail "model differs"
[ -f "$TMP/home-copy/logs/run.txt" ] || fail "logs/run.txt not pulled: $out"
grep -q "2 files, .* into $TMP/home-copy" "$TMP/pull.err" || fail "no summary: $(cat "$TMP/pull.err")"
[ -z "$(ls -A "$TMP/home-copy" | grep frugal-pull)" ] || fail "staging left behind"
ok "outputs pulled into DEST with a summary"

echo "my own edit" > "$TMP/home-copy/weights/model.json"
frugal pull "$job" "$TMP/home-copy" >/dev/null 2>"$TMP/pull2.err" || fail "second pull"
[ "$(cat "$TMP/home-copy/weights/model.json")" = "my own edit" ] || fail "a local file was replaced"
cmp "$TMP/home-copy/weights/model.v2.json" "${url#file://}/weights/model.json" ||
	fail "the new copy is not beside it as model.v2.json: $(ls "$TMP/home-copy/weights")"
grep -q "kept beside an existing file as .vN (nothing was replaced)" "$TMP/pull2.err" ||
	fail "summary does not say so: $(cat "$TMP/pull2.err")"
ok "an existing local file is kept; the pulled one is model.v2.json"

frugal pull "$job" "$TMP/ck" --checkpoint >/dev/null 2>"$TMP/ck.err" || fail "pull --checkpoint: $(cat "$TMP/ck.err")"
python3 - "$TMP/ck/ckpt.json" <<'PY' || fail "checkpoint content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["step"] >= 10 and d["step"] % 10 == 0, d
print(d["step"])
PY
ok "pull --checkpoint restores the newest checkpoint"

(cd "$TMP" && frugal pull "$job" >/dev/null 2>&1) || fail "pull with no DEST"
[ -f "$TMP/$job/weights/model.json" ] || fail "default DEST is not ./$job"
err=$(frugal pull nosuch 2>&1) && fail "pull of an unknown job exited 0"
ok "default DEST is a folder named after the job; an unknown job is an error"

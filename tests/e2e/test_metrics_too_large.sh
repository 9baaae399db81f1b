#!/bin/bash
# 1.2 MB of metrics never make status.json too big for the controller: a
# successful job stays SUCCEEDED, and metrics within the caps are kept.
. "$(dirname "$0")/lib.sh"
cat > "$TMP/t.yaml" <<'YAML'
run: |
  python3 - <<'PY'
  import json, os
  with open(os.environ["FRUGAL_METRICS_FILE"], "a") as f:
      f.write(json.dumps({"step": 7, "loss": 0.25}) + "\n")
      for i in range(40):
          f.write(json.dumps({"blob%d" % i: "x" * 30000}) + "\n")
      f.write(json.dumps({"k" * 300: 1}) + "\n")
      for i in range(60):
          f.write(json.dumps({"note%d" % i: "y" * 1000}) + "\n")
  PY
  sleep 6
YAML
job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
[ "$(wait_terminal "$job" 60)" = SUCCEEDED ] || fail "job is not SUCCEEDED: $(frugal status $job)"
python3 - "$FRUGAL_HOME/state.db" "$job" <<'PY' || fail "metrics not capped"
import json, sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
(text,) = db.execute("SELECT metrics_json FROM jobs WHERE id = ?", (sys.argv[2],)).fetchone()
m = json.loads(text or "{}")
assert m.get("step") == 7 and m.get("loss") == 0.25, m
assert not any(k.startswith("blob") for k in m), "over-long values kept"
assert len(text) <= 65536, len(text)
PY
ok "1.2 MB of metrics capped; the job stayed SUCCEEDED"

#!/bin/bash
# docs/TASKFILE.md's table of SkyPilot's keys is true: for every row, a
# task file with just that key (the row's example as its value) is what
# the row says when `frugal check` reads it:
#   runs     no warning for the key, and the file is not refused
#   ignored  a warning for the key, and the file is not refused
#   refused  an error for the key, and nothing is launched
set -u
: "${FRUGAL_BIN:?FRUGAL_BIN must point at the frugal binary}"
FRUGAL_SRC=${FRUGAL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DOC=$FRUGAL_SRC/docs/TASKFILE.md
TMP=$(mktemp -d /tmp/frugal-table.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failures=0
rows=0

# The rows between the markers: key, example, verdict (first word).
sed -n '/<!-- skypilot-table -->/,/<!-- \/skypilot-table -->/p' "$DOC" |
	grep '^| `' | awk -F' [|] ' '{ print $1 "\t" $2 "\t" $3 }' |
	sed 's/^| //' >"$TMP/rows"
[ -s "$TMP/rows" ] || { echo "FAIL: no table rows in $DOC" >&2; exit 1; }

mkdir -p "$TMP/cwd"
printf 'backends:\n  local:\n    gpus: 8\n' >"$TMP/config.yaml"
while IFS=$'\t' read -r key example verdict; do
	key=${key//\`/}
	example=${example#\`}
	example=${example%\`}
	verdict=${verdict%% *}
	rows=$((rows + 1))
	case "$key" in
	resources.*) printf 'resources:\n  %s: %s\nrun: echo x\n' "${key#resources.}" "$example" ;;
	run | setup) printf '%s: %s\n' "$key" "$example" ;;
	*) printf '%s: %s\nrun: echo x\n' "$key" "$example" ;;
	esac >"$TMP/cwd/task.yaml"
	home=$(mktemp -d "$TMP/home.XXXXXX")
	cp "$TMP/config.yaml" "$home/"
	(cd "$TMP/cwd" && KUBECONFIG=$TMP/none FRUGAL_HOME=$home timeout 20 "$FRUGAL_BIN" check task.yaml) \
		>"$TMP/out" 2>&1
	rc=$?
	refused=0
	grep -q "nothing was launched" "$TMP/out" && refused=1
	warned=0
	grep -qF "warning: $key" "$TMP/out" && warned=1
	erred=0
	grep -qF "error: $key" "$TMP/out" && erred=1
	ok=0
	case "$verdict" in
	runs) [ $refused = 0 ] && [ $warned = 0 ] && ok=1 ;;
	ignored) [ $refused = 0 ] && [ $warned = 1 ] && ok=1 ;;
	refused) [ $refused = 1 ] && [ $erred = 1 ] && ok=1 ;;
	*) echo "FAIL: row '$key': unknown verdict '$verdict'" >&2 ;;
	esac
	if [ $rc -ge 126 ] || [ $ok = 0 ]; then
		echo "FAIL: row '$key: $example' says '$verdict'; frugal check said (exit $rc):" >&2
		cat "$TMP/cwd/task.yaml" "$TMP/out" >&2
		failures=$((failures + 1))
	fi
done <"$TMP/rows"

echo "$rows table rows checked"
if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)" >&2
	exit 1
fi
echo "ok - docs/TASKFILE.md's SkyPilot table matches the parser"

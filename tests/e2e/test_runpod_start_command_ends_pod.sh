#!/bin/bash
# Runpod's container start command never idles on a billing GPU: a
# restarted container whose attempt already ran (marker on the network
# volume, or agent.pid from the run before), or a machine where the agent
# cannot run, deletes its own pod (DELETE FRUGAL_END_URL + RUNPOD_POD_ID
# with the pod-scoped key, which never appears on a command line). The
# start command is taken from the source, as the fake pod would run it.
. "$(dirname "$0")/lib.sh"
# As launch assembles it: the boot check (backend/common/agentbin.c), the
# machine's arch, the start script.
python3 - "$FRUGAL_SRC/src/backend/common/agentbin.c" "$FRUGAL_SRC/src/backend/runpod/runpod.c" \
	"$(uname -m)" > "$TMP/start.sh" <<'PY'
import ast, re, sys
def literal(body):
    body = re.sub(r'/\*.*?\*/', '', body, flags=re.S)
    return ''.join(ast.literal_eval('"' + p + '"') for p in re.findall(r'"((?:[^"\\]|\\.)*)"', body))
check = re.search(r'void agentbin_boot_check\(.*?strbuf_adds\(sb,(.*?)\);\n}', open(sys.argv[1]).read(), re.S).group(1)
start = re.search(r'static const char start_script\[\] =(.*?);\n', open(sys.argv[2]).read(), re.S).group(1)
print(literal(check) + "FRUGAL_ARCH=" + sys.argv[3] + "\n" + literal(start))
PY
grep -q "sleep 2147483647" "$TMP/start.sh" && fail "the start command still sleeps"
mkdir -p "$TMP/bin"
cat > "$TMP/bin/curl" <<EOF2
#!/bin/sh
echo "\$*" >> "$TMP/curl.args"
for a in "\$@"; do case "\$a" in @*) cat "\${a#@}" >> "$TMP/curl.hdr";; esac; done
EOF2
chmod +x "$TMP/bin/curl"
KEY="pod-key-$(date +%s%N)"
run_start() {	# HOME_DIR: run the start command as the container would
	rm -f "$TMP/curl.args" "$TMP/curl.hdr"
	env -i PATH="$TMP/bin:/usr/bin:/bin" HOME="$1" FRUGAL_TOKEN=abc123-1 \
		FRUGAL_END_URL=http://127.0.0.1:9/v2/pods/ RUNPOD_POD_ID=pod42 RUNPOD_API_KEY="$KEY" \
		FRUGAL_BOOT_WAIT=3 ${VOL:+FRUGAL_VOLUME=$VOL} FRUGAL_AGENT_JSON='{}' FRUGAL_SELF_JSON='{}' \
		FRUGAL_START_SSHD=0 timeout 20 sh "$TMP/start.sh" 2> "$TMP/start.err"
	echo $?
}
check_deleted() {
	grep -q -- "-X DELETE" "$TMP/curl.args" 2>/dev/null || fail "$1: the pod was not deleted ($(cat "$TMP/start.err"))"
	grep -q "http://127.0.0.1:9/v2/pods/pod42" "$TMP/curl.args" || fail "$1: wrong URL: $(cat "$TMP/curl.args")"
	grep -q "$KEY" "$TMP/curl.args" && fail "$1: the key is on curl's command line"
	grep -q "Authorization: Bearer $KEY" "$TMP/curl.hdr" || fail "$1: no key sent"
	ok "$1: pod deleted ($(tail -n1 "$TMP/start.err"))"
}
# 1. The attempt ran here already (the volume's marker).
VOL=$TMP/vol; mkdir -p "$VOL/frugal/.started/abc123-1" "$TMP/h1"
[ "$(run_start "$TMP/h1")" = 0 ] || fail "case 1 did not end"
check_deleted "restarted container, marker on the volume"
# 2. The run before left agent.pid (no volume).
VOL=; mkdir -p "$TMP/h2/.frugal-agent/abc123-1"; echo 1 > "$TMP/h2/.frugal-agent/abc123-1/agent.pid"
[ "$(run_start "$TMP/h2")" = 0 ] || fail "case 2 did not end"
check_deleted "restarted container, agent.pid from the run before"
# 3. The agent cannot run on this machine (a binary for another arch).
d3="$TMP/h3/.frugal-agent/abc123-1"; mkdir -p "$d3/bin"
printf '\177ELF\002\001\001garbage' > "$d3/bin/frugal"; chmod +x "$d3/bin/frugal"; touch "$d3/ready"
[ "$(run_start "$TMP/h3")" = 0 ] || fail "case 3 did not end"
check_deleted "agent cannot run"
grep -q "cannot start on this machine" "$TMP/start.err" || fail "case 3: no message: $(cat "$TMP/start.err")"
# 4. Nothing uploaded within FRUGAL_BOOT_WAIT.
mkdir -p "$TMP/h4"
[ "$(run_start "$TMP/h4")" = 0 ] || fail "case 4 did not end"
check_deleted "nothing uploaded"

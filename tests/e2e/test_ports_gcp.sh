#!/bin/bash
# resources.ports on GCP (the fake Compute API): each attempt gets its own
# firewall rule (frugal-HOMETAG-JOB-N: INGRESS, TCP on every entry, from
# 0.0.0.0/0, to the network tag of the same name), made after its ledger
# row and before instances.insert; the VM carries the tag; `frugal
# endpoints` lists IP:PORT; the rule is deleted with the VM. Then the
# controller is killed at each step around it (after the ledger commit,
# after the rule was made, after the insert, after the VM's delete) and,
# restarted, leaves no rule behind. gc deletes a stray rule of this home
# (its description names this home's owner) that no live job owns, and
# leaves another home's.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start
export FRUGAL_CONTROLLER_IDLE_EXIT=60s

cat > "$TMP/job.yaml" <<'YAML'
name: ports
resources: {cloud: gcp, cpus: 2+, ports: [8080, "9000-9001"]}
run: sleep 600
YAML

# rules [JOB]: "NAME TAG PORTS SOURCE DESCRIPTION" of every frugal rule (of JOB).
rules() {
	fake_state "'\n'.join('%s %s %s %s %s' % (f['name'], ','.join(f['targetTags']),
	    ','.join(p for a in f['allowed'] for p in a.get('ports', [])), ','.join(f['sourceRanges']),
	    f.get('description', '').replace(' ', '_'))
	    for f in s['firewalls'] if f['name'].startswith('frugal-') and '${1:-}' in f.get('description', ''))"
}
vm_count() { fake_state 'len(s["instances"])'; }
wait_vm() {
	local i
	for i in $(seq 300); do [ "$(vm_count)" -gt 0 ] && return 0; sleep 0.1; done
	fail "no VM for $1"
}
end_job() {
	frugal cancel "$job" >/dev/null
	[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "$1: cancel"
	wait_vms_gone 30
	[ -z "$(rules)" ] || fail "$1: rules left: $(rules)"
	[ "$(ledger_open)" = 0 ] || fail "$1: $(ledger_open) ledger rows not gone"
	frugal controller --stop >/dev/null
}

# The whole life.
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch"
wait_vm "$job"
wait_status "$job" STARTING 30
r=$(rules "job $job ")
[ "$(echo "$r" | wc -l)" = 1 ] && [ -n "$r" ] || fail "want one rule for $job: $r (all: $(rules))"
set -- $r
[ "$1" = "$2" ] || fail "the rule's target tag $2 is not its name $1"
[ "$3 $4" = "8080,9000-9001 0.0.0.0/0" ] || fail "rule: $r"
case $1 in frugal-*-"$job"-1) ;; *) fail "rule name $1: want frugal-HOMETAG-$job-1";; esac
rule=$1
owner=${5##*_owner_}
hometag=${1#frugal-}
hometag=${hometag%-$job-1}
[ "$(fake_state "[i['tags'] for i in s['instances']]")" = "[['$rule']]" ] ||
	fail "the VM's tags: $(fake_state "[i['tags'] for i in s['instances']]")"
fake_state "s['requests']" | python3 -c "
import ast, sys
req = [r.rsplit(' ', 1)[0] for r in ast.literal_eval(sys.stdin.read())]
fw = next(i for i, r in enumerate(req) if r.startswith('POST') and r.endswith('/global/firewalls'))
vm = next(i for i, r in enumerate(req) if r.startswith('POST') and r.endswith('/instances'))
assert fw < vm, req" || fail "the rule was not made before instances.insert"
kind=$(python3 -c "import sqlite3; print(' '.join(r[0]+':'+r[1] for r in sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT kind, state FROM resources WHERE job_id='$job' ORDER BY id\")))")
[ "$kind" = "instance:live ports:live" ] || fail "ledger rows: $kind"
ok "a rule $rule with 8080 and 9000-9001 open to its tag, made before the VM, the VM tagged, in the ledger"

ip=$(fake_state "s['instances'][0]['nat_ip']")
out=$(frugal endpoints "$job") || fail "endpoints: $out"
echo "$out" | grep -q "^8080 .*$ip:8080" || fail "endpoints: $out (ip $ip)"
echo "$out" | grep -q "^9000-9001 .*$ip:9000-9001" || fail "endpoints range: $out"
frugal endpoints "$job" --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['endpoints'][0]['forward'] == 'relay' and d['endpoints'][0]['host'] == '$ip', d" ||
	fail "endpoints --json"
ok "endpoints: $ip:8080, $ip:9000-9001"
end_job "life"
ok "cancelled: VM and rule gone, ledger closed"

# Killed after the ledger commit: nothing made yet.
crash_at controller.after_ledger
[ -z "$(rules)" ] || fail "after_ledger: a rule already: $(rules)"
frugal controller >/dev/null || fail "restart"
wait_status "$job" STARTING 30
[ "$(rules | wc -l)" = 1 ] || fail "after_ledger: rules $(rules)"
end_job after_ledger
ok "killed after the ledger commit: launched once after the restart, nothing left"

# Killed after the rule was made, before the insert: the restart finds no
# VM, deletes the rule, and launches attempt 2 (its own rule).
crash_at controller.after_ports_open
rules | grep -q "attempt_1_" || fail "after_ports_open: no rule of attempt 1: $(rules)"
[ "$(vm_count)" = 0 ] || fail "after_ports_open: a VM?"
frugal controller >/dev/null || fail "restart"
wait_status "$job" STARTING 30
r=$(rules)
[ "$(echo "$r" | wc -l)" = 1 ] && echo "$r" | grep -q "attempt_2_" || fail "after_ports_open: rules after restart: $r"
end_job after_ports_open
ok "killed after the rule was made: its rule deleted, attempt 2 ran, nothing left"

# Killed after the insert (answer lost): adopted; the rule (its row never
# got the id) is deleted by name with the VM.
crash_at controller.after_launch
frugal controller >/dev/null || fail "restart"
for i in $(seq 200); do grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" && break; sleep 0.05; done
grep -q "adopting $job-1" "$FRUGAL_HOME/controller.log" || fail "after_launch: not adopted"
[ "$(rules | wc -l)" = 1 ] || fail "after_launch: rules $(rules)"
end_job after_launch
ok "killed after the insert: adopted, rule deleted by name at the end"

# Killed after the VM's delete, before the teardown was recorded.
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch (terminate)"
wait_vm "$job"
wait_status "$job" STARTING 30
frugal controller --stop >/dev/null
FRUGAL_CONTROLLER_FAULT=controller.after_terminate frugal controller >/dev/null
frugal cancel "$job" >/dev/null
wait_controller_crash controller.after_terminate
frugal controller >/dev/null || fail "restart (terminate)"
end_job after_terminate
no_schema_errors
ok "killed after the VM's delete: the restart deleted the rule, nothing left"

# gc: a rule of this home no live job owns (its ledger row lost, or made
# by a controller killed before the row was written) is deleted; another
# home's rule, and one named like ours whose description names another
# owner, are left alone.
stray_rule() {	# NAME DESCRIPTION
	curl -sf -X POST "$FAKE/_fake/firewall" -d "{\"name\": \"$1\", \"description\": \"$2\",
	  \"network\": \"global/networks/default\", \"direction\": \"INGRESS\",
	  \"sourceRanges\": [\"0.0.0.0/0\"], \"targetTags\": [\"$1\"],
	  \"allowed\": [{\"IPProtocol\": \"tcp\", \"ports\": [\"80\"]}]}" >/dev/null || fail "stray rule $1"
}
stray_rule "frugal-$hometag-zzorphan-1" "frugal job zzorphan attempt 1 owner $owner"
stray_rule frugal-0badc0de-zzother-1 "frugal job zzother attempt 1 owner someone-0badc0de"
stray_rule "frugal-$hometag-zzlookalike-1" "frugal job zzlookalike attempt 1 owner someone-0badc0de"
frugal controller >/dev/null
job=$(frugal launch -d "$TMP/job.yaml") || fail "launch (gc)"
wait_vm "$job"
wait_status "$job" STARTING 30
gc_ends_stray gcp "zzorphan-1:ports.*firewall rule frugal-$hometag-zzorphan-1" "zzother\|zzlookalike\|$job"
left=$(fake_state "' '.join(sorted(f['name'] for f in s['firewalls'] if f['name'].split('-')[2] in ('zzother', 'zzlookalike', 'zzorphan')))")
# sorted like the fake's list: the home tag is random, so either may come first
want=$(printf '%s\n' frugal-0badc0de-zzother-1 "frugal-$hometag-zzlookalike-1" | LC_ALL=C sort | paste -sd' ')
[ "$left" = "$want" ] || fail "gc left: $left (want $want)"
[ "$(rules "job $job " | wc -l)" = 1 ] || fail "the live job's rule: $(rules)"
frugal cancel "$job" >/dev/null
[ "$(wait_terminal "$job" 60)" = CANCELLED ] || fail "gc: cancel"
wait_vms_gone 30
[ "$(rules "job $job ")" = "" ] || fail "gc: the job's rule left: $(rules)"
[ "$(ledger_open)" = 0 ] || fail "gc: $(ledger_open) ledger rows not gone"
frugal controller --stop >/dev/null
no_schema_errors
ok "gc deleted this home's stray rule, left another home's, a look-alike and the live job's"

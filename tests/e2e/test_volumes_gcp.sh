#!/bin/bash
# volumes on GCP against tests/fakes/gcp_fake.py (requests checked against
# the Compute v1 discovery document): an existing persistent disk
# (gce-disk://ZONE/NAME, read_only: true) puts the plan in the disk's zone
# (disks.get there); the instances.insert body attaches it READ_ONLY,
# autoDelete false, deviceName frugal-vol-INDEX; the VM boots (its
# startup-script runs in the fake's sandbox, where no disk device exists,
# so the boot fails naming /dev/disk/by-id/google-frugal-vol-0) and is
# deleted; the cancelled job leaves no VM and no open ledger row (the
# disk is the user's: no row of its own, never deleted). A volume without
# read_only, an unknown disk, a disk without a zone, a zone clash and
# another backend's kind are refused at plan time in one line.
. "$(dirname "$0")/gcp_lib.sh"
gcp_start --vm-env FRUGAL_GCE_DISK_WAIT=1

task() {	# FILE VOLUMES [RESOURCES]
	printf 'resources: {cloud: gcp, accelerators: T4:1, use_spot: true%s}\nvolumes:\n%brun: "sleep 60"\n' \
		"${3:-}" "$2" > "$TMP/$1"
}
printf 'resources: {cloud: gcp, accelerators: T4:1, use_spot: true}\nrun: "true"\n' > "$TMP/none.yaml"
cheapest=$(plan_zone "$TMP/none.yaml")
[ -n "$cheapest" ] || fail "no plan without a volume"
DZ=europe-west2-b
[ "$cheapest" != "$DZ" ] || fail "the disk's zone is the cheapest: the test proves nothing"
curl -sf -X POST "$FAKE/_fake/disk?zone=$DZ&name=imagenet&size=500" >/dev/null || fail "plant disk"

task t.yaml "  /data: {source: gce-disk://$DZ/imagenet, read_only: true}\n"
zone=$(plan_zone "$TMP/t.yaml") || fail "no plan with the disk"
[ "$zone" = "$DZ" ] || fail "the plan is in $zone, not the disk's zone $DZ (cheapest $cheapest)"
task z.yaml "  /data: {source: gce-disk://imagenet, read_only: true}\n" ", zone: $DZ"
out=$(frugal launch --dry-run "$TMP/z.yaml" 2>&1) || fail "gce-disk://NAME with resources.zone: $out"
[ "$(fake_state 's["counters"]["disk_gets"] >= 2')" = True ] || fail "no disks.get: $(fake_state 's["counters"]')"
ok "gce-disk://$DZ/imagenet (and gce-disk://imagenet with resources.zone) puts the plan in $DZ (cheapest: $cheapest)"

job=$(frugal launch -d "$TMP/t.yaml") || fail "launch"
for i in $(seq 300); do
	[ "$(fake_state 's["counters"]["inserts"]')" -ge 1 ] && break; sleep 0.1
done
no_schema_errors
fake_state 'json.dumps(s["insert_bodies"][0])' > "$TMP/body.json"
python3 - "$TMP/body.json" "$DZ" <<'PY' || fail "insert body: $(cat "$TMP/body.json")"
import json, sys
b = json.load(open(sys.argv[1])); zone = sys.argv[2]
assert b["machineType"].startswith("zones/%s/" % zone), b["machineType"]
d = [x for x in b["disks"] if not x.get("boot")]
assert d == [{"boot": False, "autoDelete": False, "type": "PERSISTENT", "mode": "READ_ONLY",
              "source": "projects/frugal-test/zones/%s/disks/imagenet" % zone,
              "deviceName": "frugal-vol-0"}], d
PY
ok "the insert carries the disk READ_ONLY, autoDelete false, deviceName frugal-vol-0, in $DZ"

# No disk device in the sandbox: the boot fails naming it, the VM goes.
log=""
for i in $(seq 300); do
	log=$(fake_object "frugal/jobs/$job/attempts/1/boot.log" 2>/dev/null) && [ -n "$log" ] && break
	sleep 0.1
done
echo "$log" | grep -q "volume 0: no disk device /dev/disk/by-id/google-frugal-vol-0" ||
	fail "boot.log does not name the missing device: $log"
echo "$log" | grep -q "frugal agent" && fail "the agent started without its volume: $log"
ok "without the device the boot fails naming /dev/disk/by-id/google-frugal-vol-0"
frugal cancel "$job" >/dev/null 2>&1 || true
wait_terminal "$job" 60 >/dev/null
wait_vms_gone 30
[ "$(ledger_open "$job")" = 0 ] || fail "ledger rows not gone"
[ "$(python3 -c "import sqlite3; print(sqlite3.connect('$FRUGAL_HOME/state.db').execute(\"SELECT count(*) FROM resources WHERE kind = 'volume'\").fetchone()[0])")" = 0 ] ||
	fail "a volume row for the user's disk"
ok "the VM gone, 0 open ledger rows, no volume row (the disk is the user's)"

task rw.yaml "  /data: gce-disk://$DZ/imagenet\n"
out=$(frugal launch --dry-run "$TMP/rw.yaml" 2>&1) && fail "read-write planned: $out"
echo "$out" | grep -q "volumes./data: a Compute Engine disk is attached read-write to one VM only.*read_only: true" ||
	fail "read-write: $out"
task u.yaml "  /data: {source: gce-disk://$DZ/nosuch, read_only: true}\n"
out=$(frugal launch --dry-run "$TMP/u.yaml" 2>&1) && fail "an unknown disk planned: $out"
echo "$out" | grep -q "volumes./data: project frugal-test has no disk nosuch in zone $DZ" || fail "unknown: $out"
task nz.yaml "  /data: {source: gce-disk://imagenet, read_only: true}\n"
out=$(frugal launch --dry-run "$TMP/nz.yaml" 2>&1) && fail "a zoneless disk planned: $out"
echo "$out" | grep -q "write gce-disk://ZONE/NAME" || fail "no zone: $out"
task zc.yaml "  /data: {source: gce-disk://$DZ/imagenet, read_only: true}\n" ", zone: us-central1-a"
out=$(frugal launch --dry-run "$TMP/zc.yaml" 2>&1) && fail "a zone clash planned: $out"
echo "$out" | grep -q "disk is in $DZ but resources.zone is us-central1-a" || fail "zone clash: $out"
task ebs.yaml "  /data: ebs://snap-1\n"
out=$(frugal launch --dry-run "$TMP/ebs.yaml" 2>&1) && fail "ebs planned on gcp: $out"
echo "$out" | grep -q "cannot be given by backend gcp" || fail "ebs: $out"
for f in rw u nz zc ebs; do
	[ "$(frugal launch --dry-run "$TMP/$f.yaml" 2>&1 | grep -c .)" -le 2 ] || fail "$f: more than one line"
done
[ "$(fake_state 's["counters"]["inserts"]')" = 1 ] || fail "a refused task inserted a VM"
ok "read-write, an unknown disk, no zone, a zone clash and ebs:// refused at plan time"

#!/usr/bin/env python3
"""A small stateful Lambda Cloud API (the paths of Lambda's API 1.5.1) for
frugal's lifecycle tests: launch -> booting -> active -> terminating ->
terminated. Usage: fake_lambda.py PORT_FILE.

Environment:
  FAKE_CLOUD_ROOT   machines live under ROOT/hosts/IP (see fakecloud.py)
  FAKE_LAMBDA_KEY   the API key it accepts (Bearer or Basic "KEY:")
  FRUGAL_SRC        to read catalog/lambda/vms.csv (the instance types)
  FAKE_LAMBDA_CAPACITY   JSON {"type": ["region", ...]}: what
                    /instance-types says has capacity (default: every
                    type in us-east-1)
  FAKE_LAMBDA_LAUNCH_NO_CAPACITY  "type@region,...": launches refused with
                    insufficient-capacity although /instance-types lists them
  FAKE_LAMBDA_FS    "name:region:mount_point" of the one file system
  FAKE_LAMBDA_LAUNCH_500_ONCE  the first launch creates the instance and
                    then answers 500 (a lost reply)
  FAKE_BOOT_S       seconds from launch to active (default 1)

Every instance launched is appended to ROOT/launched.log ("id name time").
"""
import csv
import json
import os
import secrets
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakecloud  # noqa: E402

KEY = os.environ.get("FAKE_LAMBDA_KEY", "")
BOOT_S = float(os.environ.get("FAKE_BOOT_S", "1"))
INSTANCES = {}
NEXT_IP = [10]
STATE = {"launch_500": os.environ.get("FAKE_LAMBDA_LAUNCH_500_ONCE") == "1"}


def load_types():
    types = {}
    path = os.path.join(os.environ.get("FRUGAL_SRC", "."), "catalog/lambda/vms.csv")
    for row in csv.DictReader(open(path, newline="")):
        t = row["InstanceType"]
        if t in types:
            continue
        types[t] = {
            "name": t,
            "description": "%s x%s" % (row["AcceleratorName"] or "CPU",
                                       row["AcceleratorCount"] or "0"),
            "price_cents_per_hour": int(round(float(row["Price"]) * 100)),
            "specs": {"vcpus": int(float(row["vCPUs"])),
                      "memory_gib": int(float(row["MemoryGiB"])),
                      "storage_gib": 512},
        }
    return types


TYPES = load_types()
CAPACITY = json.loads(os.environ.get("FAKE_LAMBDA_CAPACITY") or "null") or \
    {t: ["us-east-1"] for t in TYPES}
NO_CAP = set(x for x in os.environ.get("FAKE_LAMBDA_LAUNCH_NO_CAPACITY", "").split(",") if x)
FS = None
if os.environ.get("FAKE_LAMBDA_FS"):
    name, region, mount = os.environ["FAKE_LAMBDA_FS"].split(":", 2)
    FS = {"id": "fs" + secrets.token_hex(8), "name": name, "created": "2024-01-01T00:00:00+00:00",
          "created_by": {"id": "u1", "email": "user@example.com", "status": "active"},
          "mount_point": mount, "region": {"name": region, "description": region},
          "is_in_use": False, "bytes_used": 0}


def err(status, code, message):
    return status, {"error": {"code": code, "message": message}}, None


def region(name):
    return {"name": name, "description": name}


def public(inst):
    o = {k: inst[k] for k in ("id", "name", "status", "ssh_key_names", "file_system_names")}
    o["ip"] = inst["ip"] if inst["status"] in ("active", "unhealthy") else None
    o["region"] = region(inst["region"])
    o["instance_type"] = TYPES[inst["type"]]
    o["hostname"] = None
    o["jupyter_token"] = None
    o["jupyter_url"] = None
    return o


def authorized(auth):
    if not KEY:
        return True
    if auth == "Bearer " + KEY:
        return True
    if auth.startswith("Basic "):
        import base64
        try:
            return base64.b64decode(auth[6:]).decode().split(":")[0] == KEY
        except ValueError:
            return False
    return False


def tick():
    now = time.time()
    for inst in INSTANCES.values():
        if inst["status"] == "booting" and now >= inst["active_at"]:
            fakecloud.machine_up(inst["ip"])
            inst["status"] = "active"
        if inst["status"] == "terminating" and now >= inst["gone_at"]:
            inst["status"] = "terminated"


def terminate(inst):
    if inst["status"] in ("terminating", "terminated"):
        return
    fakecloud.machine_down(inst["ip"])
    inst["status"] = "terminating"
    inst["gone_at"] = time.time() + 0.3


class Lambda(fakecloud.Handler):
    def route(self, method, path, q, body, auth):
        if not authorized(auth):
            return err(401, "global/invalid-api-key", "API key is invalid, expired, or deleted.")
        tick()
        if method == "GET" and path == "/instance-types":
            data = {}
            for t, info in TYPES.items():
                data[t] = {"instance_type": info,
                           "regions_with_capacity_available":
                               [region(r) for r in CAPACITY.get(t, [])]}
            return 200, {"data": data}, None
        if method == "GET" and path == "/file-systems":
            return 200, {"data": [FS] if FS else []}, None
        if method == "GET" and path == "/instances":
            return 200, {"data": [public(i) for i in INSTANCES.values()
                                  if i["status"] != "terminated"]}, None
        if method == "GET" and path.startswith("/instances/"):
            inst = INSTANCES.get(path[len("/instances/"):])
            if not inst:
                return err(404, "global/object-does-not-exist", "Instance not found")
            return 200, {"data": public(inst)}, None
        if method == "POST" and path == "/instance-operations/launch":
            return self.launch(body or {})
        if method == "POST" and path == "/instance-operations/terminate":
            done = []
            for iid in (body or {}).get("instance_ids", []):
                inst = INSTANCES.get(iid)
                if not inst:
                    return err(404, "global/object-does-not-exist", "Instance not found")
                terminate(inst)
                done.append(public(inst))
            return 200, {"data": {"terminated_instances": done}}, None
        return err(404, "global/object-does-not-exist", "no such path")

    def launch(self, b):
        t, r = b.get("instance_type_name"), b.get("region_name")
        if t not in TYPES:
            return err(400, "global/invalid-parameters", "Invalid instance type")
        if r not in CAPACITY.get(t, []) or "%s@%s" % (t, r) in NO_CAP:
            return err(400, "instance-operations/launch/insufficient-capacity",
                       "Not enough capacity to fulfill launch request.")
        if FS and b.get("file_system_names") and FS["region"]["name"] != r:
            return err(400, "instance-operations/launch/file-system-in-wrong-region",
                       "File system is in another region")
        iid = secrets.token_hex(16)
        NEXT_IP[0] += 1
        inst = {"id": iid, "name": b.get("name"), "status": "booting", "type": t, "region": r,
                "ip": "10.77.0.%d" % NEXT_IP[0], "ssh_key_names": b.get("ssh_key_names", []),
                "file_system_names": b.get("file_system_names", []),
                "active_at": time.time() + BOOT_S}
        INSTANCES[iid] = inst
        with open(os.path.join(fakecloud.ROOT, "launched.log"), "a") as f:
            f.write("%s %s %.3f\n" % (iid, inst["name"], time.time()))
        if STATE["launch_500"]:
            STATE["launch_500"] = False
            return err(500, "global/unknown", "Something unexpected occurred.")
        return 200, {"data": {"instance_ids": [iid]}}, None


if __name__ == "__main__":
    os.makedirs(os.path.join(fakecloud.ROOT, "hosts"), exist_ok=True)
    fakecloud.serve(Lambda, sys.argv[1], ticker=tick)

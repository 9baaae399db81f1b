#!/usr/bin/env python3
"""A small stateful Runpod REST API v2 (server https://api.runpod.io, paths
/v2/...: POST/GET /v2/pods, GET/DELETE /v2/pods/{id}, GET
/v2/network-volumes/{id}, GET /v2/catalog/gpus[/{id}]) for frugal's
lifecycle tests, with the shapes of the published v2 OpenAPI document
(tests run it behind Prism, which checks every reply against it). A pod is
a fake machine (fakecloud.py) whose "container" is the pod's `args`, split
the way a shell splits words (shlex) and run on this machine in the
machine's directory as $HOME, with the pod's environment plus what Runpod
adds (RUNPOD_POD_ID, RUNPOD_API_KEY scoped to the pod). Usage:
fake_runpod.py PORT_FILE.

Lifecycle (the spec's PodStatus): create -> PROVISIONING -> STARTING ->
RUNNING (ssh.direct and runtime.ports after FAKE_BOOT_S) -> the container
exits -> EXITED; DELETE -> gone (404). Errors are problem+json
{title, status, detail}. Test controls (not Runpod's API, under /_test/):
  POST /_test/interrupt/ID   the host stops the pod: SIGTERM to the
                             container, SIGKILL 5 s later, EXITED
Environment: FAKE_CLOUD_ROOT, FAKE_RUNPOD_KEY (accepted key),
FAKE_RUNPOD_NO_CAPACITY ("DC,..." data centers that refuse every create
although the catalog shows stock), FAKE_RUNPOD_NO_STOCK ("DC,..." data
centers the catalog shows no stock in), FAKE_RUNPOD_VOLUME ("id:DC"),
FAKE_RUNPOD_PRICE ("secure,community": the GPU catalog's per-GPU list
prices, default "0.69,0.34"; "none": the catalog gives price 0, as for a
GPU type with no price), FAKE_BOOT_S (1). Every pod created is appended to ROOT/launched.log
("id name dc"); every catalog read to ROOT/catalog.log.
"""
import os
import secrets
import shlex
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakecloud  # noqa: E402

KEY = os.environ.get("FAKE_RUNPOD_KEY", "")
BOOT_S = float(os.environ.get("FAKE_BOOT_S", "1"))
NO_CAP = set(x for x in os.environ.get("FAKE_RUNPOD_NO_CAPACITY", "").split(",") if x)
PRICE = os.environ.get("FAKE_RUNPOD_PRICE", "0.69,0.34")
PRICE = (0, 0) if PRICE == "none" else tuple(float(x) for x in PRICE.split(","))
NO_STOCK = set(x for x in os.environ.get("FAKE_RUNPOD_NO_STOCK", "").split(",") if x)
VOLUME = None
if os.environ.get("FAKE_RUNPOD_VOLUME"):
    vid, dc = os.environ["FAKE_RUNPOD_VOLUME"].split(":", 1)
    VOLUME = {"id": vid, "name": "frugal-test", "size": 50, "dataCenter": dc,
              "type": "STANDARD"}
# Data centers of the shipped catalog's Runpod offers (catalog/runpod/vms.csv).
DCS = ["CA-MTL-1", "CA-MTL-2", "CA-MTL-3", "EU-CZ-1", "EUR-IS-1", "EUR-IS-2", "EUR-IS-3",
       "EU-NL-1", "EU-RO-1", "EU-SE-1", "US-CA-1", "US-CA-2", "US-DE-1", "US-GA-1",
       "US-GA-2", "US-IL-1", "US-KS-1", "US-KS-2", "US-NC-1", "US-TX-1", "US-TX-2",
       "US-TX-3", "US-TX-4", "US-WA-1", "AP-IN-1", "AP-JP-1", "OC-AU-1", "EU-FR-1"]
PODS = {}
NEXT = [10]
PROBLEM = "application/problem+json"
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          409: "Conflict", 422: "Unprocessable Entity"}


def err(status, detail):
    return status, {"title": TITLES.get(status, "Error"), "status": status,
                    "detail": detail}, PROBLEM


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def public(pod):
    up = pod["booted"] and pod["status"] == "RUNNING"
    direct = {"host": pod["ip"], "port": pod["port"], "username": "root",
              "command": "ssh root@%s -p %d" % (pod["ip"], pod["port"])} if up else None
    proxy = {"host": "ssh.runpod.io", "port": 22, "username": pod["id"] + "-64411eb2",
             "command": "ssh %s-64411eb2@ssh.runpod.io" % pod["id"]}
    return {
        "id": pod["id"], "name": pod["name"], "image": pod["image"], "args": pod["args"],
        "disk": pod["disk"], "ports": pod["ports"], "env": pod["env"], "registry": None,
        "status": pod["status"],
        "actions": ["stop", "restart", "terminate"] if up else ["terminate"],
        "mounts": pod["mounts"], "gpu": pod["gpu"], "cloud": pod["cloud"],
        "dataCenterId": pod["dc"], "cudaVersion": "12.8" if up else None,
        "ssh": {"proxy": proxy, "direct": direct}, "template": None,
        "cost": 0.44 if pod["status"] != "EXITED" else 0.0, "locked": False,
        "globalNetworking": {"enabled": False},
        "runtime": {"uptime": int(time.time() - pod["boot_at"]),
                    "ports": [{"private": 22, "public": pod["port"], "type": "tcp",
                               "ip": pod["ip"]}]} if up else None,
        "createdAt": pod["created"], "startedAt": pod["created"] if up else None,
    }


def tick():
    now = time.time()
    for pod in PODS.values():
        if pod["status"] == "PROVISIONING" and now >= pod["boot_at"] - BOOT_S / 2:
            pod["status"] = "STARTING"
        if pod["status"] == "STARTING" and now >= pod["boot_at"]:
            pod["status"] = "RUNNING"
            pod["booted"] = True
        proc = pod["proc"]
        if proc and proc.poll() is not None and pod["status"] != "EXITED":
            pod["status"] = "EXITED"
            fakecloud.machine_down(pod["ip"])
        if pod.get("kill_at") and now >= pod["kill_at"]:
            pod["kill_at"] = None
            fakecloud.machine_down(pod["ip"])
            pod["status"] = "EXITED"


def start_container(pod, cmd, env):
    home = fakecloud.machine_up(pod["ip"])
    e = {"HOME": home, "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    e.update({k: str(v) for k, v in env.items()})
    e.update({"RUNPOD_POD_ID": pod["id"], "RUNPOD_API_KEY": pod["pod_key"],
              "FAKE_CLOUD_HOST": pod["ip"], "FAKE_CLOUD_ROOT": fakecloud.ROOT,
              "FAKE_OWNER_FRUGAL_HOME": os.environ.get("FRUGAL_HOME", "")})
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TMPDIR"):
        if k in os.environ:
            e[k] = os.environ[k]
    log = open(os.path.join(home, "container.log"), "ab")
    chroot = os.environ.get("FAKE_MACHINE_ROOT")
    if chroot:
        # The container's userland is a root directory of its own, as with
        # fake_ssh.py (FAKE_MACHINE_ROOT, FAKE_MACHINE_BIND: the same paths inside).
        script = ('r=$0 b=$1; shift; mkdir -p "$r$b" && mount --bind "$b" "$r$b" && '
                  'mount -t proc proc "$r/proc" && exec chroot "$r" /usr/bin/env -i "$@"')
        e["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        cmd = ["unshare", "--mount", "sh", "-c", script, chroot, os.environ["FAKE_MACHINE_BIND"]] + \
              ["%s=%s" % kv for kv in e.items()] + \
              ["sh", "-c", 'cd "$0" && exec "$@"', home] + list(cmd)
    pod["proc"] = subprocess.Popen(cmd, cwd=home, env=e, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, start_new_session=True)


def gpu_type(gid, q):
    dcs = [{"id": dc, "name": dc, "availability": "NONE" if dc in NO_STOCK else "HIGH"}
           for dc in DCS]
    o = {"id": gid, "name": gid.replace("NVIDIA ", "").replace("GeForce ", ""),
         "pool": None, "manufacturer": "AMD" if gid.startswith("AMD") else "NVIDIA",
         "memory": 24, "secure": True, "community": True,
         "price": {"secure": PRICE[0], "community": PRICE[1]}, "maxCount": {"secure": 8, "community": 4}}
    if "AVAILABILITY" in q.get("include", []):
        o["availability"] = "HIGH"
        o["dataCenters"] = dcs
    return o


class Runpod(fakecloud.Handler):
    def route(self, method, path, q, body, auth):
        tick()
        if path.startswith("/_test/interrupt/"):
            pod = PODS.get(path.rsplit("/", 1)[1])
            if not pod:
                return err(404, "pod not found")
            fakecloud.machine_signal(pod["ip"], signal.SIGTERM) if pod["proc"] is None else \
                os.kill(pod["proc"].pid, signal.SIGTERM)
            pod["kill_at"] = time.time() + 5
            return 200, {"ok": True}, None
        pod_key_of = {p["pod_key"]: p["id"] for p in PODS.values()}
        token = auth[7:] if auth.startswith("Bearer ") else ""
        scoped = pod_key_of.get(token)
        if KEY and token != KEY and not scoped:
            return err(401, "missing bearer token" if not token else "invalid bearer token")
        if scoped and not path.endswith("/" + scoped):
            return err(403, "access denied")
        if method == "POST" and path == "/v2/pods":
            return self.create(body or {})
        if method == "GET" and path == "/v2/pods":
            return 200, {"pods": [public(p) for p in PODS.values()]}, None
        if path.startswith("/v2/pods/"):
            pod = PODS.get(path[len("/v2/pods/"):])
            if not pod:
                return err(404, "pod not found")
            if method == "GET":
                return 200, public(pod), None
            if method == "DELETE":
                fakecloud.machine_down(pod["ip"])
                del PODS[pod["id"]]
                return 204, None, None
        if method == "GET" and path.startswith("/v2/network-volumes/"):
            if VOLUME and path.endswith("/" + VOLUME["id"]):
                return 200, VOLUME, None
            return err(404, "network volume not found")
        if method == "GET" and path == "/v2/catalog/gpus":
            return 200, {"gpus": [gpu_type(g, q) for g in ("NVIDIA GeForce RTX 4090",
                                                          "NVIDIA A100 80GB PCIe")]}, None
        if method == "GET" and path.startswith("/v2/catalog/gpus/"):
            from urllib.parse import unquote
            with open(os.path.join(fakecloud.ROOT, "catalog.log"), "a") as f:
                f.write("%s %s\n" % (unquote(path), q))
            return 200, gpu_type(unquote(path[len("/v2/catalog/gpus/"):]), q), None
        return err(404, "resource not found")

    def create(self, b):
        dcs = b.get("dataCenterIds") or ["US-TX-3"]
        if any(dc in NO_CAP for dc in dcs):
            return err(400, "There are no longer any instances available with the requested"
                            " specifications. Please refresh and try again.")
        net = (b.get("mounts") or {}).get("network") or []
        if net and (not VOLUME or net[0]["volumeId"] != VOLUME["id"]):
            return err(400, "network volume not found")
        pid = secrets.token_hex(5)
        NEXT[0] += 1
        now = time.time()
        pod = {"id": pid, "name": b["name"], "status": "PROVISIONING", "image": b.get("image"),
               "args": b.get("args", ""), "disk": b.get("disk", 20),
               "ports": b.get("ports", []), "env": b.get("env", {}),
               "mounts": b.get("mounts", {}), "gpu": b.get("gpu"),
               "cloud": b.get("cloud", "SECURE"), "dc": dcs[0], "created": now_iso(),
               "ip": "10.88.0.%d" % NEXT[0], "port": 40000 + NEXT[0], "booted": False,
               "boot_at": now + BOOT_S, "pod_key": "podkey-" + secrets.token_hex(8),
               "proc": None}
        PODS[pid] = pod
        with open(os.path.join(fakecloud.ROOT, "launched.log"), "a") as f:
            f.write("%s %s %s\n" % (pid, pod["name"], pod["dc"]))
        start_container(pod, shlex.split(pod["args"]), pod["env"])
        return 201, public(pod), None


if __name__ == "__main__":
    os.makedirs(os.path.join(fakecloud.ROOT, "hosts"), exist_ok=True)
    fakecloud.serve(Runpod, sys.argv[1], ticker=tick)

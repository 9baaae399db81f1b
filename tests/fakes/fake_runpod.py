#!/usr/bin/env python3
"""A small stateful Runpod REST API v1 (POST/GET /pods, GET/DELETE
/pods/{id}, GET /networkvolumes/{id}) for frugal's lifecycle tests. A pod
is a fake machine (fakecloud.py) whose "container" is the pod's start
command, run with `sh -c` on this machine in the machine's directory as
$HOME, with the pod's environment plus what Runpod adds (RUNPOD_POD_ID,
RUNPOD_API_KEY scoped to the pod). Usage: fake_runpod.py PORT_FILE.

Lifecycle: create -> RUNNING (publicIp and portMappings after FAKE_BOOT_S)
-> the container exits -> EXITED; DELETE -> gone (404). Test controls
(not Runpod's API, under /_test/):
  POST /_test/interrupt/ID   a spot reclaim: SIGTERM to the container,
                             SIGKILL 5 s later (or when it exits), EXITED
Environment: FAKE_CLOUD_ROOT, FAKE_RUNPOD_KEY (accepted key),
FAKE_RUNPOD_NO_CAPACITY ("DC,..." data centers that refuse every create),
FAKE_RUNPOD_VOLUME ("id:DC"), FAKE_BOOT_S (1).
Every pod created is appended to ROOT/launched.log ("id name").
"""
import os
import secrets
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakecloud  # noqa: E402

KEY = os.environ.get("FAKE_RUNPOD_KEY", "")
BOOT_S = float(os.environ.get("FAKE_BOOT_S", "1"))
NO_CAP = set(x for x in os.environ.get("FAKE_RUNPOD_NO_CAPACITY", "").split(",") if x)
VOLUME = None
if os.environ.get("FAKE_RUNPOD_VOLUME"):
    vid, dc = os.environ["FAKE_RUNPOD_VOLUME"].split(":", 1)
    VOLUME = {"id": vid, "name": "frugal-test", "size": 50, "dataCenterId": dc}
PODS = {}
NEXT = [10]


def err(status, message):
    return status, {"error": message}, None


def public(pod):
    o = {k: pod[k] for k in ("id", "name", "desiredStatus", "interruptible", "image",
                             "env", "gpuCount", "costPerHr")}
    # The spec: publicIp is an ipv4 string, nullable ("empty" while starting).
    o["publicIp"] = pod["ip"] if pod["booted"] and pod["desiredStatus"] == "RUNNING" else None
    o["portMappings"] = {"22": pod["port"]} if o["publicIp"] else None
    o["lastStatusChange"] = pod["desiredStatus"]
    return o


def tick():
    now = time.time()
    for pod in PODS.values():
        if not pod["booted"] and now >= pod["boot_at"]:
            pod["booted"] = True
        proc = pod["proc"]
        if proc and proc.poll() is not None and pod["desiredStatus"] == "RUNNING":
            pod["desiredStatus"] = "EXITED"
            fakecloud.machine_down(pod["ip"])
        if pod.get("kill_at") and now >= pod["kill_at"]:
            pod["kill_at"] = None
            fakecloud.machine_down(pod["ip"])
            pod["desiredStatus"] = "EXITED"


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
    pod["proc"] = subprocess.Popen(cmd, cwd=home, env=e, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, start_new_session=True)


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
            return err(401, "Unauthorized")
        if scoped and not path.endswith("/" + scoped):
            return err(401, "a pod key works for its own pod only")
        if method == "POST" and path == "/pods":
            return self.create(body or {})
        if method == "GET" and path == "/pods":
            names = q.get("name")
            return 200, [public(p) for p in PODS.values()
                         if not names or p["name"] in names], None
        if path.startswith("/pods/"):
            pod = PODS.get(path[len("/pods/"):])
            if not pod:
                return err(404, "pod not found")
            if method == "GET":
                return 200, public(pod), None
            if method == "DELETE":
                fakecloud.machine_down(pod["ip"])
                del PODS[pod["id"]]
                return 204, None, None
        if method == "GET" and path.startswith("/networkvolumes/"):
            if VOLUME and path.endswith("/" + VOLUME["id"]):
                return 200, VOLUME, None
            return err(404, "network volume not found")
        return err(404, "no such path")

    def create(self, b):
        dcs = b.get("dataCenterIds") or ["US-TX-3"]
        if any(dc in NO_CAP for dc in dcs):
            return err(400, "There are no longer any instances available with the requested"
                            " specifications. Please refresh and try again.")
        if b.get("networkVolumeId") and (not VOLUME or b["networkVolumeId"] != VOLUME["id"]):
            return err(400, "network volume not found")
        pid = secrets.token_hex(7)
        NEXT[0] += 1
        pod = {"id": pid, "name": b.get("name", "my pod"), "desiredStatus": "RUNNING",
               "interruptible": bool(b.get("interruptible")), "image": b.get("imageName"),
               "env": b.get("env", {}), "gpuCount": b.get("gpuCount", 1), "costPerHr": 0.44,
               "ip": "10.88.0.%d" % NEXT[0], "port": 40000 + NEXT[0], "booted": False,
               "boot_at": time.time() + BOOT_S, "pod_key": "podkey-" + secrets.token_hex(8),
               "proc": None}
        PODS[pid] = pod
        with open(os.path.join(fakecloud.ROOT, "launched.log"), "a") as f:
            f.write("%s %s\n" % (pid, pod["name"]))
        start_container(pod, (b.get("dockerEntrypoint") or []) + (b.get("dockerStartCmd") or []),
                        b.get("env", {}))
        return 201, public(pod), None


if __name__ == "__main__":
    os.makedirs(os.path.join(fakecloud.ROOT, "hosts"), exist_ok=True)
    fakecloud.serve(Runpod, sys.argv[1], ticker=tick)

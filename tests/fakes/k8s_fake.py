#!/usr/bin/env python3
"""A small stateful fake of the Kubernetes API server, with a kubelet.

For frugal's kubernetes backend tests (docs/KUBERNETES.md). Python's
standard library only.

API (the subset frugal uses, as the real server answers it):
  batch/v1 Jobs            POST, GET, GET list (labelSelector), DELETE
                           (propagationPolicy Foreground/Background/Orphan,
                           preconditions.uid)
  v1 Pods                  GET, GET list, DELETE (graceful), pods/log,
                           pods/eviction (policy/v1 Eviction)
  v1 Secrets               POST, GET, GET list, PATCH (merge patch), DELETE
  v1 Services              POST, GET, GET list, DELETE (NodePort: a nodePort
                           from 30000-32767 per port; every type a clusterIP;
                           LoadBalancer: status.loadBalancer.ingress 127.0.0.1)
Every request body is checked against the published OpenAPI documents
(--openapi DIR: the schema of the operation, unknown fields refused as
with fieldValidation=Strict, types, required fields) and against the
semantic rules of the API server that frugal could break (DNS names,
label values, restartPolicy, podFailurePolicy, base64 Secret data,
quantities, volume references). A refused body is a 400/422 Status.

Controllers, emulated in one loop thread:
  job controller   one pod per Job from its template (labels job-name,
                   controller-uid, ownerReference); Complete / Failed
                   (BackoffLimitExceeded, DeadlineExceeded, PodFailurePolicy
                   with the FailJob rule's message); ttlSecondsAfterFinished;
                   a pod deleted before it ended counts as failed.
  garbage collector Foreground deletion (dependents first, the Job last),
                   Background, Orphan; Secrets whose owner Job is gone.
  kubelet          "runs" a pod: its container's command is executed on
                   this machine, in a sandbox directory of the pod, with
                   the container's env (secretKeyRef / envFrom resolved
                   from the Secrets; a missing one keeps the pod in
                   CreateContainerConfigError), stdout/stderr as the pod's
                   log. A PersistentVolumeClaim is a local directory
                   (--pvc NAME=DIR); the container must mount it at that
                   same path (no mount namespaces: see KUBERNETES.md).
                   Termination: SIGTERM to the container's main process,
                   SIGKILL to every process of the pod after the grace
                   period (found by the K8S_FAKE_POD marker in their
                   environment, as a container runtime kills its cgroup).
Test controls (no auth), under /fake/:
  GET  /fake/state                 every object
  GET  /fake/requests              every API request (method, path, query, body)
  POST /fake/reclaim?pod=P&mode=graceful|hard   a spot node goes away:
       graceful: DisruptionTarget (TerminationByKubelet), SIGTERM, SIGKILL
       after the grace period; hard: DisruptionTarget (DeletionByPodGC),
       SIGKILL at once, the pod deleted
  POST /fake/kill?pod=P            the container dies (SIGKILL), no disruption
  POST /fake/schedulable?on=0|1    no node fits (pods stay Pending) / nodes back

Auth: --token T (Authorization: Bearer T) and/or TLS (--tls-dir with
ca.crt, server.crt, server.key) where a client certificate signed by
ca.crt is accepted instead of the token.

  k8s_fake.py --port-file F --root DIR --openapi DIR [--pvc NAME=DIR]...
              [--token T] [--tls-dir DIR] [--gpus N]
"""
import argparse
import base64
import http.server
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

LOCK = threading.RLock()
STATE = {"jobs": {}, "pods": {}, "secrets": {}, "services": {}}     # kind -> (ns, name) -> obj
PROCS = {}                                          # pod uid -> Popen
REQUESTS = []
OPTS = None
SPEC = {}                                           # schema name -> schema
RV = [1000]
SCHEDULABLE = [True]
STOP = threading.Event()

# ---- helpers -------------------------------------------------------------------


def now_rfc3339(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def parse_time(s):
    return time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone


def next_rv():
    RV[0] += 1
    return str(RV[0])


def status_obj(code, reason, message, details=None):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "details": details or {}, "code": code}


class ApiError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def log(msg):
    sys.stderr.write("k8s_fake: %s\n" % msg)
    sys.stderr.flush()

# ---- OpenAPI checks ----------------------------------------------------------------


def load_spec(d):
    for f in ("api__v1_openapi.json", "apis__batch__v1_openapi.json"):
        with open(os.path.join(d, f)) as fh:
            SPEC.update(json.load(fh)["components"]["schemas"])


def resolve(s):
    while True:
        if "$ref" in s:
            s = SPEC[s["$ref"].split("/")[-1]]
        elif len(s.get("allOf", [])) == 1:
            s = s["allOf"][0]
        else:
            return s


def check_schema(schema, value, where, partial=False):
    """Refuse what the API server refuses with fieldValidation=Strict:
    unknown fields, wrong JSON types, missing required fields."""
    s = resolve(schema)
    t = s.get("type")
    if value is None:
        return
    if t == "string" and not isinstance(value, str):
        raise ApiError(400, "BadRequest", "%s: expected string, got %s" % (where, type(value).__name__))
    if t == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
        raise ApiError(400, "BadRequest", "%s: expected integer" % where)
    if t == "boolean" and not isinstance(value, bool):
        raise ApiError(400, "BadRequest", "%s: expected boolean" % where)
    if t == "array":
        if not isinstance(value, list):
            raise ApiError(400, "BadRequest", "%s: expected array" % where)
        for i, v in enumerate(value):
            check_schema(s.get("items", {}), v, "%s[%d]" % (where, i), partial)
    if t == "object" or "properties" in s:
        if not isinstance(value, dict):
            raise ApiError(400, "BadRequest", "%s: expected object" % where)
        props = s.get("properties")
        for k, v in value.items():
            sub = props.get(k) if props is not None else s.get("additionalProperties")
            if sub is None:
                raise ApiError(400, "BadRequest",
                               'strict decoding error: unknown field "%s.%s"' % (where, k))
            check_schema(sub, v, "%s.%s" % (where, k), partial)
        if not partial:
            for r in s.get("required", []):
                if r not in value:
                    raise ApiError(422, "Invalid", "%s.%s: Required value" % (where, r))


DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUB = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$")


def invalid(msg):
    raise ApiError(422, "Invalid", msg)


def check_meta(meta, kind, max_name=253):
    name = meta.get("name", "")
    if not name or len(name) > max_name or not DNS_SUB.match(name):
        invalid('%s "%s" is invalid: metadata.name: Invalid value' % (kind, name))
    for k, v in (meta.get("labels") or {}).items():
        key = k.split("/")[-1]
        if len(key) > 63 or not LABEL_NAME.match(key) or (
                "/" in k and not DNS_SUB.match(k.rsplit("/", 1)[0])):
            invalid("metadata.labels: Invalid value: %r: name part must consist of ..." % k)
        if not isinstance(v, str) or len(v) > 63 or not LABEL_VALUE.match(v):
            invalid("metadata.labels: Invalid value: %r: a valid label must be ..." % (v,))


def check_pod_spec(spec, where, in_job):
    rp = spec.get("restartPolicy")
    if in_job and rp not in ("Never", "OnFailure"):
        invalid('%s.restartPolicy: Unsupported value: "%s"' % (where, rp))
    conts = spec.get("containers") or []
    if not conts:
        invalid("%s.containers: Required value" % where)
    vols = {v.get("name") for v in spec.get("volumes") or []}
    for v in spec.get("volumes") or []:
        if not DNS_LABEL.match(v.get("name", "")):
            invalid("%s.volumes.name: Invalid value" % where)
    tg = spec.get("terminationGracePeriodSeconds")
    if tg is not None and tg < 0:
        invalid("%s.terminationGracePeriodSeconds: must be >= 0" % where)
    for c in conts:
        if not DNS_LABEL.match(c.get("name", "")):
            invalid("%s.containers.name: Invalid value" % where)
        if not c.get("image"):
            invalid("%s.containers.image: Required value" % where)
        for e in c.get("env") or []:
            if not ENV_NAME.match(e.get("name", "")):
                invalid("%s.env.name: Invalid value: %r" % (where, e.get("name")))
            ref = (e.get("valueFrom") or {}).get("secretKeyRef")
            if ref is not None and (not ref.get("name") or not ref.get("key")):
                invalid("%s.env.valueFrom.secretKeyRef: name and key required" % where)
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in vols:
                invalid('%s.volumeMounts.name: Not found: "%s"' % (where, m.get("name")))
            if not m.get("mountPath", "").startswith("/"):
                invalid("%s.volumeMounts.mountPath: must be absolute" % where)
        res = c.get("resources") or {}
        for part in ("limits", "requests"):
            for k, q in (res.get(part) or {}).items():
                if not isinstance(q, str) or not QUANTITY.match(q):
                    invalid("%s.resources.%s[%s]: Invalid value: %r" % (where, part, k, q))
        for k, q in (res.get("limits") or {}).items():
            if "/" in k and not k.startswith("kubernetes.io/"):
                if not re.match(r"^\d+$", q):
                    invalid("%s.resources.limits[%s]: must be an integer" % (where, k))
                rq = (res.get("requests") or {}).get(k)
                if rq is not None and rq != q:
                    invalid("%s.resources.requests[%s]: must be equal to limits" % (where, k))


def check_job(job):
    check_schema({"$ref": "#/io.k8s.api.batch.v1.Job"}, job, "Job")
    check_meta(job.get("metadata") or {}, "Job", 63)
    spec = job.get("spec") or {}
    tmpl = spec.get("template") or {}
    pspec = tmpl.get("spec") or {}
    check_pod_spec(pspec, "spec.template.spec", True)
    check_meta(dict(tmpl.get("metadata") or {}, name="x"), "Job")
    if spec.get("podFailurePolicy") and pspec.get("restartPolicy") != "Never":
        invalid("spec.podFailurePolicy: only allowed with restartPolicy Never")
    for r in (spec.get("podFailurePolicy") or {}).get("rules", []):
        if r.get("action") not in ("FailJob", "Ignore", "Count", "FailIndex"):
            invalid("spec.podFailurePolicy.rules.action: Unsupported value")
    if spec.get("backoffLimit", 6) < 0:
        invalid("spec.backoffLimit: must be >= 0")
    ad = spec.get("activeDeadlineSeconds")
    if ad is not None and ad <= 0:
        invalid("spec.activeDeadlineSeconds: must be > 0")


def check_secret(sec, partial=False):
    check_schema({"$ref": "#/io.k8s.api.core.v1.Secret"}, sec, "Secret", partial)
    if not partial:
        check_meta(sec.get("metadata") or {}, "Secret")
    for k, v in (sec.get("data") or {}).items():
        if not ENV_NAME.match(k):
            invalid("data[%s]: a valid config key must consist of ..." % k)
        try:
            base64.b64decode(v, validate=True)
        except Exception:
            raise ApiError(400, "BadRequest", "illegal base64 data in Secret data")

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")


def check_service(svc):
    check_schema({"$ref": "#/io.k8s.api.core.v1.Service"}, svc, "Service")
    check_meta(svc.get("metadata") or {}, "Service", max_name=63)
    name = svc["metadata"]["name"]
    if not re.match(r"^[a-z]([-a-z0-9]*[a-z0-9])?$", name):
        invalid("metadata.name: Invalid value: %r: a DNS-1035 label must consist of lower case"
                " alphanumeric characters or '-', start with an alphabetic character" % name)
    spec = svc.get("spec") or {}
    if spec.get("type", "ClusterIP") not in SERVICE_TYPES:
        invalid("spec.type: Unsupported value: %r" % spec.get("type"))
    ports = spec.get("ports") or []
    if not ports:
        invalid("spec.ports: Required value")
    seen = set()
    for i, p in enumerate(ports):
        if len(ports) > 1 and not p.get("name"):
            invalid("spec.ports[%d].name: Required value" % i)
        if p.get("name") in seen:
            invalid("spec.ports[%d].name: Duplicate value: %r" % (i, p.get("name")))
        seen.add(p.get("name"))
        if not isinstance(p.get("port"), int) or not 1 <= p["port"] <= 65535:
            invalid("spec.ports[%d].port: Invalid value" % i)


def service_defaults(obj):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec["clusterIP"] = "10.96.%d.%d" % (len(STATE["services"]) // 250, len(STATE["services"]) % 250 + 1)
    used = {p.get("nodePort") for o in STATE["services"].values()
            for p in o["spec"].get("ports", [])}
    nxt = 30000
    for p in spec.get("ports", []):
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p["port"])
        if spec["type"] in ("NodePort", "LoadBalancer"):
            while nxt in used:
                nxt += 1
            p["nodePort"] = nxt
            used.add(nxt)
    obj["status"] = {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}
                     if spec["type"] == "LoadBalancer" else {}}

# ---- label selectors ---------------------------------------------------------------


def parse_selector(sel):
    terms, depth, cur = [], 0, ""
    for ch in sel or "":
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur.strip())
    out = []
    for t in terms:
        m = re.match(r"^(\S+)\s+(in|notin)\s+\((.*)\)$", t)
        if m:
            out.append((m.group(1), m.group(2), [x.strip() for x in m.group(3).split(",")]))
        elif "!=" in t:
            k, v = t.split("!=", 1)
            out.append((k.strip(), "!=", v.strip()))
        elif "==" in t or "=" in t:
            k, v = re.split("==?", t, 1)
            out.append((k.strip(), "=", v.strip()))
        elif t.startswith("!"):
            out.append((t[1:].strip(), "!", None))
        else:
            out.append((t, "exists", None))
    return out


def matches(labels, terms):
    labels = labels or {}
    for k, op, v in terms:
        have = labels.get(k)
        if op == "=" and have != v:
            return False
        if op == "!=" and have == v:
            return False
        if op == "exists" and k not in labels:
            return False
        if op == "!" and k in labels:
            return False
        if op == "in" and have not in v:
            return False
        if op == "notin" and have in v:
            return False
    return True

# ---- objects -----------------------------------------------------------------------


def new_meta(meta, ns):
    meta = dict(meta or {})
    meta["namespace"] = ns
    meta["uid"] = str(uuid.uuid4())
    meta["resourceVersion"] = next_rv()
    meta["creationTimestamp"] = now_rfc3339()
    meta.setdefault("labels", {})
    return meta


def cond(type_, status, reason=None, message=None):
    c = {"type": type_, "status": status, "lastTransitionTime": now_rfc3339()}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def set_cond(obj, c):
    conds = [x for x in obj["status"].get("conditions", []) if x["type"] != c["type"]]
    conds.append(c)
    obj["status"]["conditions"] = conds


def has_cond(obj, type_):
    return any(c["type"] == type_ and c["status"] == "True"
               for c in obj.get("status", {}).get("conditions", []))


def touch(obj):
    obj["metadata"]["resourceVersion"] = next_rv()

# ---- the kubelet -------------------------------------------------------------------


def pod_dir(pod):
    d = os.path.join(OPTS.root, "pods", pod["metadata"]["name"])
    os.makedirs(d, exist_ok=True)
    return d


def expand(s, env):
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: env.get(m.group(1), m.group(0)), s)


def container_env(pod, c):
    """The container's env, or raise ApiError-like tuple (reason, message)."""
    ns = pod["metadata"]["namespace"]
    env = {}
    for ef in c.get("envFrom") or []:
        ref = ef.get("secretRef")
        if ref:
            sec = STATE["secrets"].get((ns, ref["name"]))
            if not sec:
                if ref.get("optional"):
                    continue
                raise ValueError('secret "%s" not found' % ref["name"])
            for k, v in (sec.get("data") or {}).items():
                env[ef.get("prefix", "") + k] = base64.b64decode(v).decode()
    for e in c.get("env") or []:
        if "value" in e:
            env[e["name"]] = expand(e["value"], env)
        elif "valueFrom" in e:
            ref = e["valueFrom"].get("secretKeyRef")
            if not ref:
                raise ValueError("valueFrom other than secretKeyRef is not emulated")
            sec = STATE["secrets"].get((ns, ref["name"]))
            if not sec:
                raise ValueError('secret "%s" not found' % ref["name"])
            data = sec.get("data") or {}
            if ref["key"] not in data:
                raise ValueError("couldn't find key %s in Secret %s/%s" % (ref["key"], ns, ref["name"]))
            env[e["name"]] = base64.b64decode(data[ref["key"]]).decode()
        else:
            env[e["name"]] = ""
    return env


def check_mounts(pod, c):
    """The PVC mounts of c: each claim must be known and mounted at its
    local path (the fake has no mount namespaces)."""
    vols = {v["name"]: v for v in pod["spec"].get("volumes") or []}
    for m in c.get("volumeMounts") or []:
        v = vols[m["name"]]
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim is None:
            raise ValueError("volume %s: only persistentVolumeClaim volumes are emulated" % m["name"])
        local = OPTS.pvcs.get(claim)
        if local is None:
            raise LookupError('persistentvolumeclaim "%s" not found' % claim)
        if m.get("subPath"):
            local = os.path.join(local, m["subPath"])
            os.makedirs(local, exist_ok=True)
        if os.path.realpath(m["mountPath"]) != os.path.realpath(local):
            raise ValueError("fake kubelet: volume %s must be mounted at its local path %s, not %s"
                             % (m["name"], local, m["mountPath"]))


def set_waiting(pod, reason, message):
    c = pod["spec"]["containers"][0]
    pod["status"]["containerStatuses"] = [{
        "name": c["name"], "image": c["image"], "imageID": "", "ready": False,
        "restartCount": 0, "started": False,
        "state": {"waiting": {"reason": reason, "message": message}}}]
    touch(pod)


def image_ok(image):
    return bool(re.match(r"^[a-z0-9]+([._/:@-][A-Za-z0-9_.-]+)*$", image)) and " " not in image


def kubelet_start(pod):
    """Start the pod's (single) container, if it can be started now."""
    c = pod["spec"]["containers"][0]
    if not image_ok(c["image"]):
        set_waiting(pod, "InvalidImageName", 'Failed to apply default image tag "%s": '
                    "couldn't parse image reference" % c["image"])
        return
    if c["image"].startswith("fake.invalid/"):
        set_waiting(pod, "ImagePullBackOff", 'Back-off pulling image "%s"' % c["image"])
        return
    try:
        env = container_env(pod, c)
        check_mounts(pod, c)
    except LookupError as e:
        pod["status"]["conditions"] = [cond("PodScheduled", "False", "Unschedulable", str(e))]
        touch(pod)
        return
    except ValueError as e:
        set_waiting(pod, "CreateContainerConfigError", str(e))
        return
    argv = [expand(a, env) for a in (c.get("command") or []) + (c.get("args") or [])]
    if not argv:
        set_waiting(pod, "CreateContainerError", "the fake needs a command: images are not emulated")
        return
    # The image's environment: what this machine has, plus the pod's.
    full = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH",
                                      "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                                      "K8S_FAKE_ROOT")
            if k in os.environ}
    full["HOSTNAME"] = pod["metadata"]["name"]
    full["K8S_FAKE_POD"] = pod["metadata"]["uid"]
    full.update(env)
    d = pod_dir(pod)
    logf = open(os.path.join(d, "log"), "ab")
    cwd = c.get("workingDir") or d
    if os.environ.get("FAKE_MACHINE_ROOT"):
        # The image's userland is a root directory of its own
        # (tests/e2e/foreign_root.sh) with FAKE_MACHINE_BIND (the test's
        # directory) bound at the same path inside, as in fake_ssh.py.
        script = ('r=$0 b=$1; shift; mkdir -p "$r$b" && mount --bind "$b" "$r$b" && '
                  'mount -t proc proc "$r/proc" && exec chroot "$r" /usr/bin/env -i "$@"')
        full["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        argv = ["unshare", "--mount", "sh", "-c", script, os.environ["FAKE_MACHINE_ROOT"],
                os.environ["FAKE_MACHINE_BIND"]] + ["%s=%s" % kv for kv in full.items()] + \
               ["sh", "-c", 'cd "$0" && exec "$@"', cwd] + argv
    try:
        p = subprocess.Popen(argv, env=full, cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as e:
        logf.close()
        pod["status"]["phase"] = "Failed"
        pod["status"]["containerStatuses"] = [{
            "name": c["name"], "image": c["image"], "imageID": "", "ready": False,
            "restartCount": 0, "started": False,
            "state": {"terminated": {"exitCode": 128, "reason": "StartError",
                                     "message": str(e), "startedAt": now_rfc3339(),
                                     "finishedAt": now_rfc3339()}}}]
        touch(pod)
        return
    logf.close()
    PROCS[pod["metadata"]["uid"]] = p
    started = now_rfc3339()
    pod["status"].update({
        "phase": "Running", "startTime": started, "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
        "containerStatuses": [{"name": c["name"], "image": c["image"], "imageID": "",
                               "ready": True, "restartCount": 0, "started": True,
                               "state": {"running": {"startedAt": started}}}]})
    for t in ("Initialized", "ContainersReady", "Ready"):
        set_cond(pod, cond(t, "True"))
    touch(pod)
    threading.Thread(target=kubelet_wait, args=(pod["metadata"]["uid"], p, started),
                     daemon=True).start()


def pod_pids(uid):
    """Every live process carrying the pod's marker (its "cgroup")."""
    want = ("K8S_FAKE_POD=%s" % uid).encode()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                if want in f.read().split(b"\0"):
                    with open("/proc/%s/stat" % d) as st:
                        if st.read().rsplit(")", 1)[1].split()[0] != "Z":
                            out.append(int(d))
        except OSError:
            pass
    return out


def kill_pod_procs(uid):
    for _ in range(100):
        pids = pod_pids(uid)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)


def kubelet_wait(uid, p, started):
    code = p.wait()
    # The container is gone: so is everything in its cgroup.
    kill_pod_procs(uid)
    with LOCK:
        PROCS.pop(uid, None)
        pod = find_uid("pods", uid)
        if not pod:
            return
        if code < 0:
            code = 128 - code
        reason = "Completed" if code == 0 else "Error"
        c = pod["spec"]["containers"][0]
        pod["status"]["containerStatuses"] = [{
            "name": c["name"], "image": c["image"], "imageID": "", "ready": False,
            "restartCount": 0, "started": False,
            "state": {"terminated": {"exitCode": code, "reason": reason, "startedAt": started,
                                     "finishedAt": now_rfc3339()}}}]
        if pod["status"].get("reason") == "Terminated":
            pod["status"]["phase"] = "Failed"  # node shutdown
        elif pod["status"].get("phase") not in ("Succeeded", "Failed"):
            pod["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
        for t in ("ContainersReady", "Ready"):
            set_cond(pod, cond(t, "False", "PodCompleted" if code == 0 else "PodFailed"))
        touch(pod)


def find_uid(kind, uid):
    for o in STATE[kind].values():
        if o["metadata"]["uid"] == uid:
            return o
    return None


def terminate_pod(pod, grace=None, hard=False):
    """Graceful deletion: SIGTERM to the container's main process, SIGKILL
    to all of it after the grace period; the object goes once it is done."""
    meta = pod["metadata"]
    if grace is None:
        grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
    first = "deletionTimestamp" not in meta
    if first:
        meta["deletionTimestamp"] = now_rfc3339(time.time() + grace)
        meta["deletionGracePeriodSeconds"] = grace
        touch(pod)
    p = PROCS.get(meta["uid"])
    if p is None:
        return
    if hard or grace == 0:
        kill_pod_procs(meta["uid"])
        return
    if not first:
        return
    try:
        os.kill(p.pid, signal.SIGTERM)
    except OSError:
        pass

    def later():
        deadline = time.time() + grace
        while time.time() < deadline and p.poll() is None:
            time.sleep(0.05)
        if p.poll() is None:
            kill_pod_procs(meta["uid"])
    threading.Thread(target=later, daemon=True).start()

# ---- the controllers ---------------------------------------------------------------


def pods_of(job):
    uid = job["metadata"]["uid"]
    return [p for p in STATE["pods"].values()
            if any(r.get("uid") == uid for r in p["metadata"].get("ownerReferences", []))]


def make_pod(job):
    tmpl = json.loads(json.dumps(job["spec"]["template"]))
    ns = job["metadata"]["namespace"]
    name = "%s-%s" % (job["metadata"]["name"], uuid.uuid4().hex[:5])
    meta = new_meta(tmpl.get("metadata"), ns)
    meta["name"] = name
    meta["generateName"] = job["metadata"]["name"] + "-"
    meta["labels"].update({"job-name": job["metadata"]["name"],
                           "batch.kubernetes.io/job-name": job["metadata"]["name"],
                           "controller-uid": job["metadata"]["uid"],
                           "batch.kubernetes.io/controller-uid": job["metadata"]["uid"]})
    meta["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job",
                                "name": job["metadata"]["name"], "uid": job["metadata"]["uid"],
                                "controller": True, "blockOwnerDeletion": True}]
    meta["finalizers"] = ["batch.kubernetes.io/job-tracking"]
    spec = tmpl["spec"]
    spec.setdefault("terminationGracePeriodSeconds", 30)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
           "status": {"phase": "Pending", "conditions": []}}
    STATE["pods"][(ns, name)] = pod
    job["status"]["active"] = 1
    touch(job)
    return pod


def pod_failure_policy(job, pod):
    """The podFailurePolicy rule that matches a failed pod: (action, message)."""
    rules = (job["spec"].get("podFailurePolicy") or {}).get("rules", [])
    code = None
    for cs in pod["status"].get("containerStatuses", []):
        t = cs.get("state", {}).get("terminated")
        if t:
            code = t.get("exitCode")
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    for i, r in enumerate(rules):
        for pc in r.get("onPodConditions") or []:
            if any(c["type"] == pc["type"] and c["status"] == pc.get("status", "True")
                   for c in pod["status"].get("conditions", [])):
                return r["action"], ("Pod %s/%s has condition %s matching %s rule at index %d"
                                     % (ns, name, pc["type"], r["action"], i))
        ec = r.get("onExitCodes")
        if ec and code is not None:
            hit = code in ec["values"] if ec["operator"] == "In" else code not in ec["values"]
            if hit and code != 0:
                return r["action"], ("Container %s for pod %s/%s failed with exit code %d"
                                     " matching %s rule at index %d"
                                     % (pod["spec"]["containers"][0]["name"], ns, name, code,
                                        r["action"], i))
    return "Count", None


def job_finish(job, type_, reason=None, message=None):
    job["status"].pop("active", None)
    if type_ == "Failed":
        set_cond(job, cond("FailureTarget", "True", reason, message))
    set_cond(job, cond(type_, "True", reason, message))
    if type_ == "Complete":
        job["status"]["completionTime"] = now_rfc3339()
    job["metadata"]["finishedAt"] = time.time()
    touch(job)
    for p in pods_of(job):
        if p["status"].get("phase") not in ("Succeeded", "Failed"):
            terminate_pod(p)


def job_controller():
    t = time.time()
    for key, job in list(STATE["jobs"].items()):
        meta, spec, st = job["metadata"], job["spec"], job["status"]
        finished = has_cond(job, "Complete") or has_cond(job, "Failed")
        pods = pods_of(job)
        # Account for pods that ended (or vanished) and drop their finalizer.
        for p in pods:
            ph = p["status"].get("phase")
            gone = "deletionTimestamp" in p["metadata"] and p["metadata"]["uid"] not in PROCS
            if ph in ("Succeeded", "Failed") or gone:
                if "batch.kubernetes.io/job-tracking" in p["metadata"].get("finalizers", []):
                    p["metadata"]["finalizers"].remove("batch.kubernetes.io/job-tracking")
                    if ph == "Succeeded":
                        st["succeeded"] = st.get("succeeded", 0) + 1
                    elif not finished:
                        action, msg = pod_failure_policy(job, p)
                        if action == "Ignore":
                            st.pop("active", None)
                            continue
                        st["failed"] = st.get("failed", 0) + 1
                        if action == "FailJob":
                            job_finish(job, "Failed", "PodFailurePolicy", msg)
                            finished = True
                    touch(p)
                    touch(job)
        if "deletionTimestamp" in meta or finished or spec.get("suspend"):
            continue
        if st.get("succeeded", 0) >= spec.get("completions", 1):
            job_finish(job, "Complete")
            continue
        if st.get("failed", 0) > spec.get("backoffLimit", 6):
            job_finish(job, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            continue
        ad = spec.get("activeDeadlineSeconds")
        if ad and t - parse_time(st["startTime"]) > ad:
            job_finish(job, "Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
            continue
        # podReplacementPolicy Failed (the default with a podFailurePolicy):
        # no new pod while one is still terminating.
        live = [p for p in pods_of(job) if p["status"].get("phase") not in ("Succeeded", "Failed")]
        if not live:
            make_pod(job)


def kubelet():
    for key, pod in list(STATE["pods"].items()):
        st, meta = pod["status"], pod["metadata"]
        uid = meta["uid"]
        if st.get("phase") == "Pending" and uid not in PROCS and "deletionTimestamp" not in meta:
            if not SCHEDULABLE[0]:
                st["conditions"] = [cond("PodScheduled", "False", "Unschedulable",
                                         "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.")]
                touch(pod)
                continue
            if not pod["spec"].get("nodeName"):
                pod["spec"]["nodeName"] = "fake-node-1"
                st["conditions"] = [cond("PodScheduled", "True")]
            kubelet_start(pod)
        # A pod being deleted whose container has ended goes away once the
        # job controller has accounted for it (its finalizer is off; the
        # controller drops it too when the Job is gone).
        if "deletionTimestamp" in meta and uid not in PROCS:
            owners = [r.get("uid") for r in meta.get("ownerReferences") or []]
            if not any(find_uid("jobs", o) for o in owners):
                meta["finalizers"] = []
            if not meta.get("finalizers"):
                del STATE["pods"][key]


def garbage_collector():
    uids = {o["metadata"]["uid"] for kind in STATE for o in STATE[kind].values()}
    for key, job in list(STATE["jobs"].items()):
        meta = job["metadata"]
        if "deletionTimestamp" in meta:
            pods = pods_of(job)
            if "foregroundDeletion" in meta.get("finalizers", []):
                for p in pods:
                    terminate_pod(p)
                if not pods:
                    del STATE["jobs"][key]
            continue
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        if ttl is not None and "finishedAt" in meta and time.time() - meta["finishedAt"] >= ttl:
            del STATE["jobs"][key]
    # Dependents whose owner is gone (Background deletion, TTL).
    for kind in ("pods", "secrets"):
        for key, o in list(STATE[kind].items()):
            refs = o["metadata"].get("ownerReferences") or []
            if refs and not any(r.get("uid") in uids and find_uid("jobs", r.get("uid"))
                                for r in refs):
                if kind == "pods":
                    terminate_pod(o)
                else:
                    del STATE[kind][key]


def controllers():
    while not STOP.is_set():
        with LOCK:
            try:
                job_controller()
                kubelet()
                garbage_collector()
            except Exception:
                traceback.print_exc()
        time.sleep(0.05)

# ---- the API -----------------------------------------------------------------------


ROUTES = [
    (re.compile(r"^/apis/batch/v1/namespaces/([^/]+)/jobs(?:/([^/]+))?$"), "jobs"),
    (re.compile(r"^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+))?(?:/(log|eviction))?$"), "pods"),
    (re.compile(r"^/api/v1/namespaces/([^/]+)/secrets(?:/([^/]+))?$"), "secrets"),
    (re.compile(r"^/api/v1/namespaces/([^/]+)/services(?:/([^/]+))?$"), "services"),
]
KINDS = {"jobs": ("batch/v1", "Job", "JobList"), "pods": ("v1", "Pod", "PodList"),
         "secrets": ("v1", "Secret", "SecretList"),
         "services": ("v1", "Service", "ServiceList")}


def strip_for_list(kind, o):
    o = dict(o)
    o.setdefault("apiVersion", KINDS[kind][0])
    o.setdefault("kind", KINDS[kind][1])
    return o


def delete_object(kind, key, obj, opts):
    pre = (opts.get("preconditions") or {}).get("uid")
    if pre and pre != obj["metadata"]["uid"]:
        raise ApiError(409, "Conflict", "Precondition failed: UID in precondition: %s, UID in object"
                       " meta: %s" % (pre, obj["metadata"]["uid"]))
    policy = opts.get("propagationPolicy") or ("Background" if kind == "jobs" else None)
    if kind == "pods":
        terminate_pod(obj, opts.get("gracePeriodSeconds"))
        return obj
    if kind in ("secrets", "services"):
        del STATE[kind][key]
        return obj
    meta = obj["metadata"]
    if policy == "Foreground":
        if "deletionTimestamp" not in meta:
            meta["deletionTimestamp"] = now_rfc3339()
            meta.setdefault("finalizers", []).append("foregroundDeletion")
            touch(obj)
        return obj
    if policy == "Orphan":
        for p in pods_of(obj):
            p["metadata"]["ownerReferences"] = []
    del STATE[kind][key]
    return obj


def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    target = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            target.pop(k, None)
        else:
            target[k] = merge_patch(target.get(k), v)
    return target


def api(method, path, query, body):
    if method == "GET" and path == "/version":
        return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake",
                     "platform": "linux/amd64"}
    for rx, kind in ROUTES:
        m = rx.match(path)
        if m:
            break
    else:
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    ns, name = m.group(1), m.group(2)
    sub = m.group(3) if kind == "pods" else None
    store = STATE[kind]
    key = (ns, name)
    if name is None:
        if method == "GET":
            terms = parse_selector(query.get("labelSelector", [""])[0])
            items = [strip_for_list(kind, o) for (n, _), o in sorted(store.items())
                     if n == ns and matches(o["metadata"].get("labels"), terms)]
            return 200, {"kind": KINDS[kind][2], "apiVersion": KINDS[kind][0],
                         "metadata": {"resourceVersion": str(RV[0])}, "items": items}
        if method == "POST" and kind in ("jobs", "secrets", "services"):
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the body is not a JSON object")
            {"jobs": check_job, "secrets": check_secret, "services": check_service}[kind](body)
            bname = body["metadata"]["name"]
            if body["metadata"].get("namespace", ns) != ns:
                raise ApiError(400, "BadRequest", "the namespace of the object does not match")
            if (ns, bname) in store:
                raise ApiError(409, "AlreadyExists", '%s "%s" already exists' % (kind, bname))
            obj = dict(body)
            obj["metadata"] = new_meta(body["metadata"], ns)
            if kind == "jobs":
                spec = obj["spec"]
                spec.setdefault("backoffLimit", 6)
                spec.setdefault("completions", 1)
                spec.setdefault("parallelism", 1)
                spec["selector"] = {"matchLabels": {"controller-uid": obj["metadata"]["uid"]}}
                obj["status"] = {"startTime": now_rfc3339()}
            if kind == "services":
                service_defaults(obj)
            store[(ns, bname)] = obj
            return 201, obj
        raise ApiError(405, "MethodNotAllowed", "method not allowed")
    obj = store.get(key)
    if sub == "eviction":
        if method != "POST":
            raise ApiError(405, "MethodNotAllowed", "method not allowed")
        check_schema({"$ref": "#/io.k8s.api.policy.v1.Eviction"}, body, "Eviction")
        if not obj:
            raise ApiError(404, "NotFound", 'pods "%s" not found' % name)
        set_cond(obj, cond("DisruptionTarget", "True", "EvictionByEvictionAPI",
                           "Eviction API: evicting"))
        touch(obj)
        terminate_pod(obj, ((body or {}).get("deleteOptions") or {}).get("gracePeriodSeconds"))
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "code": 201}
    if not obj:
        raise ApiError(404, "NotFound", '%s "%s" not found' % (kind, name))
    if sub == "log":
        with open(os.path.join(pod_dir(obj), "log"), "rb") as f:
            data = f.read()
        tail = query.get("tailLines")
        if tail:
            data = b"".join(data.splitlines(True)[-int(tail[0]):])
        limit = query.get("limitBytes")
        if limit:
            data = data[:int(limit[0])]
        return 200, data
    if method == "GET":
        return 200, obj
    if method == "DELETE":
        opts = body if isinstance(body, dict) else {}
        if body is not None:
            check_schema({"$ref": "#/io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"}, body,
                         "DeleteOptions")
        if "propagationPolicy" in query:
            opts = dict(opts, propagationPolicy=query["propagationPolicy"][0])
        gone = delete_object(kind, key, obj, opts)
        if kind == "pods":
            return 200, gone
        # What the documents say a delete of a Job or a Secret answers.
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": {"name": name, "kind": kind, "uid": obj["metadata"]["uid"]}}
    if method == "PATCH" and kind == "secrets":
        check_secret(body, partial=True)
        patched = merge_patch(obj, body)
        patched["metadata"]["uid"] = obj["metadata"]["uid"]
        store[key] = patched
        touch(patched)
        return 200, patched
    raise ApiError(405, "MethodNotAllowed", "method not allowed")


def control(method, path, query):
    q = {k: v[0] for k, v in query.items()}
    if path == "/fake/state":
        return 200, {k: [o for o in v.values()] for k, v in STATE.items()}
    if path == "/fake/requests":
        return 200, REQUESTS
    if path == "/fake/schedulable":
        SCHEDULABLE[0] = q.get("on", "1") == "1"
        return 200, {"schedulable": SCHEDULABLE[0]}
    pod = None
    for o in STATE["pods"].values():
        if o["metadata"]["name"] == q.get("pod") or (
                q.get("job") and o["metadata"]["labels"].get("job-name") == q.get("job")):
            pod = o
    if pod is None:
        raise ApiError(404, "NotFound", "no such pod")
    if path == "/fake/reclaim":
        if q.get("mode") == "hard":
            set_cond(pod, cond("DisruptionTarget", "True", "DeletionByPodGC",
                               "PodGC: node no longer exists"))
            pod["status"]["phase"] = "Failed"
            terminate_pod(pod, 0, hard=True)
        else:
            set_cond(pod, cond("DisruptionTarget", "True", "TerminationByKubelet",
                               "Pod was terminated in response to imminent node shutdown."))
            pod["status"]["reason"] = "Terminated"
            pod["status"]["message"] = "Pod was terminated in response to imminent node shutdown."
            terminate_pod(pod)
        touch(pod)
        return 200, {"pod": pod["metadata"]["name"]}
    if path == "/fake/kill":
        p = PROCS.get(pod["metadata"]["uid"])
        if p:
            kill_pod_procs(pod["metadata"]["uid"])
        return 200, {"pod": pod["metadata"]["name"]}
    raise ApiError(404, "NotFound", "no such control")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def authorized(self):
        if OPTS.token and self.headers.get("Authorization") == "Bearer " + OPTS.token:
            return True
        if isinstance(self.connection, ssl.SSLSocket) and self.connection.getpeercert():
            return True
        return not OPTS.token and not OPTS.tls_dir

    def reply(self, code, obj):
        if isinstance(obj, bytes):
            data, ctype = obj, "text/plain"
        else:
            data, ctype = json.dumps(obj).encode(), "application/json"
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        u = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(u.query)
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            with LOCK:
                if u.path.startswith("/fake/"):
                    code, obj = control(self.command, u.path, query)
                    self.reply(code, obj)
                    return
                body = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise ApiError(400, "BadRequest", "the body is not JSON")
                REQUESTS.append({"method": self.command, "path": u.path, "query": u.query,
                                 "body": body, "content_type": self.headers.get("Content-Type")})
                if not self.authorized():
                    raise ApiError(401, "Unauthorized", "Unauthorized")
                code, obj = api(self.command, u.path, query, body)
            self.reply(code, obj)
        except ApiError as e:
            self.reply(e.code, status_obj(e.code, e.reason, e.message))
        except Exception as e:
            traceback.print_exc()
            self.reply(500, status_obj(500, "InternalError", str(e)))

    do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def shutdown(*_):
    STOP.set()
    with LOCK:
        for uid in list(PROCS):
            kill_pod_procs(uid)
    os._exit(0)


def main():
    global OPTS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--openapi", required=True)
    ap.add_argument("--pvc", action="append", default=[])
    ap.add_argument("--token")
    ap.add_argument("--tls-dir")
    OPTS = ap.parse_args()
    OPTS.pvcs = dict(p.split("=", 1) for p in OPTS.pvc)
    load_spec(OPTS.openapi)
    os.makedirs(OPTS.root, exist_ok=True)
    srv = Server(("127.0.0.1", 0), Handler)
    if OPTS.tls_dir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(OPTS.tls_dir, "server.crt"),
                            os.path.join(OPTS.tls_dir, "server.key"))
        ctx.load_verify_locations(os.path.join(OPTS.tls_dir, "ca.crt"))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    threading.Thread(target=controllers, daemon=True).start()
    tmp = OPTS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, OPTS.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A small stateful fake of the Google Cloud endpoints frugal uses, for tests.

Python standard library only. It serves, on 127.0.0.1:
  * the OAuth 2.0 token endpoint (/token): a service account JWT (RS256) is
    verified with the public half of the test key (--public-key), claims
    checked (iss, aud, scope, iat/exp); refresh tokens of authorized_user
    credentials are checked too; it answers short-lived bearer tokens that
    every other endpoint requires;
  * Compute Engine v1 (/compute/v1/projects/P/...): instances insert, get,
    list, aggregatedList (filter, pages), delete, simulateMaintenanceEvent;
    firewalls insert (checked against the Firewall schema), get, delete,
    list (pages of --page-size);
    zone and global operations get and wait. Every insert body is checked against the
    Instance schema of the discovery document (--discovery, read at start,
    never copied) and every query parameter against the method's declared
    parameters; a failure is HTTP 400 and is recorded for the tests;
  * Cloud Storage JSON API (/storage/v1, /upload/storage/v1): media and
    resumable uploads with ifGenerationMatch, downloads with Range, object
    metadata, list with prefix and pageToken, delete, compose;
  * a metadata server per VM (/vm/ZONE/NAME/computeMetadata/v1/...):
    instance/preempted with wait_for_change and last_etag, name, zone,
    attributes, project id, the service account token.
With --boot, an inserted instance "boots": its startup-script metadata item
runs under bash in a sandbox directory of --vm-root (chrooted into
--vm-chroot, in pid and mount namespaces of its own, when given), with
FRUGAL_GCE_METADATA_URL pointing at its metadata server; deleting the
instance SIGTERMs then SIGKILLs every process of the VM (all carry
FRUGAL_FAKE_VM=ZONE/NAME in their environment); a preemption
(simulateMaintenanceEvent of a spot VM, or POST /_fake/preempt) flips
instance/preempted to TRUE, and --preempt-window seconds later stops the
VM the same way and deletes it (instanceTerminationAction DELETE).

Test controls (no auth): GET /_fake/state, POST /_fake/preempt?zone=&name=,
POST /_fake/vm?zone=&name=[&label=k=v]... (a VM record, JSON metadata items as
the body), POST /_fake/disk?zone=&name=[&size=] (an existing persistent disk that
disks.get serves and an insert may attach), POST /_fake/firewall (a Firewall as the body, as if inserted),
POST /_fake/config (JSON: stockout_zones, quota_zones, fail_chunks, vm_env),
GET /_fake/object?bucket=&name=, POST /_fake/put?bucket=&name=.

  gcp_fake.py --check-schema SCHEMA FILE --discovery PATH
checks one JSON document against a schema of the discovery document and
exits 0, or 1 printing each problem.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROJECT_NUMBER = "123456789012"

# Fields the live Compute v1 API has that the discovery snapshot in
# ../shared/specs (revision 20230606) predates: checked with these schemas.
NEWER_FIELDS = {
    "Scheduling": {"maxRunDuration": {"$ref": "Duration"}},
}


# ---- schema checks -----------------------------------------------------------------

class Schemas:
    def __init__(self, path):
        with open(path) as f:
            self.doc = json.load(f)
        self.schemas = self.doc["schemas"]

    def check(self, value, schema, where, method_id=None, errors=None):
        """Problems of value against schema (a dict or a schema name)."""
        if errors is None:
            errors = []
        if isinstance(schema, str):
            schema = {"$ref": schema}
        if "$ref" in schema:
            name = schema["$ref"]
            base = self.schemas.get(name)
            if base is None:
                errors.append("%s: unknown schema %s" % (where, name))
                return errors
            schema = dict(base)
            if name in NEWER_FIELDS:
                props = dict(schema.get("properties", {}))
                props.update(NEWER_FIELDS[name])
                schema["properties"] = props
        t = schema.get("type")
        if t == "object":
            if not isinstance(value, dict):
                errors.append("%s: expected an object" % where)
                return errors
            props = schema.get("properties")
            addl = schema.get("additionalProperties")
            for k, v in value.items():
                if props is not None and k in props:
                    self.check(v, props[k], "%s.%s" % (where, k), method_id, errors)
                elif addl is not None:
                    self.check(v, addl, "%s[%s]" % (where, k), method_id, errors)
                else:
                    errors.append("%s: unknown field '%s'" % (where, k))
            for k, p in (props or {}).items():
                req = p.get("annotations", {}).get("required", [])
                if method_id and method_id in req and k not in value:
                    errors.append("%s: required field '%s' is missing" % (where, k))
        elif t == "array":
            if not isinstance(value, list):
                errors.append("%s: expected an array" % where)
                return errors
            for i, v in enumerate(value):
                self.check(v, schema.get("items", {}), "%s[%d]" % (where, i), method_id, errors)
        elif t == "string":
            if not isinstance(value, str):
                errors.append("%s: expected a string" % where)
                return errors
            if "enum" in schema and value not in schema["enum"]:
                errors.append("%s: '%s' is not one of %s" % (where, value, schema["enum"]))
            fmt = schema.get("format")
            if fmt in ("int64", "uint64") and not re.fullmatch(r"-?[0-9]+", value):
                errors.append("%s: expected an %s as a decimal string" % (where, fmt))
            pat = schema.get("pattern")
            if pat and not re.fullmatch(pat, value):
                errors.append("%s: '%s' does not match %s" % (where, value, pat))
        elif t == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                errors.append("%s: expected an integer" % where)
            elif schema.get("format") == "int32" and not -2**31 <= value < 2**31:
                errors.append("%s: out of int32 range" % where)
        elif t == "boolean":
            if not isinstance(value, bool):
                errors.append("%s: expected a boolean" % where)
        elif t == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                errors.append("%s: expected a number" % where)
        return errors

    def method(self, resource, name):
        return self.doc["resources"][resource]["methods"][name]

    def check_query(self, resource, name, query):
        m = self.method(resource, name)
        allowed = set(m.get("parameters", {})) | set(self.doc.get("parameters", {}))
        errs = []
        for k, vals in query.items():
            if k not in allowed:
                errs.append("query parameter '%s' is not a parameter of %s" % (k, m["id"]))
                continue
            p = m.get("parameters", {}).get(k) or self.doc["parameters"].get(k)
            pat = p.get("pattern") if p else None
            if pat and not all(re.fullmatch(pat, v) for v in vals):
                errs.append("query parameter '%s' does not match %s" % (k, pat))
        return errs


# ---- RSA (PKCS#1 v1.5 + SHA-256) from a PEM public key, by hand ------------------------

def _der_read(b, i):
    tag = b[i]
    i += 1
    ln = b[i]
    i += 1
    if ln & 0x80:
        n = ln & 0x7F
        ln = int.from_bytes(b[i:i + n], "big")
        i += n
    return tag, b[i:i + ln], i + ln


def rsa_public_key(pem):
    """(n, e) of a SubjectPublicKeyInfo or PKCS#1 RSAPublicKey PEM."""
    body = "".join(l for l in pem.strip().splitlines() if not l.startswith("-----"))
    der = base64.b64decode(body)
    _, seq, _ = _der_read(der, 0)
    tag, first, rest_i = _der_read(seq, 0)
    if tag == 0x30:  # SubjectPublicKeyInfo: AlgorithmIdentifier, BIT STRING
        _, bits, _ = _der_read(seq, rest_i)
        _, rsa, _ = _der_read(bits[1:], 0)
        tag, n, i = _der_read(rsa, 0)
        _, e, _ = _der_read(rsa, i)
    else:
        n = first
        _, e, _ = _der_read(seq, rest_i)
    return int.from_bytes(n, "big"), int.from_bytes(e, "big")


SHA256_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")


def rs256_verify(key, data, sig):
    n, e = key
    k = (n.bit_length() + 7) // 8
    if len(sig) != k:
        return False
    em = pow(int.from_bytes(sig, "big"), e, n).to_bytes(k, "big")
    t = SHA256_PREFIX + hashlib.sha256(data).digest()
    return em == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


# ---- the processes of a VM ------------------------------------------------------------------

VM_MARK = "FRUGAL_FAKE_VM"


def vm_pids(zone, name):
    """Pids of every live process of the VM: they carry FRUGAL_FAKE_VM=ZONE/NAME
    in their environment (checked each time, so a reused pid is never hit)."""
    want = ("%s=%s/%s" % (VM_MARK, zone, name)).encode() + b"\0"
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as fh:
                env = fh.read() + b"\0"
            with open("/proc/%s/stat" % d) as fh:
                state = fh.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (env.startswith(want) or b"\0" + want in env):
            out.append(int(d))
    return out


def kill_vm(zone, name, sig):
    for pid in vm_pids(zone, name):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


# ---- state ------------------------------------------------------------------------------

def now_rfc3339():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


class Fake:
    def __init__(self, args):
        self.args = args
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.schemas = Schemas(args.discovery) if args.discovery else None
        self.pubkey = rsa_public_key(open(args.public_key).read()) if args.public_key else None
        self.tokens = {}            # token -> expiry
        self.instances = {}         # (zone, name) -> dict
        self.firewalls = {}         # name -> Firewall dict
        self.disks = {}             # (zone, name) -> Disk dict (planted by tests)
        self.vms = {}               # (zone, name) -> vm state (metadata, process)
        self.ops = {}               # name -> operation dict
        self.request_ids = {}       # requestId -> op name
        self.objects = {}           # (bucket, name) -> {"data", "generation", "updated"}
        self.sessions = {}          # upload id -> session
        self.stockout = set(args.stockout_zones.split(",")) if args.stockout_zones else set()
        self.quota = set(args.quota_zones.split(",")) if args.quota_zones else set()
        self.fail_chunks = 0
        self.vm_env = {}
        self.counters = {"token_exchanges": 0, "metadata_tokens": 0, "inserts": 0,
                         "insert_attempts": {}, "deletes": 0, "auth_failures": 0,
                         "compose": 0, "resumable_chunks": 0, "gcs_writes": 0}
        self.schema_errors = []
        self.insert_bodies = []
        self.requests = []
        self.seq = 0
        self.port = 0

    def next_id(self, prefix):
        with self.lock:
            self.seq += 1
            return "%s-%d%06d" % (prefix, int(time.time()), self.seq)

    def issue_token(self):
        tok = "ya29.fake-" + os.urandom(12).hex()
        with self.lock:
            self.tokens[tok] = time.time() + self.args.token_ttl
        return tok


# ---- the HTTP handler ---------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def log_message(self, fmt, *a):
        if os.environ.get("GCP_FAKE_DEBUG"):
            sys.stderr.write("fake: " + (fmt % a) + "\n")

    # -- plumbing
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status, obj=None, raw=None, headers=None, ctype="application/json"):
        data = raw if raw is not None else (json.dumps(obj).encode() if obj is not None else b"")
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if data or status not in (204, 304):
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        with self.fake.lock:
            self.fake.requests.append("%s %s %d" % (self.command, self.path.split("?")[0], status))

    def error(self, status, message, reason="invalid", code=None):
        errs = [{"domain": "global", "reason": reason, "message": message}]
        if code:
            errs[0]["code"] = code
        self.reply(status, {"error": {"code": status, "message": message, "errors": errs}})

    def authorized(self):
        h = self.headers.get("Authorization", "")
        tok = h[7:] if h.startswith("Bearer ") else None
        with self.fake.lock:
            exp = self.fake.tokens.get(tok)
            ok = exp is not None and exp > time.time()
            if not ok:
                self.fake.counters["auth_failures"] += 1
        if not ok:
            self.error(401, "Request had invalid authentication credentials.", "authError")
        return ok

    def split(self):
        u = urllib.parse.urlsplit(self.path)
        return u.path, urllib.parse.parse_qs(u.query, keep_blank_values=True)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def route(self, method):
        path, q = self.split()
        try:
            if path.startswith("/_fake/"):
                return self.admin(method, path, q)
            if path == "/token" and method == "POST":
                return self.token()
            if path.startswith("/vm/"):
                return self.metadata(path, q)
            if self.denied(method, path):
                return
            if path.startswith("/compute/v1/"):
                if not self.authorized():
                    return
                return self.compute(method, path[len("/compute/v1/"):], q)
            if path.startswith("/upload/storage/v1/b/"):
                return self.gcs_upload(method, path, q)
            if path.startswith("/storage/v1/b/"):
                if not self.authorized():
                    return
                return self.gcs(method, path, q)
            self.error(404, "no such endpoint", "notFound")
        except BrokenPipeError:
            pass

    def denied(self, method, path):
        """--deny compute|storage: IAM refuses the service account (403, the
        error body Google's APIs send for a missing permission)."""
        deny = self.fake.args.deny or []
        email = self.fake.args.client_email or "frugal@frugal-test.iam.gserviceaccount.com"
        if "compute" in deny and path.startswith("/compute/v1/") and method == "POST":
            msg = ("Required 'compute.instances.create' permission for 'projects/%s/zones/"
                   "us-central1-a/instances/frugal'" % self.fake.args.project)
        elif "storage" in deny and "/storage/v1/b/" in path:
            msg = ("%s does not have storage.objects.create access to the Google Cloud Storage "
                   "object. Permission 'storage.objects.create' denied on resource (or it may "
                   "not exist)." % email)
        else:
            return False
        self.reply(403, {"error": {"code": 403, "message": msg, "errors": [
            {"message": msg, "domain": "global", "reason": "forbidden"}]}})
        return True

    # -- test controls
    def admin(self, method, path, q):
        f = self.fake
        if path == "/_fake/state":
            with f.lock:
                st = {
                    "instances": [dict(zone=z, name=n, status=i["status"], labels=i.get("labels", {}),
                                       metadata_keys=[it["key"] for it in i.get("metadata", {}).get("items", [])],
                                       scheduling=i.get("scheduling", {}),
                                       tags=i.get("tags", {}).get("items", []),
                                       nat_ip=next((a.get("natIP") for n in i.get("networkInterfaces", [])
                                                    for a in n.get("accessConfigs", [])), None),
                                       booted=(z, n) in f.vms and f.vms[(z, n)].get("proc") is not None)
                                  for (z, n), i in f.instances.items()],
                    "counters": f.counters, "schema_errors": f.schema_errors,
                    "insert_bodies": f.insert_bodies,
                    "firewalls": [dict(fw) for fw in f.firewalls.values()],
                    "objects": sorted("%s/%s" % k for k in f.objects),
                    "requests": f.requests[-500:],
                    "live_vm_processes": [("%s/%s" % k) for k, v in f.vms.items()
                                          if v.get("proc") is not None and vm_pids(*k)],
                }
            return self.reply(200, st)
        if path == "/_fake/preempt":
            zone, name = q.get("zone", [""])[0], q.get("name", [""])[0]
            if not self.preempt(zone, name):
                return self.error(404, "no such instance", "notFound")
            return self.reply(200, {"preempted": name})
        if path == "/_fake/config":
            cfg = json.loads(self.body() or b"{}")
            with f.lock:
                if "stockout_zones" in cfg:
                    f.stockout = set(cfg["stockout_zones"])
                if "quota_zones" in cfg:
                    f.quota = set(cfg["quota_zones"])
                if "fail_chunks" in cfg:
                    f.fail_chunks = int(cfg["fail_chunks"])
                if "vm_env" in cfg:
                    f.vm_env = dict(cfg["vm_env"])
            return self.reply(200, {})
        if path == "/_fake/vm":
            # A VM record for the metadata server alone (unit tests).
            zone, name = q.get("zone", [""])[0], q.get("name", [""])[0]
            labels = dict(kv.split("=", 1) for kv in q.get("label", []))
            items = json.loads(self.body() or b"[]")
            with f.lock:
                f.vms[(zone, name)] = {"metadata": items, "preempted": False, "etag": "e0", "proc": None}
                f.instances[(zone, name)] = {"name": name, "status": "RUNNING", "labels": labels,
                                             "zone": self.link("zones", zone), "id": "1"}
            return self.reply(200, {})
        if path == "/_fake/disk":
            # An existing persistent disk (?zone=&name=&size=), as disks.get answers it.
            zone, name = q.get("zone", [""])[0], q.get("name", [""])[0]
            with f.lock:
                f.disks[(zone, name)] = {
                    "kind": "compute#disk", "id": str(abs(hash(zone + name)) % 10**18),
                    "name": name, "sizeGb": q.get("size", ["100"])[0], "status": "READY",
                    "zone": self.link("zones", zone), "type": self.link("zones", zone, "diskTypes", "pd-balanced"),
                    "selfLink": self.link("zones", zone, "disks", name),
                    "creationTimestamp": now_rfc3339()}
            return self.reply(200, {})
        if path == "/_fake/firewall":
            # A rule made behind frugal's back (another home's, a lost row's).
            fw = json.loads(self.body() or b"{}")
            with f.lock:
                fw.setdefault("kind", "compute#firewall")
                fw.setdefault("selfLink", self.link("global", "firewalls", fw.get("name", "")))
                f.firewalls[fw.get("name", "")] = fw
            return self.reply(200, {})
        if path == "/_fake/object":
            key = (q.get("bucket", [""])[0], q.get("name", [""])[0])
            with f.lock:
                o = f.objects.get(key)
            if not o:
                return self.error(404, "No such object", "notFound")
            return self.reply(200, raw=o["data"], ctype="application/octet-stream")
        if path == "/_fake/put":
            key = (q.get("bucket", [""])[0], q.get("name", [""])[0])
            self.store(key, self.body())
            return self.reply(200, {})
        self.error(404, "no such control", "notFound")

    # -- token endpoint
    def token(self):
        f = self.fake
        form = urllib.parse.parse_qs(self.body().decode(), keep_blank_values=True)
        grant = form.get("grant_type", [""])[0]
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            why = self.check_jwt(form.get("assertion", [""])[0])
            if why:
                return self.reply(400, {"error": "invalid_grant", "error_description": why})
        elif grant == "refresh_token":
            if (form.get("refresh_token", [""])[0] != f.args.refresh_token or
                    form.get("client_secret", [""])[0] != f.args.client_secret or
                    not f.args.refresh_token):
                return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        else:
            return self.reply(400, {"error": "unsupported_grant_type", "error_description": grant})
        with f.lock:
            f.counters["token_exchanges"] += 1
        self.reply(200, {"access_token": f.issue_token(), "expires_in": f.args.token_ttl,
                         "token_type": "Bearer"})

    def check_jwt(self, jwt):
        f = self.fake
        parts = jwt.split(".")
        if len(parts) != 3:
            return "not a JWT"
        try:
            hdr = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except Exception:
            return "JWT does not decode"
        if hdr.get("alg") != "RS256" or hdr.get("typ") != "JWT":
            return "JWT header: expected alg RS256, typ JWT"
        if f.args.key_id and hdr.get("kid") != f.args.key_id:
            return "JWT header: wrong kid"
        if not f.pubkey or not rs256_verify(f.pubkey, (parts[0] + "." + parts[1]).encode(), sig):
            return "Invalid JWT Signature."
        aud = "http://127.0.0.1:%d/token" % f.port
        if claims.get("aud") != aud:
            return "JWT claim aud is %r, expected %r" % (claims.get("aud"), aud)
        if f.args.client_email and claims.get("iss") != f.args.client_email:
            return "JWT claim iss is not the service account"
        if "https://www.googleapis.com/auth/cloud-platform" not in str(claims.get("scope", "")).split():
            return "JWT claim scope lacks cloud-platform"
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > 3600 or exp <= iat:
            return "JWT iat/exp: at most one hour"
        if abs(iat - time.time()) > 300:
            return "JWT iat is not now"
        return None

    # -- metadata server
    def metadata(self, path, q):
        f = self.fake
        m = re.match(r"^/vm/([^/]+)/([^/]+)/computeMetadata/v1/(.*)$", path)
        if not m:
            return self.error(404, "not found", "notFound")
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.reply(403, raw=b"Missing Metadata-Flavor:Google header.", ctype="text/html")
        zone, name, sub = m.group(1), m.group(2), m.group(3)
        with f.lock:
            vm = f.vms.get((zone, name))
            inst = f.instances.get((zone, name))
        if vm is None:
            return self.reply(404, raw=b"not found", ctype="text/html")
        text = None
        if sub == "instance/preempted":
            wait = q.get("wait_for_change", ["false"])[0] == "true"
            last = q.get("last_etag", [None])[0]
            timeout = float(q.get("timeout_sec", ["300"])[0])
            deadline = time.time() + timeout
            with f.cond:
                # Wait while the value is the one the caller has (last_etag,
                # or the value at the time of the request).
                start = last if last is not None else vm["etag"]
                while wait and vm["etag"] == start and time.time() < deadline:
                    f.cond.wait(min(0.5, max(0.01, deadline - time.time())))
                value, etag = ("TRUE" if vm["preempted"] else "FALSE"), vm["etag"]
            return self.reply(200, raw=value.encode(), headers={"ETag": etag}, ctype="text/plain")
        if sub == "instance/name":
            text = name
        elif sub == "instance/zone":
            text = "projects/%s/zones/%s" % (PROJECT_NUMBER, zone)
        elif sub == "instance/id":
            text = inst["id"] if inst else "0"
        elif sub == "project/project-id":
            text = f.args.project
        elif sub == "project/numeric-project-id":
            text = PROJECT_NUMBER
        elif sub == "instance/service-accounts/default/token":
            with f.lock:
                f.counters["metadata_tokens"] += 1
            return self.reply(200, {"access_token": f.issue_token(), "expires_in": f.args.token_ttl,
                                    "token_type": "Bearer"})
        elif sub.startswith("instance/attributes/"):
            key = sub[len("instance/attributes/"):]
            for it in vm["metadata"]:
                if it.get("key") == key:
                    text = it.get("value", "")
        if text is None:
            return self.reply(404, raw=b"not found", ctype="text/html")
        self.reply(200, raw=text.encode(), headers={"ETag": "e0"}, ctype="application/text")

    # -- Compute Engine
    def compute(self, method, rest, q):
        f = self.fake
        parts = rest.split("/")
        if len(parts) < 2 or parts[0] != "projects" or parts[1] != f.args.project:
            return self.error(404, "The resource 'projects/%s' was not found" % (parts[1] if len(parts) > 1 else ""),
                              "notFound")
        p = parts[2:]
        if p[:2] == ["aggregated", "instances"] and method == "GET":
            return self.aggregated(q)
        if len(p) >= 3 and p[0] == "zones" and p[2] == "instances":
            zone = p[1]
            if len(p) == 3 and method == "POST":
                return self.insert(zone, q)
            if len(p) == 3 and method == "GET":
                return self.zone_list(zone, q)
            if len(p) == 4 and method == "GET":
                return self.get_instance(zone, p[3], q)
            if len(p) == 4 and method == "DELETE":
                return self.delete(zone, p[3], q)
            if len(p) == 5 and p[4] == "simulateMaintenanceEvent" and method == "POST":
                return self.maintenance(zone, p[3], q)
        if len(p) == 4 and p[0] == "zones" and p[2] == "disks" and method == "GET":
            return self.get_disk(p[1], p[3], q)
        if p[:2] == ["global", "firewalls"]:
            if len(p) == 2 and method == "POST":
                return self.firewall_insert(q)
            if len(p) == 2 and method == "GET":
                return self.firewall_list(q)
            if len(p) == 3 and method == "GET":
                return self.firewall_get(p[2], q)
            if len(p) == 3 and method == "DELETE":
                return self.firewall_delete(p[2], q)
        if p[:2] == ["global", "operations"] and len(p) >= 3:
            p = ["zones", "global"] + p[1:]
        if len(p) >= 4 and p[0] == "zones" and p[2] == "operations":
            with f.lock:
                op = f.ops.get(p[3])
            if not op:
                return self.error(404, "The resource 'operation %s' was not found" % p[3], "notFound")
            if len(p) == 5 and p[4] == "wait" and method == "POST":
                deadline = time.time() + f.args.wait_seconds
                with f.cond:
                    while op["status"] != "DONE" and time.time() < deadline:
                        f.cond.wait(0.05)
                    return self.reply(200, dict(op))
            if len(p) == 4 and method == "GET":
                with f.lock:
                    return self.reply(200, dict(op))
        self.error(404, "unknown Compute path", "notFound")

    def get_disk(self, zone, name, q):
        # disks.get of a disk a test planted (POST /_fake/disk).
        f = self.fake
        if not self.query_ok("disks", "get", q):
            return
        with f.lock:
            f.counters["disk_gets"] = f.counters.get("disk_gets", 0) + 1
            d = f.disks.get((zone, name))
        if not d:
            return self.error(404, "The resource 'projects/%s/zones/%s/disks/%s' was not found"
                              % (f.args.project, zone, name), "notFound")
        self.reply(200, dict(d))

    def query_ok(self, resource, name, q):
        f = self.fake
        if not f.schemas:
            return True
        errs = f.schemas.check_query(resource, name, q)
        if errs:
            with f.lock:
                f.schema_errors.extend(errs)
            self.error(400, "; ".join(errs), "invalid")
            return False
        return True

    def link(self, *parts):
        return "https://www.googleapis.com/compute/v1/projects/%s/%s" % (self.fake.args.project, "/".join(parts))

    def new_op(self, zone, kind, target, status="PENDING"):
        f = self.fake
        name = f.next_id("operation")
        op = {"kind": "compute#operation", "id": str(abs(hash(name)) % 10**18), "name": name,
              "zone": self.link("zones", zone), "operationType": kind,
              "targetLink": self.link("zones", zone, "instances", target), "status": status,
              "progress": 0, "insertTime": now_rfc3339(), "selfLink": self.link("zones", zone, "operations", name)}
        with f.lock:
            f.ops[name] = op
        return op

    def global_op(self, kind, target):
        f = self.fake
        name = f.next_id("operation")
        op = {"kind": "compute#operation", "id": str(abs(hash(name)) % 10**18), "name": name,
              "operationType": kind, "targetLink": self.link("global", "firewalls", target),
              "status": "DONE", "progress": 100, "insertTime": now_rfc3339(), "endTime": now_rfc3339(),
              "selfLink": self.link("global", "operations", name)}
        with f.lock:
            f.ops[name] = op
        return op

    def firewall_insert(self, q):
        f = self.fake
        if not self.query_ok("firewalls", "insert", q):
            return
        try:
            body = json.loads(self.body())
        except ValueError:
            return self.error(400, "Invalid JSON payload received.", "parseError")
        errs = f.schemas.check(body, "Firewall", "resource", "compute.firewalls.insert") if f.schemas else []
        name = body.get("name", "")
        if not re.fullmatch(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?", name):
            errs.append("firewall name '%s' is not RFC 1035" % name)
        for t in body.get("targetTags", []):
            if not re.fullmatch(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?", t):
                errs.append("target tag '%s' is not RFC 1035" % t)
        for a in body.get("allowed", []):
            for pr in a.get("ports", []):
                if not re.fullmatch(r"\d+(-\d+)?", pr):
                    errs.append("port '%s' is not a port or range" % pr)
        if errs:
            with f.lock:
                f.schema_errors.extend(errs)
            return self.error(400, "Invalid value for field: " + "; ".join(errs), "invalid")
        with f.lock:
            if name in f.firewalls:
                return self.error(409, "The resource 'projects/%s/global/firewalls/%s' already exists"
                                  % (f.args.project, name), "alreadyExists")
            fw = dict(body)
            fw.update({"kind": "compute#firewall", "id": str(abs(hash(name)) % 10**18),
                       "selfLink": self.link("global", "firewalls", name),
                       "creationTimestamp": now_rfc3339()})
            f.firewalls[name] = fw
        self.reply(200, self.global_op("insert", name))

    def firewall_list(self, q):
        f = self.fake
        if not self.query_ok("firewalls", "list", q):
            return
        size = min(int(q.get("maxResults", ["500"])[0]), f.args.page_size)
        start = int(q.get("pageToken", ["0"])[0] or 0)
        with f.lock:
            found = [dict(fw) for _, fw in sorted(f.firewalls.items())]
        out = {"kind": "compute#firewallList", "items": found[start:start + size]}
        if start + size < len(found):
            out["nextPageToken"] = str(start + size)
        self.reply(200, out)

    def firewall_get(self, name, q):
        f = self.fake
        if not self.query_ok("firewalls", "get", q):
            return
        with f.lock:
            fw = f.firewalls.get(name)
        if not fw:
            return self.error(404, "The resource 'projects/%s/global/firewalls/%s' was not found"
                              % (f.args.project, name), "notFound")
        self.reply(200, dict(fw))

    def firewall_delete(self, name, q):
        f = self.fake
        if not self.query_ok("firewalls", "delete", q):
            return
        with f.lock:
            fw = f.firewalls.pop(name, None)
        if not fw:
            return self.error(404, "The resource 'projects/%s/global/firewalls/%s' was not found"
                              % (f.args.project, name), "notFound")
        self.reply(200, self.global_op("delete", name))

    def finish_op(self, op, error=None, http=None):
        with self.fake.cond:
            if error:
                op["error"] = {"errors": [error]}
                op["httpErrorStatusCode"] = http or 400
            op["status"] = "DONE"
            op["progress"] = 100
            op["endTime"] = now_rfc3339()
            self.fake.cond.notify_all()

    def insert(self, zone, q):
        f = self.fake
        if not self.query_ok("instances", "insert", q):
            return
        raw = self.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return self.error(400, "Invalid JSON payload received.", "parseError")
        errs = f.schemas.check(body, "Instance", "resource", "compute.instances.insert") if f.schemas else []
        errs += self.semantic_errors(zone, body, raw)
        with f.lock:
            f.insert_bodies.append(body)
            f.counters["insert_attempts"][zone] = f.counters["insert_attempts"].get(zone, 0) + 1
        if errs:
            with f.lock:
                f.schema_errors.extend(errs)
            return self.error(400, "Invalid value for field: " + "; ".join(errs), "invalid")
        rid = q.get("requestId", [None])[0]
        name = body["name"]
        with f.lock:
            if rid and rid in f.request_ids:
                return self.reply(200, dict(f.ops[f.request_ids[rid]]))
            if (zone, name) in f.instances:
                return self.error(409, "The resource 'projects/%s/zones/%s/instances/%s' already exists"
                                  % (f.args.project, zone, name), "alreadyExists")
        op = self.new_op(zone, "insert", name)
        with f.lock:
            if rid:
                f.request_ids[rid] = op["name"]
            stock, quota = zone in f.stockout, zone in f.quota
        if stock or quota:
            def fail():
                time.sleep(f.args.op_delay)
                if stock:
                    self.finish_op(op, {"code": "ZONE_RESOURCE_POOL_EXHAUSTED",
                                        "message": "The zone 'projects/%s/zones/%s' does not have enough "
                                                   "resources available to fulfill the request.  Try a different "
                                                   "zone, or try again later." % (f.args.project, zone)}, 503)
                else:
                    self.finish_op(op, {"code": "QUOTA_EXCEEDED",
                                        "message": "Quota 'NVIDIA_T4_GPUS' exceeded.  Limit: 0.0 in region %s."
                                                   % zone.rsplit("-", 1)[0]}, 403)
            threading.Thread(target=fail, daemon=True).start()
            return self.reply(200, dict(op))
        inst = dict(body)
        inst.update({"kind": "compute#instance", "id": str(abs(hash(name + zone)) % 10**18),
                     "status": "PROVISIONING", "zone": self.link("zones", zone),
                     "selfLink": self.link("zones", zone, "instances", name),
                     "creationTimestamp": now_rfc3339()})
        inst["networkInterfaces"] = [dict(n) for n in inst.get("networkInterfaces", [])]
        for k, nic in enumerate(inst["networkInterfaces"]):
            f.seq += 1
            nic["networkIP"] = "10.128.0.%d" % (f.seq % 250 + 2)
            nic["accessConfigs"] = [dict(a, natIP="203.0.113.%d" % (f.seq % 250 + 2))
                                    for a in nic.get("accessConfigs", [])]
        with f.lock:
            f.instances[(zone, name)] = inst
            f.counters["inserts"] += 1
            f.vms[(zone, name)] = {"metadata": body.get("metadata", {}).get("items", []),
                                   "preempted": False, "etag": "e0", "proc": None}

        def provision():
            time.sleep(f.args.op_delay)
            with f.lock:
                if (zone, name) not in f.instances:
                    return
                inst["status"] = "RUNNING"
            self.finish_op(op)
            if f.args.boot:
                self.boot(zone, name)
        threading.Thread(target=provision, daemon=True).start()
        self.reply(200, dict(op))

    def semantic_errors(self, zone, body, raw):
        errs = []
        mt = body.get("machineType", "")
        if not re.fullmatch(r"(.*/)?zones/%s/machineTypes/[a-z0-9-]+" % re.escape(zone), mt):
            errs.append("machineType '%s' is not a machine type of zone %s" % (mt, zone))
        for acc in body.get("guestAccelerators", []):
            if not re.fullmatch(r"(.*/)?zones/%s/acceleratorTypes/nvidia-[a-z0-9-]+" % re.escape(zone),
                                acc.get("acceleratorType", "")):
                errs.append("acceleratorType '%s' is not of zone %s" % (acc.get("acceleratorType"), zone))
            if not mt.rsplit("/", 1)[-1].startswith("n1-"):
                errs.append("guestAccelerators on a machine type other than n1")
        sched = body.get("scheduling", {})
        if body.get("guestAccelerators") and sched.get("onHostMaintenance") != "TERMINATE":
            errs.append("instances with guest accelerators do not support live migration")
        if sched.get("provisioningModel") == "SPOT":
            if sched.get("automaticRestart"):
                errs.append("spot VMs cannot restart automatically")
            if sched.get("onHostMaintenance") not in (None, "TERMINATE"):
                errs.append("spot VMs must terminate on host maintenance")
        mrd = sched.get("maxRunDuration")
        if mrd is not None:
            secs = int(mrd.get("seconds", "0"))
            if not 30 <= secs <= 120 * 86400:
                errs.append("maxRunDuration must be 30 s to 120 days")
            if not sched.get("instanceTerminationAction"):
                errs.append("maxRunDuration needs instanceTerminationAction")
        for k, v in body.get("labels", {}).items():
            if not re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", k) or not re.fullmatch(r"[a-z0-9_-]{0,63}", v):
                errs.append("label %s=%s is not a valid label" % (k, v))
        items = body.get("metadata", {}).get("items", [])
        total = sum(len(it.get("key", "")) + len(it.get("value", "").encode()) for it in items)
        if total > 512 * 1024 or any(len(it.get("value", "").encode()) > 256 * 1024 for it in items):
            errs.append("metadata too large")
        boots = [d for d in body.get("disks", []) if d.get("boot")]
        if len(boots) != 1:
            errs.append("exactly one boot disk is needed")
        devices = set()
        for d in body.get("disks", []):
            if not d.get("boot") and d.get("mode") != "READ_ONLY":
                errs.append("the data disk must be attached READ_ONLY")
            if d.get("boot"):
                continue
            dev = d.get("deviceName")
            if dev in devices:
                errs.append("deviceName %s given twice" % dev)
            devices.add(dev)
            # An existing disk: it must exist, in the instance's zone.
            m = re.fullmatch(r"(?:.*/)?projects/([^/]+)/zones/([^/]+)/disks/([^/]+)", d.get("source", ""))
            if not m:
                errs.append("disk source '%s' is not projects/P/zones/Z/disks/NAME" % d.get("source"))
            elif m.group(2) != zone:
                errs.append("disk %s is in zone %s, not the instance's %s" % (m.group(3), m.group(2), zone))
            elif d.get("autoDelete"):
                errs.append("the existing disk %s would be deleted with the VM" % m.group(3))
            elif m.group(1) == self.fake.args.project and self.fake.disks and \
                    (zone, m.group(3)) not in self.fake.disks:
                errs.append("The resource 'projects/%s/zones/%s/disks/%s' was not found"
                            % m.group(1, 2, 3))
        return errs

    def get_instance(self, zone, name, q):
        f = self.fake
        if not self.query_ok("instances", "get", q):
            return
        with f.lock:
            inst = f.instances.get((zone, name))
            inst = dict(inst) if inst else None
        if not inst:
            return self.error(404, "The resource 'projects/%s/zones/%s/instances/%s' was not found"
                              % (f.args.project, zone, name), "notFound")
        self.reply(200, inst)

    def matches(self, inst, flt):
        if not flt:
            return True
        for term in re.findall(r"\(?\s*([a-zA-Z0-9_.-]+)\s*(!=|=)\s*\"?([^\")]*)\"?\s*\)?", flt):
            field, op, want = term
            if field.startswith("labels."):
                have = inst.get("labels", {}).get(field[7:])
            else:
                have = inst.get(field)
            if (op == "=") != (have == want):
                return False
        return True

    def aggregated(self, q):
        f = self.fake
        if not self.query_ok("instances", "aggregatedList", q):
            return
        flt = q.get("filter", [""])[0]
        size = min(int(q.get("maxResults", ["500"])[0]), f.args.page_size)
        start = int(q.get("pageToken", ["0"])[0] or 0)
        with f.lock:
            found = [dict(i) for (z, n), i in sorted(f.instances.items()) if self.matches(i, flt)]
        page = found[start:start + size]
        items = {}
        for i in page:
            z = "zones/" + i["zone"].rsplit("/", 1)[-1]
            items.setdefault(z, {"instances": []})["instances"].append(i)
        items.setdefault("zones/us-east1-b", {"warning": {"code": "NO_RESULTS_ON_PAGE",
                                                          "message": "There are no results for scope "
                                                                     "'zones/us-east1-b' on this page."}})
        out = {"kind": "compute#instanceAggregatedList", "items": items}
        if start + size < len(found):
            out["nextPageToken"] = str(start + size)
        self.reply(200, out)

    def zone_list(self, zone, q):
        f = self.fake
        if not self.query_ok("instances", "list", q):
            return
        flt = q.get("filter", [""])[0]
        with f.lock:
            found = [dict(i) for (z, n), i in sorted(f.instances.items()) if z == zone and self.matches(i, flt)]
        self.reply(200, {"kind": "compute#instanceList", "items": found})

    def stop_vm(self, zone, name, grace=1.0):
        """ACPI off: SIGTERM every process of the VM, SIGKILL after grace."""
        f = self.fake
        with f.lock:
            vm = f.vms.get((zone, name))
            proc = vm.get("proc") if vm else None
        if proc is None:
            return
        kill_vm(zone, name, signal.SIGTERM)
        end = time.time() + grace
        while time.time() < end and vm_pids(zone, name):
            proc.poll()
            time.sleep(0.05)
        kill_vm(zone, name, signal.SIGKILL)
        proc.wait()

    def delete(self, zone, name, q):
        f = self.fake
        if not self.query_ok("instances", "delete", q):
            return
        with f.lock:
            inst = f.instances.get((zone, name))
            if not inst:
                return self.error(404, "The resource 'projects/%s/zones/%s/instances/%s' was not found"
                                  % (f.args.project, zone, name), "notFound")
            inst["status"] = "STOPPING"
            f.counters["deletes"] += 1
        op = self.new_op(zone, "delete", name)

        def run():
            time.sleep(f.args.op_delay / 2)
            self.stop_vm(zone, name)
            time.sleep(f.args.op_delay / 2)
            with f.lock:
                f.instances.pop((zone, name), None)
            self.finish_op(op)
        threading.Thread(target=run, daemon=True).start()
        self.reply(200, dict(op))

    def maintenance(self, zone, name, q):
        f = self.fake
        if not self.query_ok("instances", "simulateMaintenanceEvent", q):
            return
        with f.lock:
            inst = f.instances.get((zone, name))
        if not inst:
            return self.error(404, "not found", "notFound")
        op = self.new_op(zone, "simulateMaintenanceEvent", name)
        self.preempt(zone, name)
        self.finish_op(op)
        self.reply(200, dict(op))

    def preempt(self, zone, name):
        f = self.fake
        with f.cond:
            inst = f.instances.get((zone, name))
            vm = f.vms.get((zone, name))
            if not inst or not vm:
                return False
            vm["preempted"] = True
            vm["etag"] = "e1"
            f.cond.notify_all()

        def later():
            time.sleep(f.args.preempt_window)
            with f.lock:
                if (zone, name) not in f.instances:
                    return
                inst["status"] = "STOPPING"
            self.stop_vm(zone, name, 2.0)
            with f.lock:
                if inst.get("scheduling", {}).get("instanceTerminationAction") == "DELETE":
                    f.instances.pop((zone, name), None)
                else:
                    inst["status"] = "TERMINATED"
            op = self.new_op(zone, "compute.instances.preempted", name)
            self.finish_op(op)
        threading.Thread(target=later, daemon=True).start()
        return True

    def boot(self, zone, name):
        f = self.fake
        with f.lock:
            vm = f.vms.get((zone, name))
            script = None
            for it in vm["metadata"] if vm else []:
                if it.get("key") == "startup-script":
                    script = it.get("value")
        if script is None:
            return
        sandbox = os.path.join(f.args.vm_root, "%s-%s" % (zone, name))
        os.makedirs(os.path.join(sandbox, "home"), exist_ok=True)
        with open(os.path.join(sandbox, "startup-script"), "w") as fh:
            fh.write(script)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.path.join(sandbox, "home"),
               "FRUGAL_GCE_METADATA_URL": "http://127.0.0.1:%d/vm/%s/%s/computeMetadata/v1" % (f.port, zone, name),
               "FRUGAL_GCE_ROOT": os.path.join(sandbox, "root"), VM_MARK: "%s/%s" % (zone, name)}
        for kv in f.args.vm_env or []:
            k, _, v = kv.partition("=")
            env[k] = v
        with f.lock:
            env.update(f.vm_env)
        serial = (os.path.join(f.args.serial_dir, "gce-%s-%s.log" % (zone, name)) if f.args.serial_dir
                  else os.path.join(sandbox, "serial.log"))
        log = open(serial, "ab")
        cmd = ["bash", "startup-script"]
        if f.args.vm_chroot:
            # A userland of its own (tests/e2e/foreign_root.sh): the sandbox
            # lies inside the root; the script sees the paths from inside.
            root = os.path.realpath(f.args.vm_chroot)
            inner = lambda v: v[len(root):] if v.startswith(root + "/") else v
            env = {k: inner(v) for k, v in env.items()}
            env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
            cmd = ["unshare", "--mount", "--pid", "--fork", "sh", "-c",
                   'mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env -i "$@"', root] + \
                  ["%s=%s" % kv for kv in env.items()] + \
                  ["bash", "-c", 'cd "$0" && exec bash startup-script', inner(os.path.realpath(sandbox))]
        proc = subprocess.Popen(cmd, cwd=sandbox, env=env if not f.args.vm_chroot else None,
                                stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        with f.lock:
            vm["proc"] = proc

    # -- Cloud Storage
    def bucket_ok(self, bucket):
        if bucket not in self.fake.args.bucket:
            self.error(404, "The specified bucket does not exist.", "notFound")
            return False
        return True

    def obj_json(self, bucket, name, o):
        return {"kind": "storage#object", "bucket": bucket, "name": name, "size": str(len(o["data"])),
                "generation": str(o["generation"]), "metageneration": "1", "updated": o["updated"],
                "contentType": "application/octet-stream",
                "md5Hash": base64.b64encode(hashlib.md5(o["data"]).digest()).decode()}

    def precondition(self, key, q):
        """None, or the reason ifGenerationMatch fails."""
        want = q.get("ifGenerationMatch", [None])[0]
        if want is None:
            return None
        with self.fake.lock:
            o = self.fake.objects.get(key)
        have = str(o["generation"]) if o else "0"
        return None if have == want else "precondition"

    def store(self, key, data):
        f = self.fake
        with f.lock:
            f.seq += 1
            o = {"data": data, "generation": int(time.time() * 1e6) + f.seq, "updated": now_rfc3339()}
            f.objects[key] = o
            f.counters["gcs_writes"] += 1
        return o

    def gcs_upload(self, method, path, q):
        f = self.fake
        m = re.match(r"^/upload/storage/v1/b/([^/]+)/o$", path)
        if not m:
            return self.error(404, "not found", "notFound")
        bucket = m.group(1)
        utype = q.get("uploadType", [""])[0]
        if method == "PUT" and utype == "resumable":
            return self.gcs_chunk(q)
        if not self.authorized() or not self.bucket_ok(bucket):
            return
        name = q.get("name", [""])[0]
        if not name:
            return self.error(400, "Required parameter: name", "required")
        key = (bucket, name)
        if method == "POST" and utype == "media":
            data = self.body()
            if self.precondition(key, q):
                return self.error(412, "At least one of the pre-conditions you specified did not hold.",
                                  "conditionNotMet")
            o = self.store(key, data)
            return self.reply(200, self.obj_json(bucket, name, o))
        if method == "POST" and utype == "resumable":
            self.body()
            size = self.headers.get("X-Upload-Content-Length")
            if size is None:
                return self.error(400, "X-Upload-Content-Length is required by this test", "required")
            if self.precondition(key, q):
                return self.error(412, "At least one of the pre-conditions you specified did not hold.",
                                  "conditionNotMet")
            sid = os.urandom(16).hex()
            with f.lock:
                f.sessions[sid] = {"key": key, "size": int(size), "data": bytearray(), "q": q}
            loc = "http://127.0.0.1:%d/upload/storage/v1/b/%s/o?uploadType=resumable&upload_id=%s" % (
                f.port, bucket, sid)
            return self.reply(200, raw=b"", headers={"Location": loc})
        self.error(400, "unsupported upload", "invalid")

    def gcs_chunk(self, q):
        f = self.fake
        sid = q.get("upload_id", [""])[0]
        with f.lock:
            s = f.sessions.get(sid)
        if not s:
            self.body()
            return self.error(404, "No such upload", "notFound")
        data = self.body()
        rng = self.headers.get("Content-Range", "")
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", rng)
        q_only = re.fullmatch(r"bytes \*/(\d+|\*)", rng)
        with f.lock:
            if m and f.fail_chunks > 0:
                # Lose this chunk after storing half of it, as a broken connection would.
                f.fail_chunks -= 1
                start = int(m.group(1))
                if start == len(s["data"]):
                    s["data"] += data[:len(data) // 2 // (256 * 1024) * (256 * 1024)]
                fail = True
            else:
                fail = False
        if fail:
            return self.error(503, "Backend Error", "backendError")
        if m:
            start, end = int(m.group(1)), int(m.group(2))
            if start != len(s["data"]) or end - start + 1 != len(data):
                return self.error(400, "Content-Range does not follow what the session holds", "invalid")
            if end + 1 != s["size"] and len(data) % (256 * 1024):
                return self.error(400, "a chunk that is not the last must be a multiple of 256 KiB", "invalid")
            with f.lock:
                s["data"] += data
                f.counters["resumable_chunks"] += 1
        elif not q_only:
            return self.error(400, "Content-Range is required", "invalid")
        if len(s["data"]) < s["size"]:
            hdr = {"Range": "bytes=0-%d" % (len(s["data"]) - 1)} if s["data"] else {}
            return self.reply(308, raw=b"", headers=hdr)
        if self.precondition(s["key"], s["q"]):
            return self.error(412, "At least one of the pre-conditions you specified did not hold.",
                              "conditionNotMet")
        o = self.store(s["key"], bytes(s["data"]))
        with f.lock:
            f.sessions.pop(sid, None)
        self.reply(200, self.obj_json(s["key"][0], s["key"][1], o))

    def gcs(self, method, path, q):
        f = self.fake
        m = re.match(r"^/storage/v1/b/([^/]+)/o(?:/([^/]+)(/compose)?)?$", path)
        if not m:
            return self.error(404, "not found", "notFound")
        bucket, enc, compose = m.group(1), m.group(2), m.group(3)
        if not self.bucket_ok(bucket):
            return
        if enc is None and method == "GET":
            return self.gcs_list(bucket, q)
        name = urllib.parse.unquote(enc or "")
        key = (bucket, name)
        if compose and method == "POST":
            return self.gcs_compose(bucket, name, q)
        with f.lock:
            o = f.objects.get(key)
        if method == "DELETE":
            with f.lock:
                gone = f.objects.pop(key, None)
            if not gone:
                return self.error(404, "No such object: %s/%s" % key, "notFound")
            return self.reply(204)
        if method != "GET":
            return self.error(405, "method not allowed", "invalid")
        if not o:
            return self.error(404, "No such object: %s/%s" % key, "notFound")
        if q.get("alt", [""])[0] != "media":
            return self.reply(200, self.obj_json(bucket, name, o))
        data = o["data"]
        rng = self.headers.get("Range")
        if rng:
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", rng)
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else len(data) - 1
            if start >= len(data):
                return self.reply(416, {"error": {"code": 416, "message": "Request range not satisfiable"}})
            end = min(end, len(data) - 1)
            return self.reply(206, raw=data[start:end + 1], ctype="application/octet-stream",
                              headers={"Content-Range": "bytes %d-%d/%d" % (start, end, len(data))})
        self.reply(200, raw=data, ctype="application/octet-stream")

    def gcs_list(self, bucket, q):
        f = self.fake
        prefix = q.get("prefix", [""])[0]
        start = q.get("pageToken", [""])[0]
        size = min(int(q.get("maxResults", ["1000"])[0]), f.args.page_size)
        with f.lock:
            names = sorted(n for (b, n) in f.objects if b == bucket and n.startswith(prefix) and n > start)
            page = names[:size]
            items = [self.obj_json(bucket, n, f.objects[(bucket, n)]) for n in page]
        out = {"kind": "storage#objects", "items": items}
        if len(names) > size:
            out["nextPageToken"] = page[-1]
        self.reply(200, out)

    def gcs_compose(self, bucket, name, q):
        f = self.fake
        req = json.loads(self.body() or b"{}")
        if self.precondition((bucket, name), q):
            return self.error(412, "At least one of the pre-conditions you specified did not hold.",
                              "conditionNotMet")
        srcs = req.get("sourceObjects", [])
        if not 1 <= len(srcs) <= 32:
            return self.error(400, "between 1 and 32 source objects", "invalid")
        data = b""
        with f.lock:
            for s in srcs:
                o = f.objects.get((bucket, s["name"]))
                if not o:
                    return self.error(404, "No such object: %s/%s" % (bucket, s["name"]), "notFound")
                data += o["data"]
            f.counters["compose"] += 1
        o = self.store((bucket, name), data)
        self.reply(200, self.obj_json(bucket, name, o))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--discovery")
    ap.add_argument("--check-schema", nargs=2, metavar=("SCHEMA", "FILE"))
    ap.add_argument("--method-id", default="compute.instances.insert")
    ap.add_argument("--port-file")
    ap.add_argument("--project", default="frugal-test")
    ap.add_argument("--public-key")
    ap.add_argument("--client-email")
    ap.add_argument("--key-id")
    ap.add_argument("--refresh-token")
    ap.add_argument("--client-secret")
    ap.add_argument("--bucket", action="append", default=[])
    ap.add_argument("--token-ttl", type=int, default=3600)
    ap.add_argument("--op-delay", type=float, default=0.3)
    ap.add_argument("--wait-seconds", type=float, default=2.0)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--stockout-zones")
    ap.add_argument("--quota-zones")
    ap.add_argument("--deny", action="append", help="compute or storage: answer 403 (IAM)")
    ap.add_argument("--preempt-window", type=float, default=30.0)
    ap.add_argument("--boot", action="store_true")
    ap.add_argument("--vm-root", default="/tmp")
    ap.add_argument("--vm-env", action="append")
    ap.add_argument("--vm-chroot", help="boot VMs in this root directory (--vm-root inside it)")
    ap.add_argument("--serial-dir")
    args = ap.parse_args()

    if args.check_schema:
        sch = Schemas(args.discovery)
        with open(args.check_schema[1]) as fh:
            doc = json.load(fh)
        errs = sch.check(doc, args.check_schema[0], "resource", args.method_id)
        for e in errs:
            print(e)
        sys.exit(1 if errs else 0)

    fake = Fake(args)
    Handler.fake = fake
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    fake.port = srv.server_address[1]

    def bye(*_):
        with fake.lock:
            vms = [k for k, v in fake.vms.items() if v.get("proc") is not None]
        for zone, name in vms:
            kill_vm(zone, name, signal.SIGKILL)
        os._exit(0)
    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)

    # A test that dies without stopping the fake (an abort) must not leave
    # it running: it goes when its parent does.
    parent = os.getppid()

    def orphan_watch():
        while os.getppid() == parent:
            time.sleep(1)
        bye()
    threading.Thread(target=orphan_watch, daemon=True).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(str(fake.port))
        os.rename(tmp, args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()

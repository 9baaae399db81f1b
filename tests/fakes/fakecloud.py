"""Shared pieces of the fake clouds (fake_lambda.py, fake_runpod.py).

A fake machine is a directory $FAKE_CLOUD_ROOT/hosts/IP/ (its $HOME for
fake_ssh.py) with `hostkey` and, while it runs, `up`. Its processes carry
FAKE_CLOUD_HOST=IP and FAKE_CLOUD_ROOT in their environment; ending the machine kills them
all (like a VM going away) and removes `up`.

The server listens on 127.0.0.1 (a free port, written to PORT_FILE),
serves one JSON request at a time (a ThreadingHTTPServer with a lock: the
state is small) and appends "METHOD PATH STATUS" to $FAKE_CLOUD_ROOT/
requests.log, never a body or a header: bodies carry secrets.
"""
import json
import os
import secrets
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.environ.get("FAKE_CLOUD_ROOT", "/tmp/fakecloud")
LOCK = threading.RLock()


def machine_dir(ip):
    return os.path.join(ROOT, "hosts", ip)


def machine_up(ip):
    d = machine_dir(ip)
    os.makedirs(d, exist_ok=True)
    keyfile = os.path.join(d, "hostkey")
    if not os.path.exists(keyfile):
        with open(keyfile, "w") as f:
            f.write("ssh-ed25519 FAKE%s\n" % secrets.token_hex(16))
    open(os.path.join(d, "up"), "w").close()
    return d


def machine_procs(ip):
    """Pids whose environment has FAKE_CLOUD_HOST=ip and this fake's
    FAKE_CLOUD_ROOT (tests running at once reuse the same IPs)."""
    want = ("FAKE_CLOUD_HOST=%s" % ip).encode()
    mine = ("FAKE_CLOUD_ROOT=%s" % ROOT).encode()
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            env = open("/proc/%s/environ" % p, "rb").read().split(b"\0")
        except OSError:
            continue
        if want in env and mine in env:
            out.append(int(p))
    return out


def machine_signal(ip, sig):
    for pid in machine_procs(ip):
        try:
            os.kill(pid, sig)
        except OSError:
            pass


def machine_down(ip):
    """The machine goes away: everything on it is killed."""
    try:
        os.unlink(os.path.join(machine_dir(ip), "up"))
    except OSError:
        pass
    for _ in range(50):
        pids = machine_procs(ip)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)


def log_request(method, path, status):
    with open(os.path.join(ROOT, "requests.log"), "a") as f:
        f.write("%s %s %d\n" % (method, path, status))


class Handler(BaseHTTPRequestHandler):
    """Subclasses define route(method, path, query, body) -> (status, obj)."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _handle(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        path, _, query = self.path.partition("?")
        q = {}
        for part in query.split("&"):
            if part:
                k, _, v = part.partition("=")
                from urllib.parse import unquote_plus
                q.setdefault(unquote_plus(k), []).append(unquote_plus(v))
        with LOCK:
            status, obj, ctype = self.route(method, path, q, body,
                                            self.headers.get("Authorization", ""))
        data = b"" if obj is None else json.dumps(obj).encode()
        log_request(method, path, status)
        self.send_response(status)
        if data:
            self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PATCH(self):
        self._handle("PATCH")


def serve(handler_cls, port_file, ticker=None):
    # $FAKE_LISTEN_PORT: a given port (a test swaps servers on one URL).
    port = int(os.environ.get("FAKE_LISTEN_PORT", "0"))
    srv = ThreadingHTTPServer(("127.0.0.1", port), handler_cls)
    with open(port_file + ".part", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(port_file + ".part", port_file)
    if ticker:
        def loop():
            while True:
                time.sleep(0.1)
                with LOCK:
                    ticker()
        threading.Thread(target=loop, daemon=True).start()
    srv.serve_forever()

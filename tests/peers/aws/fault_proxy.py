#!/usr/bin/env python3
"""A small HTTP proxy in front of moto that injects EC2 and S3 faults.

  fault_proxy.py --port P --upstream http://127.0.0.1:M --log FILE
                 [--capacity-zone us-east-1c]...   RunInstances placed there
                                                   -> InsufficientInstanceCapacity
                 [--throttle N]      the first N EC2 calls -> 503 RequestLimitExceeded
                 [--ec2-5xx N]       the next N EC2 calls -> 500 InternalError
                 [--s3-5xx N]        the first N S3 calls -> 503 SlowDown
                 [--opt-in-region R]... a region the account has not enabled:
                                     left out of DescribeRegions, and every
                                     EC2 call signed for it -> 401 OptInRequired
                 [--quota PREFIX]... RunInstances of an instance type that
                                     starts with PREFIX -> VcpuLimitExceeded

Every EC2 call is logged to FILE as one JSON line {"action", "params",
"status"}; S3 calls as {"s3": "METHOD PATH", "status", "key_id"} (the access key id
that signed the call). The error bodies
are EC2's and S3's documented error documents.
"""
import argparse
import http.client
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EC2_ERROR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
             '<Code>{code}</Code><Message>{msg}</Message></Error></Errors>'
             '<RequestID>fault-proxy</RequestID></Response>')
S3_ERROR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            '<Message>{msg}</Message><RequestId>fault-proxy</RequestId></Error>')

lock = threading.Lock()
state = {}


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="text/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, entry):
        with lock, open(state["log"], "a") as f:
            f.write(json.dumps(entry) + "\n")

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        ctype = self.headers.get("Content-Type", "")
        ec2 = self.command == "POST" and self.path == "/" and "form-urlencoded" in ctype
        params = {}
        if ec2:
            params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(),
                                                                 keep_blank_values=True).items()}
            action = params.get("Action", "")
            fault = None
            with lock:
                if state["throttle"] > 0:
                    state["throttle"] -= 1
                    fault = (503, "RequestLimitExceeded", "Request limit exceeded.")
                elif state["ec2_5xx"] > 0:
                    state["ec2_5xx"] -= 1
                    fault = (500, "InternalError", "An internal error has occurred")
            auth = self.headers.get("Authorization", "")
            scope = auth.split("Credential=")[1].split("/") if "Credential=" in auth else []
            region = scope[2] if len(scope) > 2 else ""
            if not fault and region in state["opt_in"]:
                fault = (401, "OptInRequired", "You are not subscribed to this service. "
                         "Please go to http://aws.amazon.com to subscribe.")
            if not fault and action == "RunInstances" and any(
                    params.get("InstanceType", "").startswith(p) for p in state["quota"]):
                fault = (400, "VcpuLimitExceeded", "You have requested more vCPU capacity "
                         "than your current vCPU limit of 0 allows for the instance bucket "
                         "that the specified instance type belongs to.")
            if not fault and action == "RunInstances" and \
                    params.get("Placement.AvailabilityZone") in state["capacity_zones"]:
                # EC2 lists it among its server errors (HTTP 500).
                fault = (500, "InsufficientInstanceCapacity",
                         "We currently do not have sufficient capacity in the Availability "
                         "Zone you requested.")
            if fault:
                self.record({"action": action, "params": params, "status": fault[0]})
                return self.reply(fault[0], EC2_ERROR.format(code=fault[1], msg=fault[2]))
        else:
            with lock:
                fault = state["s3_5xx"] > 0
                if fault:
                    state["s3_5xx"] -= 1
            if fault:
                self.record({"s3": self.command + " " + self.path, "status": 503})
                return self.reply(503, S3_ERROR.format(code="SlowDown",
                                                       msg="Please reduce your request rate."))
        up = http.client.HTTPConnection(state["host"], state["port"], timeout=120)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("connection", "transfer-encoding")}
        up.request(self.command, self.path, body=body, headers=headers)
        r = up.getresponse()
        data = r.read()
        if ec2 and params.get("Action") == "DescribeRegions" and state["opt_in"]:
            # EC2 leaves regions the account has not enabled out of the answer.
            text = data.decode()
            for reg in state["opt_in"]:
                text = re.sub(r"<item>(?:(?!</item>).)*?<regionName>%s</regionName>.*?</item>"
                              % re.escape(reg),
                              "", text, flags=re.S)
            data = text.encode()
        if ec2:
            self.record({"action": params.get("Action", ""), "params": params,
                         "status": r.status})
        else:
            # The access key id that signed it (never the secret): tests
            # check who the agent's requests come from.
            auth = self.headers.get("Authorization", "")
            cred = auth.split("Credential=")[1].split("/")[0] if "Credential=" in auth else ""
            self.record({"s3": self.command + " " + self.path, "status": r.status,
                         "key_id": cred})
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        up.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--capacity-zone", action="append", default=[])
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--ec2-5xx", type=int, default=0)
    ap.add_argument("--s3-5xx", type=int, default=0)
    ap.add_argument("--opt-in-region", action="append", default=[])
    ap.add_argument("--quota", action="append", default=[])
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.upstream)
    state.update(host=u.hostname, port=u.port, log=a.log, capacity_zones=a.capacity_zone,
                 throttle=a.throttle, ec2_5xx=a.ec2_5xx, s3_5xx=a.s3_5xx,
                 opt_in=a.opt_in_region, quota=a.quota)
    ThreadingHTTPServer(("127.0.0.1", a.port), Proxy).serve_forever()


if __name__ == "__main__":
    main()

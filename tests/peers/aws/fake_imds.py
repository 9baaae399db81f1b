#!/usr/bin/env python3
"""A fake EC2 instance metadata service (IMDSv2) for the emulated boot.

  fake_imds.py --port P --state DIR

Serves what the EC2 User Guide documents, for the instance whose id is in
DIR/instance-id and region in DIR/region:
  PUT  /latest/api/token              (X-aws-ec2-metadata-token-ttl-seconds) -> token
  GET  /latest/meta-data/instance-id
  GET  /latest/meta-data/placement/region
  GET  /latest/meta-data/iam/security-credentials/        -> frugal-agent
  GET  /latest/meta-data/iam/security-credentials/frugal-agent
                                      -> {"Code": "Success", "AccessKeyId", ...}:
                                         the keys in DIR/profile-keys ("ID SECRET"),
                                         else fixed fake ones with a session token
  GET  /latest/meta-data/spot/instance-action
                                      -> DIR/instance-action.json, 404 when absent
  GET  /latest/meta-data/events/recommendations/rebalance
                                      -> DIR/rebalance.json, 404 when absent
A GET without a valid token is 401 (IMDSv2 only, HttpTokens=required).
Every request is logged to DIR/requests.log.
"""
import argparse
import datetime
import json
import os
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKENS = set()
STATE = ""


def read(name):
    try:
        with open(os.path.join(STATE, name)) as f:
            return f.read().strip()
    except OSError:
        return None


class Imds(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body="", ctype="text/plain"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def note(self, status):
        with open(os.path.join(STATE, "requests.log"), "a") as f:
            f.write(f"{self.command} {self.path} {status}\n")

    def do_PUT(self):
        if self.path != "/latest/api/token" or \
                not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self.note(400)
            return self.reply(400)
        token = secrets.token_urlsafe(24)
        TOKENS.add(token)
        self.note(200)
        self.reply(200, token)

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") not in TOKENS:
            self.note(401)
            return self.reply(401)
        p = self.path[len("/latest/meta-data/"):] if \
            self.path.startswith("/latest/meta-data/") else None
        body, ctype = None, "text/plain"
        if p == "instance-id":
            body = read("instance-id")
        elif p == "placement/region":
            body = read("region") or "us-east-1"
        elif p == "iam/security-credentials/":
            body = "frugal-agent"
        elif p == "iam/security-credentials/frugal-agent":
            exp = (datetime.datetime.now(datetime.timezone.utc) +
                   datetime.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
            keys = (read("profile-keys") or "").split()
            doc = {"Code": "Success", "Type": "AWS-HMAC", "Expiration": exp,
                   "LastUpdated": exp}
            if len(keys) == 2:
                # Keys the test made in moto (no session token: moto checks
                # the signature against the user's secret).
                doc.update(AccessKeyId=keys[0], SecretAccessKey=keys[1])
            else:
                doc.update(AccessKeyId="ASIAFAKEIMDS", SecretAccessKey="imds-secret",
                           Token="imds-session-token")
            body = json.dumps(doc)
            ctype = "application/json"
        elif p == "spot/instance-action":
            body = read("instance-action.json")
        elif p == "events/recommendations/rebalance":
            body = read("rebalance.json")
        status = 200 if body is not None else 404
        self.note(status)
        self.reply(status, body or "", ctype)


def main():
    global STATE
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--state", required=True)
    a = ap.parse_args()
    STATE = a.state
    ThreadingHTTPServer(("127.0.0.1", a.port), Imds).serve_forever()


if __name__ == "__main__":
    main()

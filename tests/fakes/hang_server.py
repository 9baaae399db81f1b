#!/usr/bin/env python3
"""A cloud API that hangs: listens on 127.0.0.1 (a free port, or
$FAKE_LISTEN_PORT), accepts every connection and never answers a byte.
Usage: hang_server.py PORT_FILE. Each accepted connection is appended to
PORT_FILE.conns (one line each), so a test can see it was asked."""
import os
import socket
import sys
import time

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ.get("FAKE_LISTEN_PORT", "0"))))
s.listen(128)
with open(sys.argv[1] + ".part", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".part", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)  # kept open, never read, never answered
    with open(sys.argv[1] + ".conns", "a") as f:
        f.write("%f\n" % time.time())

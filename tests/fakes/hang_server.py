#!/usr/bin/env python3
"""A cloud API that hangs: listens on 127.0.0.1 (a free port, or
$FAKE_LISTEN_PORT), accepts every connection, reads the request line and
never answers. Usage: hang_server.py PORT_FILE. $FAKE_ANSWER="PREFIX
STATUS" answers requests whose path starts with PREFIX at once with that
status and an empty JSON object (a part of the API that still works).
Each request that hangs is appended to PORT_FILE.conns ("METHOD PATH")."""
import os
import socket
import sys
import threading

answer = os.environ.get("FAKE_ANSWER", "").split()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ.get("FAKE_LISTEN_PORT", "0"))))
s.listen(128)
with open(sys.argv[1] + ".part", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".part", sys.argv[1])
held = []
lock = threading.Lock()


def serve(c):
    f = c.makefile("rb")
    line = f.readline().decode("latin-1").split()
    method, path = (line + ["", ""])[:2]
    if answer and path.startswith(answer[0]):
        while f.readline() not in (b"\r\n", b"\n", b""):
            pass
        c.sendall(("HTTP/1.1 %s x\r\nContent-Type: application/json\r\n"
                   "Content-Length: 2\r\nConnection: close\r\n\r\n{}" % answer[1]).encode())
        c.close()
        return
    with lock:
        held.append(c)  # kept open, never answered
        with open(sys.argv[1] + ".conns", "a") as out:
            out.write("%s %s\n" % (method, path))


while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()

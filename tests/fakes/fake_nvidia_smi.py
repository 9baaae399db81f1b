#!/usr/bin/env python3
"""A stand-in for nvidia-smi that replays a recorded utilisation trace.

Only what the agent's stop.idle_gpu uses:
  nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -i IDS -l SECONDS
prints, every SECONDS, one line per GPU id: the trace's utilisation at
that moment. The trace ($FAKE_NVSMI_TRACE) has lines "SECONDS PERCENT":
from SECONDS after the epoch ($FAKE_NVSMI_EPOCH: a file holding a Unix
time) the GPUs run at PERCENT, until the next line.
"""
import os
import sys
import time


def main():
    args = sys.argv[1:]
    if "-L" in args:
        print("GPU 0: Fake GPU (UUID: GPU-fake-0)")
        return 0
    if not any(a.startswith("--query-gpu=utilization.gpu") for a in args):
        print("fake nvidia-smi: unsupported query", args, file=sys.stderr)
        return 2
    ids = args[args.index("-i") + 1].split(",") if "-i" in args else ["0"]
    loop = float(args[args.index("-l") + 1]) if "-l" in args else 0
    epoch = float(open(os.environ["FAKE_NVSMI_EPOCH"]).read().strip())
    trace = []
    for line in open(os.environ["FAKE_NVSMI_TRACE"]):
        if line.strip():
            at, pct = line.split()
            trace.append((float(at), pct))
    while True:
        now = time.time() - epoch
        pct = trace[0][1] if trace else "0"
        for at, p in trace:
            if now >= at:
                pct = p
        for _ in ids:
            print(pct)
        sys.stdout.flush()
        if not loop:
            return 0
        time.sleep(loop)


if __name__ == "__main__":
    sys.exit(main())

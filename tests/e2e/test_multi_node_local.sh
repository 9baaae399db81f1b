#!/bin/bash
# num_nodes: 2 on the local backend: two agents on this machine, each in
# its own instance directory, that find each other through storage. Each
# rank prints its rank and the IP list; a real all-reduce over TCP
# (MASTER_ADDR:MASTER_PORT, a python3 socket reduce) sums both ranks'
# values at every step; rank 0 keeps the state in $FRUGAL_CHECKPOINT_DIR.
# A preemption of rank 1 ends both nodes (the notice forwarded to rank 0,
# which stores its checkpoint), the job recovers as a whole from rank 0's
# checkpoint, and the final value equals an uninterrupted run's. Nothing
# is left behind.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/proj"
cat > "$TMP/proj/allreduce.py" <<'PY'
import json, os, signal, socket, sys, time
rank = int(os.environ["SKYPILOT_NODE_RANK"]); n = int(os.environ["SKYPILOT_NUM_NODES"])
ips = os.environ["SKYPILOT_NODE_IPS"].split("\n")
addr, port = os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"])
steps, sleep = int(sys.argv[1]), float(sys.argv[2])
ck = os.path.join(os.environ["FRUGAL_CHECKPOINT_DIR"], "state.json")
print(f"rank {rank} of {n} ips {','.join(ips)} master {addr}:{port}", flush=True)
stopping = False
def on_term(sig, frame):
    global stopping
    stopping = True
signal.signal(signal.SIGTERM, on_term)
state = {"step": 0, "w": 0}
if os.path.exists(ck):
    state = json.load(open(ck))
    print(f"rank {rank} resumed at step {state['step']}", flush=True)
def save():
    if rank == 0:
        tmp = ck + ".tmp"
        json.dump(state, open(tmp, "w")); os.replace(tmp, ck)
def recv_line(f):
    line = f.readline()
    if not line:
        raise ConnectionError("peer gone")
    return int(line)
# rank 0 accepts every other rank; each step is an all-reduce (sum) over TCP
if rank == 0:
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port)); srv.listen(n)
    peers = [srv.accept()[0].makefile("rw") for _ in range(n - 1)]
else:
    for i in range(200):
        try:
            s = socket.create_connection((addr, port)); break
        except OSError:
            time.sleep(0.05)
    peers = [s.makefile("rw")]
try:
    while state["step"] < steps and not stopping:
        step = state["step"] + 1
        local = (rank + 1) * step
        if rank == 0:
            total = local + sum(recv_line(p) for p in peers)
            for p in peers:
                p.write(f"{total}\n"); p.flush()
        else:
            peers[0].write(f"{local}\n"); peers[0].flush()
            total = recv_line(peers[0])
        state = {"step": step, "w": state["w"] + total}
        save()
        print(f"rank {rank} step {step} allreduce {total}", flush=True)
        time.sleep(sleep)
except ConnectionError:
    # a node went: keep the last complete step, wait for our own notice
    print(f"rank {rank}: peer gone at step {state['step']}", flush=True)
    for i in range(300):
        if stopping:
            break
        time.sleep(0.1)
    sys.exit(0 if stopping else 1)
if stopping:
    print(f"rank {rank}: stopping at step {state['step']}", flush=True)
    sys.exit(0)
if rank == 0:
    print(f"final w {state['w']}", flush=True)
PY
cat > "$TMP/proj/task.yaml" <<'YAML'
name: two-nodes
workdir: .
num_nodes: 2
run: python3 allreduce.py 30 0.15
checkpoint: {dir: ckpt, interval: 10m}
recovery: {notice_grace: 10s}
YAML
cd "$TMP/proj"
want=$(python3 -c 'print(sum(3 * s for s in range(1, 31)))')
rank1_log() { cat "$FRUGAL_HOME/storage/jobs/$1/logs/attempt-$2.rank-1.log" 2>/dev/null; }

# 1. An uninterrupted run: ranks, IPs, the all-reduce, the result.
job=$(frugal launch -d task.yaml) || fail "launch"
[ "$(wait_terminal "$job" 90)" = SUCCEEDED ] || fail "2-node job: $(frugal status "$job"; frugal logs "$job" | tail)"
frugal logs "$job" | grep -q "rank 0 of 2 ips 127.0.0.1,127.0.0.1 master 127.0.0.1:" ||
	fail "rank 0 did not print its rank and the IPs: $(frugal logs "$job" | head)"
rank1_log "$job" 1 | grep -q "rank 1 of 2 ips 127.0.0.1,127.0.0.1" ||
	fail "rank 1 did not print its rank and the IPs: $(rank1_log "$job" 1 | head)"
rank1_log "$job" 1 | grep -q "rank 1 step 30 allreduce 90" || fail "rank 1 all-reduce"
frugal logs "$job" | grep -q "final w $want" || fail "final value $(frugal logs "$job" | grep final)"
frugal status "$job" | grep -q "attempt 1: 2 nodes x" || fail "status shows no per-node cost: $(frugal status "$job")"
ok "2 nodes: ranks and IPs printed, all-reduce over TCP, final w $want"

# 2. Rank 1 preempted mid-run: both nodes stop, the job recovers as a
#    whole from rank 0's checkpoint, with the same result.
job=$(frugal launch -d task.yaml) || fail "launch 2"
for i in $(seq 400); do
	frugal logs "$job" 2>/dev/null | grep -q "rank 0 step 8 " && break
	sleep 0.05
done
frugal logs "$job" | grep -q "rank 0 step 8 " || fail "rank 0 did not reach step 8"
frugal debug preempt "$job" --rank 1 --notice 5 >/dev/null || fail "debug preempt --rank 1"
[ "$(wait_terminal "$job" 120)" = SUCCEEDED ] || fail "job did not succeed after the preemption: $(frugal status "$job")"
[ "$(attempt_field "$job" 1 outcome)" = preempted ] || fail "attempt 1 is $(attempt_field "$job" 1 outcome)"
resumed=$(frugal logs "$job" --attempt 2 | sed -n 's/.*rank 0 resumed at step \([0-9]*\).*/\1/p')
[ -n "$resumed" ] && [ "$resumed" -gt 0 ] || fail "attempt 2 did not resume from a checkpoint: $(frugal logs "$job" --attempt 2 | head -20)"
rank1_log "$job" 2 | grep -q "rank 1 resumed at step $resumed" || fail "rank 1 did not resume from rank 0's checkpoint"
frugal logs "$job" | grep -q "final w $want" || fail "final value after recovery: $(frugal logs "$job" | grep final)"
ok "rank 1 preempted: both nodes recovered at step $resumed, final w $want"
[ -z "$(instance_procs "$job")" ] || fail "processes left"
[ -z "$(ls "$FRUGAL_HOME/instances" 2>/dev/null)" ] || fail "instance dirs left: $(ls "$FRUGAL_HOME/instances")"
ok "nothing left"

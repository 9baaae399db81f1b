#!/usr/bin/env python3
"""A small PyTorch CNN on the 8x8 handwritten digits that ship with
scikit-learn (1,797 images, no download), written the way frugal expects a
trainer to be written:

- resumes from $FRUGAL_CHECKPOINT_DIR/ckpt.pt when it exists: model,
  optimizer, step and every random generator, so a resumed run is
  bit-identical to an uninterrupted one;
- saves a checkpoint every --ckpt-every steps and when it is asked to stop
  (SIGTERM, SIGINT, SIGUSR1: frugal's preemption signal), atomically:
  torch.save to a temporary name, fsync, then os.replace, so a kill at any
  moment leaves either the old checkpoint or the new one, never half of one;
- appends metrics as JSON lines to $FRUGAL_METRICS_FILE (frugal shows the
  last values in `status` and `sweep status --sort -accuracy`);
- writes weights/model.pt and weights/result.json (the job's outputs).

CPU is enough (a few seconds per hundred steps); on a GPU machine it uses
CUDA when available.
"""
import argparse
import json
import os
import random
import signal
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits

stop_requested = False


def on_signal(signum, frame):
    global stop_requested
    stop_requested = True


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)   # 8x8 -> 4x4
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)   # 4x4 -> 2x2
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def data(device):
    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(d.target, dtype=torch.long)
    g = torch.Generator().manual_seed(0)
    perm = torch.randperm(len(y), generator=g)
    x, y = x[perm], y[perm]
    n_test = 360
    return (x[n_test:].to(device), y[n_test:].to(device),
            x[:n_test].to(device), y[:n_test].to(device))


def save_atomic(obj, path):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomic(obj, path):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def metric(**kv):
    path = os.environ.get("FRUGAL_METRICS_FILE")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(kv) + "\n")


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    model.train()
    return acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=int(os.environ.get("STEPS", 600)))
    ap.add_argument("--lr", type=float, default=float(os.environ.get("LR", 0.05)))
    ap.add_argument("--batch", type=int, default=int(os.environ.get("BATCH", 64)))
    ap.add_argument("--ckpt-every", type=int, default=int(os.environ.get("CKPT_EVERY", 50)))
    ap.add_argument("--step-sleep", type=float, default=float(os.environ.get("STEP_SLEEP", 0)))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SEED", 1)))
    args = ap.parse_args()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(s, on_signal)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    xtr, ytr, xte, yte = data(device)

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    model = Net().to(device)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    gen = torch.Generator().manual_seed(args.seed)   # batch order
    step = 0

    ckpt_dir = os.environ.get("FRUGAL_CHECKPOINT_DIR", "checkpoints")
    os.makedirs(ckpt_dir, exist_ok=True)
    ckpt = os.path.join(ckpt_dir, "ckpt.pt")

    def save():
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                     "gen": gen.get_state(), "torch": torch.get_rng_state(),
                     "py": random.getstate(), "np": np.random.get_state()}, ckpt)

    if os.path.exists(ckpt):
        st = torch.load(ckpt, map_location=device)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step = st["step"]
        gen.set_state(st["gen"])
        torch.set_rng_state(st["torch"])
        random.setstate(st["py"])
        np.random.set_state(st["np"])
        print(f"resumed from checkpoint at step {step}", flush=True)
    else:
        print("no checkpoint: starting from step 0", flush=True)
    print(f"attempt {os.environ.get('FRUGAL_ATTEMPT', '?')} on {device}, torch {torch.__version__}",
          flush=True)

    n = len(ytr)
    while step < args.steps:
        idx = torch.randint(0, n, (args.batch,), generator=gen)
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0 or step == 1:
            acc = accuracy(model, xte, yte)
            print(f"step {step:4d}  loss {loss.item():.4f}  test accuracy {acc:.4f}", flush=True)
            metric(step=step, loss=round(loss.item(), 6), accuracy=acc)
        if step % args.ckpt_every == 0:
            save()
        if stop_requested:
            save()
            print(f"stop requested: checkpoint saved at step {step}", flush=True)
            return 143
        if args.step_sleep:
            time.sleep(args.step_sleep)

    acc = accuracy(model, xte, yte)
    os.makedirs("weights", exist_ok=True)
    save_atomic(model.state_dict(), "weights/model.pt")
    digest = sum(float(p.double().sum()) for p in model.state_dict().values())
    write_json_atomic({"steps": step, "accuracy": acc, "lr": args.lr,
                       "param_sum": repr(digest)}, "weights/result.json")
    metric(step=step, accuracy=acc)
    print(f"done: {step} steps, test accuracy {acc:.4f}, model in weights/model.pt", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

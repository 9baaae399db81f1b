#!/usr/bin/env python3
"""A tiny trainer for the frugal quickstart: logistic regression on a
synthetic, seeded dataset, in plain Python (standard library only).

- resumes from $FRUGAL_CHECKPOINT_DIR/ckpt.json when it exists;
- writes a checkpoint every --ckpt-every steps (atomically: temp + rename);
- on SIGTERM/SIGINT/SIGUSR1 saves a checkpoint and exits with code 143;
- writes the trained model to weights/model.json (the job's output);
- prints its loss as it goes.

The result is deterministic: a run that was stopped and resumed from a
checkpoint ends with exactly the same model as an uninterrupted one.
"""
import argparse
import json
import math
import os
import random
import signal
import sys
import time

stop_requested = False


def on_signal(signum, frame):
    global stop_requested
    stop_requested = True


def make_data(n, dim, seed):
    rng = random.Random(seed)
    true_w = [rng.uniform(-2, 2) for _ in range(dim)]
    xs, ys = [], []
    for _ in range(n):
        x = [rng.gauss(0, 1) for _ in range(dim)]
        z = sum(a * b for a, b in zip(true_w, x))
        ys.append(1.0 if rng.random() < 1 / (1 + math.exp(-z)) else 0.0)
        xs.append(x)
    return xs, ys


def loss_and_grad(w, b, xs, ys):
    n = len(xs)
    gw = [0.0] * len(w)
    gb = 0.0
    loss = 0.0
    for x, y in zip(xs, ys):
        z = sum(a * c for a, c in zip(w, x)) + b
        p = 1 / (1 + math.exp(-z))
        p = min(max(p, 1e-12), 1 - 1e-12)
        loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
        d = p - y
        for i, xi in enumerate(x):
            gw[i] += d * xi
        gb += d
    return loss / n, [g / n for g in gw], gb / n


def save_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=int(os.environ.get("STEPS", 200)))
    ap.add_argument("--lr", type=float, default=float(os.environ.get("LR", 0.5)))
    ap.add_argument("--ckpt-every", type=int, default=int(os.environ.get("CKPT_EVERY", 10)))
    ap.add_argument("--step-sleep", type=float,
                    default=float(os.environ.get("STEP_SLEEP", 0.02)))
    args = ap.parse_args()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(s, on_signal)

    ckpt_dir = os.environ.get("FRUGAL_CHECKPOINT_DIR", "checkpoints")
    os.makedirs(ckpt_dir, exist_ok=True)
    ckpt = os.path.join(ckpt_dir, "ckpt.json")

    xs, ys = make_data(400, 8, seed=1)
    w, b, step = [0.0] * 8, 0.0, 0
    if os.path.exists(ckpt):
        with open(ckpt) as f:
            state = json.load(f)
        w, b, step = state["w"], state["b"], state["step"]
        print(f"resumed from checkpoint at step {step}", flush=True)
    else:
        print("no checkpoint: starting from step 0", flush=True)
    print(f"attempt {os.environ.get('FRUGAL_ATTEMPT', '?')}, "
          f"GPUs '{os.environ.get('CUDA_VISIBLE_DEVICES', '')}'", flush=True)

    while step < args.steps:
        loss, gw, gb = loss_and_grad(w, b, xs, ys)
        w = [wi - args.lr * gi for wi, gi in zip(w, gw)]
        b -= args.lr * gb
        step += 1
        if step % 20 == 0 or step == 1:
            print(f"step {step:4d}  loss {loss:.6f}", flush=True)
        if step % args.ckpt_every == 0:
            save_json(ckpt, {"w": w, "b": b, "step": step})
        if stop_requested:
            save_json(ckpt, {"w": w, "b": b, "step": step})
            print(f"stop requested: checkpoint saved at step {step}", flush=True)
            return 143
        time.sleep(args.step_sleep)

    loss, _, _ = loss_and_grad(w, b, xs, ys)
    os.makedirs("weights", exist_ok=True)
    save_json("weights/model.json", {"w": w, "b": b, "steps": step, "loss": loss})
    print(f"done: {step} steps, final loss {loss:.6f}, model in weights/model.json", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

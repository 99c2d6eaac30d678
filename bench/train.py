"""How fast `backprop-tutor train` is, in one run:

1. µs per update on the post's network: the engine's training loop, beside a NumPy per-step
   implementation and an object-per-neuron pure-Python implementation written here.
   Target: at least 7x faster than the NumPy one.
2. `train --epochs 1000000` in a pseudo-terminal: it shows a live progress bar and completes, with
   peak memory within 1.2x that of a 10,000-update run.
3. Whole-process `train --epochs 10000` against a one-command Typer app, paired. Target: <= 1.3x.

Run it in the environment the tutor is installed in (NumPy and pexpect needed):
    python bench/train.py [--rounds N]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pexpect

sys.path.insert(0, str(Path(__file__).parent))

from _paired import baseline_script, compare, tutor_command

from backprop_tutor.lesson import load
from backprop_tutor.training import Loop

NET = load().network
X, Y, ETA = NET.inputs, NET.targets, NET.learning_rate


def numpy_per_step(updates: int) -> float:
    """Matrix code, one sample per step, as a NumPy tutorial writes it."""
    W1 = np.array([[0.15, 0.20], [0.25, 0.30]])
    W2 = np.array([[0.40, 0.45], [0.50, 0.55]])
    b1, b2 = 0.35, 0.60
    x, y = np.array(X), np.array(Y)
    for _ in range(updates):
        h = 1 / (1 + np.exp(-(W1 @ x + b1)))
        o = 1 / (1 + np.exp(-(W2 @ h + b2)))
        d2 = (o - y) * o * (1 - o)
        d1 = (W2.T @ d2) * h * (1 - h)
        W2 -= ETA * np.outer(d2, h)
        W1 -= ETA * np.outer(d1, x)
    o = 1 / (1 + np.exp(-(W2 @ (1 / (1 + np.exp(-(W1 @ x + b1)))) + b2)))
    return float(0.5 * np.sum((y - o) ** 2))  # after the last update


class Neuron:
    def __init__(self, weights: list[float], bias: float):
        self.weights, self.bias = weights, bias
        self.inputs: list[float] = []
        self.out = 0.0
        self.delta = 0.0

    def forward(self, inputs: list[float]) -> float:
        self.inputs = inputs
        self.out = 1 / (1 + math.exp(-(sum(w * i for w, i in zip(self.weights, inputs)) + self.bias)))
        return self.out


def objects_per_neuron(updates: int) -> float:
    """One object per neuron, the way the post's own script is organised."""
    hidden = [Neuron([0.15, 0.20], 0.35), Neuron([0.25, 0.30], 0.35)]
    output = [Neuron([0.40, 0.45], 0.60), Neuron([0.50, 0.55], 0.60)]
    for _ in range(updates):
        h = [n.forward(list(X)) for n in hidden]
        o = [n.forward(h) for n in output]
        for n, t in zip(output, Y):
            n.delta = (n.out - t) * n.out * (1 - n.out)
        for k, n in enumerate(hidden):
            n.delta = sum(m.delta * m.weights[k] for m in output) * n.out * (1 - n.out)
        for n in output + hidden:
            n.weights = [w - ETA * n.delta * i for w, i in zip(n.weights, n.inputs)]
    o = [n.forward([m.forward(list(X)) for m in hidden]) for n in output]
    return sum(0.5 * (t - v) ** 2 for t, v in zip(Y, o))  # after the last update


def engine(updates: int) -> float:
    loop = Loop(NET)
    p = loop.params()
    loop.step(p, updates)
    return loop.evaluate(p)[0]


def per_update(f, updates: int, repeats: int = 5) -> float:
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        f(updates)
        best = min(best, time.perf_counter() - start)
    return best / updates * 1e6


MAXRSS = "import resource, subprocess, sys; subprocess.run(sys.argv[1:]); " \
         "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"


def peak_memory(epochs: int) -> tuple[int, bool, float]:
    """Peak RSS (KiB) of `train --epochs N` in a pseudo-terminal; whether a live bar was drawn; seconds."""
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(sys.executable, ["-c", MAXRSS, *tutor_command("train", "--epochs", str(epochs))],
                          env=env, dimensions=(40, 120), encoding="utf-8", timeout=600)
    start = time.perf_counter()
    child.expect(pexpect.EOF)
    elapsed = time.perf_counter() - start
    text = child.before
    child.close()
    bar = "training" in text and "━" in text
    rss = int(re.search(r"MAXRSS (\d+)", text).group(1))
    return rss, bar, elapsed


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=30)
args = parser.parse_args()

assert abs(engine(10_000) - numpy_per_step(10_000)) < 1e-12
assert abs(engine(10_000) - objects_per_neuron(10_000)) < 1e-12
ours = per_update(engine, 200_000)
npy, objs = per_update(numpy_per_step, 20_000), per_update(objects_per_neuron, 50_000)
print("µs per update on the post's network (best of 5):")
print(f"  the engine's compiled loop  {ours:6.2f}")
print(f"  NumPy, per-step matrices    {npy:6.2f}  ({npy / ours:.1f}x slower than the engine; target >= 7x): "
      f"{'OK' if npy / ours >= 7 else 'UNDER'}")
print(f"  one object per neuron       {objs:6.2f}  ({objs / ours:.1f}x slower than the engine)")

small, _, _ = peak_memory(10_000)
large, bar, seconds = peak_memory(1_000_000)
print(f"train --epochs 1000000: {seconds:.1f} s, live progress bar: {'yes' if bar else 'NO'}; peak memory "
      f"{large / 1024:.1f} MiB vs {small / 1024:.1f} MiB for 10,000 updates = {large / small:.2f}x "
      f"(target <= 1.2x): {'OK' if large / small <= 1.2 and bar else 'OVER'}")

compare("train", tutor_command("train", "--epochs", "10000"), baseline_script(), args.rounds, 1.3)

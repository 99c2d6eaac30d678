"""How fast `backprop-tutor train` is, against NumPy matrix code, and how little memory it takes.

1. µs per update, the tutor's training (whichever loop `make_loop` picks) against NumPy matrix code
   written here as a tutorial writes it (Nielsen's four equations, the batch as columns), at 2-2-2
   (the post), 8-8-8, 16-16-16, 5×16 (five hidden layers of 16) and 16-16-16 with 8 samples.
   Paired: the two alternate run by run, each the best of 5 short runs, and the ratio is the median
   over the pairs.
   Targets: never slower than NumPy (ratio >= 1), and >= 20x at 2-2-2. At 2-2-2 it also shows
   object-per-neuron pure Python, as the post's own script is written.
2. Peak memory (max RSS of the child process) of `train -n N --csv FILE` and of `train -n N --every 1`
   against `train -n N` alone. Target: <= 1.2x.
3. Whole-process `train --epochs 10000` against a one-command Typer app, paired. Target: <= 1.3x.

The machine may be shared: the figures are noisy; the pairing and best-of-N keep the ratios fair.
Run it in the environment the tutor is installed in (NumPy and pexpect: `pip install '.[bench]'`),
with OpenBLAS's overrides unset for NumPy's own speed (see the README's "For developers"):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/train.py [--rounds N] [--memory-updates N]
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from _nets import network
from _paired import baseline_script, compare, tutor_command

from backprop_tutor.lesson import load
from backprop_tutor.network import Network
from backprop_tutor.training import make_loop


class NumpyMatrices:
    """Backpropagation as NumPy matrix code, the way a tutorial writes it: logistic layers, the half
    squared error, each sample a column; biases trained per neuron (or kept, as in the post)."""

    def __init__(self, net: Network):
        values = net.weights | net.biases
        L = net.layout
        self.W = [np.array([[values[w] for w in row] for row in grid]) for grid in L.weights]
        self.b = [np.array([[values[b]] for b in names]) for names in L.biases]
        self.x = np.array([x for x, _ in net.samples]).T
        self.y = np.array([y for _, y in net.samples]).T
        self.eta, self.train_biases = net.learning_rate, net.train_biases

    def forward(self) -> list[np.ndarray]:
        outs = [self.x]
        for W, b in zip(self.W, self.b):
            outs.append(1 / (1 + np.exp(-(W @ outs[-1] + b))))
        return outs

    def step(self, updates: int) -> None:
        for _ in range(updates):
            outs = self.forward()
            delta = (outs[-1] - self.y) * outs[-1] * (1 - outs[-1])  # δ of the outputs
            for l in range(len(self.W) - 1, -1, -1):
                grad_w, grad_b = delta @ outs[l].T, delta.sum(axis=1, keepdims=True)
                if l > 0:  # δ of the layer below, through the weights before their update
                    delta = (self.W[l].T @ delta) * outs[l] * (1 - outs[l])
                self.W[l] -= self.eta * grad_w
                if self.train_biases:
                    self.b[l] -= self.eta * grad_b

    def error(self) -> float:
        return float(0.5 * np.sum((self.y - self.forward()[-1]) ** 2))


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
    """One object per neuron, the way the post's own script is organised (the post's network)."""
    net = load().network
    X, Y, ETA = net.inputs, net.targets, net.learning_rate
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
    return sum(0.5 * (t - v) ** 2 for t, v in zip(Y, o))


def timed(step, updates: int) -> float:
    start = time.perf_counter()
    step(updates)
    return (time.perf_counter() - start) / updates * 1e6


def versus_numpy(name: str, net: Network, rounds: int, target: float) -> None:
    """Both train the same network, each run afresh from its start and about 5 ms long (short runs, best of 5:
    on a shared machine a short run more often runs undisturbed): a long
    training makes tiny deltas (subnormal numbers, slow to compute), so runs that carried on from
    each other's state would not be comparable."""
    loop = make_loop(net)
    p = loop.params()
    reference = NumpyMatrices(net)
    loop.step(p, 50)
    reference.step(50)
    assert abs(loop.evaluate(p)[0] - reference.error()) <= 1e-9 * reference.error(), "not the same training"

    def ours(n: int) -> None:
        loop.step(loop.params(), n)

    def theirs(n: int) -> None:
        NumpyMatrices(net).step(n)

    n = max(20, int(5e3 / min(timed(ours, 20) for _ in range(3))))
    m = max(20, int(5e3 / min(timed(theirs, 20) for _ in range(3))))
    ratios, mine, numpy = [], [], []
    for k in range(rounds):
        a = b = math.inf
        for j in range(5):  # interleaved run by run, alternating which goes first
            if (j + k) % 2:
                a, b = min(a, timed(ours, n)), min(b, timed(theirs, m))
            else:
                b, a = min(b, timed(theirs, m)), min(a, timed(ours, n))
        mine.append(a)
        numpy.append(b)
        ratios.append(b / a)
    ratio = statistics.median(ratios)
    print(f"  {name:<26} {min(mine):8.2f} µs ({type(loop).__name__:<12}) vs NumPy {min(numpy):8.2f} µs: "
          f"{ratio:6.2f}x faster (target >= {target:g}x): {'OK' if ratio >= target else 'UNDER'}", flush=True)


MAXRSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
          "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_kib(*args: str) -> tuple[int, float]:
    """Max RSS (KiB) of one `backprop-tutor` run with these arguments, and its seconds."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", MAXRSS, *tutor_command(*args)], capture_output=True, text=True,
                         check=True)
    return int(out.stdout.split()[-1]), time.perf_counter() - start


def memory(updates: int, extra: list[str]) -> None:
    plain, t0 = peak_kib("train", "-n", str(updates), "-q")
    more, t1 = peak_kib("train", "-n", str(updates), *extra)
    print(f"  train -n {updates:,} {' '.join(extra):<16} {more / 1024:7.1f} MiB ({t1:5.0f} s) vs without "
          f"{plain / 1024:5.1f} MiB ({t0:4.0f} s) = {more / plain:.2f}x (target <= 1.2x): "
          f"{'OK' if more / plain <= 1.2 else 'OVER'}", flush=True)


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--rounds", type=int, default=9, help="pairs for each speed figure")
parser.add_argument("--startup-rounds", type=int, default=30)
parser.add_argument("--memory-updates", type=int, default=10_000_000, help="updates of the --csv run")
parser.add_argument("--every-updates", type=int, default=1_000_000, help="updates of the --every 1 run")
parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "memory", "startup"])
args = parser.parse_args()

try:
    from threadpoolctl import threadpool_info

    print("BLAS:", ", ".join(f"{i.get('internal_api')} {i.get('architecture')}" for i in threadpool_info()))
except ImportError:
    pass

if "speed" not in args.skip:
    print("µs per update: pairs of best-of-5 runs of about 5 ms, interleaved; median ratio over the pairs:")
    versus_numpy("2-2-2 (the post)", load().network, args.rounds, 20)
    print(f"  {'2-2-2, object per neuron':<26} {min(timed(objects_per_neuron, 20_000) for _ in range(3)):8.2f} µs")
    versus_numpy("8-8-8", network((8, 8, 8)), args.rounds, 1)
    versus_numpy("16-16-16", network((16, 16, 16)), args.rounds, 1)
    versus_numpy("5x16 (16-16-16-16-16-16-16)", network((16,) * 7), args.rounds, 1)
    versus_numpy("16-16-16, 8 samples", network((16, 16, 16), 8), args.rounds, 1)
    versus_numpy("16-16-16, 64 samples", network((16, 16, 16), 64), args.rounds, 1)
    versus_numpy("5x16, 64 samples", network((16,) * 7, 64), args.rounds, 1)
    versus_numpy("2-2-2, 64 samples", network((2, 2, 2), 64), args.rounds, 1)

if "memory" not in args.skip:
    print("Peak memory (max RSS of the process), on the post:")
    memory(args.memory_updates, ["--csv", "/dev/null"])
    memory(args.every_updates, ["--every", "1"])

if "startup" not in args.skip:
    compare("train", tutor_command("train", "--epochs", "10000"), baseline_script(), args.startup_rounds, 1.3)

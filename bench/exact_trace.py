"""The cost of the exact trace (50-digit decimals) against the float trace, on the largest lesson the
format allows: 64 samples, five layers of 16 (lesson.MAX_SAMPLES, lesson.MAX_NEURONS).

    python bench/exact_trace.py [--rounds 5] [--layers 5]

Prints the median time of each over the rounds, and their ratio.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time

from backprop_tutor.lesson import MAX_NEURONS, MAX_SAMPLES, parse
from backprop_tutor.network import exact_trace, run

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--layers", type=int, default=5, help="layers of 16, inputs and outputs included")
parser.add_argument("--activation", default="logistic")
args = parser.parse_args()

rng = random.Random(1)
layers = [MAX_NEURONS] * args.layers
weights = sum(a * b for a, b in itertools.pairwise(layers))
doc = {"title": "largest", "description": "the largest lesson",
       "network": {"layers": layers, "activation": args.activation, "loss": "half-squared-error",
                   "weights": [round(rng.uniform(-1, 1), 2) for _ in range(weights)],
                   "biases": [round(rng.uniform(-0.5, 0.5), 2) for _ in range(len(layers) - 1)],
                   "learning_rate": 0.5, "train_biases": True},
       "data": {"inputs": [[round(rng.uniform(0, 1), 2) for _ in range(layers[0])] for _ in range(MAX_SAMPLES)],
                "targets": [[round(rng.uniform(0.01, 0.99), 2) for _ in range(layers[-1])]
                            for _ in range(MAX_SAMPLES)]}}
net = parse(doc, "largest", "largest").network


def timed(f) -> tuple[float, float]:
    """Wall time and CPU time (the CPU time is what a shared machine does not inflate)."""
    start, cpu = time.perf_counter(), time.process_time()
    f(net)
    return time.perf_counter() - start, time.process_time() - cpu


floats, exacts = [], []
for _ in range(args.rounds):  # paired, alternating
    floats.append(timed(run))
    exacts.append(timed(exact_trace))
print(f"{layers}, {MAX_SAMPLES} samples, {args.activation}: {len(run(net)):,} quantities")
for k, what in enumerate(("wall", "CPU")):
    f, e = statistics.median(x[k] for x in floats), statistics.median(x[k] for x in exacts)
    print(f"{what}: float trace {f:.2f} s, exact trace {e:.2f} s (median of {args.rounds}): {e / f:.2f}x, "
          f"{e - f:+.2f} s")

"""Where NumPy's matrices overtake the compiled loop: the measurement behind training.CROSSOVER.

For networks of several widths, depths and numbers of samples (full batch), it times one update of
both loops, interleaved, best of N, and prints µs per update, their ratio, and the multiply-adds
per layer of one update (weights × samples ÷ layers, the quantity the rule compares with
CROSSOVER). It then finds the crossover: the largest multiply-adds per layer at which the compiled
loop still wins, and the smallest at which NumPy wins. The machine is shared and timings are noisy:
the ratios near 1 can go either way from run to run.

For NumPy's speed, run it with OpenBLAS's overrides unset (see the README's "For developers"):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python bench/crossover.py [--repeats N]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _nets import network

from backprop_tutor.compiled import CompiledLoop
from backprop_tutor.matrix import MatrixLoop
from backprop_tutor.training import CROSSOVER


def per_update(loop, updates: int) -> float:
    p = loop.params()
    start = time.perf_counter()
    loop.step(p, updates)
    return (time.perf_counter() - start) / updates * 1e6


def compare(net, repeats: int) -> tuple[float, float]:
    compiled, matrix = CompiledLoop(net), MatrixLoop(net)
    guess = per_update(compiled, 3)
    n = max(5, int(30_000 / max(guess, 0.5)))  # about 30 ms a run
    c = m = math.inf
    for _ in range(repeats):  # interleaved: both see the same load
        c = min(c, per_update(compiled, n))
        m = min(m, per_update(matrix, max(5, n // 4)))
    return c, m


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--repeats", type=int, default=5)
args = parser.parse_args()

print(f"{'shape':>22} {'samples':>7} {'madds/layer':>11} {'compiled µs':>11} {'NumPy µs':>9} {'NumPy/compiled':>14}")
rows = []
for depth in (2, 3, 6):
    for width in (2, 4, 6, 8, 12, 16):
        for samples in (1, 2, 4, 8, 64):
            net = network((width,) * (depth + 1), samples)
            per_layer = net.layout.weight_count * samples / depth
            if per_layer > 4000:  # far past any crossover: NumPy by tens of times
                continue
            c, m = compare(net, args.repeats)
            rows.append((per_layer, c, m))
            print(f"{'-'.join([str(width)] * (depth + 1)):>22} {samples:>7} {per_layer:>11.0f} {c:>11.2f} "
                  f"{m:>9.2f} {m / c:>14.2f}", flush=True)

compiled_wins = [x for x, c, m in rows if c <= m]
numpy_wins = [x for x, c, m in rows if m < c]
print(f"\nthe compiled loop wins up to {max(compiled_wins):.0f} multiply-adds per layer; "
      f"NumPy wins from {min(numpy_wins):.0f}")
wrong = [(x, c, m) for x, c, m in rows if (x > CROSSOVER) != (m < c)]
print(f"training.CROSSOVER = {CROSSOVER}: the rule picks the slower loop in {len(wrong)} of {len(rows)} cases"
      + "".join(f"\n  {x:.0f} madds/layer: compiled {c:.2f} µs, NumPy {m:.2f} µs" for x, c, m in wrong))

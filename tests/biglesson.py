"""Big lessons for tests and benchmarks: random round numbers of a given shape, from a seed.

Written into a temporary folder, never into lessons/.  ``python tests/biglesson.py 16x5 64 out.toml``
writes a lesson of 16-wide layers (16 inputs, 5 hidden layers, 16 outputs) with 64 samples.
"""

from __future__ import annotations

import itertools
import random
import sys
from pathlib import Path


def lesson_text(layers: list[int], samples: int = 1, seed: int = 0, activation: str = "logistic",
                loss: str = "half-squared-error", train_biases: bool = False) -> str:
    rng = random.Random(seed)

    def pick(low: float, high: float) -> float:
        while True:
            value = round(rng.uniform(low, high), 2)
            if value:
                return value

    weights = sum(a * b for a, b in itertools.pairwise(layers))
    softmax = loss == "cross-entropy"
    activations = [activation] * (len(layers) - 2) + ["softmax" if softmax else activation]

    def targets() -> list[float]:
        if softmax:
            right = rng.randrange(layers[-1])
            return [float(k == right) for k in range(layers[-1])]
        return [pick(0.01, 0.99) for _ in range(layers[-1])]

    data = [([pick(0.05, 0.95) for _ in range(layers[0])], targets()) for _ in range(samples)]
    if samples == 1:
        inputs, outputs = repr(data[0][0]), repr(data[0][1])
    else:
        inputs = "[" + ", ".join(repr(x) for x, _ in data) + "]"
        outputs = "[" + ", ".join(repr(y) for _, y in data) + "]"
    return f"""title = "Random {'-'.join(map(str, layers))}, {samples} sample(s), seed {seed}"
description = "A generated lesson for tests and benchmarks."

[network]
layers = {layers!r}
activation = {activations!r}
loss = "{loss}"
weights = {[pick(-0.9, 0.9) for _ in range(weights)]!r}
biases = {[pick(-0.5, 0.5) for _ in range(len(layers) - 1)]!r}
learning_rate = 0.5
train_biases = {str(train_biases).lower()}

[data]
inputs = {inputs}
targets = {outputs}
""".replace("'", '"')


def shape(text: str) -> list[int]:
    """"16x5" → 16 inputs, five hidden layers of 16, 16 outputs; "2-4-4-2" as written."""
    if "x" in text:
        width, hidden = map(int, text.split("x"))
        return [width] * (hidden + 2)
    return [int(n) for n in text.split("-")]


def write(path: Path, layers: list[int], samples: int = 1, seed: int = 0, **options: object) -> Path:
    path.write_text(lesson_text(layers, samples, seed, **options), encoding="utf-8")  # type: ignore[arg-type]
    return path


if __name__ == "__main__":
    write(Path(sys.argv[3]), shape(sys.argv[1]), int(sys.argv[2]))

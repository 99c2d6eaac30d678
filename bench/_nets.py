"""Networks of any shape and number of samples for the training benchmarks: logistic hidden layers,
logistic outputs and the half squared error (the post's), biases trained per neuron, fixed seed."""

from __future__ import annotations

import random

from backprop_tutor.names import Layout
from backprop_tutor.network import Network


def network(shape: tuple[int, ...], samples: int = 1, seed: int = 1) -> Network:
    rng = random.Random(seed)
    layout = Layout(shape, "by-receiver", "per-neuron")
    data = [(tuple(rng.uniform(0, 1) for _ in range(shape[0])), tuple(rng.uniform(0.1, 0.9) for _ in range(shape[-1])))
            for _ in range(samples)]
    return Network(layout, {w: rng.uniform(-0.5, 0.5) for w in layout.weight_names()},
                   {b: rng.uniform(-0.5, 0.5) for b in layout.bias_names()}, ("logistic",) * layout.depth,
                   "half-squared-error", data[0][0], data[0][1], 0.1, True, tuple(data[1:]), "sum")

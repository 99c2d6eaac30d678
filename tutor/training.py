"""Training: the same update as ``tutor.network.run``, repeated, without naming every quantity.

``run`` keeps a trace of every named quantity, which one update by hand needs and ten thousand
do not; ``train`` keeps only the weights, layer by layer, and is tested to give the same update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from tutor.answers import agrees, parse_number
from tutor.errors import TutorError
from tutor.lesson import Claim, Lesson
from tutor.network import ACTIVATIONS, LOSSES, Network


class Diverged(TutorError):
    exit_code = 1

    def __init__(self, update: int):
        self.update = update
        super().__init__(f"training diverged at update {update:,}: the error is no longer a finite "
                         "number; try a smaller learning rate")


@dataclass(frozen=True)
class Trained:
    updates: int
    learning_rate: float
    initial_error: float
    error: float  # after all the updates
    previous_error: float  # after one update fewer
    outputs: tuple[float, ...]
    network: Network  # with the trained weights and biases


def train(net: Network, updates: int, *, learning_rate: float | None = None,
          backprop_through_updated: bool = False) -> Trained:
    """``updates`` steps of gradient descent on the lesson's sample.

    ``backprop_through_updated`` repeats a known slip (see ``tutor.network.run``).
    """
    L = net.layout
    eta = net.learning_rate if learning_rate is None else learning_rate
    acts = [ACTIVATIONS[a] for a in net.activations]
    loss = LOSSES[net.loss]
    W = [[[net.weights[name] for name in row] for row in grid] for grid in L.weights]
    B = [[net.biases[name] for name in names] for names in L.biases]
    shared = L.bias_mode == "per-layer"
    x, y = list(net.inputs), list(net.targets)

    def forward() -> tuple[list[list[float]], list[list[float]], float]:
        nets, outs = [], [x]
        for l in range(L.depth):
            prev, f = outs[-1], acts[l].f
            n = [sum(w * o for w, o in zip(row, prev)) + b for row, b in zip(W[l], B[l])]
            nets.append(n)
            outs.append([f(v) for v in n])
        return nets, outs, sum(loss.error(t, o) for t, o in zip(y, outs[-1]))

    initial = previous = error = math.nan
    for n in range(updates):
        nets, outs, error = forward()
        if not math.isfinite(error):
            raise Diverged(n)
        if n == 0:
            initial = error
        previous = error
        out, slope = outs[-1], acts[-1].slope
        deltas = [loss.slope(t, o) * slope(v, o) for t, o, v in zip(y, out, nets[-1])]
        for l in range(L.depth - 1, -1, -1):
            prev = outs[l]
            updated = [[w - eta * d * o for w, o in zip(row, prev)] for row, d in zip(W[l], deltas)]
            if net.train_biases:
                if shared:
                    B[l] = [B[l][0] - eta * sum(deltas)] * len(B[l])
                else:
                    B[l] = [b - eta * d for b, d in zip(B[l], deltas)]
            if l > 0:
                through = updated if backprop_through_updated else W[l]
                slope = acts[l - 1].slope
                deltas = [sum(through[k][r] * deltas[k] for k in range(len(deltas)))
                          * slope(nets[l - 1][r], prev[r]) for r in range(len(prev))]
            W[l] = updated
    nets, outs, error = forward()
    if not math.isfinite(error):
        raise Diverged(updates)
    if updates == 0:
        initial = previous = error
    weights = {name: W[l][r][s] for l, grid in enumerate(L.weights)
               for r, row in enumerate(grid) for s, name in enumerate(row)}
    biases = {name: B[l][r] for l, names in enumerate(L.biases) for r, name in enumerate(names)}
    return Trained(updates, eta, initial, error, previous, tuple(outs[-1]),
                   net.with_values(**weights, **biases))


@dataclass(frozen=True)
class ClaimCheck:
    """What a lesson's source claims after some updates, set beside what the engine computes."""

    claim: Claim
    trained: Trained
    error_right: bool  # the claimed error agrees with the error after claim.updates updates
    error_one_short: bool  # … with the error after one update fewer
    outputs_right: bool
    published: Trained  # the same run with the slip backprop_through_updated
    published_outputs: bool  # the slip reproduces the claimed outputs
    published_error: bool  # … and the claimed error


def check_claims(lesson: Lesson, trained: Trained) -> list[ClaimCheck]:
    """The lesson's claims about this many updates at its own learning rate, checked."""
    checks = []
    for claim in lesson.claims:
        if claim.updates != trained.updates or trained.learning_rate != lesson.network.learning_rate:
            continue
        published = train(lesson.network, claim.updates, backprop_through_updated=True)
        error = parse_number(claim.error)
        outputs = [parse_number(o) for o in claim.outputs]

        def same(values: tuple[float, ...], outputs: list = outputs) -> bool:
            return all(agrees(o, Decimal(v)) for o, v in zip(outputs, values, strict=True))

        checks.append(ClaimCheck(
            claim, trained,
            error_right=agrees(error, Decimal(trained.error)),
            error_one_short=agrees(error, Decimal(trained.previous_error)),
            outputs_right=same(trained.outputs),
            published=published,
            published_outputs=same(published.outputs),
            published_error=agrees(error, Decimal(published.error))))
    return checks

"""The gradient check: each gradient beside its central difference.

Nudge one parameter p by +h and by −h, compute E_total both times, and divide the change by 2h:

    ΔE/Δp = (E_total(p + h) − E_total(p − h)) / 2h

By Taylor's theorem this differs from ∂E/∂p by h²/6 · ∂³E/∂p³ (and terms in h⁴): the central
difference's error is O(h²).  The error is estimated here from the same nudges (with ±2h as well),
so every check states its own bound.  Both errors are computed in the exact trace's decimal
arithmetic at 50 significant digits: the subtraction cancels about as many digits as −log₁₀(h) plus a
few, which in floats would leave only a handful of the 16, and at 50 there are plenty left.

Only the forward pass is run (``network.run_one`` without the backward pass): the difference owes
nothing to the engine's backward pass, which is what it checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext

from backprop_tutor.network import PRECISION, Network, as_decimal, run_one

NUDGE = Decimal("0.0001")  # what-if's h: its O(h²) error is about 1e-9 of a gradient
BY_HAND = Decimal("0.001")  # the walk's h: with a calculator's 10 digits, a smaller h loses the difference
MAX_CHECKED = 12  # what-if checks at most this many parameters (4 forward passes each) …
BUDGET = 100_000  # … and on a big lesson only as many as this many weights × samples allow (one at least):
# each check of a 16-wide, 5-layer lesson of 64 samples takes about a second at 50 digits


def exact_error(net: Network) -> Decimal:
    """E_total of the forward pass alone, at 50 significant digits (the samples' sum or mean)."""
    exact = net if isinstance(net.learning_rate, Decimal) else as_decimal(net)
    with localcontext(prec=PRECISION, Emax=MAX_EMAX, Emin=MIN_EMIN):
        errors = [Decimal(run_one(exact.sample(k) if exact.extra else exact, backward=False)["E_total"])
                  for k in range(1, len(exact.samples) + 1)]
        total = sum(errors, Decimal(0))
        return total / len(errors) if exact.batch == "mean" and exact.extra else total


def nudged(net: Network, p: str, by: Decimal) -> Network:
    """The network in decimals, parameter p moved by exactly ``by`` (a weight or a bias)."""
    exact = as_decimal(net)
    values = exact.weights | exact.biases
    with localcontext(prec=PRECISION + 10):
        moved = Decimal(values[p]) + by  # (0.4 + 0.0001 is 0.4001 exactly)
    return exact.with_values(**{p: moved})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Check:
    """One parameter's gradient check."""

    parameter: str
    h: Decimal
    plus: Decimal  # E_total(p + h)
    minus: Decimal  # E_total(p − h)
    difference: Decimal  # (plus − minus) / 2h
    bound: Decimal  # h²/6 · |∂³E/∂p³| estimated from the nudges, with 5 % of room for the terms in h⁴ (and
    # the rounding of 50 digits): how far ``difference`` may be from ∂E/∂p

    def off_by(self, gradient: float | Decimal) -> Decimal:
        with localcontext(prec=PRECISION):
            return abs(self.difference - Decimal(gradient))


def check(net: Network, p: str, h: Decimal = NUDGE) -> Check:
    """The central difference of E_total in parameter p, with its error bound."""
    e = {k: exact_error(nudged(net, p, k * h)) for k in (2, 1, -1, -2)}
    with localcontext(prec=PRECISION):
        difference = (e[1] - e[-1]) / (2 * h)
        third = (e[2] - 2 * e[1] + 2 * e[-1] - e[-2]) / (2 * h ** 3)  # ∂³E/∂p³, itself good to O(h²)
        rounding = max(abs(v) for v in e.values()) * Decimal(10) ** (3 - PRECISION) / h  # the 50 digits' own
        bound = Decimal("1.05") * h * h * abs(third) / 6 + rounding  # 5 % for the series' terms in h⁴
    return Check(p, h, e[1], e[-1], difference, bound)


def trained(net: Network) -> list[str]:
    """The parameters one update changes: the weights, and the biases when the lesson trains them."""
    return net.layout.weight_names() + (net.layout.bias_names() if net.train_biases else [])


def how_many(net: Network) -> int:
    """How many parameters what-if checks on this lesson: MAX_CHECKED, fewer on a big one."""
    cost = net.layout.weight_count * len(net.samples)
    return max(1, min(MAX_CHECKED, BUDGET // cost))


def checks(net: Network, first: list[str] | None = None, h: Decimal = NUDGE,
           most: int | None = None) -> tuple[list[Check], int]:
    """The checks of up to ``most`` trained parameters (``how_many`` by default; those in ``first`` before the
    others), and how many parameters there are in all."""
    return [check(net, p, h) for p in chosen(net, first, most)], len(trained(net))


def chosen(net: Network, first: list[str] | None = None, most: int | None = None) -> list[str]:
    """The parameters ``checks`` checks, in order."""
    most = how_many(net) if most is None else most
    names = trained(net)
    return ([p for p in (first or []) if p in names] + [p for p in names if p not in (first or [])])[:most]



HAND_DIGITS = 9  # significant digits each E_total needs by hand: their difference cancels the first 3 or 4


@dataclass(frozen=True)
class Exercise:
    """The gradient check done by hand in the walk: the first weight of the output layer, nudged by ±h."""

    parameter: str  # w5 in the post
    receiver: str  # the neuron it feeds (o1)
    source: str  # the value it multiplies (out_h1)
    first: str  # the first value the nudge changes (net_o1, or net_o1@1 with several samples)
    check: Check

    @property
    def h(self) -> Decimal:
        return self.check.h

    def tolerance(self) -> Decimal:
        """How far a ΔE/Δp worked from two E_total of HAND_DIGITS digits may be from the exact one: one unit
        in the last of those digits of each, over 2h, plus the central difference's own O(h²) error (so that
        ∂E/∂p itself passes: the two agree to that)."""
        with localcontext(prec=PRECISION):
            unit = Decimal(1).scaleb(self.check.plus.adjusted() - HAND_DIGITS + 1)
            return unit / self.h + self.check.bound


def exercise(net: Network, h: Decimal = BY_HAND) -> Exercise:
    L = net.layout
    p, receiver, source = L.weights[-1][0][0], L.neurons[-1][0], L.neurons[-2][0]
    tag = "@1" if net.extra else ""
    return Exercise(p, receiver, f"out_{source}" if not source.startswith("i") else source,
                    f"net_{receiver}{tag}", check(net, p, h))

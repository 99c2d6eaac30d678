"""An independent reference for every quantity of a lesson, and random lessons to hold it against.

Written from the definitions, not from the engine (``backprop_tutor.network`` is not imported): the
steps that stay rational (net inputs of the given numbers, ReLU, identity, the updates) are done in
exact fractions, so a net input of exactly 0 is exactly 0; everything else in mpmath at 60 digits.
The layout's naming (``names.Layout``) is shared, since the names are what is compared.

``compare(lesson)`` holds every digit that ``key`` and ``check`` show for a lesson against it.
Used by tests/test_reference_digits.py (a fast subset) and bench/reference_digits.py (the full run).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from fractions import Fraction

import mpmath

DIGITS = 60
CHECK_DIGITS = 90  # a second run: what shrinks by 10^-20 from 60 to 90 digits is rounding noise of a 0
WIDE = Context(prec=80, Emax=MAX_EMAX, Emin=MIN_EMIN)


class Q(Fraction):
    """An exact rational that turns into an mpmath number where it meets one (Fraction alone cannot
    subtract or divide by an mpf, nor compare with one)."""

    def __neg__(self):
        return Q(-Fraction(self))

    def __abs__(self):
        return Q(abs(Fraction(self)))


def _mixed(name: str):
    def op(self, other):
        if isinstance(other, mpmath.mpf):
            return getattr(mpmath.mpf(self.numerator) / self.denominator, name)(other)
        result = getattr(Fraction, name)(self, other)
        return Q(result) if isinstance(result, Fraction) else result
    return op


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__pow__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(Q, _name, _mixed(_name))


def given(x: float) -> Fraction:
    """A lesson's number as the decimal it was written as."""
    return Q(repr(x))


def exp(x):
    return mpmath.exp(x)


def act(name: str, x):
    if name == "logistic":
        return 1 / (1 + exp(-x))
    if name == "tanh":
        return mpmath.tanh(x)
    if name == "relu":
        return x if x > 0 else Q(0)
    if name == "identity":
        return x
    raise ValueError(name)


def slope(name: str, x):
    """d act/dx at x, from its definition; ReLU's is 0 at its kink (x exactly 0), by convention."""
    if name == "logistic":
        return (1 / (1 + exp(-x))) * (1 / (1 + exp(x)))
    if name == "tanh":
        return mpmath.sech(x) ** 2
    if name == "relu":
        return Q(1 if x > 0 else 0)
    if name == "identity":
        return Q(1)
    raise ValueError(name)


def path(via: str, hidden: str) -> str:
    return f"dE_{via}/dout_{hidden}" if via.startswith("o") else f"dE_via_{via}/dout_{hidden}"


def one_sample(net, weights: dict, biases: dict, x: list, y: list, eta) -> dict:
    """Every quantity of one forward pass, backward pass and update, for one sample."""
    L = net.layout
    v: dict = {}
    sources = {i: xi for i, xi in zip(L.neurons[0], x)}

    def forward(w: dict, b: dict, tag: str) -> None:
        outs = dict(sources)
        for l in range(1, L.depth + 1):
            nets = {}
            for r, j in enumerate(L.neurons[l]):
                nets[j] = sum((w[L.weights[l - 1][r][s]] * outs[src] for s, src in enumerate(L.neurons[l - 1])),
                              Q(0)) + b[L.biases[l - 1][r]]
                v[f"net_{j}{tag}"] = nets[j]
            if net.activations[l - 1] == "softmax":
                total = sum(exp(n) for n in nets.values())
                for j in nets:
                    outs[j] = exp(nets[j]) / total
            else:
                for j in nets:
                    outs[j] = act(net.activations[l - 1], nets[j])
            for j in nets:
                v[f"out_{j}{tag}"] = outs[j]
        for o, t in zip(L.neurons[-1], y):
            out = outs[o]
            if net.loss == "cross-entropy":
                v[f"E_{o}{tag}"] = -t * mpmath.log(out) if t else Q(0)
            elif net.loss == "binary-cross-entropy":  # −(t·ln out + (1 − t)·ln(1 − out)), a 0 weight adding 0
                v[f"E_{o}{tag}"] = ((-t * mpmath.log(out) if t else Q(0))
                                    + (-(1 - t) * mpmath.log(1 - out) if t != 1 else Q(0)))
            else:
                v[f"E_{o}{tag}"] = (t - out) ** 2 / 2
        v[f"E_total{tag}"] = sum((v[f"E_{o}{tag}"] for o in L.neurons[-1]), Q(0))

    def out_of(name: str):
        return sources[name] if name.startswith("i") else v[f"out_{name}"]

    forward(weights, biases, "")
    delta: dict = {}
    for l in range(L.depth, 0, -1):
        layer = L.neurons[l]
        name = net.activations[l - 1]
        if l == L.depth:
            for o, t in zip(layer, y):
                out = v[f"out_{o}"]
                if net.loss == "binary-cross-entropy":
                    v[f"dE_total/dout_{o}"] = (-t / out if t else Q(0)) + ((1 - t) / (1 - out) if t != 1 else Q(0))
                else:
                    v[f"dE_total/dout_{o}"] = ((-t / out if t else Q(0)) if net.loss == "cross-entropy"
                                               else out - t)
        if name == "softmax":
            for j in layer:
                for k in layer:
                    v[f"dout_{k}/dnet_{j}"] = v[f"out_{k}"] * ((1 if k == j else 0) - v[f"out_{j}"])
                delta[j] = sum(v[f"dE_total/dout_{k}"] * v[f"dout_{k}/dnet_{j}"] for k in layer)
        else:
            for r, j in enumerate(layer):
                if l < L.depth:
                    for n, nxt in enumerate(L.neurons[l + 1]):
                        weight = weights[L.weights[l][n][r]]
                        v[f"dnet_{nxt}/dout_{j}"] = weight
                        v[path(nxt, j)] = delta[nxt] * weight
                    v[f"dE_total/dout_{j}"] = sum((v[path(nxt, j)] for nxt in L.neurons[l + 1]), Q(0))
                v[f"dout_{j}/dnet_{j}"] = slope(name, v[f"net_{j}"])
                delta[j] = v[f"dE_total/dout_{j}"] * v[f"dout_{j}/dnet_{j}"]
        for r, j in enumerate(layer):
            v[f"delta_{j}"] = delta[j]
            for s, src in enumerate(L.neurons[l - 1]):
                w = L.weights[l - 1][r][s]
                v[f"dnet_{j}/d{w}"] = out_of(src)
                v[f"dE_total/d{w}"] = delta[j] * out_of(src)
                v[f"{w}+"] = weights[w] - eta * v[f"dE_total/d{w}"]
        if net.train_biases:
            for b in dict.fromkeys(L.biases[l - 1]):
                g = sum((delta[j] for j, bn in zip(layer, L.biases[l - 1]) if bn == b), Q(0))
                v[f"dE_total/d{b}"] = g
                v[f"{b}+"] = biases[b] - eta * g
    after_w = {w: v[f"{w}+"] for w in weights}
    after_b = {b: v[f"{b}+"] for b in biases} if net.train_biases else biases
    forward(after_w, after_b, "+")
    return v


def reference(net) -> dict:
    """Every quantity of the lesson's network, as the catalogue names them; exact zeros exact."""
    coarse, fine = reference_at(net, DIGITS), reference_at(net, CHECK_DIGITS)
    return {q: Q(0) if not isinstance(v, Fraction) and (not coarse[q] or abs(v) < abs(coarse[q]) * SHRUNK)
            else v for q, v in fine.items()}


SHRUNK = mpmath.mpf(10) ** -20


def reference_at(net, digits: int) -> dict:
    with mpmath.workdps(digits):
        weights = {w: given(x) for w, x in net.weights.items()}
        biases = {b: given(x) for b, x in net.biases.items()}
        eta = given(net.learning_rate)
        samples = [([given(a) for a in xs], [given(b) for b in ys]) for xs, ys in net.samples]
        if len(samples) == 1:
            v = one_sample(net, weights, biases, *samples[0], eta)
        else:
            v = batch(net, weights, biases, samples, eta)
        v |= weights | biases | {"eta": eta}
        for k, (xs, ys) in enumerate(samples, 1):
            tag = f"@{k}" if len(samples) > 1 else ""
            v |= {f"{i}{tag}": a for i, a in zip(net.layout.neurons[0], xs)}
            v |= {f"target_{o}{tag}": b for o, b in zip(net.layout.neurons[-1], ys)}
        return v


def batch(net, weights: dict, biases: dict, samples: list, eta) -> dict:
    n = len(samples)
    shared = {*weights, *biases, "eta"}
    trained = [*weights, *(biases if net.train_biases else [])]

    def combine(values: list):
        s = sum(values, Q(0))
        return s / n if net.batch == "mean" else s

    v: dict = {}
    for k, (xs, ys) in enumerate(samples, 1):
        for q, value in one_sample(net, weights, biases, xs, ys, eta).items():
            if q not in shared and not q.endswith("+"):
                v[f"{q}@{k}"] = value
    v["E_total"] = combine([v[f"E_total@{k}"] for k in range(1, n + 1)])
    for p in trained:
        v[f"dE_total/d{p}"] = combine([v[f"dE_total/d{p}@{k}"] for k in range(1, n + 1)])
        v[f"{p}+"] = (weights | biases)[p] - eta * v[f"dE_total/d{p}"]
    after_w = {w: v[f"{w}+"] for w in weights}
    after_b = {b: v[f"{b}+"] for b in biases} if net.train_biases else biases
    for k, (xs, ys) in enumerate(samples, 1):
        for q, value in one_sample(net, after_w, after_b, xs, ys, eta).items():
            if q.startswith(("net_", "out_", "E_")) and not q.endswith("+"):
                v[f"{q}@{k}+"] = value
    v["E_total+"] = combine([v[f"E_total@{k}+"] for k in range(1, n + 1)])
    return v


# ---------------------------------------------------------------------------------------------
# What is shown, from the reference: the post's digits (key, the walk) and 15 significant (check)


def decimal(value) -> Decimal:
    if isinstance(value, Fraction):
        return WIDE.divide(Decimal(value.numerator), Decimal(value.denominator))
    return Decimal(mpmath.nstr(value, DIGITS, min_fixed=1, max_fixed=0))


def rounded(d: Decimal, *, significant: int | None = None, places: int | None = None) -> Decimal:
    """``d`` rounded half-even to so many significant digits, or decimal places."""
    if d == 0:
        return Decimal(0)
    if significant is not None:
        places = significant - 1 - d.adjusted()
    assert places is not None
    return d.quantize(Decimal(1).scaleb(-places, context=WIDE), context=WIDE)


def post_rounded(d: Decimal) -> Decimal:
    """9 decimal places, or 6 significant digits below 0.001; at most 15 significant digits."""
    if d == 0:
        return d
    if abs(d) >= Decimal("0.001"):
        return rounded(d, significant=15) if d.adjusted() + 1 + 9 > 15 else rounded(d, places=9)
    return rounded(d, significant=6)


@dataclass
class Comparison:
    lessons: int = 0
    quantities: int = 0
    shown: int = 0  # strings compared
    zeros: int = 0  # quantities exactly 0 (or 0 within the reference's rounding)
    mismatches: list[str] = field(default_factory=list)


def compare(lesson, into: Comparison | None = None) -> Comparison:
    """Every value ``key`` shows (the post's digits and 15 significant) and ``check`` prints for an
    accepted answer, against the reference."""
    import csv
    import io

    from backprop_tutor.checking import Session
    from backprop_tutor.render import key_text

    result = into or Comparison()
    session = Session(lesson)
    ref = reference(lesson.network)
    rows = list(csv.DictReader(io.StringIO(key_text(session, "csv"))))
    result.lessons += 1
    for row in rows:
        qid = row["name"]
        if qid not in ref:
            result.mismatches.append(f"{lesson.name}: {qid} has no reference value")
            continue
        true = ref[qid]
        d = decimal(true)
        result.quantities += 1
        result.zeros += d == 0
        wanted = {"value": post_rounded(d), "full_precision": rounded(d, significant=15)}
        for column, want in wanted.items():
            result.shown += 1
            if Decimal(row[column]) != want:
                result.mismatches.append(f"{lesson.name}: {qid} {column} shows {row[column]}, the reference "
                                         f"rounds to {want} ({decimal(true):.20g})")
    return result


# ---------------------------------------------------------------------------------------------
# Random lessons, through the lesson loader, ill-conditioned ones among them

KINDS = ("plain", "saturated", "huge-tiny", "relu-kink", "exact-zeros", "softmax-ce", "batch", "deep",
         "tanh-identity", "by-sender", "wide", "bce")


def two_decimals(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


def random_doc(seed: int) -> dict:
    """A lesson document (as TOML would give it) of one of KINDS, by seed."""
    rng = random.Random(seed)
    kind = KINDS[seed % len(KINDS)]
    depth = rng.choice([1, 2, 2, 2, 3]) if kind != "deep" else rng.choice([4, 5, 6])
    sizes = [rng.randint(1, 4) if kind != "wide" else rng.randint(5, 8) for _ in range(depth + 1)]
    acts = [rng.choice(["logistic", "tanh", "relu", "identity"]) for _ in range(depth)]
    loss = "half-squared-error"
    numbering = "by-sender" if kind == "by-sender" or rng.random() < 0.2 else "by-receiver"
    bias_mode = rng.choice(["per-layer", "per-neuron"])
    samples = rng.choice([2, 3, 4, 8, 16]) if kind == "batch" else rng.choice([1, 1, 2]) if kind == "wide" else 1
    if kind == "tanh-identity":
        acts = [rng.choice(["tanh", "identity"]) for _ in range(depth)]
    if kind == "relu-kink":
        acts = ["relu"] * depth
        if rng.random() < 0.5:
            acts[-1] = rng.choice(["logistic", "identity"])
    if kind == "softmax-ce":
        sizes[-1] = rng.randint(2, 4)
        acts[-1], loss = "softmax", "cross-entropy"
        bias_mode = "per-layer" if rng.random() < 0.7 else "per-neuron"
    if kind == "saturated":
        acts = [rng.choice(["logistic", "tanh"]) for _ in range(depth)]
    if kind == "bce":  # logistic outputs with binary cross-entropy; targets 0 and 1 among them
        acts[-1], loss = "logistic", "binary-cross-entropy"

    def weight() -> float:
        if kind == "saturated":
            return rng.choice([-1, 1]) * two_decimals(rng, 8, 60)
        if kind == "huge-tiny":
            return rng.choice([-1, 1]) * float(f"{rng.uniform(1, 9):.3f}e{rng.randint(-9, 5)}")
        if kind == "exact-zeros" and rng.random() < 0.4:
            return 0.0
        return two_decimals(rng, -0.9, 0.9)

    weights = [weight() for _ in range(sum(a * b for a, b in itertools.pairwise(sizes)))]
    nbias = depth if bias_mode == "per-layer" else sum(sizes[1:])
    biases = [two_decimals(rng, -0.5, 0.5) if kind != "exact-zeros" or rng.random() < 0.5 else 0.0
              for _ in range(nbias)]

    def inputs() -> list[float]:
        if kind == "exact-zeros":
            return [rng.choice([0.0, two_decimals(rng, 0.05, 0.95)]) for _ in range(sizes[0])]
        if kind == "huge-tiny" and rng.random() < 0.5:
            return [float(f"{rng.uniform(1, 9):.2f}e{rng.randint(-6, 3)}") for _ in range(sizes[0])]
        return [two_decimals(rng, 0.05, 0.95) for _ in range(sizes[0])]

    def targets() -> list[float]:
        if loss == "cross-entropy":
            if rng.random() < 0.6:
                right = rng.randrange(sizes[-1])
                return [float(k == right) for k in range(sizes[-1])]
            parts = [rng.randint(1, 9) for _ in range(sizes[-1])]
            ys = [round(p / sum(parts), 2) for p in parts]
            ys[-1] = round(1 - sum(ys[:-1]), 2)
            return ys if ys[-1] >= 0 else [1.0] + [0.0] * (sizes[-1] - 1)
        if loss == "binary-cross-entropy":
            return [rng.choice([0.0, 1.0, two_decimals(rng, 0.01, 0.99)]) for _ in range(sizes[-1])]
        low, high = {"logistic": (0.01, 0.99), "tanh": (-0.9, 0.9)}.get(acts[-1], (-1.0, 1.0))
        return [two_decimals(rng, low, high) for _ in range(sizes[-1])]

    xs = [inputs() for _ in range(samples)]
    ys = [targets() for _ in range(samples)]
    if kind == "relu-kink":
        kink_first_layer(rng, sizes, numbering, bias_mode, weights, biases, xs[0])
    data: dict = {"inputs": xs[0], "targets": ys[0]} if samples == 1 else {
        "inputs": xs, "targets": ys, "batch": rng.choice(["sum", "mean"])}
    return {"title": f"random {kind} {seed}", "description": "a random lesson for the digit reference",
            "network": {"layers": sizes, "activation": acts, "loss": loss, "weights": weights,
                        "biases": biases, "learning_rate": rng.choice([0.5, 0.1, 1.0, 0.25]),
                        "weight_numbering": numbering, "bias_mode": bias_mode,
                        "train_biases": kind == "softmax-ce" or rng.random() < 0.5},
            "data": data}


def kink_first_layer(rng: random.Random, sizes: list[int], numbering: str, bias_mode: str,
                     weights: list[float], biases: list[float], x: list[float]) -> None:
    """Make the first hidden neuron's net input exactly 0 in decimals (a float residue of ~1e-17):
    its bias is minus its weighted inputs, written out to the digits they have."""
    senders, receivers = sizes[0], sizes[1]
    index = [s * receivers if numbering == "by-sender" else s for s in range(senders)]  # w into neuron 1
    weighted = sum(Fraction(repr(weights[i])) * Fraction(repr(xi)) for i, xi in zip(index, x))
    biases[0] = float(-weighted)
    assert Fraction(repr(biases[0])) == -weighted  # four decimals at most: the float's repr is exact


def random_lessons(count: int, start: int = 0):
    """``count`` random lessons the format accepts (seeds from ``start``); those it refuses are skipped."""
    from backprop_tutor.errors import LessonError
    from backprop_tutor.lesson import parse

    seed = start
    made = 0
    while made < count:
        try:
            lesson = parse(random_doc(seed), f"random-{seed}", f"random-{seed}")
        except LessonError:
            seed += 1
            continue
        yield lesson
        made += 1
        seed += 1

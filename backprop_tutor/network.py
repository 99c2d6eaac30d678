"""The engine: one forward and backward pass that names every quantity the post names.

Plain Python, written to be read beside the post.  ``run`` returns a *trace*: a dict from
the name of a quantity (``net_h1``, ``out_o1``, ``dE_total/dw5``, ``delta_o1``, ``w5+``,
``E_total+`` …) to its value, in the order a person computes them.  See ``tutor.names``
for how neurons, weights and biases are named, and ``tutor.catalogue`` for what each
quantity means.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext

from backprop_tutor.names import Layout


@dataclass(frozen=True)
class Activation:
    """A squashing function, its slope written in terms of net and out, and how to print both."""

    name: str
    f: Callable[[float], float]
    slope: Callable[[float, float], float]  # (net, out) -> dout/dnet
    formula: str  # with {net} for the net input
    slope_formula: str  # with {net} and {out}
    code: str  # the same as Python source for tutor.training's compiled loop, with {net}
    slope_code: str  # with {net} and {out}


# The engine's arithmetic is written once for two kinds of number: float (training, the mistakes'
# variants, the drift traces) and decimal.Decimal (``exact_trace``: what is shown and judged).
# Only e^x, ln x and tanh x differ between them; everything else is + − · / on the values.

def exp(x: float) -> float:
    return x.exp() if isinstance(x, Decimal) else math.exp(x)


def ln(x: float) -> float:
    return x.ln() if isinstance(x, Decimal) else math.log(x)


def number(like: float, value: float | str) -> float:
    """``value`` as the same kind of number as ``like``: 1 as 1.0, or as Decimal(1)."""
    return Decimal(value) if isinstance(like, Decimal) else float(value)


KEEPS = Decimal("1e-15")  # 1 − out above this keeps 35 of the exact trace's 50 digits


def _logistic(x: float) -> float:
    e = exp(-abs(x))  # e^(−|net|) ≤ 1: never overflows
    return 1 / (1 + e) if x >= 0 else e / (1 + e)


def _logistic_slope(net: float, out: float) -> float:
    """out(1 − out), computed from net as e^(−|net|)/(1 + e^(−|net|))²: the same value, but it keeps
    its digits where out is near 1 and 1 − out would cancel them.  (In the exact trace, where e^x is
    costly, out(1 − out) itself while 1 − out keeps most of its digits.)"""
    if isinstance(out, Decimal) and 1 - out > KEEPS:
        return out * (1 - out)
    e = exp(-abs(net))
    return e / ((1 + e) * (1 + e))


def _tanh(x: float) -> float:
    if not isinstance(x, Decimal):
        return math.tanh(x)
    with localcontext() as ctx:  # (1 − e^(−2|x|)) / (1 + e^(−2|x|)), with the digits that 1 − … cancels
        ctx.prec += max(0, -x.adjusted()) + 2
        e = (-2 * abs(x)).exp()
        y = (1 - e) / (1 + e)
    return +y if x >= 0 else -y  # (unary + and − round to the trace's precision)


def _tanh_slope(net: float, out: float) -> float:
    """1 − out², computed from net as 4e^(−2|net|)/(1 + e^(−2|net|))²: it keeps its digits where out is
    near ±1.  (In the exact trace, 1 − out² itself while that keeps most of its digits.)"""
    if isinstance(out, Decimal) and 1 - abs(out) > KEEPS:
        return 1 - out * out
    e = exp(-2 * abs(net))
    return 4 * e / ((1 + e) * (1 + e))


def _relu_slope(net: float, out: float) -> float:
    """1 for a positive net input, 0 for a negative one, and 0 at exactly 0, where ReLU has a kink and no
    slope: the convention PyTorch and most libraries follow."""
    return number(net, 1 if net > 0 else 0)


RELU_KINK = "at a net input of exactly 0, where ReLU has a kink, the slope is taken as 0 (as PyTorch does)"

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("logistic", _logistic, _logistic_slope,
                   "1/(1 + e^(−{net}))", "{out}(1 − {out})", "1.0 / (1.0 + exp(-{net}))", "{out} * (1.0 - {out})"),
        Activation("tanh", _tanh, _tanh_slope,
                   "tanh({net})", "1 − {out}²", "tanh({net})", "1.0 - {out} * {out}"),
        Activation("relu", lambda x: x if x > 0 else number(x, 0), _relu_slope,
                   "max(0, {net})", "(1 if {net} > 0 else 0)", "({net} if {net} > 0.0 else 0.0)",
                   "(1.0 if {net} > 0.0 else 0.0)"),
        Activation("identity", lambda x: x, lambda net, out: number(net, 1), "{net}", "1", "{net}", "1.0"),
        # softmax works on a whole layer (``softmax`` below): out_o = e^net_o / Σ_k e^net_k; only for
        # outputs, and only with the cross-entropy loss, where δ_o = out_o − target_o
        Activation("softmax", lambda x: x, lambda net, out: out * (1 - out), "e^({net}) / Σ_k e^(net_k)",
                   "{out}(1 − {out})", "", ""),
    )
}


def nlog(t: float, o: float) -> float:
    """−t·ln(o), the cross-entropy of one output: 0 when the target is 0, infinite when o is 0."""
    if not t:
        return number(t, 0)
    return -t * ln(o) if o > 0 else number(o, "inf")


def softmax(nets: list[float]) -> list[float]:
    """e^net_o / Σ_k e^net_k, computed without overflow (shifted by the largest net input)."""
    top = max(nets)
    exps = [exp(n - top) for n in nets]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_slope(outs: list[float], k: int, o: int) -> float:
    """∂out_k/∂net_o of a softmax layer: out_k(1 − out_k) on the diagonal, −out_k·out_o off it."""
    return outs[k] * (1 - outs[o]) if k == o else -outs[k] * outs[o]


EPSILON = sys.float_info.epsilon


def total(values: list[float]) -> float:
    """Σ values.  In floats, a sum that cancels to within the rounding of its terms is taken as the exact
    0 it stands for (0.1·0.3 − 0.03 is 0, not 3.5e-18), so that a ReLU's side of its kink is the exact
    trace's.  In the exact trace such sums are exact; one that cancels 30 digits or more is noted in
    CANCELLED, for ``exact_trace`` to tell an exact 0 from rounding noise."""
    s = sum(values)
    if isinstance(s, float):
        if abs(s) <= len(values) * EPSILON * sum(abs(v) for v in values) < math.inf:  # (not an overflow)
            return 0.0
    elif s and abs(s) < DEEP * abs(max(values, key=abs)):
        CANCELLED.append(s)
    return s


DEEP = Decimal("1e-30")
CANCELLED: list[Decimal] = []  # the exact trace's sums that cancelled 30 digits or more (see exact_trace)


@dataclass(frozen=True)
class Loss:
    """An error per output neuron, its slope with respect to that output, and how to print both."""

    name: str
    error: Callable[[float, float], float]  # (target, out) -> E_o
    slope: Callable[[float, float], float]  # (target, out) -> dE_o/dout_o
    formula: str  # with {target} and {out}
    slope_formula: str
    code: str  # as Python source, for tutor.training's compiled loop
    slope_code: str
    # the output activation whose slope cancels this loss's denominator, so that δ_o = out_o − target_o
    # (the training loops use that closed form: it keeps its digits where out is near 0 or 1)
    matched: str = ""


def _cross_entropy_slope(t: float, o: float) -> float:
    if o:
        return -t / o
    return number(o, "-inf" if t else 0)


def bce(t: float, o: float) -> float:
    """−(t·ln o + (1 − t)·ln(1 − o)), the binary cross-entropy of one logistic output: a term whose
    weight (t or 1 − t) is 0 adds nothing; infinite when o is 0 or 1 and that term counts."""
    return nlog(t, o) + nlog(1 - t, 1 - o)


def _bce_slope(t: float, o: float) -> float:
    """∂E_o/∂out_o = −t/o + (1 − t)/(1 − o), which is (o − t)/(o(1 − o)); a term whose weight is 0 adds
    nothing, as in the error, and one whose denominator is 0 is infinite."""
    first = -t / o if o else number(o, "-inf" if t else 0)
    second = (1 - t) / (1 - o) if o != 1 else number(o, "inf" if t != 1 else 0)
    return first + second


LOSSES: dict[str, Loss] = {
    l.name: l
    for l in (
        Loss("cross-entropy", lambda t, o: nlog(t, o), _cross_entropy_slope,
             "−{target}·ln({out})", "−{target}/{out}", "nlog({target}, {out})", "-{target} / {out}",
             matched="softmax"),
        Loss("binary-cross-entropy", bce, _bce_slope,
             "−({target}·ln({out}) + (1 − {target})·ln(1 − {out}))", "−{target}/{out} + (1 − {target})/(1 − {out})",
             "bce({target}, {out})", "-{target} / {out} + (1.0 - {target}) / (1.0 - {out})", matched="logistic"),
        Loss("half-squared-error", lambda t, o: (t - o) * (t - o) / 2, lambda t, o: -(t - o),
             "½({target} − {out})²", "−({target} − {out})", "0.5 * ({target} - {out}) * ({target} - {out})",
             "-({target} - {out})"),
    )
}


@dataclass(frozen=True)
class Network:
    """A fully connected network with one training sample, as a lesson describes it."""

    layout: Layout
    weights: dict[str, float]  # w1 … by the layout's numbering
    biases: dict[str, float]  # b1 … by the layout's bias mode
    activations: tuple[str, ...]  # one per layer with weights
    loss: str
    inputs: tuple[float, ...]
    targets: tuple[float, ...]
    learning_rate: float
    train_biases: bool = False
    extra: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = ()  # samples after the first: (inputs, targets)
    batch: str = "sum"  # how the samples' errors and gradients combine: "sum" or "mean"

    @property
    def samples(self) -> tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]:
        return ((self.inputs, self.targets), *self.extra)

    def sample(self, k: int) -> Network:
        """The network with only sample k (from 1) to learn from."""
        inputs, targets = self.samples[k - 1]
        return dataclasses.replace(self, inputs=inputs, targets=targets, extra=())

    def with_givens(self, changes: dict[str, float]) -> Network:
        """The same network with given values replaced: weights, biases, inputs (i1), targets
        (target_o1) and the learning rate (eta)."""
        def data(k: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
            inputs, targets = self.samples[k - 1]
            tag = f"@{k}" if self.extra else ""  # several samples: i1@2, target_o1@2
            return (tuple(changes.get(i + tag, x) for i, x in zip(self.layout.neurons[0], inputs, strict=True)),
                    tuple(changes.get(f"target_{o}{tag}", y)
                          for o, y in zip(self.layout.neurons[-1], targets, strict=True)))

        samples = [data(k) for k in range(1, len(self.samples) + 1)]
        return dataclasses.replace(self.with_values(**changes), inputs=samples[0][0], targets=samples[0][1],
                                   extra=tuple(samples[1:]), learning_rate=changes.get("eta", self.learning_rate))

    def with_values(self, **changes: float) -> Network:
        """The same network with some weights or biases replaced (``w5=0.5``)."""
        weights = {k: changes.get(k, v) for k, v in self.weights.items()}
        biases = {k: changes.get(k, v) for k, v in self.biases.items()}
        return dataclasses.replace(self, weights=weights, biases=biases)


def output_labels(net: Network) -> list[tuple[str, float]]:
    """Each output with its target, sample by sample when there are several (out_o1@2)."""
    outs = net.layout.neurons[-1]
    if not net.extra:
        return [(f"out_{o}", y) for o, y in zip(outs, net.targets)]
    return [(f"out_{o}@{k}", y) for k, (_, targets) in enumerate(net.samples, 1) for o, y in zip(outs, targets)]


def out_name(neuron: str) -> str:
    """What a neuron passes on: an input is its own value, other neurons pass ``out_x``."""
    return neuron if neuron.startswith("i") else f"out_{neuron}"


def path_name(via: str, hidden: str) -> str:
    """The part of ∂E_total/∂out_hidden that flows back through neuron ``via`` of the next layer.

    Through an output neuron this is the post's ∂E_o1/∂out_h1; through a hidden neuron of a
    deeper network it is written ``dE_via_j1/dout_h1``.
    """
    return f"dE_{via}/dout_{hidden}" if via.startswith("o") else f"dE_via_{via}/dout_{hidden}"


class Rules:
    """How each quantity is computed: the right way, the post's.

    ``run`` asks these methods for every formula that a learner can get wrong, so that
    ``tutor.mistakes`` can model a learner's slip as a subclass overriding one of them.
    """

    def net_input(self, terms: list[tuple[float, float]], bias: float) -> float:
        """Σ weight·input + bias·1."""
        return total([*(w * x for w, x in terms), bias * 1])

    def squash(self, act: Activation, net: float) -> float:
        return act.f(net)

    def error(self, loss: Loss, target: float, out: float) -> float:
        return loss.error(target, out)

    def total_error(self, errors: list[float]) -> float:
        return sum(errors)

    def error_slope(self, loss: Loss, target: float, out: float) -> float:
        """∂E_total/∂out_o: only E_o depends on out_o."""
        return loss.slope(target, out)

    def act_slope(self, act: Activation, net: float, out: float, output_layer: bool) -> float:
        return act.slope(net, out)

    def softmax_delta(self, slopes: list[float], outs: list[float], o: int) -> float:
        """δ_o of a softmax layer: Σ_k ∂E/∂out_k · ∂out_k/∂net_o, with ∂out_k/∂net_o = out_k([k = o] − out_o).
        With the cross-entropy loss this is out_o·Σ_k target_k − target_o: out_o − target_o."""
        return sum(g * out * ((k == o) - outs[o]) for k, (g, out) in enumerate(zip(slopes, outs)))

    def source(self, t: dict[str, float], sources: Sequence[str], s: int) -> float:
        """∂net/∂w: the value that weight multiplies (the output of source neuron s)."""
        return t[out_name(sources[s])]

    def path_weight(self, t: dict[str, float], layout: Layout, l: int, k: int, r: int) -> float:
        """∂net_k/∂out_r: the weight from neuron r of layer l to neuron k of the next, before the update."""
        return t[layout.weights[l][k][r]]

    def paths(self, terms: list[float]) -> float:
        """∂E_total/∂out_h: the sum over every path out of h."""
        return total(terms)

    def update(self, value: float, eta: float, gradient: float) -> float:
        """One step of gradient descent."""
        return value - eta * gradient


class ThroughUpdated(Rules):
    """A known slip: back-propagating through the already-updated weights (w5⁺ for w5)."""

    def path_weight(self, t: dict[str, float], layout: Layout, l: int, k: int, r: int) -> float:
        return t[layout.weights[l][k][r] + "+"]


RIGHT = Rules()


def run(net: Network, *, keep: Callable[[float], float] | None = None,
        backprop_through_updated: bool = False, rules: Rules | None = None,
        pinned: dict[str, float] | None = None, raw: dict[str, float] | None = None) -> dict[str, float]:
    """Every named quantity of one forward pass, backward pass and update (see ``run_one``);
    with several samples, each sample's quantities (``net_h1@2``) and the batch's."""
    if net.extra:
        return run_batch(net, keep=keep, backprop_through_updated=backprop_through_updated, rules=rules,
                         pinned=pinned, raw=raw)
    return run_one(net, keep=keep, backprop_through_updated=backprop_through_updated, rules=rules, pinned=pinned,
                   raw=raw)


def sample_key(key: str, k: int) -> str:
    """A quantity of sample k: ``net_h1`` → ``net_h1@2``, ``net_h1+`` (after the update) → ``net_h1@2+``."""
    return f"{key[:-1]}@{k}+" if key.endswith("+") else f"{key}@{k}"


def run_batch(net: Network, *, keep: Callable[[float], float] | None = None,
              backprop_through_updated: bool = False, rules: Rules | None = None,
              pinned: dict[str, float] | None = None, raw: dict[str, float] | None = None,
              sink: Callable[[int, dict[str, float], str], None] | None = None) -> dict[str, float]:
    """Several samples: each sample's forward and backward pass, then one update with the samples'
    gradients combined (their sum, or their mean: ``net.batch``), then each sample again after it.
    With a ``sink``, each sample's values go to it, as ``sink(k, values, "")`` and after the update
    ``sink(k, values, "+")``, instead of into the trace, which then holds only the batch's own values
    (a 64-sample lesson on 5×16 has 400,000 of the others)."""
    rules = rules or (ThroughUpdated() if backprop_through_updated else RIGHT)
    pinned = pinned or {}
    keep = keep or (lambda x: x)
    n = len(net.samples)
    combine = (lambda values: total(values) / n) if net.batch == "mean" else total
    shared = {*net.weights, *net.biases, "eta"}  # (sets: a 5×16 lesson has 1,000 weights to look up)
    trained = {*net.weights, *(net.biases if net.train_biases else [])}
    t: dict[str, float] = {name: v for name, v in (net.weights | net.biases).items()}
    t["eta"] = net.learning_rate

    def put(name: str, value: float) -> None:
        if raw is not None:
            raw[name] = value
        t[name] = pinned[name] if name in pinned else keep(value)

    def mine(k: int) -> dict[str, float]:
        return {key[:-len(f"@{k}")] if key.endswith(f"@{k}") else key[:-len(f"@{k}+")] + "+": v
                for key, v in pinned.items() if key.endswith((f"@{k}", f"@{k}+"))}

    ends: list[dict[str, float]] = []  # each sample's error and gradients, for the batch's
    order: list[str] = []  # the gradients of what is trained, in the trace's order
    for k in range(1, n + 1):
        own: dict[str, float] | None = {} if raw is not None else None
        one = run_one(net.sample(k), keep=keep, rules=rules, pinned=mine(k), raw=own, update=False)
        order = order or [key for key in one if key.startswith("dE_total/d") and key[len("dE_total/d"):] in trained]
        ends.append({key: one[key] for key in ("E_total", *order)})
        if sink is not None:
            sink(k, one, "")
            continue
        t.update({f"{key}@{k}": value for key, value in one.items() if key not in shared})  # net_h1@2
        if raw is not None and own is not None:
            raw.update({f"{key}@{k}": own.get(key, value) for key, value in one.items() if key not in shared})
    put("E_total", combine([e["E_total"] for e in ends]))
    for key in order:
        p = key[len("dE_total/d"):]
        put(key, combine([e[key] for e in ends]))
        put(f"{p}+", rules.update(t[p], t["eta"], t[key]))
    updated = net.with_values(**{p: t[f"{p}+"] for p in trained})
    errors = []
    for k in range(1, n + 1):
        after = run_one(updated.sample(k), keep=keep, rules=rules, backward=False)
        if sink is not None:
            sink(k, after, "+")
            errors.append(after["E_total"])
            continue
        for key in after:
            if key.startswith(("net_", "out_", "E_")):
                put(f"{key}@{k}+", after[key])  # net_h1@2+
        errors.append(t[f"E_total@{k}+"])
    put("E_total+", combine(errors))
    return t


def outcome(net: Network) -> tuple[dict[str, float], str | None]:
    """What a change of the givens does: the trace of ``run`` without each sample's inner values when
    there are several (only their outputs, out_o1@2), and a quantity that is not finite, or None."""
    if not net.extra:
        t = run_one(net)
        return t, next((q for q, v in t.items() if not math.isfinite(v)), None)
    kept: dict[str, float] = {}
    bad: list[str] = []
    outputs = {f"out_{o}" for o in net.layout.neurons[-1]}

    def look(k: int, values: dict[str, float], tag: str) -> None:
        bad.extend(sample_key(q, k) + tag for q, v in values.items() if not math.isfinite(v))
        if not tag:
            kept.update({sample_key(q, k): values[q] for q in outputs})

    t = run_batch(net, sink=look)
    bad.extend(q for q, v in t.items() if not math.isfinite(v))
    return t | kept, bad[0] if bad else None


def not_finite(net: Network) -> str | None:
    """A quantity of ``run(net)`` that is not a finite number (an overflow), or None if there is none."""
    bad: list[str] = []

    def look(k: int, values: dict[str, float], tag: str) -> None:
        bad.extend(sample_key(q, k) + tag for q, v in values.items() if not math.isfinite(v))

    if net.extra:
        bad.extend(q for q, v in run_batch(net, sink=look).items() if not math.isfinite(v))
    else:
        bad.extend(q for q, v in run_one(net).items() if not math.isfinite(v))
    return bad[0] if bad else None


class Enough(Exception):
    """Raised by ``run_one(until=…)`` once every quantity named there is computed: what it has computed is
    in its ``raw``."""


def _putter(t: dict[str, float], keep: Callable[[float], float] | None, pinned: dict[str, float] | None,
            raw: dict[str, float] | None, until: set[str] | None = None) -> Callable[[str, float], float]:
    """``put(name, value)``: the value into the trace ``t`` (into ``raw`` as computed, kept by ``keep``,
    or as ``pinned``; ``Enough`` once every name of ``until`` is put). The plain cases are written apart:
    a big lesson puts a million values."""
    left = set(until or ())
    if not pinned and raw is None and not left:
        if keep is None:
            def plain(name: str, value: float) -> float:
                t[name] = value
                return value
            return plain
        rounding = keep

        def kept(name: str, value: float) -> float:
            t[name] = value = rounding(value)
            return value
        return kept
    keep = keep or (lambda x: x)
    pinned = pinned or {}

    def put(name: str, value: float) -> float:
        if raw is not None:
            raw[name] = value
        t[name] = pinned[name] if name in pinned else keep(value)
        if left:
            left.discard(name)
            if not left:
                raise Enough
        return t[name]
    return put


def run_one(net: Network, *, keep: Callable[[float], float] | None = None,
            backprop_through_updated: bool = False, rules: Rules | None = None,
            pinned: dict[str, float] | None = None, raw: dict[str, float] | None = None, backward: bool = True,
            update: bool = True, until: set[str] | None = None) -> dict[str, float]:
    """Every named quantity of one forward pass, backward pass and update, for one sample.

    ``keep`` is applied to each computed value before it is used further (to model a learner
    who rounds every intermediate).  ``backprop_through_updated`` reproduces a known slip:
    the hidden layer is back-propagated through the already-updated output weights.
    ``rules`` replaces how quantities are computed (a learner's slip, see ``tutor.mistakes``);
    ``pinned`` fixes some quantities to given values (what a learner already has).  ``raw``, if
    given, receives each value as computed, before ``keep`` rounds it.  Without ``backward`` only the
    forward pass is made; without ``update``, no step of gradient descent and no forward pass after it
    (a batch updates once, for all its samples: see ``run_batch``).  With ``until``, it raises ``Enough``
    once every quantity named there is computed.
    """
    rules = rules or (ThroughUpdated() if backprop_through_updated else RIGHT)
    L = net.layout
    act = [ACTIVATIONS[a] for a in net.activations]
    loss = LOSSES[net.loss]
    t: dict[str, float] = {}
    put = _putter(t, keep, pinned, raw, until)

    # What the lesson gives.
    for i, x in zip(L.neurons[0], net.inputs, strict=True):
        t[i] = x
    for o, y in zip(L.neurons[-1], net.targets, strict=True):
        t[f"target_{o}"] = y
    t.update(net.weights)
    t.update(net.biases)
    t["eta"] = net.learning_rate

    def forward(tag: str) -> None:
        """The forward pass and the error, with the weights ``w1`` (tag "") or ``w1+`` (tag "+")."""
        def param(name: str) -> float:
            return t.get(name + tag, t[name])

        def source(name: str) -> float:
            return t[name] if name.startswith("i") else t[f"out_{name}{tag}"]

        for l in range(1, L.depth + 1):
            fed = [source(src) for src in L.neurons[l - 1]]  # what the layer below passes up
            for r, j in enumerate(L.neurons[l]):
                terms = [(param(w), x) for w, x in zip(L.weights[l - 1][r], fed)]
                put(f"net_{j}{tag}", rules.net_input(terms, param(L.biases[l - 1][r])))
                if act[l - 1].name != "softmax":
                    put(f"out_{j}{tag}", rules.squash(act[l - 1], t[f"net_{j}{tag}"]))
            if act[l - 1].name == "softmax":  # every net input of the layer first, then the outputs
                outs = softmax([t[f"net_{j}{tag}"] for j in L.neurons[l]])
                for j, out in zip(L.neurons[l], outs):
                    put(f"out_{j}{tag}", out)
        for o in L.neurons[-1]:
            put(f"E_{o}{tag}", rules.error(loss, t[f"target_{o}"], t[f"out_{o}{tag}"]))
        put(f"E_total{tag}", rules.total_error([t[f"E_{o}{tag}"] for o in L.neurons[-1]]))

    forward("")
    if not backward:
        return t

    # The backward pass, from the output layer down.  Every gradient uses the weights as they
    # were before the update (unless the rules say otherwise: that is a slip).
    for l in range(L.depth, 0, -1):
        layer, sources = L.neurons[l], L.neurons[l - 1]
        coupled = act[l - 1].name == "softmax"  # each δ needs the error's slope at every output
        if coupled:
            for j in layer:
                put(f"dE_total/dout_{j}", rules.error_slope(loss, t[f"target_{j}"], t[f"out_{j}"]))
        for r, j in enumerate(layer):
            if coupled:
                outs = [t[f"out_{k}"] for k in layer]
                for k, other in enumerate(layer):  # the softmax's Jacobian: how each output moves with net_j
                    put(f"dout_{other}/dnet_{j}", softmax_slope(outs, k, r))
                put(f"delta_{j}", rules.softmax_delta([t[f"dE_total/dout_{k}"] for k in layer],
                                                      [t[f"out_{k}"] for k in layer], r))
            elif l == L.depth:  # an output neuron
                put(f"dE_total/dout_{j}", rules.error_slope(loss, t[f"target_{j}"], t[f"out_{j}"]))
            else:  # a hidden neuron: sum the paths through every neuron of the next layer
                for k, nxt in enumerate(L.neurons[l + 1]):
                    weight = put(f"dnet_{nxt}/dout_{j}", rules.path_weight(t, L, l, k, r))
                    put(path_name(nxt, j), t[f"delta_{nxt}"] * weight)
                put(f"dE_total/dout_{j}", rules.paths([t[path_name(nxt, j)] for nxt in L.neurons[l + 1]]))
            if not coupled:
                put(f"dout_{j}/dnet_{j}", rules.act_slope(act[l - 1], t[f"net_{j}"], t[f"out_{j}"], l == L.depth))
                put(f"delta_{j}", t[f"dE_total/dout_{j}"] * t[f"dout_{j}/dnet_{j}"])
            # ∂E/∂w = ∂E/∂out · ∂out/∂net · ∂net/∂w, the first two the same for every weight into j
            # (a softmax layer: δ_j · ∂net/∂w)
            first = t[f"delta_{j}"] if coupled else t[f"dE_total/dout_{j}"] * t[f"dout_{j}/dnet_{j}"]
            for s, w in enumerate(L.weights[l - 1][r]):
                gradient = put(f"dE_total/d{w}", first * put(f"dnet_{j}/d{w}", rules.source(t, sources, s)))
                if update:
                    put(f"{w}+", rules.update(t[w], t["eta"], gradient))
        if net.train_biases:
            for b in dict.fromkeys(L.biases[l - 1]):
                fed = [j for j, name in zip(layer, L.biases[l - 1]) if name == b]
                put(f"dE_total/d{b}", total([t[f"delta_{j}"] * 1 for j in fed]))
                if update:
                    put(f"{b}+", rules.update(t[b], t["eta"], t[f"dE_total/d{b}"]))

    if update:
        forward("+")
    return t


# ---------------------------------------------------------------------------------------------
# The exact trace: what is shown and judged

PRECISION = 50  # significant digits of the exact trace; at most 15 are ever shown
COARSE = 36  # the second precision, that tells rounding noise from a value (products of givens stay exact)
SHRINK = Decimal("1e-7")  # noise shrinks by 10^-14 from COARSE to PRECISION digits; a value stays put


def as_decimal(net: Network) -> Network:
    """The network with every number as the decimal written in the lesson: 0.05, not the float nearest it."""
    def d(x: float) -> float:
        return Decimal(repr(x))  # type: ignore[return-value]  # (the engine's arithmetic takes both)

    def data(xs: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(d(x) for x in xs)

    return dataclasses.replace(
        net, weights={k: d(v) for k, v in net.weights.items()}, biases={k: d(v) for k, v in net.biases.items()},
        inputs=data(net.inputs), targets=data(net.targets), learning_rate=d(net.learning_rate),
        extra=tuple((data(x), data(y)) for x, y in net.extra))


def decimal_run(net: Network, digits: int, pinned: dict[str, Decimal], update: bool = True,
                until: set[str] | None = None) -> dict[str, Decimal]:
    """``run`` in decimal arithmetic at ``digits`` significant digits (+ − · of the lesson's numbers are
    exact; e^x, ln x and what is divided are rounded there); without ``update``, one sample's forward and
    backward pass only, and with ``until``, only as far as every quantity named there."""
    with localcontext(prec=digits, Emax=MAX_EMAX, Emin=MIN_EMIN):  # e^−1000000 is a value, not 0
        if not update:
            raw: dict[str, Decimal] = {}
            try:
                return run_one(net, pinned=pinned, raw=raw, update=False,  # type: ignore[arg-type, return-value]
                               until=until)
            except Enough:  # (as far as ``until``: the values as computed)
                return raw
        return run(net, pinned=pinned)  # type: ignore[arg-type, return-value]


def exact_trace(net: Network, update: bool = True) -> dict[str, Decimal]:
    """Every quantity of ``run`` at PRECISION significant digits, with exact zeros exact.

    A quantity that is 0 in exact arithmetic but whose parts were rounded (Σ_o δ_o = Σ out_o − 1 of a
    softmax, ∂E/∂b2 of softmax-ce with trained biases) comes out as rounding noise of about 10^-50.
    Noise shrinks with the working precision and a value does not: a quantity that is 10^7 times
    smaller at PRECISION digits than at COARSE digits (or 0 at COARSE digits) is taken as the exact 0,
    and pinned there so that what is computed from it (a ReLU's side of its kink) follows from the 0.
    The second run is made only when some sum cancelled 30 digits or more.  Without ``update``, one
    sample before the update (a sample of a big batch: ``bigbatch``).
    """
    exact = as_decimal(net)
    parameters = {*net.weights, *net.biases}
    zeros: dict[str, Decimal] = {}
    while True:
        CANCELLED.clear()
        fine = decimal_run(exact, PRECISION, zeros, update)
        if not CANCELLED:  # no sum lost more than 30 of its 50 digits: no 0 hides as noise
            return fine
        scale = max((abs(v) for v in fine.values() if v.is_finite()), default=Decimal(0))
        floor = scale.scaleb(COARSE - PRECISION + 5)  # noise of a zero lies far below this
        small = [q for q, v in fine.items() if v and v.is_finite() and abs(v) < floor and q not in zeros]
        if not small:
            return fine
        coarse = decimal_run(exact, COARSE, zeros, update, until=set(small))  # (only as far as they are)
        new = {q: Decimal(0) for q in small if abs(fine[q]) < abs(coarse[q]) * SHRINK or not coarse[q]}
        if not new:
            return fine
        if not update and all(q.startswith("dE_total/d") and q[len("dE_total/d"):] in parameters for q in new):
            return fine | new  # (without the update a parameter's gradient feeds nothing: no run to follow it)
        zeros |= new


class Exact(float):
    """A value of the exact trace as a float, for the code that computes with floats, that remembers the
    decimal it was rounded from, for what is shown (``catalogue.post_digits``): every shown digit is
    the exact trace's, even where the float's nearest 15 digits round the other way."""

    __slots__ = ("exact",)
    exact: Decimal

    def __new__(cls, exact: Decimal) -> Exact:
        value = super().__new__(cls, exact)
        value.exact = exact
        return value


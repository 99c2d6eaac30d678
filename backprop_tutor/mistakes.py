"""Naming the mistake: what a learner did to get a wrong value.

Each ``Mistake`` is a variant of the computation, not a table of numbers: a subclass of the
engine's ``Rules`` that does one thing the wrong way, or a change to how the network is read
(the other weight numbering, a misread target).  Run on the lesson's own network, with the
values the learner already has pinned, it gives the value a learner following it would type at
every step — so it works for every lesson and every fresh exercise.

``Diagnoser.diagnose`` compares a wrong value, under the same precision policy as ``check``,
with what each mistake gives on that step; with simple slips (sign, power of ten, another
quantity's value typed); and with what follows from the learner's own earlier wrong values
(a carried error, which is not a new mistake).  A mistake that gives a value inside the band
accepted as right on a step cannot be told from the right answer there and is not named.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from backprop_tutor import answers
from backprop_tutor.answers import Typed
from backprop_tutor.catalogue import Quantity, symbol
from backprop_tutor.names import Layout
from backprop_tutor.network import Activation, Loss, Network, Rules, run

# ---------------------------------------------------------------------------------------------
# The learner's rules


class NoBias(Rules):
    def net_input(self, terms: list[tuple[float, float]], bias: float) -> float:
        return sum(w * x for w, x in terms)


class NoSquash(Rules):
    def squash(self, act: Activation, net: float) -> float:
        return net


class ExponentSign(Rules):
    def squash(self, act: Activation, net: float) -> float:
        if act.name != "logistic":
            return act.f(net)
        return 1 / (1 + math.exp(min(net, 700)))


class HalfDropped(Rules):
    """E = (target − out)², and so ∂E/∂out = −2(target − out)."""

    def error(self, loss: Loss, target: float, out: float) -> float:
        return 2 * loss.error(target, out)

    def error_slope(self, loss: Loss, target: float, out: float) -> float:
        return 2 * loss.slope(target, out)


class OneOutputError(Rules):
    def total_error(self, errors: list[float]) -> float:
        return errors[0]


class AveragedOverOutputs(Rules):
    def __init__(self, outputs: int):
        self.outputs = outputs

    def total_error(self, errors: list[float]) -> float:
        return sum(errors) / len(errors)

    def error_slope(self, loss: Loss, target: float, out: float) -> float:
        return loss.slope(target, out) / self.outputs


class SlopeSignFlipped(Rules):
    def error_slope(self, loss: Loss, target: float, out: float) -> float:
        return -loss.slope(target, out)


class SlopeForgotten(Rules):
    def __init__(self, output_layer: bool):
        self.output_layer = output_layer

    def act_slope(self, act: Activation, net: float, out: float, output_layer: bool) -> float:
        return 1.0 if output_layer == self.output_layer else act.slope(net, out)


class SlopeFromNet(Rules):
    def act_slope(self, act: Activation, net: float, out: float, output_layer: bool) -> float:
        return net * (1 - net) if act.name == "logistic" else act.slope(net, out)


class SlopeTwice(Rules):
    def act_slope(self, act: Activation, net: float, out: float, output_layer: bool) -> float:
        return act.slope(out, act.f(out)) if act.name == "logistic" else act.slope(net, out)


class SoftmaxSlopeKept(Rules):
    """δ = (out − target)·out(1 − out): the softmax's slope multiplied in again, though it has cancelled."""

    def softmax_delta(self, slopes: list[float], outs: list[float], o: int) -> float:
        return super().softmax_delta(slopes, outs, o) * outs[o] * (1 - outs[o])


class NetAsSource(Rules):
    def source(self, t: dict[str, float], sources: Sequence[str], s: int) -> float:
        x = sources[s]
        return t[x] if x.startswith("i") else t[f"net_{x}"]


class WrongSource(Rules):
    """The value of the neighbouring neuron of the same layer: out_h2 for w5, i2 for w1."""

    def source(self, t: dict[str, float], sources: Sequence[str], s: int) -> float:
        return super().source(t, sources, (s + 1) % len(sources))


class OnePath(Rules):
    def paths(self, terms: list[float]) -> float:
        return terms[0]


class WrongOutputWeight(Rules):
    """On every path, the weight of the first path: from the same neuron into the first of the next layer."""

    def path_weight(self, t: dict[str, float], layout: Layout, l: int, k: int, r: int) -> float:
        return t[layout.weights[l][0][r]]


class PathWeightNumbering(Rules):
    """On a path, the weight that carries this connection's label in the other numbering (w6 for w7)."""

    def __init__(self, layout: Layout):
        self.other = other_numbering_layout(layout)

    def path_weight(self, t: dict[str, float], layout: Layout, l: int, k: int, r: int) -> float:
        return t[self.other.weights[l][k][r]]


class UpdatedWeights(Rules):
    def path_weight(self, t: dict[str, float], layout: Layout, l: int, k: int, r: int) -> float:
        return t[layout.weights[l][k][r] + "+"]


class NoLearningRate(Rules):
    def update(self, value: float, eta: float, gradient: float) -> float:
        return value - gradient


class GradientAdded(Rules):
    def update(self, value: float, eta: float, gradient: float) -> float:
        return value + eta * gradient


def other_numbering_layout(layout: Layout) -> Layout:
    other = "by-sender" if layout.numbering == "by-receiver" else "by-receiver"
    return Layout(layout.sizes, other, layout.bias_mode)


def other_numbering(net: Network) -> Network:
    """The same weight values read with the other numbering's labels (w2 taken as i1 → h2)."""
    return dataclasses.replace(net, layout=other_numbering_layout(net.layout))


def misread_target(net: Network) -> Network | None:
    """A small target read one decimal place off: 0.1 for 0.01."""
    targets = tuple(y * 10 if 0 < abs(y) < 0.1 else y for y in net.targets)
    if targets == net.targets:
        return None
    return dataclasses.replace(net, targets=targets)


@dataclass(frozen=True)
class Mistake:
    id: str
    did: str  # what the learner did, in one sentence
    right: str  # the right rule, and where to look
    teach: str  # the teaching hint when it is a pattern
    rules: Callable[[Network], Rules] = field(default=lambda net: Rules())
    network: Callable[[Network], Network | None] = field(default=lambda net: net)


MISTAKES: tuple[Mistake, ...] = (
    Mistake("bias-left-out", "You left the bias out of the net input.",
            "The net input is every weight times its input, plus the bias times 1.",
            "Every neuron's net input has a bias term, even when the bias is not trained: add b·1 last.",
            lambda net: NoBias()),
    Mistake("no-squash", "You took the net input as the output, without the activation function.",
            "out = f(net): put the net input through the neuron's activation function.",
            "Each neuron computes two numbers: net, the weighted sum, and out, the activation of net.",
            lambda net: NoSquash()),
    Mistake("exponent-sign", "You computed 1/(1 + e^(+net)): the sign of the exponent is flipped.",
            "The logistic function is 1/(1 + e^(−net)): the exponent is minus the net input.",
            "σ(net) is above 0.5 when net is positive: check that with e^(−net) before going on.",
            lambda net: ExponentSign()),
    Mistake("other-numbering", "You read the weights with the other numbering (in the post: w2 taken as "
            "the weight from i1 to h2).", "In this lesson the weights are numbered by the neuron they {they} "
            "(see `diagram`).", "Before each sum, find the weights on the diagram by the neuron they feed.",
            network=other_numbering),
    Mistake("target-misread", "You used a target one decimal place off (0.1 for 0.01, say).",
            "Check the targets on the diagram: the lesson gives them exactly.",
            "Copy the targets from the lesson, digit by digit.", network=misread_target),
    Mistake("half-dropped", "You left out the ½ of the error (or the 2 it cancels when differentiating).",
            "E_o = ½(target − out)², so ∂E_o/∂out_o = −(target − out): the ½ and the 2 cancel.",
            "The ½ is there to cancel the 2 of the derivative: keep it in E, and drop both in ∂E/∂out.",
            lambda net: HalfDropped()),
    Mistake("one-output-error", "You took the error of one output only.",
            "E_total adds up the error of every output.",
            "E_total is a sum over all outputs; each output contributes its own ½(target − out)².",
            lambda net: OneOutputError()),
    Mistake("averaged", "You averaged over the outputs instead of summing.",
            "E_total is the sum of the output errors, and its slopes are not divided by the number of outputs.",
            "This lesson's error is a sum, not a mean: nothing is divided by the number of outputs.",
            lambda net: AveragedOverOutputs(net.layout.sizes[-1])),
    Mistake("slope-sign", "You flipped the sign of (target − out).",
            "∂E_total/∂out_o = −(target − out): the minus comes from differentiating −out inside the square.",
            "Differentiate (target − out)² with the chain rule: the inner derivative is −1.",
            lambda net: SlopeSignFlipped()),
    Mistake("output-slope-forgotten", "You left out the slope of the output neuron's activation (took "
            "∂out/∂net as 1).", "∂E/∂net_o = ∂E/∂out_o · out_o(1 − out_o): the activation's slope is a "
            "factor of the chain.", "Every neuron on the path adds its slope ∂out/∂net to the chain rule.",
            lambda net: SlopeForgotten(output_layer=True)),
    Mistake("slope-from-net", "You computed the logistic slope from the net input: net(1 − net).",
            "The slope is out(1 − out), with the output, not the net input.",
            "σ′(net) = σ(net)(1 − σ(net)) = out(1 − out): use the output.", lambda net: SlopeFromNet()),
    Mistake("slope-twice", "You put the output through the logistic function again before taking the "
            "slope: σ(out)(1 − σ(out)).", "The slope is out(1 − out), with out as it is.",
            "out is already σ(net): the slope uses it directly.", lambda net: SlopeTwice()),
    Mistake("softmax-slope-kept", "You multiplied by the softmax's slope out(1 − out) as well.",
            "With cross-entropy that slope has already cancelled the 1/out of the loss: δ_o = out_o − target_o.",
            "Softmax with cross-entropy gives δ = out − target directly; `explain delta_o1` shows why.",
            lambda net: SoftmaxSlopeKept()),
    Mistake("net-as-source", "You used the net input of the neuron the weight comes from, instead of its "
            "output.", "A weight multiplies the output of the neuron it comes from: ∂net/∂w is that out.",
            "What travels along a connection is the sender's out, never its net.", lambda net: NetAsSource()),
    Mistake("wrong-source", "You used the value of the wrong neuron: the weight comes from its neighbour "
            "(in the post: out_h2 for w5, i2 for w1).", "∂net/∂w is the value at the start of that weight's connection "
            "(see `diagram`).", "Trace each weight on the diagram from the neuron it leaves to the one it feeds.",
            lambda net: WrongSource()),
    Mistake("one-path", "You followed only one path back to this hidden neuron.",
            "∂E_total/∂out_h sums every path: h feeds every neuron of the next layer.",
            "A hidden neuron feeds every output, so its error slope is a sum over all of them.",
            lambda net: OnePath()),
    Mistake("wrong-path-weight", "On a path you used the weight of another path, into the first neuron of "
            "the next layer (in the post: w5 for w7).", "Each path uses the weight of its own connection: from "
            "the hidden neuron to the neuron the path flows through.",
            "For the path through a neuron, use the weight into that neuron (see `diagram`).",
            lambda net: WrongOutputWeight()),
    Mistake("path-weight-numbering", "On a path you used the weight that carries this connection's label in "
            "the other numbering (in the post: w6 for w7, the −0.017144205 of its comments).",
            "Each path uses the weight on its own connection, numbered by the neuron it {it} "
            "(see `diagram`).", "Find each path's weight on the diagram, on the connection the path follows.",
            lambda net: PathWeightNumbering(net.layout)),
    Mistake("updated-weights", "You used the updated weights (w5⁺ for w5 …) to send the error back.",
            "Every gradient uses the weights as they were before the update; update them all at the end.",
            "Compute all gradients first, with the old weights; only then update any weight.",
            lambda net: UpdatedWeights()),
    Mistake("hidden-slope-forgotten", "You left out the slope of the hidden neuron's activation.",
            "∂E/∂net_h = ∂E/∂out_h · out_h(1 − out_h).",
            "Every neuron on the path adds its slope ∂out/∂net to the chain rule.",
            lambda net: SlopeForgotten(output_layer=False)),
    Mistake("no-learning-rate", "You left out the learning rate (took η as 1).",
            "w⁺ = w − η·∂E/∂w, with the lesson's η.", "The step size is η times the gradient, not the gradient.",
            lambda net: NoLearningRate()),
    Mistake("gradient-added", "You added the gradient instead of subtracting it.",
            "w⁺ = w − η·∂E/∂w: descend, against the gradient.",
            "The gradient points uphill; gradient descent moves the other way.", lambda net: GradientAdded()),
)
BY_ID = {m.id: m for m in MISTAKES}


# ---------------------------------------------------------------------------------------------
# Diagnosis


@dataclass(frozen=True)
class Finding:
    """One explanation of a wrong value."""

    kind: str  # "carried", "mistake" or "slip"
    id: str  # the mistake's id, or the slip's: sign, power-of-ten, other-quantity
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "text": self.text}


class Diagnoser:
    """Explains wrong values on one lesson, given what the learner already has.

    ``known``: quantities the learner has right (pinned at their true values).
    ``own``: the learner's own wrong values of earlier quantities, for carried errors.
    """

    def __init__(self, net: Network, trace: dict[str, float], catalogue: dict[str, Quantity],
                 drift: dict[str, float], known: set[str] | None = None, own: dict[str, float] | None = None):
        self.net, self.trace, self.catalogue, self.drift = net, trace, catalogue, drift
        self.known = {q: trace[q] for q in (known or set()) if q in trace}
        self.own = {q: v for q, v in (own or {}).items() if q in trace}

    @cached_property
    def variants(self) -> dict[str, dict[str, float]]:
        """Every mistake's trace, with what the learner has pinned."""
        out = {}
        for m in MISTAKES:
            net = m.network(self.net)
            if net is None:
                continue
            try:
                out[m.id] = run(net, rules=m.rules(net), pinned=self.known)
            except (OverflowError, ZeroDivisionError, ValueError, KeyError):
                continue
        return out

    def distinguishable(self, qid: str, value: float) -> bool:
        """Would this value, typed in full, be judged wrong? (Else it cannot be told from the right one.)"""
        if not math.isfinite(value):
            return False
        typed = answers.parse_number(f"{value:.15e}")
        return answers.judge(typed, self.trace[qid], self.drift[qid]) == answers.WRONG

    def matches(self, typed: Typed, value: float, qid: str) -> bool:
        if not math.isfinite(value):
            return False
        return (answers.judge(typed, value, self.drift[qid]) in (answers.RIGHT, answers.DRIFT)
                and self.distinguishable(qid, value))

    def mistakes_on(self, qid: str) -> dict[str, float]:
        """The value each mistake gives on this step, where it can be told from the right one."""
        return {mid: t[qid] for mid, t in self.variants.items()
                if qid in t and self.distinguishable(qid, t[qid])}

    def diagnose(self, qid: str, typed: Typed) -> list[Finding]:
        q = self.catalogue[qid]
        carried = self.carried(qid, typed)
        if carried:
            return [carried]
        they, it = ("feed", "feeds") if self.net.layout.numbering == "by-receiver" else ("leave", "leaves")
        found = [Finding("mistake", mid, f"{BY_ID[mid].did} {BY_ID[mid].right.format(they=they, it=it)}")
                 for mid, value in self.mistakes_on(qid).items() if self.matches(typed, value, qid)]
        if found:
            return found
        return self.slips(q, typed)

    def carried(self, qid: str, typed: Typed) -> Finding | None:
        wrong = {d: v for d, v in self.own.items() if d != qid and self.distinguishable(d, v)}
        if not wrong:
            return None
        value = run(self.net, pinned=self.known | wrong).get(qid)
        if value is None or not self.matches(typed, value, qid):
            return None
        sources = [d for d in wrong if d in self.ancestors(qid)] or list(wrong)
        names = ", ".join(symbol(d) for d in sources)
        return Finding("carried", "carried", f"This follows from your {names}, which was off: fix that first, "
                       "and this value will follow.")

    def ancestors(self, qid: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.catalogue[qid].deps)
        while todo:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo.extend(self.catalogue[d].deps)
        return seen

    def slips(self, q: Quantity, typed: Typed) -> list[Finding]:
        true = self.trace[q.id]
        if self.matches(typed, -true, q.id):
            return [Finding("slip", "sign", "Your value has the right size but the wrong sign.")]
        for k in (1, -1, 2, -2, 3, -3):
            if self.matches(typed, true * 10.0 ** k, q.id):
                return [Finding("slip", "power-of-ten", "Your digits are right, but the decimal point is "
                                f"off by {abs(k)} place{'s' if abs(k) != 1 else ''}.")]
        for other in self.related(q):
            if self.matches(typed, self.trace[other], q.id):
                o = self.catalogue[other]
                return [Finding("slip", "other-quantity", f"That is the value of {o.symbol} ({o.meaning}), "
                                f"not of {q.symbol}.")]
        return []

    def related(self, q: Quantity) -> list[str]:
        """Quantities a learner may type by mistake: the parts first, then everything else."""
        near = list(dict.fromkeys(q.deps))
        if m := re.fullmatch(r"out_(\w+)", q.id):
            near.insert(0, f"net_{m[1]}")
        return [*near, *(x for x in self.trace if x not in near and x != q.id)]


def patterns(history: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Mistakes seen on two steps or more: mistake id → the steps. ``history`` holds (mistake, step)."""
    steps: dict[str, list[str]] = {}
    for mid, qid in history:
        if mid in BY_ID and qid not in steps.setdefault(mid, []):
            steps[mid].append(qid)
    return {mid: qs for mid, qs in steps.items() if len(qs) >= 2}

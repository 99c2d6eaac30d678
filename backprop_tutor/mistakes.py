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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from functools import cached_property
from typing import Any

from backprop_tutor import answers
from backprop_tutor.answers import Typed
from backprop_tutor.catalogue import Quantity, symbol
from backprop_tutor.names import Layout
from backprop_tutor.network import Activation, Loss, Network, Rules, run
from backprop_tutor.story import BEFORE_THE_UPDATE

_WIDE = Context(prec=400)  # room for every digit a typed value may have (answers.MAX_LENGTH)

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
        return (2 if loss.name == "half-squared-error" else 1) * loss.error(target, out)

    def error_slope(self, loss: Loss, target: float, out: float) -> float:
        return (2 if loss.name == "half-squared-error" else 1) * loss.slope(target, out)


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


class SquaredErrorSlope(Rules):
    """With binary cross-entropy, ∂E/∂out taken as out − target (the squared error's slope, or δ itself): δ
    then picks up the logistic slope out(1 − out) that the loss's denominator should have cancelled."""

    def error_slope(self, loss: Loss, target: float, out: float) -> float:
        return out - target


class OneTermOnly(Rules):
    """Binary cross-entropy with only its target·ln(out) term: −target·ln(out), slope −target/out."""

    def error(self, loss: Loss, target: float, out: float) -> float:
        return -target * math.log(out) if target else 0.0

    def error_slope(self, loss: Loss, target: float, out: float) -> float:
        return -target / out


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


class FromOut(Rules):
    """The slopes as a learner writes them, from out: out(1 − out), 1 − out². (The engine computes them
    from net, which keeps their digits; with a learner's own out, only this form follows from it.)"""

    def act_slope(self, act: Activation, net: float, out: float, output_layer: bool) -> float:
        if act.name == "logistic":
            return out * (1 - out)
        if act.name == "tanh":
            return 1 - out * out
        return act.slope(net, out)


class OtherActivationSlope(Rules):
    """The tanh slope 1 − out² for a logistic neuron, or the logistic slope out(1 − out) for tanh."""

    def act_slope(self, act: Activation, net: float, out: float, output_layer: bool) -> float:
        if act.name == "logistic":
            return 1 - out * out
        if act.name == "tanh":
            return out * (1 - out)
        return act.slope(net, out)


class BaseTen(Rules):
    def squash(self, act: Activation, net: float) -> float:
        return 1 / (1 + 10.0 ** -max(net, -300)) if act.name == "logistic" else act.f(net)


class NoReciprocal(Rules):
    """e^(−net), without the 1/(1 + ·)."""

    def squash(self, act: Activation, net: float) -> float:
        return math.exp(-max(net, -700)) if act.name == "logistic" else act.f(net)


class PathsAveraged(Rules):
    def paths(self, terms: list[float]) -> float:
        return sum(terms) / len(terms)


class EtaTenfold(Rules):
    """A learning rate typed one decimal place off: 0.05 for 0.5."""

    def __init__(self, factor: float):
        self.factor = factor

    def update(self, value: float, eta: float, gradient: float) -> float:
        return value - eta * self.factor * gradient


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


def other_target(net: Network) -> Network | None:
    """Each output's error taken with the neighbouring output's target (E_o2 with target_o1)."""
    if len(net.targets) < 2 or len(set(net.targets)) == 1 or net.extra:
        return None
    return dataclasses.replace(net, targets=net.targets[1:] + net.targets[:1])


def other_batch(net: Network) -> Network | None:
    """The samples combined the other way: averaged where the lesson sums them, or summed."""
    if not net.extra:
        return None
    return dataclasses.replace(net, batch="sum" if net.batch == "mean" else "mean")


def misread_target(net: Network) -> Network | None:
    """A small target read one decimal place off: 0.1 for 0.01."""
    targets = tuple(y * 10 if 0 < abs(y) < 0.1 else y for y in net.targets)
    if targets == net.targets:
        return None
    return dataclasses.replace(net, targets=targets)


def on_step_only(net: Network) -> None:
    """A mistake recognised on the step itself, from the values it is made of (``Diagnoser.on_step``)."""
    return None


def step_mistake(mid: str, teach: str, family: str = "") -> Mistake:
    """A mistake whose text is written where it is found, on the step (``Diagnoser.on_step``)."""
    return Mistake(mid, "", "", teach, network=on_step_only, family=family)


@dataclass(frozen=True)
class Mistake:
    id: str
    did: str  # what the learner did, in one sentence
    right: str  # the right rule, and where to look
    teach: str  # the teaching hint when it is a pattern
    rules: Callable[[Network], Rules] = field(default=lambda net: Rules())
    network: Callable[[Network], Network | None] = field(default=lambda net: net)
    family: str = ""  # mistakes of one family make one pattern (the slope forgotten anywhere)
    losses: tuple[str, ...] = ()  # the losses whose formulas its words are about (all when empty)

    @property
    def kin(self) -> str:
        return self.family or self.id

    def applies(self, net: Network) -> bool:
        """Is this a mistake one can make on this lesson's loss?"""
        return not self.losses or net.loss in self.losses

    def variant(self, net: Network) -> Network | None:
        """The network as a learner making this mistake reads it; None where the mistake does not apply."""
        return self.network(net) if self.applies(net) else None


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
            lambda net: SlopeSignFlipped(), losses=("half-squared-error", "cross-entropy")),
    Mistake("bce-slope-sign", "You flipped the sign of the error's slope.",
            "∂E_total/∂out_o = −target/out + (1 − target)/(1 − out) = (out − target)/(out(1 − out)): positive when "
            "out is above its target, since the error then grows with out.",
            "Differentiate ln(1 − out) with the chain rule: the inner derivative is −1, which makes that term "
            "+(1 − target)/(1 − out).", lambda net: SlopeSignFlipped(), losses=("binary-cross-entropy",),
            family="slope-sign"),
    Mistake("bce-slope-kept", "You took out − target as ∂E/∂out_o, and so multiplied it by the logistic slope "
            "out(1 − out) once more.", "With binary cross-entropy ∂E_total/∂out_o = (out − target)/(out(1 − out)): "
            "its denominator cancels the logistic slope, so δ_o = out_o − target_o (`explain delta_o1` shows why).",
            "With logistic outputs and binary cross-entropy, δ_o = out_o − target_o: the σ′ has already cancelled.",
            lambda net: SquaredErrorSlope(), losses=("binary-cross-entropy",)),
    Mistake("bce-one-term", "You kept only the target·ln(out) term of the binary cross-entropy (the "
            "cross-entropy of softmax outputs).", "E_o = −(target·ln(out) + (1 − target)·ln(1 − out)): the "
            "second term counts the part of the sample that is not a 1.",
            "Binary cross-entropy has two terms, one for target and one for 1 − target: write both.",
            lambda net: OneTermOnly(), losses=("binary-cross-entropy",)),
    Mistake("output-slope-forgotten", "You left out the slope of the output neuron's activation (took "
            "∂out/∂net as 1).", "∂E/∂net_o = ∂E/∂out_o · out_o(1 − out_o): the activation's slope is a "
            "factor of the chain.", "Every neuron on the path adds its slope ∂out/∂net to the chain rule.",
            lambda net: SlopeForgotten(output_layer=True), family="slope-forgotten"),
    Mistake("slope-from-net", "You computed the logistic slope from the net input: net(1 − net).",
            "The slope is out(1 − out), with the output, not the net input.",
            "σ′(net) = σ(net)(1 − σ(net)) = out(1 − out): use the output.", lambda net: SlopeFromNet()),
    Mistake("slope-twice", "You put the output through the logistic function again before taking the "
            "slope: σ(out)(1 − σ(out)).", "The slope is out(1 − out), with out as it is.",
            "out is already σ(net): the slope uses it directly.", lambda net: SlopeTwice()),
    Mistake("other-activation-slope", "You used the slope of another activation function (1 − out² is tanh's, "
            "out(1 − out) the logistic's).", "Each neuron's slope is that of its own activation: out(1 − out) for "
            "the logistic function, 1 − out² for tanh.", "Look up which activation each layer uses before "
            "taking its slope.", lambda net: OtherActivationSlope()),
    Mistake("base-ten", "You computed the logistic function with 10 in place of e: 1/(1 + 10^(−net)).",
            "σ(net) = 1/(1 + e^(−net)), with e ≈ 2.71828.", "The logistic function uses the natural exponential.",
            lambda net: BaseTen(), family="logistic-formula"),
    Mistake("no-reciprocal", "You computed e^(−net) and stopped: the logistic function is 1/(1 + e^(−net)).",
            "σ(net) = 1/(1 + e^(−net)): add 1, then take the reciprocal.", "Write σ out in full each time: "
            "1/(1 + e^(−net)).", lambda net: NoReciprocal(), family="logistic-formula"),
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
            lambda net: OnePath(), family="term-left-out"),
    Mistake("paths-averaged", "You averaged the paths back to this hidden neuron instead of adding them.",
            "∂E_total/∂out_h is the sum over every path out of h, not their mean.",
            "The chain rule adds the paths: each one carries its own part of the error.",
            lambda net: PathsAveraged(), family="averaged"),
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
            "Every gradient uses the weights as they were before the update: each partial is the slope of "
            "E_total at one point, the weights as they are now, and all weights step together only once every "
            "gradient is known.", BEFORE_THE_UPDATE, lambda net: UpdatedWeights()),
    Mistake("hidden-slope-forgotten", "You left out the slope of the hidden neuron's activation.",
            "∂E/∂net_h = ∂E/∂out_h · out_h(1 − out_h).",
            "Every neuron on the path adds its slope ∂out/∂net to the chain rule.",
            lambda net: SlopeForgotten(output_layer=False), family="slope-forgotten"),
    Mistake("no-learning-rate", "You left out the learning rate (took η as 1).",
            "w⁺ = w − η·∂E/∂w, with the lesson's η.", "The step size is η times the gradient, not the gradient.",
            lambda net: NoLearningRate()),
    Mistake("eta-mistyped", "You used a learning rate one decimal place off (0.05 for 0.5, say).",
            "w⁺ = w − η·∂E/∂w with the lesson's η, digit by digit.", "Copy η from the lesson before each update.",
            lambda net: EtaTenfold(0.1)),
    Mistake("eta-mistyped-up", "You used a learning rate one decimal place off (5 for 0.5, say).",
            "w⁺ = w − η·∂E/∂w with the lesson's η, digit by digit.", "Copy η from the lesson before each update.",
            lambda net: EtaTenfold(10.0), family="eta-mistyped"),
    Mistake("wrong-target", "You took the target of the neighbouring output (in the post: target_o1 for E_o2).",
            "Each output's error uses its own target.", "Pair each output with its own target before "
            "subtracting.", network=other_target, family="wrong-neuron"),
    Mistake("samples-combined-wrong", "You combined the samples the other way: averaged where this lesson sums "
            "them, or summed where it averages.", "Check how the lesson combines its samples (sum or mean) and do "
            "the same for the error and every gradient.", "The batch is combined one way throughout.",
            network=other_batch),
    # recognised on the step itself, from the values it is made of (Diagnoser.on_step)
    step_mistake("factor-left-out", "Write the chain rule out factor by factor before multiplying."),
    step_mistake("factor-twice", "Each factor of the chain rule appears once."),
    step_mistake("term-left-out", "A sum has one term for every path, output or input: count them."),
    step_mistake("averaged-terms", "Add the terms: nothing here is divided by their number.",
            family="averaged"),
    step_mistake("wrong-neuron", "Check that every value you use belongs to the neuron of this step."),
    step_mistake("weight-as-input", "∂net/∂w is what the weight multiplies: its input, not the weight.",
            family="net-as-source"),
    step_mistake("wrong-index", "The paths from h go to every neuron of the next layer: one term each, "
            "δ of that neuron times the weight from h into it."),
    step_mistake("one-not-updated", "After the update, use every new weight and bias: list them before the "
                 "forward pass."),
    step_mistake("old-outputs", "After the update, compute the forward pass again from the inputs: each "
                 "layer uses the new outputs of the layer before."),
    step_mistake("error-of-sum", "Square each output's difference first, then add: E_total = Σ ½(target − out)²."),
    step_mistake("eta-in-gradient", "The gradient has no η in it: η comes in only at the update."),
    step_mistake("gradient-typed", "The update asks for the new weight, w − η·∂E/∂w, not the gradient."),
    step_mistake("step-typed", "η·∂E/∂w is the step; the new weight is the old one minus the step."),
    step_mistake("not-updated", "Every trained weight changes in the update: subtract η·∂E/∂w."),
    Mistake("gradient-added", "You added the gradient instead of subtracting it.",
            "w⁺ = w − η·∂E/∂w: descend, against the gradient.",
            "The gradient points uphill; gradient descent moves the other way.", lambda net: GradientAdded()),
)
BY_ID = {m.id: m for m in MISTAKES}


# ---------------------------------------------------------------------------------------------
# The shape of a step, read from the catalogue's own formula templates (never from anything typed)


@dataclass(frozen=True)
class Shape:
    """A step as a sum of products of the quantities it is made of (``1`` for a bias's input)."""

    kind: str  # "product", "sum", "mean", "update" or "other"
    terms: tuple[tuple[str, ...], ...] = ()
    n: int = 1  # the divisor of a mean


def shape(q: Quantity) -> Shape:
    formula = q.formula
    if m := re.fullmatch(r"\{([^}]+)\} − \{eta\} · \{([^}]+)\}", formula):
        return Shape("update", ((m[1],), ("eta", m[2])))
    n = 1
    if m := re.fullmatch(r"\((.*)\) / (\d+)", formula):
        formula, n = m[1], int(m[2])
    terms: list[tuple[str, ...]] = []
    for part in formula.split(" + "):
        factors = [x.strip() for x in part.split("·")]
        if not factors or not all(re.fullmatch(r"\{[^}]+\}|1", x) for x in factors):
            return Shape("other")
        terms.append(tuple(x[1:-1] if x != "1" else "1" for x in factors))
    if n > 1:
        return Shape("mean", tuple(terms), n)
    if len(terms) > 1:
        return Shape("sum", tuple(terms))
    parts = tuple(f for f in terms[0] if f != "1")
    return Shape("product", (parts,)) if len(parts) > 1 else Shape("other", (parts,))


# ---------------------------------------------------------------------------------------------
# Diagnosis


@dataclass(frozen=True)
class Finding:
    """One explanation of a wrong value."""

    kind: str  # "carried", "mistake", "slip", "rounding", "typo" or "convention"
    id: str  # the mistake's id, or the slip's: sign, power-of-ten, other-quantity, …
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id, "text": self.text}


def _prod(values: Sequence[float]) -> float:
    return math.prod(values)


class Diagnoser:
    """Explains wrong values on one lesson, given what the learner already has.

    ``known``: quantities the learner has right (pinned at their true values).
    ``own``: the learner's own wrong values of quantities not yet right, for carried errors.
    ``corrected``: earlier wrong values of quantities the learner has since got right.
    ``rounded``: gives each value as computed from intermediates rounded to 3 or 4 significant digits.
    ``shared``: the mistakes' traces by what is pinned (and each step's mistakes by the learner's wrong
    values), shared by the diagnosers of one lesson: they depend on nothing else, so learners with the
    same values compute them once.
    """

    def __init__(self, net: Network, trace: Mapping[str, float], catalogue: Mapping[str, Quantity],
                 drift: Mapping[str, float], known: set[str] | None = None, own: dict[str, float] | None = None,
                 corrected: dict[str, float] | None = None,
                 rounded: Callable[[], Sequence[Mapping[str, float]]] = tuple,
                 shared: dict[tuple, Any] | None = None, whole: bool = True):
        self.net, self.trace, self.catalogue, self.drift = net, trace, catalogue, drift
        self.whole = whole  # False: no mistake run over the whole lesson (a big batch's own quantities)
        self.known = {q: trace[q] for q in (known or set()) if q in trace}
        self.own = {q: v for q, v in (own or {}).items() if q in trace}
        self.corrected = {q: v for q, v in (corrected or {}).items() if q in trace and q in self.known}
        self._rounded = rounded
        self._shared = {} if shared is None else shared
        self.they, self.it = (("feed", "feeds") if net.layout.numbering == "by-receiver" else ("leave", "leaves"))

    # the mistakes, each run on the whole lesson ---------------------------------------------------

    def _variants(self, pinned: dict[str, float]) -> dict[str, dict[str, float]]:
        if not self.whole:
            return {}
        key = ("variants", frozenset(pinned.items()))
        if key not in self._shared:
            self._shared[key] = self._run_variants(pinned)
        return self._shared[key]

    def _run_variants(self, pinned: dict[str, float]) -> dict[str, dict[str, float]]:
        out = {}
        for m in MISTAKES:
            net = m.variant(self.net)
            if net is None:
                continue
            try:
                out[m.id] = run(net, rules=m.rules(net), pinned=pinned)
            except (OverflowError, ZeroDivisionError, ValueError, KeyError):
                continue
        return out

    @cached_property
    def variants(self) -> dict[str, dict[str, float]]:
        """Every mistake's trace, with what the learner has pinned."""
        return self._variants(self.known)

    def local(self, qid: str) -> dict[str, float]:
        """Each mistake made on this step alone, every other value as it should be (unless the
        learner's own wrong values say otherwise): what the rule gives from this step's right parts."""
        if not self.whole or self.ancestors(qid) <= set(self.known):
            return {}  # the whole-lesson variants are already local
        mine = {q: v for q, v in self.own.items() if q != qid and q not in self.known}
        key = ("local", qid, frozenset(mine.items()))  # the same for every learner with these wrong values
        if key in self._shared:
            return self._shared[key]
        pinned = {q: v for q, v in self.trace.items() if q != qid} | mine
        out = {}
        for m in MISTAKES:
            net = m.variant(self.net)
            if net is None:
                continue
            try:
                out[m.id] = run(net, rules=m.rules(net), pinned=pinned)[qid]
            except (OverflowError, ZeroDivisionError, ValueError, KeyError):
                continue
        self._shared[key] = out
        return out

    def text_of(self, mid: str) -> str:
        m = BY_ID[mid]
        return f"{m.did} {m.right.format(they=self.they, it=self.it)}"

    def distinguishable(self, qid: str, value: float) -> bool:
        """Would this value, typed in full, be judged wrong? (Else it cannot be told from the right one.)"""
        if not math.isfinite(value):
            return False
        typed = answers.parse_number(f"{value:.15e}")
        return answers.judge(typed, self.trace[qid], self.drift[qid]) == answers.WRONG

    def agrees(self, typed: Typed, value: float) -> bool:
        """The typed value is this value at the digits typed (three at least)."""
        if not math.isfinite(value):
            return False
        exact = Decimal(value)
        return answers.exact(typed, exact) or (typed.digits >= answers.MIN_DIGITS and answers.agrees(typed, exact))

    def near(self, typed: Typed, value: float, qid: str, own: bool = False) -> bool:
        """Within the rounding drift of this value, and nearer to it than to the right one."""
        if not math.isfinite(value) or typed.digits < answers.MIN_DIGITS:
            return False
        t = float(typed.value)
        off = abs(t - value)
        if not own and typed.digits > self.NEAR_DIGITS and off > 1000 * float(typed.unit):
            return False  # carried to many digits, yet far off at them: not this value rounded on the way
        return off <= self.drift[qid] and off < abs(t - self.trace[qid]) / 4

    NEAR_DIGITS = 6

    def matches(self, typed: Typed, value: float, qid: str) -> bool:
        """Agrees, or is near: what follows from the learner's own values, which they rounded as they went."""
        return self.agrees(typed, value) or self.near(typed, value, qid, own=True)

    def mistakes_on(self, qid: str) -> dict[str, float]:
        """The value each whole-lesson mistake gives on this step, where it can be told from the right one."""
        return {mid: t[qid] for mid, t in self.variants.items()
                if qid in t and self.distinguishable(qid, t[qid])}

    def candidates(self, qid: str, strict: bool = True) -> list[tuple[float, Finding]]:
        """Every known way to this step's wrong value: the mistakes, and slips on the step itself.
        ``strict``: only those that, typed in full, are judged wrong (outside the drift band)."""
        return [(v, f) for v, f in self.all_candidates(qid) if self.distinguishable(qid, v) or not strict]

    def all_candidates(self, qid: str) -> list[tuple[float, Finding]]:
        # cached on the diagnoser itself (not functools.cache, whose class-wide cache would keep every
        # diagnoser alive: a grader makes one per student's state and drops them)
        cache = self.__dict__.setdefault("_candidates", {})
        if qid not in cache:
            cache[qid] = self._all_candidates(qid)
        return cache[qid]

    def _all_candidates(self, qid: str) -> list[tuple[float, Finding]]:
        true = self.trace[qid]
        out = [(t[qid], Finding("mistake", mid, self.text_of(mid))) for mid, t in self.variants.items() if qid in t]
        out += [(v, Finding("mistake", mid, self.text_of(mid))) for mid, v in self.local(qid).items()]
        out += self.on_step(qid, self.view())
        out += self.one_left_out(qid)
        return [(v, f) for v, f in out if math.isfinite(v) and abs(v - true) > abs(true) * 1e-12]

    MOST_PARAMETERS = 64  # beyond this many trained parameters, one run each would be too slow

    @cached_property
    def one_not_updated(self) -> dict[str, dict[str, float]]:
        """For each trained parameter, the lesson after the update with that one left as it was."""
        params = [p for p in (*self.net.weights, *self.net.biases) if f"{p}+" in self.trace]
        if len(params) > self.MOST_PARAMETERS or not self.whole:
            return {}
        out = {}
        for p in params:
            try:
                out[p] = run(self.net, pinned=self.known | {f"{p}+": self.trace[p]})
            except (OverflowError, ZeroDivisionError, ValueError):
                continue
        return out

    def one_left_out(self, qid: str) -> list[tuple[float, Finding]]:
        """A value after the update computed with one weight or bias not updated."""
        if not qid.endswith("+") or qid[:-1] in self.net.weights or qid[:-1] in self.net.biases:
            return []
        q = self.catalogue[qid]
        return [(t[qid], Finding("mistake", "one-not-updated", f"You computed {q.symbol} with {symbol(p)} as it was "
                                 f"before the update: every trained weight and bias takes its new value, "
                                 f"{symbol(p + '+')}."))
                for p, t in self.one_not_updated.items() if qid in t]

    def confusers(self, qid: str) -> list[tuple[float, Finding]]:
        """What a right-looking answer could be confused with on this step."""
        return self.candidates(qid)

    # the step itself ------------------------------------------------------------------------------

    def view(self, own: dict[str, float] | None = None) -> Callable[[str], float]:
        """The learner's value of each quantity: their own where it was off, else the right one."""
        mine = self.own if own is None else own

        def value(x: str) -> float:
            if x == "1":
                return 1.0
            return mine[x] if x in mine and x not in self.known else self.trace[x]
        return value

    def on_step(self, qid: str, v: Callable[[str], float]) -> list[tuple[float, Finding]]:
        """Values built from this step's own parts with one thing done wrong: a factor left out, replaced
        or doubled, a term left out, the terms averaged, the update done another way."""
        q = self.catalogue[qid]
        sh = shape(q)
        out: list[tuple[float, Finding]] = []

        def add(value: float, mid: str, text: str) -> None:
            if math.isfinite(value):
                out.append((value, Finding("mistake", mid, text)))

        if sh.kind == "product":
            factors = sh.terms[0]
            whole = " · ".join(symbol(f) for f in factors)
            for i, f in enumerate(factors):
                rest = _prod([v(g) for j, g in enumerate(factors) if j != i])
                had = ", which you had right" if f in self.known else ""
                add(rest, self.left_out_id(f), f"You left out {symbol(f)}{had}: {q.symbol} = {whole}.")
                for value, mid, text in self.alternatives(f, v):
                    add(rest * value, mid, text)
                add(rest * v(f) * v(f), "factor-twice", f"You multiplied by {symbol(f)} twice: {q.symbol} = {whole}.")
            for f in factors:  # ∂E/∂out_j · ∂out_j/∂net_j is δ_j: the neighbour's δ in its place
                m = re.fullmatch(r"dout_(\w+)/dnet_\1", f)
                if m and f"dE_total/dout_{m[1]}" in factors:
                    j = m[1]
                    rest = _prod([v(g) for g in factors if g not in (f, f"dE_total/dout_{j}")])
                    for other in self.net.layout.neurons[self.layer_of(j)]:
                        if other != j and f"delta_{other}" in self.trace:
                            add(rest * v(f"delta_{other}"), "wrong-neuron", f"You used δ_{other} where δ_{j} "
                                f"belongs (∂E_total/∂out_{j} · ∂out_{j}/∂net_{j}).")
            if qid.startswith("dE_total/d"):
                add(_prod([v(f) for f in factors]) * v("eta"), "eta-in-gradient",
                    "You multiplied by η: the gradient has no η in it; η comes in at the update.")
        elif sh.kind in ("sum", "mean"):
            values = [_prod([v(x) for x in t]) for t in sh.terms]
            total = sum(values)
            for k, t in enumerate(sh.terms):
                name = " · ".join(symbol(x) for x in t if x != "1") + (" · 1" if "1" in t and len(t) == 1 else "")
                is_bias = "1" in t and any(x in self.net.biases or x.rstrip("+") in self.net.biases for x in t)
                add((total - values[k]) / sh.n, "bias-left-out" if is_bias else self.term_id(qid),
                    f"You left out the term {name} of the sum: {q.symbol} adds one term for each of its "
                    f"{len(sh.terms)} parts.")
            if sh.kind == "sum":
                add(total / len(values), "averaged-terms", f"You averaged the {len(values)} terms of "
                    f"{q.symbol} instead of adding them.")
            else:
                add(total, "samples-combined-wrong", f"You added the samples' values; this lesson takes their "
                    f"mean (divide by {sh.n}).")
            out += self.special_sums(q, v)
            out += self.sources_replaced(q, sh, v)
        elif sh.kind == "update":
            p, g = sh.terms[0][0], sh.terms[1][1]
            w, eta, grad = v(p), v("eta"), v(g)
            add(w - grad, "no-learning-rate", self.text_of("no-learning-rate"))
            add(w + eta * grad, "gradient-added", self.text_of("gradient-added"))
            add(w - eta / 10 * grad, "eta-mistyped", self.text_of("eta-mistyped"))
            add(w - eta * 10 * grad, "eta-mistyped-up", self.text_of("eta-mistyped-up"))
            add(grad, "gradient-typed", f"That is the gradient {symbol(g)}; {q.symbol} is {symbol(p)} − η·{symbol(g)}.")
            add(eta * grad, "step-typed", f"That is the step η·{symbol(g)}; {q.symbol} is {symbol(p)} minus it.")
            add(w, "not-updated", f"That is {symbol(p)} before the update: {q.symbol} = {symbol(p)} − η·{symbol(g)}.")
        elif (sh.terms and len(sh.terms[0]) == 1) or re.fullmatch(r"dout_(\w+)/dnet_\1(?:@\d+)?", qid):
            # a step that copies one value (∂net/∂w, a path's weight), or a slope
            out += [(value, Finding("mistake", mid, text)) for value, mid, text in self.alternatives(qid, v)]
        return out

    def left_out_id(self, f: str) -> str:
        if m := re.fullmatch(r"dout_(\w+)/dnet_\1(?:@\d+)?", f):
            return "output-slope-forgotten" if m[1] in self.net.layout.neurons[-1] else "hidden-slope-forgotten"
        return "factor-left-out"

    def term_id(self, qid: str) -> str:
        if qid.startswith("E_total"):
            return "one-output-error"
        if re.fullmatch(r"dE_total/dout_\w+(?:@\d+)?", qid):
            return "one-path"
        return "term-left-out"

    def layer_of(self, neuron: str) -> int:
        return next(l for l, names in enumerate(self.net.layout.neurons) if neuron in names)

    def alternatives(self, f: str, v: Callable[[str], float]) -> list[tuple[float, str, str]]:
        """Values a learner may put in place of the part ``f``, with the mistake each one is. A part of
        one sample (``dout_h1/dnet_h1@2``) has the same alternatives, taken from that sample."""
        m = re.fullmatch(r"(.+)(@\d+)", f)
        if not m:
            return self._alternatives(f, f, v, lambda x: x in self.trace)
        suffix = m[2]

        def per(x: str) -> str:
            return x + suffix if x + suffix in self.trace else x
        return self._alternatives(m[1], f, lambda x: v(per(x)), lambda x: per(x) in self.trace)

    def _alternatives(self, f: str, real: str, v: Callable[[str], float],
                      has: Callable[[str], bool]) -> list[tuple[float, str, str]]:
        L = self.net.layout
        out: list[tuple[float, str, str]] = []
        if m := re.fullmatch(r"dout_(\w+)/dnet_\1", f):  # a slope
            j = m[1]
            l = self.layer_of(j)
            act = self.net.activations[l - 1]
            for k in L.neurons[l]:
                if k != j and has(f"dout_{k}/dnet_{k}"):
                    out.append((v(f"dout_{k}/dnet_{k}"), "wrong-neuron",
                                f"You used the slope of {k}, ∂out_{k}/∂net_{k}, where {j}'s belongs."))
            o, n = v(f"out_{j}"), v(f"net_{j}")
            if act == "logistic":
                out.append((1 - o * o, "other-activation-slope", self.text_of("other-activation-slope")))
                out.append((n * (1 - n), "slope-from-net", self.text_of("slope-from-net")))
                s = 1 / (1 + math.exp(-o))
                out.append((s * (1 - s), "slope-twice", self.text_of("slope-twice")))
            elif act == "tanh":
                out.append((o * (1 - o), "other-activation-slope", self.text_of("other-activation-slope")))
        elif m := re.fullmatch(r"delta_(\w+)", f):
            j = m[1]
            if has(f"dE_total/dout_{j}") and has(f"dout_{j}/dnet_{j}"):
                out.append((v(f"dE_total/dout_{j}"), self.left_out_id(f"dout_{j}/dnet_{j}"),
                            f"You used ∂E_total/∂out_{j} where δ_{j} belongs: δ_{j} also has {j}'s slope "
                            f"∂out_{j}/∂net_{j} in it."))
            for k in L.neurons[self.layer_of(j)]:
                if k != j:
                    out.append((v(f"delta_{k}"), "wrong-neuron", f"You used δ_{k} where δ_{j} belongs."))
        elif m := re.fullmatch(r"dnet_(\w+)/d(w\d+)", f):  # what a weight multiplies
            j, w = m[1], m[2]
            src = self.catalogue[real].deps[0] if self.catalogue[real].deps else None
            src = src.split("@")[0] if src else None
            out.append((v(w), "weight-as-input", f"You used the weight {w} where the value it multiplies "
                        f"belongs: ∂net_{j}/∂{w} is {symbol(src or w)}."))
            if src and src.startswith("out_") and has(f"net_{src[4:]}"):
                out.append((v(f"net_{src[4:]}"), "net-as-source", self.text_of("net-as-source")))
            l, r, s_ = L.connection(w)
            sources = L.neurons[l]
            if len(sources) > 1:
                other = sources[(s_ + 1) % len(sources)]
                other_value = other if other.startswith("i") else f"out_{other}"
                out.append((v(other_value), "wrong-source", self.text_of("wrong-source")))
        elif m := re.fullmatch(r"dnet_(\w+)/dout_(\w+)", f):  # a path's weight
            w = self.catalogue[real].deps[0]
            if f"{w}+" in self.trace:
                out.append((self.trace[f"{w}+"], "updated-weights", self.text_of("updated-weights")))
            l, r, s_ = L.connection(w)
            other = other_numbering_layout(L).weights[l][r][s_]
            for w2 in L.weights[l][0][s_], other:
                if w2 != w:
                    mid = "path-weight-numbering" if w2 == other else "wrong-path-weight"
                    out.append((v(w2), mid, self.text_of(mid)))
        return out

    def sources_replaced(self, q: Quantity, sh: Shape, v: Callable[[str], float]) -> list[tuple[float, Finding]]:
        """A net input with the wrong value on every connection: net for out, or each weight paired
        with the neighbouring input."""
        pairs = [t for t in sh.terms if len(t) == 2 and "1" not in t]
        if sh.kind != "sum" or not q.id.startswith("net_") or len(pairs) < 2:
            return []
        rest = sum(_prod([v(x) for x in t]) for t in sh.terms if t not in pairs)
        out = []
        nets = [f"net_{x[4:]}" for _, x in pairs if x.startswith("out_")]
        if len(nets) == len(pairs) and all(n.rstrip("+") in self.trace or n in self.trace for n in nets):
            names = [n if n in self.trace else n.rstrip("+") for n in nets]
            value = rest + sum(v(w) * v(n) for (w, _), n in zip(pairs, names))
            out.append((value, Finding("mistake", "net-as-source", self.text_of("net-as-source"))))
        swapped = rest + sum(v(w) * v(pairs[(k + 1) % len(pairs)][1]) for k, (w, _) in enumerate(pairs))
        out.append((swapped, Finding("mistake", "wrong-source", f"You paired each weight with the wrong input: "
                                     f"in {q.symbol}, {symbol(pairs[0][0])} multiplies {symbol(pairs[0][1])}.")))
        if q.id.endswith("+"):  # after the update: the new weights with the old outputs, or the reverse
            before = [x[:-1] if x.endswith("+") and x[:-1] in self.trace else x for _, x in pairs]
            if before != [x for _, x in pairs]:
                value = rest + sum(v(w) * v(x) for (w, _), x in zip(pairs, before))
                out.append((value, Finding("mistake", "old-outputs", f"You used the outputs from before the "
                                           f"update: {q.symbol} takes the layer's new outputs "
                                           f"({', '.join(symbol(x) for _, x in pairs)}).")))
            old = [w[:-1] if w.endswith("+") and w[:-1] in self.trace else w for w, _ in pairs]
            if old != [w for w, _ in pairs]:
                value = rest + sum(v(w) * v(x) for w, (_, x) in zip(old, pairs))
                out.append((value, Finding("mistake", "not-updated", f"You used the weights from before the "
                                           f"update: {q.symbol} uses {', '.join(symbol(w) for w, _ in pairs)}.")))
        return out

    def special_sums(self, q: Quantity, v: Callable[[str], float]) -> list[tuple[float, Finding]]:
        """Sums with a mistake of their own: the error of the sum, the wrong summation index."""
        out = []
        L = self.net.layout
        outs = L.neurons[-1]
        if q.id in ("E_total", "E_total+") and not self.net.extra and self.net.loss == "half-squared-error":
            tag = q.id[len("E_total"):]
            diffs = [v(f"target_{o}") - v(f"out_{o}{tag}") for o in outs]
            out.append((0.5 * sum(diffs) ** 2, Finding("mistake", "error-of-sum", "You squared the sum of the "
                        "differences; E_total is the sum of each output's ½(target − out)².")))
            out.append((2 * sum(v(f"E_{o}{tag}") for o in outs), Finding("mistake", "half-dropped",
                                                                          self.text_of("half-dropped"))))
        if m := re.fullmatch(r"dE_total/dout_(\w+)", q.id):
            j = m[1]
            l = self.layer_of(j)
            if 0 < l < L.depth:
                r = L.neurons[l].index(j)
                nxt = L.neurons[l + 1]
                if r < len(nxt):
                    value = v(f"delta_{nxt[r]}") * sum(v(w) for w in L.weights[l][r])
                    names = " + ".join(L.weights[l][r])
                    out.append((value, Finding("mistake", "wrong-index", f"You summed over the wrong index: "
                                f"δ_{nxt[r]}·({names}) adds the weights into {nxt[r]}; the paths from {j} are one "
                                f"term for each neuron {j} {self.it}, its δ times the weight from {j}.")))
        return out

    # the diagnosis -----------------------------------------------------------------------------------

    def diagnose(self, qid: str, typed: Typed) -> list[Finding]:
        q = self.catalogue[qid]
        true = self.trace[qid]
        if qid.startswith("delta_") and self.agrees(typed, -true):
            return [Finding("convention", "delta-sign", f"That is {q.symbol} with the other sign convention, "
                            "δ = −∂E/∂net, which some texts use. Here δ is ∂E_total/∂net, so its sign is the "
                            "opposite of yours.")]
        before = qid[:-1]
        if qid.endswith("+") and before in self.trace and self.agrees(typed, self.trace[before]) \
                and self.distinguishable(qid, self.trace[before]):
            return [Finding("slip", "not-updated", f"That is {symbol(before)}, the value before the update: "
                            f"{q.symbol} is computed again with the updated values.")]
        carried = self.carried(qid, typed)
        if carried:
            return carried
        if self.rounding(qid, typed):
            return [Finding("rounding", "rounding", "Your value is what rounding the intermediate values to 3 or 4 "
                            "significant digits gives: the method looks right. Carry at least 6 significant digits "
                            "through every step, then type this value again.")]
        cands = self.candidates(qid)
        found = self.unique([f for v, f in cands if self.agrees(typed, v)]
                            or [f for v, f in self.candidates(qid, strict=False) if self.agrees(typed, v)])
        if found:
            return found
        slip = self.sign_or_place(true, typed)
        if slip:
            return slip
        if self.typo(true, typed):
            return [Finding("typo", "typo", "Check your digits: your value looks like the right one with a digit "
                            "mistyped, two digits swapped, or one left out or doubled.")]
        found = self.unique([f for v, f in cands if self.near(typed, v, qid)])
        return found or self.slips(q, typed)

    @staticmethod
    def unique(findings: list[Finding]) -> list[Finding]:
        """One finding a mistake (the first: the whole-lesson rule's text before the step's)."""
        seen: dict[str, Finding] = {}
        for f in findings:
            seen.setdefault(f.id, f)
        return list(seen.values())

    @cached_property
    def rounded(self) -> Sequence[Mapping[str, float]]:
        return self._rounded()

    def rounding(self, qid: str, typed: Typed) -> bool:
        """Is the value what rounding (or truncating) the intermediates to 3 or 4 digits gives?"""
        if not self.rounded or typed.digits < answers.MIN_DIGITS:
            return False
        return any(self.agrees(typed, r[qid]) for r in self.rounded if qid in r)

    @staticmethod
    def typo(true: float, typed: Typed) -> bool:
        """The right value with one digit mistyped, two neighbours swapped, or one dropped or doubled."""
        if typed.digits < answers.MIN_DIGITS or true == 0 or (typed.value < 0) != (true < 0):
            return False
        mine = "".join(map(str, typed.value.as_tuple().digits)).lstrip("0")
        exact = Decimal(true)

        def digits(n: int) -> set[str]:
            if n < 1:
                return set()
            out = set()
            for mode in (ROUND_HALF_EVEN, ROUND_DOWN):
                d = abs(exact).quantize(Decimal(1).scaleb(exact.adjusted() - n + 1), rounding=mode, context=_WIDE)
                out.add("".join(map(str, d.as_tuple().digits)).lstrip("0")[:n])
            return out

        same_size = typed.value.adjusted() == exact.adjusted()
        for right in digits(len(mine)):
            if len(right) != len(mine) or not same_size:
                continue
            diff = [k for k in range(len(mine)) if mine[k] != right[k]]
            if len(diff) == 1 and not (diff[0] == len(mine) - 1 and abs(int(mine[-1]) - int(right[-1])) <= 1):
                return True
            if len(diff) == 2 and diff[1] == diff[0] + 1 and mine[diff[0]] == right[diff[1]] \
                    and mine[diff[1]] == right[diff[0]]:
                return True
        if not same_size:
            return False
        for right in digits(len(mine) + 1):  # one digit left out
            if any(right[:k] + right[k + 1:] == mine for k in range(len(right) - 1)):
                return True
        for right in digits(len(mine) - 1):  # one digit doubled or put in
            if any(mine[:k] + mine[k + 1:] == right for k in range(len(mine) - 1)):
                return True
        return False

    def carried(self, qid: str, typed: Typed) -> list[Finding]:
        if not self.whole:
            return []
        ancestors = self.ancestors(qid)
        wrong = {d: v for d, v in self.own.items() if d in ancestors and self.distinguishable(d, v)}
        stale = {d: v for d, v in self.corrected.items() if d in ancestors and self.distinguishable(d, v)}
        if stale:
            then = run(self.net, rules=FromOut(),
                       pinned={k: x for k, x in self.known.items() if k not in stale} | stale | wrong)
            if self.matches(typed, then.get(qid, math.nan), qid):
                names = ", ".join(symbol(d) for d in self.first(stale))
                return [Finding("carried", "stale", f"This still uses your earlier {names}, which you have "
                                "since corrected: work this step again from the corrected value.")]
        if not wrong:
            return []
        root = ", ".join(symbol(d) for d in self.first(wrong))
        value = run(self.net, rules=FromOut(), pinned=self.known | wrong).get(qid)
        if value is not None and self.matches(typed, value, qid):
            return [Finding("carried", "carried", f"This follows from your {root}, the first value that was "
                            "off: fix that, and this one will follow.")]
        on_top = [f for v, f in self.on_step(qid, self.view(wrong)) if self.agrees(typed, v)]
        for mid, t in self._variants(self.known | wrong).items():
            if self.agrees(typed, t.get(qid, math.nan)) and not self.agrees(typed, self.trace[qid]):
                on_top.append(Finding("mistake", mid, self.text_of(mid)))
        return [Finding(f.kind, f.id, f"{f.text} (On top of that, this uses your {root}, which was off.)")
                for f in self.unique(on_top)]

    def first(self, wrong: dict[str, float]) -> list[str]:
        """The roots among wrong values: those that do not themselves follow from another wrong one."""
        return [d for d in wrong if not any(o in self.ancestors(d) for o in wrong if o != d)]

    def ancestors(self, qid: str) -> set[str]:
        cache = self.__dict__.setdefault("_ancestors_of", {})
        if qid not in cache:
            cache[qid] = self._ancestors(qid)
        return cache[qid]

    def _ancestors(self, qid: str) -> set[str]:
        seen: set[str] = set()
        todo = list(self.catalogue[qid].deps)
        while todo:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo.extend(self.catalogue[d].deps)
        return seen

    def sign_or_place(self, true: float, typed: Typed) -> list[Finding]:
        if self.agrees(typed, -true):
            return [Finding("slip", "sign", "Your value has the right size but the wrong sign.")]
        for k in (1, -1, 2, -2, 3, -3):
            if self.agrees(typed, true * 10.0 ** k):
                return [Finding("slip", "power-of-ten", "Your digits are right, but the decimal point is "
                                f"off by {abs(k)} place{'s' if abs(k) != 1 else ''}.")]
        return []

    def slips(self, q: Quantity, typed: Typed) -> list[Finding]:
        for other in self.related(q):
            if self.agrees(typed, self.trace[other]) and self.distinguishable(q.id, self.trace[other]):
                o = self.catalogue[other]
                return [Finding("slip", "other-quantity", f"That is the value of {o.symbol} ({o.meaning}), "
                                f"not of {q.symbol}.")]
        return []

    def related(self, q: Quantity) -> list[str]:
        """Quantities a learner may type by mistake: this step's parts, then what lies on its path."""
        near = list(dict.fromkeys(q.deps))
        if m := re.fullmatch(r"out_(\w+)", q.id):
            near.insert(0, f"net_{m[1]}")
        ancestors = self.ancestors(q.id) if self.whole else set()
        path = [x for x in self.trace if x in ancestors or x in self.known] if self.whole else []
        return [x for x in dict.fromkeys([*near, *path]) if x != q.id and x in self.catalogue]


def patterns(history: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Mistakes seen on two steps or more, one family counting as one: family id → the steps.
    ``history`` holds (mistake, step), a diagnosis only when it was the only one."""
    steps: dict[str, list[str]] = {}
    for mid, qid in history:
        if mid in BY_ID:
            kin = BY_ID[mid].kin
            if qid not in steps.setdefault(kin, []):
                steps[kin].append(qid)
    return {kin: qs for kin, qs in steps.items() if len(qs) >= 2}


def teaching(kin: str) -> str:
    """The teaching hint of a family of mistakes."""
    return next((m.teach for m in MISTAKES if m.kin == kin), "")

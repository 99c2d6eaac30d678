"""The calculus a learner writes: each local derivative taken step by step, from the definition to the
textbook form (σ′ = out(1 − out), ∂E/∂out = −(target − out), tanh′ = 1 − out², …).

A derivation is a list of ``Line``: a reason in words and the derivative written one step further.
Each activation and each loss has one in ``ACTIVATION_STEPS`` / ``LOSS_STEPS``, keyed by the names of
``network.ACTIVATIONS`` / ``network.LOSSES``; a name without one gets ``generic_*``: the definition's
derivative in one step. ``checked`` makes SymPy confirm every line equals the one before (the first
equals the derivative of the definition, the last the textbook form); the symbolic layer shows only
a derivation that passes. Like ``symbolic``, this module imports SymPy: nothing else does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy import Expr


@dataclass(frozen=True)
class Line:
    why: str
    expr: Expr  # the derivative, written as the learner writes it (not evaluated)


@dataclass(frozen=True)
class Steps:
    """How one slope is taken: the function written out, then the lines to the textbook form."""

    written: tuple[Expr, ...]  # forms of the function itself, after its name (σ(net) = 1/(1 + e^(−net)) …)
    lines: tuple[Line, ...]
    function: Expr  # the function, for the checks (in net, or in the outputs of a loss)
    wrt: Expr  # what it is differentiated by
    outputs: dict[Expr, Expr]  # symbols written for an expression of ``wrt`` (out → σ(net)), for the checks


class Written(sp.AtomicExpr):
    """A number as the learner writes it before working it out (2 − 1, −1): printed as ``text``."""

    is_commutative = True

    def __new__(cls, text: str, math: int) -> Written:
        obj = sp.AtomicExpr.__new__(cls)
        obj.text, obj.math = text, sp.Integer(math)
        return obj

    def _hashable_content(self) -> tuple[object, ...]:
        return (self.text,)

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(self.text if printer._use_unicode else self.text.replace("−", "-"))

    def _sympystr(self, printer: Any) -> str:
        return self.text

    def _latex(self, printer: Any) -> str:
        return self.text.replace("−", "-")


class Frac(sp.Expr):
    """a/b drawn as one fraction, never merged with the factors beside it."""

    is_commutative = True

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        top, bottom = (printer._print(a) for a in self.args)
        return prettyForm(*(top / bottom).parens()) if getattr(printer, "_in_power", False) else top / bottom

    def _sympystr(self, printer: Any) -> str:
        top, bottom = (printer.parenthesize(a, 50) for a in self.args)
        return f"{top}/{bottom}"

    def _latex(self, printer: Any) -> str:
        top, bottom = (printer._print(a) for a in self.args)
        return rf"\frac{{{top}}}{{{bottom}}}"


class Bracket(sp.Expr):
    """(x), kept where the learner writes it."""

    is_commutative = True

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        return prettyForm(*printer._print(self.args[0]).parens())

    def _sympystr(self, printer: Any) -> str:
        return f"({printer._print(self.args[0])})"

    def _latex(self, printer: Any) -> str:
        return rf"\left({printer._print(self.args[0])}\right)"


def _u(*args: Expr) -> Expr:
    return sp.Mul(*args, evaluate=False)


def _s(*args: Expr) -> Expr:
    return sp.Add(*args, evaluate=False)


def _p(base: Expr, power: Expr) -> Expr:
    return sp.Pow(base, power, evaluate=False)


def _neg(x: Expr) -> Expr:
    return sp.Mul(-1, x, evaluate=False)


def _minus(a: Expr, b: Expr) -> Expr:
    return sp.Add(a, _neg(b), evaluate=False)


def _over(a: Expr, b: Expr) -> Expr:
    return Frac(a, b)


def _exp(x: Expr) -> Expr:
    return sp.exp(x, evaluate=False)


# ---------------------------------------------------------------------------------------------
# Activations: (net, out) → Steps


def logistic(net: Expr, out: Expr) -> Steps:
    e = _exp(_neg(net))
    inside = _s(sp.Integer(1), e)
    f = 1 / (1 + sp.exp(-net))
    frac = _over(sp.Integer(1), inside)
    lines = (
        Line("Written as a power, out = (1 + e^(−net))^(−1). Outside, the power −1 comes down and drops by one; "
             "inside, 1 + e^(−net) changes at the rate −e^(−net). The chain rule multiplies the two:",
             _u(Written("−1", -1), _p(Bracket(inside), Written("−2", -2)), Bracket(_neg(e)))),
        Line("The two minus signs cancel:", _over(e, _p(inside, 2))),
        Line("Split the square into two fractions:", _u(frac, _over(e, inside))),
        Line("The second fraction is 1 minus the first, because e^(−net) = (1 + e^(−net)) − 1:",
             _u(frac, _minus(sp.Integer(1), frac))),
        Line("Each fraction is out itself, already computed in the forward pass:",
             _u(out, _minus(sp.Integer(1), out))),
    )
    return Steps((frac,), lines, f, net, {out: f})


def tanh(net: Expr, out: Expr) -> Steps:
    up, down = _exp(net), _exp(_neg(net))
    top, bottom = _minus(up, down), _s(up, down)
    f = sp.tanh(net)
    lines = (
        Line("The quotient rule, (top′·bottom − top·bottom′)/bottom²: the top's slope is e^net + e^(−net), the "
             "bottom itself, and the bottom's slope is e^net − e^(−net), the top:",
             _over(_minus(_u(bottom, bottom), _u(top, top)), _p(bottom, 2))),
        Line("Split the fraction:", _minus(sp.Integer(1), _p(_over(top, bottom), 2))),
        Line("What is squared is tanh(net), the output:", _minus(sp.Integer(1), _p(out, 2))),
    )
    return Steps((sp.tanh(net), _over(top, bottom)), lines, f, net, {out: f})


def relu(net: Expr, out: Expr) -> Steps:
    f = sp.Piecewise((net, net > 0), (0, True))
    lines = (
        Line("Each piece has its own slope: net changes at the rate 1, the constant 0 not at all. At exactly 0 "
             "the pieces meet at a kink, where there is no single slope; the tutor takes 0 there, as PyTorch "
             "does, which is what the second piece gives:",
             sp.Piecewise((sp.Integer(1), net > 0), (sp.Integer(0), True))),
    )
    return Steps((f,), lines, f, net, {})


def identity(net: Expr, out: Expr) -> Steps:
    return Steps((net,), (Line("The output is the net input itself, which changes at the rate 1:", sp.Integer(1)),),
                 net, net, {})


ACTIVATION_STEPS: dict[str, Callable[[Expr, Expr], Steps]] = {
    "logistic": logistic, "tanh": tanh, "relu": relu, "identity": identity,
}


def softmax(nets: list[Expr], outs: list[Expr], k: int, j: int) -> Steps:
    """∂out_k/∂net_j of a softmax layer, by the quotient rule."""
    total = _s(*(_exp(n) for n in nets))
    exps = [sp.exp(n) for n in nets]
    f = exps[k] / sp.Add(*exps)
    share = [_over(_exp(n), total) for n in nets]
    if k == j:
        lines = (
            Line(f"The quotient rule, (top′·bottom − top·bottom′)/bottom²: both the top e^{_name(nets[k])} and the "
                 f"bottom (the sum) change with {_name(nets[k])} at the rate e^{_name(nets[k])}:",
                 _over(_minus(_u(_exp(nets[k]), total), _u(_exp(nets[k]), _exp(nets[k]))), _p(total, 2))),
            Line("Split the fraction:", _u(share[k], _minus(sp.Integer(1), share[k]))),
            Line("Each e^net over the sum is that output:", _u(outs[k], _minus(sp.Integer(1), outs[k]))),
        )
    else:
        lines = (
            Line(f"The quotient rule: the top e^{_name(nets[k])} does not change with {_name(nets[j])} (its slope is "
                 f"0); the bottom does, at the rate e^{_name(nets[j])}:",
                 _over(_minus(_u(sp.Integer(0), total), _u(_exp(nets[k]), _exp(nets[j]))), _p(total, 2))),
            Line("Split the fraction:", _neg(_u(share[k], share[j]))),
            Line("Each e^net over the sum is that output:", _neg(_u(outs[k], outs[j]))),
        )
    values = {o: exps[m] / sp.Add(*exps) for m, o in enumerate(outs)}
    return Steps((_over(_exp(nets[k]), total),), lines, f, nets[j], values)


def _name(x: Expr) -> str:
    return str(x)


def generic_activation(f: Expr, net: Expr) -> Steps:
    """An activation without steps of its own: the definition's derivative, in one step."""
    return Steps((f,), (Line("Its derivative:", sp.diff(f, net)),), f, net, {})


# ---------------------------------------------------------------------------------------------
# Losses: (targets, outputs, which output) → Steps


def half_squared_error(targets: list[Expr], outs: list[Expr], o: int) -> Steps:
    half = sp.Rational(1, 2)
    terms = [_u(half, _p(_minus(t, y), 2)) for t, y in zip(targets, outs)]
    f = sp.Add(*(half * (t - y) ** 2 for t, y in zip(targets, outs)))
    others = [sp.Integer(0)] * (len(outs) - 1)
    diff = _minus(targets[o], outs[o])
    lines = (
        Line(f"Only the term of {outs[o]} changes with it; every other term is a constant, with slope 0. In that "
             "term the power rule brings the 2 down and lowers the power by one, and the chain rule multiplies "
             "by the slope of what is squared: target − out changes at the rate −1:",
             _s(_u(2, half, _p(Bracket(diff), Written("2 - 1", 1)), Written("(-1)", -1)), *others)),
        Line("2·½ is 1, the power is 1, and the zeros drop out:", _neg(diff)),
    )
    return Steps((_s(*terms),), lines, f, outs[o], {})


def cross_entropy(targets: list[Expr], outs: list[Expr], o: int) -> Steps:
    terms = [_neg(_u(t, sp.log(y, evaluate=False))) for t, y in zip(targets, outs)]
    f = sp.Add(*(-t * sp.log(y) for t, y in zip(targets, outs)))
    others = [sp.Integer(0)] * (len(outs) - 1)
    lines = (
        Line(f"Only the term of {outs[o]} changes with it; the others are constants, with slope 0. The slope of "
             "ln x is 1/x:", _s(_neg(_u(targets[o], _over(sp.Integer(1), outs[o]))), *others)),
        Line("Tidied up:", _neg(_u(targets[o], _p(outs[o], -1)))),
    )
    return Steps((_s(*terms),), lines, f, outs[o], {})


def binary_cross_entropy(targets: list[Expr], outs: list[Expr], o: int) -> Steps:
    terms = [-(t * sp.log(y) + (1 - t) * sp.log(1 - y)) for t, y in zip(targets, outs)]
    f = sp.Add(*terms)
    others = [sp.Integer(0)] * (len(outs) - 1)
    t, y = targets[o], outs[o]
    lines = (
        Line(f"Only the term of {y} changes with it; the others are constants, with slope 0. The slope of "
             "ln x is 1/x, and the slope of ln(1 − x) is −1/(1 − x):", _s(-t / y + (1 - t) / (1 - y), *others)),
        Line("Over one denominator:", (y - t) / (y * (1 - y))),
    )
    return Steps((_s(*terms),), lines, f, y, {})


LOSS_STEPS: dict[str, Callable[[list[Expr], list[Expr], int], Steps]] = {
    "half-squared-error": half_squared_error, "cross-entropy": cross_entropy,
    "binary-cross-entropy": binary_cross_entropy,
}


def generic_loss(terms: list[Expr], outs: list[Expr], o: int) -> Steps:
    """A loss without steps of its own: only the term of out_o changes, and its derivative."""
    f = sp.Add(*(t.doit() for t in terms))
    return Steps((_s(*terms),), (Line(f"Only the term of {outs[o]} changes with it; its derivative:",
                                      sp.diff(terms[o].doit(), outs[o])),), f, outs[o], {})


# ---------------------------------------------------------------------------------------------
# The checks


def value(expr: Expr, outputs: dict[Expr, Expr]) -> Expr:
    """A written line as algebra: evaluated, with every output replaced by its definition."""
    def go(e: Any) -> Any:
        if isinstance(e, Written):
            return e.math
        if isinstance(e, Frac):
            return go(e.args[0]) / go(e.args[1])
        if isinstance(e, Bracket):
            return go(e.args[0])
        if not e.args:
            return e
        return e.func(*(go(a) for a in e.args))

    done = go(expr).doit()
    return done.xreplace(outputs) if outputs else done


def equal(a: Expr, b: Expr) -> bool:
    """Are two expressions equal for every value of their symbols? (SymPy: the difference simplifies to 0.)"""
    d = sp.piecewise_fold(a - b)
    if isinstance(d, sp.Piecewise):
        return all(equal(piece, sp.Integer(0)) for piece, _ in d.args)
    if sp.expand(d) == 0:
        return True
    return sp.simplify(sp.expand(d.rewrite(sp.exp))) == 0


def checked(steps: Steps) -> bool:
    """Every line equal to the one before; the first to SymPy's own derivative of the function."""
    previous = sp.diff(steps.function, steps.wrt)
    for line in steps.lines:
        now = value(line.expr, steps.outputs)
        if not equal(previous, now):
            return False
        previous = now
    return True


# The steps of one neuron are those of any other with the symbols renamed: each kind is checked once.

@functools.cache
def activation_checked(name: str) -> bool:
    maker = ACTIVATION_STEPS.get(name)
    return maker is not None and checked(maker(sp.Symbol("net"), sp.Symbol("out")))


@functools.cache
def loss_checked(name: str, n: int, o: int) -> bool:
    maker = LOSS_STEPS.get(name)
    targets = [sp.Symbol(f"target{k}") for k in range(n)]
    outs = [sp.Symbol(f"out{k}") for k in range(n)]
    return maker is not None and checked(maker(targets, outs, o))


@functools.cache
def softmax_checked(n: int, k: int, j: int) -> bool:
    return checked(softmax([sp.Symbol(f"net{m}") for m in range(n)], [sp.Symbol(f"out{m}") for m in range(n)], k, j))

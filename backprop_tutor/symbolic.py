"""The symbolic layer: every quantity's definition, chain rule and factors, derived by SymPy.

The only module that imports SymPy (the CLI imports it inside `explain` and `verify`).

* ``Model`` writes a network's definitions as SymPy expressions in the post's symbols:
  net_h1 = w1·i1 + w2·i2 + b1·1, out_h1 = σ(net_h1), E_total = ½(target_o1 − out_o1)² + …
* ``derive`` explains one quantity of the catalogue: its definition or chain rule, each factor
  differentiated by SymPy from the definitions (and shown in the textbook form once SymPy has
  confirmed the two are equal), the engine's numbers put in at 9 significant digits, the value.
* ``lines`` prints a derivation as SymPy's 2-D pretty form (unicode or ASCII); ``latex`` as LaTeX.
* ``verify`` differentiates the complete E_total, composed as a function of every weight and
  bias, and compares each gradient with the engine's.

Nothing here parses text: every expression is built from the lesson's structure.
"""

from __future__ import annotations

import functools
import re
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy import Expr
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.pretty_symbology import pretty_use_unicode
from sympy.printing.pretty.stringpict import prettyForm, stringPict
from sympy.printing.str import StrPrinter

from backprop_tutor import calculus, catalogue
from backprop_tutor.catalogue import Quantity
from backprop_tutor.names import Layout
from backprop_tutor.network import LOSSES, Network, path_name, sample_key

# ---------------------------------------------------------------------------------------------
# Symbols that print the way the post writes them


class sigma(sp.Function):
    """The logistic function σ(x) = 1/(1 + e^(−x)).

    SymPy differentiates ``1/(1 + exp(-x))`` into exponential forms that teach nothing; σ's
    derivative is the textbook σ(x)(1 − σ(x)) instead.
    """

    def fdiff(self, argindex: int = 1) -> Expr:
        s = sigma(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x: Expr, **kwargs: object) -> Expr:
        return 1 / (1 + sp.exp(-x))

    def _eval_evalf(self, prec: int) -> Expr | None:
        if self.args[0].is_number:
            return (1 / (1 + sp.exp(-self.args[0])))._eval_evalf(prec)
        return None


class step(sp.Function):
    """The slope of ReLU: 1 for a positive argument, else 0 (0 at 0, as the engine takes it)."""

    def fdiff(self, argindex: int = 1) -> Expr:
        return sp.Integer(0)

    def _eval_evalf(self, prec: int) -> Expr | None:
        if self.args[0].is_number:
            return sp.Float(1 if self.args[0].evalf(prec) > 0 else 0, prec)
        return None


class relu(sp.Function):
    """ReLU inside a composed E_total: its derivative stays one ``step``, where nested Piecewise
    expressions would multiply out into thousands of cases."""

    def fdiff(self, argindex: int = 1) -> Expr:
        return step(self.args[0])

    def _eval_evalf(self, prec: int) -> Expr | None:
        if self.args[0].is_number:
            x = self.args[0].evalf(prec)
            return x if x > 0 else sp.Float(0, prec)
        return None


class Partial(sp.Expr):
    """∂top/∂bottom as one fraction, the way the post writes a partial derivative."""

    is_commutative = True

    def __new__(cls, top: Expr, bottom: Expr) -> Partial:
        return sp.Expr.__new__(cls, top, bottom)

    def _pretty(self, printer: PrettyPrinter) -> prettyForm:
        d = "∂" if printer._use_unicode else "d"
        top, bottom = (prettyForm(*printer._print(a).left(d)) for a in self.args)
        return top / bottom

    def _latex(self, printer: LatexPrinter) -> str:
        top, bottom = (printer._print(a) for a in self.args)
        return rf"\frac{{\partial {top}}}{{\partial {bottom}}}"

    def _sympystr(self, printer: StrPrinter) -> str:
        top, bottom = (printer._print(a) for a in self.args)
        return f"∂{top}/∂{bottom}"


class Sample(sp.Expr):
    """A quantity of one sample of several: out_o1@2."""

    is_commutative = True

    def __new__(cls, base: Expr, k: int) -> Sample:
        return sp.Expr.__new__(cls, base, sp.Integer(k))

    def _pretty(self, printer: PrettyPrinter) -> prettyForm:
        return prettyForm(*printer._print(self.args[0]).right(f"@{self.args[1]}"))

    def _latex(self, printer: LatexPrinter) -> str:
        return f"{printer._print(self.args[0])}^{{({self.args[1]})}}"

    def _sympystr(self, printer: StrPrinter) -> str:
        return f"{printer._print(self.args[0])}@{self.args[1]}"


class Updated(sp.Expr):
    """A weight or value after the update: w5⁺."""

    is_commutative = True

    def __new__(cls, base: Expr) -> Updated:
        return sp.Expr.__new__(cls, base)

    def _pretty(self, printer: PrettyPrinter) -> prettyForm:
        return prettyForm(*printer._print(self.args[0]).right("⁺" if printer._use_unicode else "+"))

    def _latex(self, printer: LatexPrinter) -> str:
        return f"{printer._print(self.args[0])}^{{+}}"

    def _sympystr(self, printer: StrPrinter) -> str:
        return f"{printer._print(self.args[0])}⁺"


class Num(sp.AtomicExpr):
    """A number as the tutor shows it, never combined with others (``0.5 − 0.6·0.082`` stays).

    Negative numbers are bracketed inside sums and products; a ``bare`` number stands alone.
    """

    is_commutative = True

    def __new__(cls, text: str, latex: str | None = None, ascii: str | None = None, bare: bool = False) -> Num:
        obj = sp.AtomicExpr.__new__(cls)
        obj.text, obj.tex, obj.ascii, obj.bare = text, latex or text, ascii or text, bare
        return obj

    def _hashable_content(self) -> tuple[object, ...]:
        return (self.text, self.bare)

    def _shown(self, text: str) -> str:
        return f"({text})" if text.startswith("-") and not self.bare else text

    def _pretty(self, printer: PrettyPrinter) -> prettyForm:
        return prettyForm(self._shown(self.text if printer._use_unicode else self.ascii))

    def _latex(self, printer: LatexPrinter) -> str:
        return self._shown(self.tex)

    def _sympystr(self, printer: object) -> str:
        return self._shown(self.text)


HALF = Num("½", r"\frac{1}{2}", "1/2")


def number(value: float, bare: bool = False) -> Num:
    """A value at the digits the post shows: 9 decimal places, or 6 significant digits below 0.001."""
    text = catalogue.post_digits(value)
    tex = re.sub(r"e(-?\d+)$", r" \\cdot 10^{\1}", text)
    return Num(text, tex, bare=bare)


def symbol(qid: str) -> Expr:
    """The SymPy object of a catalogue id: dE_total/dw5 → ∂E_total/∂w5, w5+ → w5⁺, eta → η."""
    if m := re.fullmatch(r"(.+)@(\d+)(\+?)", qid):
        base = Sample(symbol(m[1]), int(m[2]))
        return Updated(base) if m[3] else base
    if qid.endswith("+"):
        return Updated(symbol(qid[:-1]))
    if m := re.fullmatch(r"dE_via_(\w+)/dout_(\w+)", qid):
        net = sp.Symbol(f"net_{m[1]}")
        return _product(Partial(sp.Symbol("E_total"), net), Partial(net, sp.Symbol(f"out_{m[2]}")))
    if m := re.fullmatch(r"d(\w+)/d(\w+)", qid):
        return Partial(sp.Symbol(m[1]), sp.Symbol(m[2]))
    return sp.Symbol(qid)


def qid_of(expr: Expr) -> str | None:
    """The catalogue id an expression stands for, the inverse of ``symbol``; None for other expressions."""
    if isinstance(expr, sp.Symbol):
        return expr.name
    if isinstance(expr, Updated):
        base = qid_of(expr.args[0])
        return None if base is None else base + "+"
    if isinstance(expr, Sample):
        base = qid_of(expr.args[0])
        return None if base is None else f"{base}@{expr.args[1]}"
    if isinstance(expr, Partial):
        top, bottom = expr.args
        if isinstance(top, sp.Symbol) and isinstance(bottom, sp.Symbol):
            return f"d{top.name}/d{bottom.name}"
        return None
    if isinstance(expr, sp.Mul) and len(expr.args) == 2 and all(isinstance(a, Partial) for a in expr.args):
        a, b = (qid_of(f) for f in expr.args)  # ∂E_total/∂net_j1 · ∂net_j1/∂out_h1, in either order
        for first, second in ((a, b), (b, a)):
            m = re.fullmatch(r"dE_total/dnet_(\w+)", first or "")
            if m and second and (n := re.fullmatch(rf"dnet_{m[1]}/dout_(\w+)", second)):
                return f"dE_via_{m[1]}/dout_{n[1]}"
    return None


def _product(*factors: Expr) -> Expr:
    return sp.Mul(*factors, evaluate=False) if len(factors) > 1 else factors[0]


def _sum(*terms: Expr) -> Expr:
    return sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def _minus(a: Expr, b: Expr) -> Expr:
    return sp.Add(a, sp.Mul(-1, b, evaluate=False), evaluate=False)


# ---------------------------------------------------------------------------------------------
# Activations and losses: the function, and its slope in the form textbooks print


def activation(name: str, net: Expr, composed: bool = False) -> Expr:
    """The activation applied to ``net``: for display (ReLU as cases), or ``composed`` into E_total."""
    if name == "relu" and composed:
        return relu(net)
    if name == "logistic":
        return sigma(net)
    if name == "tanh":
        return sp.tanh(net)
    if name == "relu":
        return sp.Piecewise((net, net > 0), (0, True))
    if name == "identity":
        return net
    raise ValueError(f"no symbolic form for activation {name!r}")


SQUASH = {
    "logistic": "The logistic function σ squashes any net input into the range 0 to 1.",
    "tanh": "tanh squashes any net input into the range −1 to 1.",
    "relu": "ReLU passes a positive net input through unchanged and turns a negative one into 0; its slope "
            "is 1 or 0, and 0 at a net input of exactly 0, where it has a kink (as PyTorch takes it).",
    "identity": "The identity passes the net input through unchanged.",
    "softmax": "Softmax makes the layer's outputs positive and adding up to 1: each is e^net over the sum of "
               "e^net of the whole layer.",
}


def spelled_out(name: str, net: Expr) -> Expr | None:
    """The activation written out, where its name alone hides the formula: σ(x) = 1/(1 + e^(−x))."""
    if name == "logistic":
        with sp.evaluate(False):
            return 1 / (1 + sp.exp(-net))
    return None


def loss_terms(name: str, target: Expr, out: Expr) -> tuple[Expr, Expr]:
    """One output's error, and its slope with respect to that output in textbook form."""
    if name == "half-squared-error":
        diff = _minus(target, out)
        return (sp.Mul(sp.Rational(1, 2), sp.Pow(diff, 2, evaluate=False), evaluate=False),
                sp.Mul(-1, diff, evaluate=False))
    if name == "cross-entropy":
        return (sp.Mul(-1, target, sp.log(out, evaluate=False), evaluate=False),
                sp.Mul(-1, target, sp.Pow(out, -1, evaluate=False), evaluate=False))
    if name == "binary-cross-entropy":
        rest, away = _minus(sp.Integer(1), target), _minus(sp.Integer(1), out)
        inside = _sum(_product(target, sp.log(out, evaluate=False)), _product(rest, sp.log(away, evaluate=False)))
        return (sp.Mul(-1, inside, evaluate=False),
                _sum(sp.Mul(-1, target, sp.Pow(out, -1, evaluate=False), evaluate=False),
                     sp.Mul(rest, sp.Pow(away, -1, evaluate=False), evaluate=False)))
    raise ValueError(f"no symbolic form for loss {name!r}")


LOSS_WHY = {  # one output's error, in words (the derivation of E_o)
    "half-squared-error": "half the square of how far it is from its target (the ½ makes the derivative neater)",
    "cross-entropy": "minus its target times the natural log of its output (the cross-entropy)",
    "binary-cross-entropy": "the binary cross-entropy, with the output read as a probability: minus ln(out) "
                            "weighted by the target, and minus ln(1 − out) weighted by 1 − target",
}


def cancelled_delta(slope: Expr, act_slope: Expr) -> tuple[Expr, Expr, Expr]:
    """∂E/∂out · ∂out/∂net of a loss whose slope has the activation's slope as its denominator (binary
    cross-entropy and the logistic function): the product, the slope over one denominator, and what
    SymPy simplifies the product to (out − target)."""
    product = sp.Mul(math(slope), math(act_slope))
    return product, sp.together(math(slope)), sp.expand(sp.cancel(product))


def softmax(nets: list[Expr], j: int) -> Expr:
    """e^net_j / Σ_k e^net_k, as written (not evaluated)."""
    total = _sum(*(sp.exp(n, evaluate=False) for n in nets))
    return sp.Mul(sp.exp(nets[j], evaluate=False), sp.Pow(total, -1, evaluate=False), evaluate=False)


def math(expr: Expr) -> Expr:
    """An expression built for display, evaluated so that SymPy can differentiate it."""
    return expr.doit()


def same(a: Expr, b: Expr) -> bool:
    """Are two forms of a derivative equal? (Checked by SymPy: their difference expands to 0.)"""
    return sp.expand(math(a) - math(b)) == 0


# ---------------------------------------------------------------------------------------------
# The definitions of one network


class Model:
    """A network's definitions in the post's symbols, for display and for differentiation."""

    def __init__(self, net: Network):
        self.net = net
        L = net.layout
        self.definition: dict[str, Expr] = {}  # net_x, out_x, E_o, E_total (and their "+" forms)
        self._net_slopes: dict[str, dict[sp.Symbol, Expr]] = {}
        self.layer_of: dict[str, int] = {}
        for tag in ("", "+"):
            for l in range(1, L.depth + 1):
                for r, j in enumerate(L.neurons[l]):
                    self.layer_of[j] = l
                    terms = [_product(self.param(L.weights[l - 1][r][s], tag), self.source(x, tag))
                             for s, x in enumerate(L.neurons[l - 1])]
                    terms.append(_product(self.param(L.biases[l - 1][r], tag), sp.Integer(1)))
                    self.definition[f"net_{j}{tag}"] = _sum(*terms)
                    if net.activations[l - 1] == "softmax":
                        nets = [symbol(f"net_{k}{tag}") for k in L.neurons[l]]
                        self.definition[f"out_{j}{tag}"] = softmax(nets, r)
                    else:
                        self.definition[f"out_{j}{tag}"] = activation(net.activations[l - 1],
                                                                      symbol(f"net_{j}{tag}"))
            for o in L.neurons[-1]:
                error, _ = loss_terms(net.loss, symbol(f"target_{o}"), symbol(f"out_{o}{tag}"))
                self.definition[f"E_{o}{tag}"] = error
            self.definition[f"E_total{tag}"] = _sum(*(symbol(f"E_{o}{tag}") for o in L.neurons[-1]))

    def param(self, name: str, tag: str) -> Expr:
        updated = tag and (self.net.train_biases or name.startswith("w"))
        return symbol(name + "+" if updated else name)

    def source(self, neuron: str, tag: str = "") -> Expr:
        return symbol(neuron) if neuron.startswith("i") else symbol(f"out_{neuron}{tag}")

    def error_in_outputs(self) -> Expr:
        """E_total written out in the outputs: ½(target_o1 − out_o1)² + ½(target_o2 − out_o2)²."""
        outputs = self.net.layout.neurons[-1]
        return _sum(*(self.definition[f"E_{o}"] for o in outputs))

    def loss_slope(self, o: str) -> tuple[Expr, Expr]:
        """∂E_total/∂out_o: what SymPy derives, and the textbook form it equals."""
        derived = sp.diff(math(self.error_in_outputs()), symbol(f"out_{o}"))
        return derived, loss_terms(self.net.loss, symbol(f"target_{o}"), symbol(f"out_{o}"))[1]

    def activation_slope(self, j: str) -> Expr:
        """∂out_j/∂net_j, differentiated by SymPy and written in out_j where the textbook does."""
        net_j, out_j = symbol(f"net_{j}"), symbol(f"out_{j}")
        f = self.definition[f"out_{j}"]
        slope = sp.diff(f, net_j)
        if f != net_j:
            slope = slope.xreplace({f: out_j})
        textbook = _product(out_j, _minus(sp.Integer(1), out_j))  # σ(1 − σ) as the post writes it
        return textbook if isinstance(f, sigma) and same(slope, textbook) else slope

    def net_slope(self, j: str, wrt: str) -> Expr:
        """∂net_j/∂wrt: SymPy's derivative of the net input (a weight, a bias or an output)."""
        if j not in self._net_slopes:  # every slope of one net input at once (see ``derivatives``)
            self._net_slopes[j] = derivatives(math(self.definition[f"net_{j}"]))
        return self._net_slopes[j].get(symbol(wrt), sp.Integer(0))

    def total_error(self) -> tuple[Expr, list[str]]:
        """E_total composed as a function of every weight and bias; the parameters' names."""
        net, L = self.net, self.net.layout
        values: dict[str, Expr] = {i: symbol(i) for i in L.neurons[0]}
        for l in range(1, L.depth + 1):
            nets = {}
            for r, j in enumerate(L.neurons[l]):
                total = sum((symbol(L.weights[l - 1][r][s]) * values[x] for s, x in enumerate(L.neurons[l - 1])),
                            sp.Integer(0))
                nets[j] = total + symbol(L.biases[l - 1][r])
            for j in L.neurons[l]:
                if net.activations[l - 1] == "softmax":
                    values[j] = sp.exp(nets[j]) / sum((sp.exp(n) for n in nets.values()), sp.Integer(0))
                else:
                    values[j] = activation(net.activations[l - 1], nets[j], composed=True)
        error = sp.Integer(0)
        for o in L.neurons[-1]:
            term, _ = loss_terms(net.loss, symbol(f"target_{o}"), values[o])
            error += math(term)
        return error, L.weight_names() + L.bias_names()


# ---------------------------------------------------------------------------------------------
# Derivations


@dataclass
class Block:
    """One part of a derivation: a heading, a sentence, and equations (chains of equal expressions)."""

    heading: str
    note: str
    equations: list[tuple[Expr, ...]] = field(default_factory=list)


@dataclass
class Derivation:
    quantity: Quantity
    value: float
    blocks: list[Block]
    factors: list[tuple[str, Expr]]  # each factor's catalogue id and the form SymPy derived for it


class _OfSample(Mapping[str, float]):
    """Sample k's values in a batch's trace, named as in a lesson of that sample alone (net_h1 for
    net_h1@k); the weights, η and the batch's updated weights as they are. Looked up when asked for:
    a big batch computes the batch's values only when one of them is needed."""

    def __init__(self, net: Network, trace: Mapping[str, float], catalogue: Mapping[str, Quantity], k: int):
        self.trace, self.catalogue, self.k = trace, catalogue, k
        self.shared = {*net.weights, *net.biases, "eta"}

    def __getitem__(self, key: str) -> float:
        if key not in self.catalogue:
            raise KeyError(key)
        shared = key in self.shared or (key.endswith("+") and key[:-1] in self.shared)
        return self.trace[key if shared else sample_key(key, self.k)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.catalogue)

    def __len__(self) -> int:
        return len(self.catalogue)


class Deriver:
    """Derivations of one network's quantities, with the engine's values of ``trace`` put in."""

    def __init__(self, net: Network, trace: Mapping[str, float], catalogue: Mapping[str, Quantity]):
        self.net, self.trace, self.catalogue = net, trace, catalogue
        self.model = Model(net)
        self.outputs = set(net.layout.neurons[-1])
        self.factors: list[tuple[str, Expr]] = []
        self.samples: dict[int, Deriver] = {}  # several samples: one deriver per sample, made when asked

    # helpers -------------------------------------------------------------------------------

    def value_of(self, expr: Expr) -> Num | None:
        """The engine's value of a quantity written as an expression (``symbol(qid)``), shown as a
        number; the error signals also under their names ∂E_total/∂net_j (and ∂E_o/∂net_o)."""
        qid = qid_of(expr)
        if qid is None:
            return None
        if qid not in self.trace and (m := re.fullmatch(r"dE_(\w+)/dnet_(\w+)", qid)):
            if m[1] == "total" or (m[1] == m[2] and m[2] in self.outputs):
                qid = f"delta_{m[2]}"
        return number(self.trace[qid]) if qid in self.trace else None

    def numbers(self, expr: Expr) -> Expr:
        """The expression with the engine's values put in, nothing computed. (Each part is looked up
        as it is met: a table of every quantity's symbol would cost more than a big lesson's trace.)"""
        def put(node: Expr) -> Expr:
            found = self.value_of(node)
            if found is not None:
                return found
            if not node.args or isinstance(node, Num):
                return node
            args = tuple(put(a) for a in node.args)
            return node.func(*args) if args != node.args else node

        with sp.evaluate(False):
            return put(expr)

    def shown(self, expr: Expr) -> Expr:
        """The form for display: ½ as a fraction sign, not SymPy's x/2."""
        with sp.evaluate(False):
            return expr.xreplace({sp.Rational(1, 2): HALF})

    def chain(self, qid: str, *forms: Expr) -> tuple[Expr, ...]:
        """qid = form = … = the forms with numbers = the value (repeats dropped)."""
        parts = [symbol(qid), *(self.shown(f) for f in forms)]
        if qid in self.trace:  # (∂net_o1/∂b2 = 1 has no name of its own: nothing to put in)
            with_numbers = self.numbers(parts[-1])
            if not isinstance(with_numbers, Num):
                parts.append(with_numbers)
            parts.append(number(self.trace[qid], bare=True))
        out: list[Expr] = []
        for p in parts:
            if not out or _plain(out[-1]) != _plain(p):
                out.append(p)
        return tuple(out)

    def factor(self, qid: str, derived: Expr) -> tuple[Expr, ...]:
        if qid in self.trace:
            self.factors.append((qid, derived))
        return self.chain(qid, derived)

    # kinds of quantity -----------------------------------------------------------------------

    def derivation(self, qid: str) -> Derivation:
        self.factors = []
        q = self.catalogue[qid]
        if self.net.extra:
            if m := re.fullmatch(r"(.+)@(\d+)(\+?)", qid):
                return self.of_sample(q, m[1] + m[3], int(m[2]))
            if qid in ("E_total", "E_total+") or qid.startswith("dE_total/d"):
                return Derivation(q, self.trace[qid], self.batch_total(qid), [])
        blocks = self.blocks(q)
        return Derivation(q, self.trace[qid], blocks, self.factors)

    def sample_deriver(self, k: int) -> Deriver:
        from backprop_tutor.catalogue import BatchCatalogue, build

        cache = self.samples
        if k not in cache:
            sub = self.net.sample(k)
            # every sample has sample 1's quantities, which a batch's catalogue has made already
            catalogue = self.catalogue.single if isinstance(self.catalogue, BatchCatalogue) else build(sub)
            cache[k] = Deriver(sub, _OfSample(self.net, self.trace, catalogue, k), catalogue)
        return cache[k]

    def of_sample(self, q: Quantity, base: str, k: int) -> Derivation:
        sub = self.sample_deriver(k)
        d = sub.derivation(base)
        inputs, targets = self.net.samples[k - 1]
        note = (f"Sample {k} of {len(self.net.samples)}: inputs {', '.join(f'{x:g}' for x in inputs)}, "
                f"targets {', '.join(f'{y:g}' for y in targets)}. Within one sample the steps are those of a "
                "single sample.")
        return Derivation(q, self.trace[q.id], [Block("Sample", note), *d.blocks],
                          [(sample_key(f, k), form) for f, form in d.factors])

    def batch_total(self, qid: str) -> list[Block]:
        """E_total, E_total⁺ or ∂E_total/∂p of the batch: the samples' values combined."""
        n = len(self.net.samples)
        parts = _sum(*(symbol(sample_key(qid, k)) for k in range(1, n + 1)))
        form = sp.Mul(sp.Rational(1, n), parts, evaluate=False) if self.net.batch == "mean" else parts
        how = "the mean" if self.net.batch == "mean" else "the sum"
        return [Block("Batch", f"The batch's value is {how} of the {n} samples' values: each sample contributes "
                      "its own, computed with the same weights.", [self.chain(qid, form)])]

    def blocks(self, q: Quantity) -> list[Block]:
        qid = q.id
        kinds: list[tuple[str, Callable[..., list[Block]]]] = [
            (r"net_(\w+?)\+?", self.net_input), (r"out_(\w+?)\+?", self.output),
            (r"E_(o\d+)\+?", self.output_error), (r"E_total\+?", self.total_error),
            (r"dE_total/dout_(\w+)", self.error_slope), (r"dout_(\w+)/dnet_(\w+)", self.slope),
            (r"delta_(\w+)", self.delta), (r"dnet_(\w+)/d(\w+)", self.net_slope),
            (r"dE_total/d(\w+)", self.gradient), (r"dE_(?:via_)?(\w+)/dout_(\w+)", self.path),
            (r"(\w+)\+", self.update),
        ]
        if q.given:
            return [Block("Given", f"{qid} is given by the lesson: there is nothing to compute.",
                          [(symbol(qid), number(self.trace[qid]))])]
        for pattern, method in kinds:
            if m := re.fullmatch(pattern, qid):
                return method(qid, *m.groups())
        raise ValueError(f"no derivation for {qid}")  # pragma: no cover - every catalogue id is a kind

    def net_input(self, qid: str, j: str) -> list[Block]:
        after = " with the updated weights" if qid.endswith("+") else ""
        return [Block("Definition", f"The net input of {j}{after}: every value that reaches {j}, times the "
                      "weight on its connection, plus the bias times 1.",
                      [self.chain(qid, self.model.definition[qid])])]

    def output(self, qid: str, j: str) -> list[Block]:
        tag = "+" if qid.endswith("+") else ""
        name = self.net.activations[self.model.layer_of[j] - 1]
        f = self.model.definition[qid]
        written = spelled_out(name, symbol(f"net_{j}{tag}"))
        forms = (f, written) if written is not None else (f,)
        return [Block("Definition", SQUASH[name], [self.chain(qid, *forms)])]

    def output_error(self, qid: str, o: str) -> list[Block]:
        why = LOSS_WHY[self.net.loss]
        return [Block("Definition", f"The error of {o}: {why}.", [self.chain(qid, self.model.definition[qid])])]

    def total_error(self, qid: str) -> list[Block]:
        return [Block("Definition", "The total error adds up the error of every output.",
                      [self.chain(qid, self.model.definition[qid])])]

    def error_slope(self, qid: str, j: str) -> list[Block]:
        if j in self.net.layout.neurons[-1]:
            return self.output_error_slope(qid, j)
        return self.hidden_error_slope(qid, j)

    def stepwise(self, qid: str, steps: Any, last: Expr) -> list[Block]:
        """The lines of a derivation taken step by step (``calculus``), each with its reason, then the
        textbook form with the numbers put in."""
        blocks = []
        for k, line in enumerate(steps.lines):
            blocks.append(Block("Derivative, step by step" if k == 0 else "", line.why,
                                [(symbol(qid), self.shown(line.expr))]))
        blocks.append(Block("Numbers", "", [self.chain(qid, last)]))
        return blocks

    def output_error_slope(self, qid: str, o: str) -> list[Block]:
        derived, textbook = self.model.loss_slope(o)
        form = textbook if same(derived, textbook) else derived
        self.factors.append((qid, derived))
        outputs = list(self.net.layout.neurons[-1])
        definition = Block("Definition", "The total error, written out in the outputs:",
                           [(symbol("E_total"), self.shown(self.model.error_in_outputs()))])
        targets = [symbol(f"target_{x}") for x in outputs]
        outs = [symbol(f"out_{x}") for x in outputs]
        maker = calculus.LOSS_STEPS.get(self.net.loss)
        if maker is not None and calculus.loss_checked(self.net.loss, len(outputs), outputs.index(o)):
            steps = maker(targets, outs, outputs.index(o))
        else:
            terms = [self.model.definition[f"E_{x}"] for x in outputs]
            steps = calculus.generic_loss(terms, outs, outputs.index(o))
        if not calculus.equal(calculus.value(steps.lines[-1].expr, {}), math(form)):  # pragma: no cover
            return [definition, Block("Derivative", f"Only the term of {o} changes with out_{o}; the others are "
                                      "constants and drop out:", [self.chain(qid, form)])]
        return [definition, *self.stepwise(qid, steps, form)]

    def act_slope(self, qid: str, j: str) -> list[Block]:
        f = self.model.definition[f"out_{j}"]
        slope = self.model.activation_slope(j)
        self.factors.append((qid, slope))
        name = self.net.activations[self.model.layer_of[j] - 1]
        net_j, out_j = symbol(f"net_{j}"), symbol(f"out_{j}")
        maker = calculus.ACTIVATION_STEPS.get(name)
        steps = (maker(net_j, out_j) if maker is not None and calculus.activation_checked(name)
                 else calculus.generic_activation(math(f), net_j))
        outputs = {out_j: math(f)}
        if not calculus.equal(calculus.value(steps.lines[-1].expr, outputs), calculus.value(slope, outputs)):
            raw = sp.diff(f, net_j)  # pragma: no cover - the checked steps end at the textbook slope
            forms = (raw, slope) if _plain(raw) != _plain(slope) else (slope,)
            return [Block("Definition", f"out_{j} as a function of net_{j}:", [(out_j, f)]),
                    Block("Derivative", "Its derivative, written with the output already computed in the forward "
                          "pass:", [self.chain(qid, *forms)])]
        written = [f, *(w for w in steps.written if _plain(w) != _plain(f))]
        return [Block("Definition", f"out_{j} as a function of net_{j}:", [(out_j, *written)]),
                *self.stepwise(qid, steps, slope)]

    def slope(self, qid: str, k: str, j: str) -> list[Block]:
        return self.softmax_slope(qid, k, j) if self.softmax_output(k) else self.act_slope(qid, k)

    def softmax_slope(self, qid: str, k: str, j: str) -> list[Block]:
        """∂out_k/∂net_j of a softmax layer, by the quotient rule, written with the outputs."""
        outputs = list(self.net.layout.neurons[-1])
        nets = [sp.Symbol(f"net_{x}") for x in outputs]
        outs = [sp.Symbol(f"out_{x}") for x in outputs]
        f = self.model.definition[f"out_{k}"]
        form = (_product(outs[outputs.index(k)], _minus(sp.Integer(1), outs[outputs.index(j)])) if k == j
                else sp.Mul(-1, outs[outputs.index(k)], outs[outputs.index(j)], evaluate=False))
        self.factors.append((qid, form))
        a, b = outputs.index(k), outputs.index(j)
        definition = Block("Definition", f"out_{k} as a function of the layer's net inputs:", [(symbol(f"out_{k}"), f)])
        if not calculus.softmax_checked(len(outputs), a, b):  # pragma: no cover - the steps are checked in tests
            return [definition, Block("Derivative", f"Its derivative by net_{j}, written with the outputs:",
                                      [self.chain(qid, sp.diff(math(f), nets[b]), form)])]
        return [definition, *self.stepwise(qid, calculus.softmax(nets, outs, a, b), form)]

    def net_slope(self, qid: str, j: str, wrt: str) -> list[Block]:
        derived = self.model.net_slope(j, wrt)
        self.factors.append((qid, derived))
        what = "the value it multiplies" if wrt[0] in "wb" else "the weight on that connection"
        return [
            Block("Definition", f"The net input of {j}:", [(symbol(f"net_{j}"), self.model.definition[f"net_{j}"])]),
            Block("Derivative", f"Only one term holds {wrt}, so the slope is {what}:", [self.chain(qid, derived)]),
        ]

    def softmax_output(self, j: str) -> bool:
        L = self.net.layout
        return j in L.neurons[-1] and self.net.activations[-1] == "softmax"

    def softmax_delta(self, qid: str, j: str) -> list[Block]:
        """δ_o of softmax outputs with cross-entropy: the sum over every output, and why it is out − target."""
        outputs = self.net.layout.neurons[-1]
        o = outputs.index(j)
        nets = [sp.Symbol(f"net_{k}") for k in outputs]
        outs = [sp.Symbol(f"out_{k}") for k in outputs]
        targets = [symbol(f"target_{k}") for k in outputs]
        E, net_j = sp.Symbol("E_total"), sp.Symbol(f"net_{j}")
        chain = _sum(*(_product(Partial(E, out), Partial(out, net_j)) for out in outs))
        blocks = [Block("Chain rule", f"With softmax every output depends on net_{j}, so δ_{j} sums over all of "
                        "them: the error's slope at each output times that output's slope at net_" + j + ".",
                        [(symbol(qid), Partial(E, net_j), chain)])]
        factors = Block("Each factor", "The cross-entropy differentiated by each output, and each softmax "
                        f"output by net_{j}; the softmax slopes are written with the outputs:")
        terms = []
        values = {n: sp.exp(n) for n in nets}
        for k, out in enumerate(outs):
            slope_qid = f"dE_total/dout_{outputs[k]}"
            derived, textbook = self.model.loss_slope(outputs[k])
            factors.equations.append(self.factor(slope_qid, textbook if same(derived, textbook) else derived))
            raw = sp.diff(math(self.model.definition[f"out_{outputs[k]}"]), net_j)
            form = _product(out, _minus(sp.Integer(1), outs[o])) if k == o else sp.Mul(-1, out, outs[o],
                                                                                        evaluate=False)
            written = math(form).xreplace({outs[m]: math(softmax(nets, m)) for m in range(len(outs))})
            if sp.cancel((raw - written).xreplace(values)) != 0:  # pragma: no cover - SymPy would disagree
                form = raw
            factors.equations.append((Partial(out, net_j), form))
            terms.append(sp.Mul(math(textbook if same(derived, textbook) else derived), math(form)))
        blocks.append(factors)
        summed = sp.expand(sp.Add(*terms))
        collected = sp.collect(summed, outs[o])
        others = [k for k in range(len(outs)) if k != o]  # the targets add up to 1: eliminate another one
        one = summed
        if others:
            rest = sp.Add(*(targets[k] for k in range(len(outs)) if k != others[-1]))
            one = sp.expand(summed.xreplace({targets[others[-1]]: 1 - rest}))
        self.factors.append((qid, one))
        blocks.append(Block("Why the slope disappears", f"Multiplied out, each 1/out of the cross-entropy "
                            "cancels against the out of a softmax slope, and since the targets add up to 1, "
                            f"what is left is out_{j} − target_{j}:", [(symbol(qid), summed, collected, one)]))
        blocks.append(Block("Numbers", "", [self.chain(qid, one)]))
        return blocks

    def delta(self, qid: str, j: str) -> list[Block]:
        if self.softmax_output(j):
            return self.softmax_delta(qid, j)
        chain = _product(symbol(f"dE_total/dout_{j}"), symbol(f"dout_{j}/dnet_{j}"))
        blocks = [Block("Chain rule", f"δ_{j} is how fast the total error changes with net_{j}: the error's "
                        f"slope at out_{j} times the slope of out_{j} at net_{j}.",
                        [(symbol(qid), Partial(sp.Symbol("E_total"), sp.Symbol(f"net_{j}")), chain)])]
        blocks.append(self.factor_block([f"dE_total/dout_{j}", f"dout_{j}/dnet_{j}"]))
        if j in self.outputs and LOSSES[self.net.loss].matched == self.net.activations[-1]:
            blocks.append(self.cancellation(qid, j))
        blocks.append(Block("Numbers", "", [self.chain(qid, chain)]))
        return blocks

    def cancellation(self, qid: str, o: str) -> Block:
        """Why δ_o = out_o − target_o for logistic outputs with binary cross-entropy: over one denominator the
        error's slope is (out − target)/(out(1 − out)), and out(1 − out) is the logistic slope it is multiplied by."""
        _, textbook = self.model.loss_slope(o)
        product, together, left = cancelled_delta(textbook, self.model.activation_slope(o))
        return Block("Why the slope cancels", f"Over one denominator, the error's slope is: out_{o}(1 − "
                     f"out_{o}), the logistic slope itself. Multiplied by that slope, the two cancel, and what is "
                     f"left is out_{o} − target_{o}:",
                     [(symbol(f"dE_total/dout_{o}"), together), (symbol(qid), product, left)])

    def factor_block(self, qids: list[str]) -> Block:
        note = "Each one differentiated from the definitions"
        hidden = [q for q in qids if re.fullmatch(r"dE_total/dout_(\w+)", q) and q[len("dE_total/dout_"):]
                  not in self.net.layout.neurons[-1]]
        if hidden:
            h = hidden[0][len("dE_total/dout_"):]
            note += (f". The first is a sum: out_{h} reaches the error through every neuron it feeds, "
                     "and each path is that neuron's δ times the weight on the connection")
        block = Block("Each factor", note + ":")
        for f in qids:
            block.equations.extend(self.factor_equations(f))
        return block

    def factor_equations(self, qid: str) -> list[tuple[Expr, ...]]:
        if m := re.fullmatch(r"dE_total/dout_(\w+)", qid):
            j = m[1]
            if j in self.net.layout.neurons[-1]:
                derived, textbook = self.model.loss_slope(j)
                return [self.factor(qid, textbook if same(derived, textbook) else derived)]
            return self.paths(j)
        if m := re.fullmatch(r"dout_(\w+)/dnet_\w+", qid):
            return [self.factor(qid, self.model.activation_slope(m[1]))]
        if m := re.fullmatch(r"dnet_(\w+)/d(\w+)", qid):
            return [self.factor(qid, self.model.net_slope(m[1], m[2]))]
        raise ValueError(qid)  # pragma: no cover

    def paths(self, h: str) -> list[tuple[Expr, ...]]:
        """∂E_total/∂out_h = Σ over the neurons h feeds of (their δ · the weight from h)."""
        L, l = self.net.layout, self.model.layer_of[h]
        terms, products = [], []
        equations = []
        for nxt in L.neurons[l + 1]:
            path = path_name(nxt, h)
            terms.append(symbol(path))
            slope = self.model.net_slope(nxt, f"out_{h}")
            self.factors.append((f"dnet_{nxt}/dout_{h}", slope))
            first = Partial(sp.Symbol(f"E_{nxt}" if nxt in L.neurons[-1] else "E_total"), sp.Symbol(f"net_{nxt}"))
            product = _product(symbol(f"delta_{nxt}"), slope)
            products.append(product)
            equations.append(self.chain(path, _product(first, symbol(f"dnet_{nxt}/dout_{h}")), product))
        total = f"dE_total/dout_{h}"
        self.factors.append((total, _sum(*products)))
        return [self.chain(total, _sum(*terms), _sum(*products)), *equations]

    def hidden_error_slope(self, qid: str, h: str) -> list[Block]:
        return [Block("Paths", f"out_{h} reaches the error through every neuron it feeds, so its slope is the "
                      "sum over those paths; each path is that neuron's δ times the weight from "
                      f"{h} to it.", self.paths(h))]

    def path(self, qid: str, via: str, h: str) -> list[Block]:
        L = self.net.layout
        k, r = L.neurons[self.model.layer_of[via]].index(via), L.neurons[self.model.layer_of[h]].index(h)
        w = L.weights[self.model.layer_of[h]][k][r]
        top = f"E_{via}" if via in L.neurons[-1] else "E_total"
        first = Partial(sp.Symbol(top), sp.Symbol(f"net_{via}"))
        slope = self.model.net_slope(via, f"out_{h}")
        self.factors.append((f"dnet_{via}/dout_{h}", slope))
        why = (f"E_{via} depends on out_{h} only through net_{via}" if top != "E_total"
               else f"this path runs from out_{h} through net_{via}")
        return [
            Block("Chain rule", f"{why}: the slope of the error at net_{via} (δ_{via}) times the slope of "
                  f"net_{via} at out_{h} (the weight {w}).",
                  [self.chain(qid, _product(first, symbol(f"dnet_{via}/dout_{h}")),
                              _product(symbol(f"delta_{via}"), slope))]),
        ]

    def gradient(self, qid: str, p: str) -> list[Block]:
        L = self.net.layout
        if p.startswith("w"):
            l, r, _ = L.connection(p)
            fed = [L.neurons[l + 1][r]]
        else:
            fed = [j for l, names in enumerate(L.biases) for j, b in zip(L.neurons[l + 1], names) if b == p]
        if len(fed) == 1 and self.softmax_output(fed[0]):
            j = fed[0]
            E, net_j = sp.Symbol("E_total"), sp.Symbol(f"net_{j}")
            chain = _product(Partial(E, net_j), symbol(f"dnet_{j}/d{p}"))
            source = self.model.net_slope(j, p)
            block = Block("Each factor", f"δ_{j} is out_{j} − target_{j} (see `explain delta_{j}`); and net_{j} "
                          f"differentiated by {p}:")
            block.equations.append(self.chain(f"delta_{j}", _minus(sp.Symbol(f"out_{j}"), symbol(f"target_{j}"))))
            block.equations.append(self.factor(f"dnet_{j}/d{p}", source))
            return [Block("Chain rule", f"{p} changes the error only through net_{j}: the error signal δ_{j} "
                          f"times the slope of net_{j} at {p}.", [(symbol(qid), chain, _product(symbol(f"delta_{j}"),
                                                                                                 source))]),
                    block, Block("Numbers", "", [self.chain(qid, _product(symbol(f"delta_{j}"), source))])]
        if len(fed) == 1:
            j = fed[0]
            factors = [f"dE_total/dout_{j}", f"dout_{j}/dnet_{j}", f"dnet_{j}/d{p}"]
            chain = _product(*(symbol(f) for f in factors))
            where = "the output layer" if j in L.neurons[-1] else "a hidden layer"
            blocks = [Block("Chain rule", f"{p} changes the error only through net_{j}, then out_{j} "
                            f"({j} is in {where}): multiply the slopes along the way.", [(symbol(qid), chain)])]
            blocks.append(self.factor_block(factors))
            slope = self.model.activation_slope(j)
            source = self.model.net_slope(j, p)
            error = (_sum(*[_product(symbol(f"delta_{n}"), self.model.net_slope(n, f"out_{j}"))
                            for n in L.neurons[self.model.layer_of[j] + 1]])
                     if j not in L.neurons[-1] else None)
            delta_form = _product(symbol(f"delta_{j}"), source)
            long_form = _product(error, slope, source) if error is not None else None
            forms = (delta_form, long_form) if long_form is not None else (delta_form,)
            blocks.append(Block("δ form", f"The first two factors are δ_{j}, the error signal of {j}:",
                                [(symbol(qid), *forms)]))
            blocks.append(Block("Numbers", "", [self.chain(qid, chain)]))
            return blocks
        # a bias shared by several neurons: one chain per neuron it feeds, summed
        terms = [_product(Partial(sp.Symbol("E_total"), sp.Symbol(f"net_{j}")), symbol(f"dnet_{j}/d{p}"))
                 for j in fed]
        blocks = [Block("Chain rule", f"{p} feeds {', '.join(fed)}: the error's slope is the sum over each of "
                        "them of its δ times how its net input changes with the bias.",
                        [(symbol(qid), _sum(*terms))])]
        block = Block("Each factor", "Each net input differentiated by the bias:")
        for j in fed:
            block.equations.append(self.factor(f"dnet_{j}/d{p}", self.model.net_slope(j, p)))
        blocks.append(block)
        deltas = _sum(*[_product(symbol(f"delta_{j}"), self.model.net_slope(j, p)) for j in fed])
        blocks.append(Block("Numbers", "", [self.chain(qid, deltas)]))
        return blocks

    def update(self, qid: str, p: str) -> list[Block]:
        rule = _minus(symbol(p), _product(symbol("eta"), symbol(f"dE_total/d{p}")))
        return [Block("Update", f"One step of gradient descent: move {p} against its gradient, by the "
                      "learning rate η times the gradient.", [self.chain(qid, rule)])]


def derive(net: Network, trace: Mapping[str, float], catalogue: Mapping[str, Quantity], qid: str) -> Derivation:
    """The derivation of one quantity, with the engine's values of ``trace`` put in."""
    return Deriver(net, trace, catalogue).derivation(qid)


ALL_DERIVED = 2_000  # quantities: lesson-check derives every one of a lesson up to this size


def representatives(net: Network, catalogue: Mapping[str, Quantity]) -> list[str]:
    """The quantities whose derivations stand for the lesson's: every one of a small lesson; of a big one,
    the first and the last of each kind of quantity in each layer (and of sample 1, of any other sample,
    and of the batch): the derivations of one kind and layer are the same but for the names."""
    if len(catalogue) <= ALL_DERIVED:
        return list(catalogue)
    L = net.layout
    layer = {w: f"w{l}" for w in L.weight_names() for l in [L.connection(w)[0]]}
    layer |= {b: f"b{l}" for l, names in enumerate(L.biases) for b in names}

    def kind(qid: str) -> str:
        text = re.sub(r"([whjkmnob])(\d+)", lambda m: layer.get(m[0], m[1] + "#"), qid)
        text = re.sub(r"i\d+", "i#", text)
        return re.sub(r"@(\d+)", lambda m: "@1" if m[1] == "1" else "@k", text)

    groups: dict[str, list[str]] = {}
    for qid in catalogue:
        found = groups.setdefault(kind(qid), [qid, qid])
        found[1] = qid
    return list(dict.fromkeys(q for first, last in groups.values() for q in (first, last)))


def _has_numbers(part: Expr) -> bool:
    return any(n != HALF for n in part.atoms(Num))


def symbols_only(derivation: Derivation) -> Derivation:
    """The derivation without its numbers: the equations a hint may show before the arithmetic."""
    blocks = []
    for b in derivation.blocks:
        if b.heading in ("Numbers", "Given"):
            continue
        equations = [kept for eq in b.equations if len(kept := tuple(p for p in eq if not _has_numbers(p))) > 1]
        if equations:
            blocks.append(Block(b.heading, b.note, equations))
    return Derivation(derivation.quantity, derivation.value, blocks, derivation.factors)


def statement(derivation: Derivation) -> Derivation:
    """What a step asks for: the first equation of the derivation, without numbers."""
    bare = symbols_only(derivation)
    first = bare.blocks[:1]
    return Derivation(derivation.quantity, derivation.value,
                      [Block("", "", first[0].equations[:1])] if first else [], derivation.factors)


# ---------------------------------------------------------------------------------------------
# Printing


class _Str(StrPrinter):
    """One-line form: the post's symbols (δ_o1, η) and · for products."""

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return catalogue.symbol(expr.name)

    def _print_sigma(self, expr: Expr) -> str:
        return f"σ({self._print(expr.args[0])})"


def _plain(expr: Expr) -> str:
    text = _Str({"order": "none"}).doprint(expr)
    return text.replace("**", "^").replace("*", "·")


_NO_UNITS = types.ModuleType("sympy.physics.units")
_NO_UNITS.Quantity = type("Quantity", (), {})  # type: ignore[attr-defined]


class _Pretty(PrettyPrinter):
    def __init__(self, unicode: bool):
        super().__init__({"use_unicode": unicode, "order": "none", "wrap_line": False})

    def _print_Mul(self, product: sp.Mul) -> prettyForm:
        """SymPy's own, without importing sympy.physics.units (a third of a second at start-up)
        only to move physical units to the end of a product: these products have none."""
        if "sympy.physics.units" in sys.modules:
            return super()._print_Mul(product)
        sys.modules["sympy.physics.units"] = _NO_UNITS
        try:
            return super()._print_Mul(product)
        finally:
            del sys.modules["sympy.physics.units"]


def picture(expr: Expr, unicode: bool = True) -> prettyForm:
    """One part of an equation in SymPy's 2-D pretty form."""
    printer = _Pretty(unicode)
    before = pretty_use_unicode(unicode)  # symbol names read SymPy's global flag, not the printer's
    try:
        return printer._print(expr)
    finally:
        pretty_use_unicode(before)


def plain(expr: Expr) -> str:
    """One part of an equation in its one-line form."""
    return _plain(expr)


def latex_of(expr: Expr) -> str:
    return LatexPrinter({"order": "none", "mul_symbol": "dot"}).doprint(expr)


def has_numbers(expr: Expr) -> bool:
    return _has_numbers(expr)


def equation_text(parts: tuple[Expr, ...], unicode: bool = True, width: int = 80) -> str | None:
    """The parts of an equation joined by "=" in SymPy's 2-D pretty form, continued on further rows
    (aligned at "=") where a row would pass the width; None if even one part is too wide."""
    forms = [picture(p, unicode) for p in parts]
    indent = prettyForm(" " * forms[0].width())
    rows, row = [], forms[0]
    for k, form in enumerate(forms[1:]):
        joined = prettyForm(*stringPict.next(row, " = ", form))
        if joined.width() <= width or k == 0:
            row = joined
        else:
            rows.append(row)
            row = prettyForm(*stringPict.next(indent, " = ", form))
    rows.append(row)
    if max(r.width() for r in rows) > width:
        return None
    text = "\n".join(r.render(wrap_line=False) for r in rows)
    return "\n".join(line.rstrip() for line in text.split("\n"))


def equation_line(parts: tuple[Expr, ...], unicode: bool = True) -> str:
    """The same equation in one-line forms, one part per row, for terminals too narrow for 2-D."""
    first, *rest = (_plain(p) for p in parts)
    text = "\n".join([f"{first} = {rest[0]}", *(f"  = {r}" for r in rest[1:])])
    return text if unicode else text.translate(_ASCII)


_ASCII = str.maketrans({"·": "*", "∂": "d", "⁺": "+", "½": "1/2", "δ": "delta_", "η": "eta", "σ": "sigma"})


def lines(derivation: Derivation, unicode: bool = True, width: int = 80) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs: "heading", "note", "math" (2-D, fits the width) or "wrapped" (one line)."""
    for block in derivation.blocks:
        if block.heading:
            yield "heading", block.heading
        if block.note:
            yield "note", block.note
        for parts in block.equations:
            text = equation_text(parts, unicode, width - 2)
            if text is not None:
                yield "math", text
            else:
                yield "wrapped", equation_line(parts, unicode)


def latex(derivation: Derivation) -> str:
    """The derivation as LaTeX: one align* environment, a comment line per block."""
    printer = LatexPrinter({"order": "none", "mul_symbol": "dot"})
    out = [r"\begin{align*}"]
    rows: list[str] = []
    for block in derivation.blocks:
        for parts in block.equations:
            left, *rest = (printer.doprint(p) for p in parts)
            rows.append(f"  % {block.heading}\n  {left} &= " + " \\\\\n    &= ".join(rest))
    out.append(" \\\\\n".join(rows))
    out.append(r"\end{align*}")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Verification: SymPy's chain rule, independently of the engine, at 40 digits
#
# Composing E_total as one expression in every weight and differentiating it by each weight costs
# time that grows with the square of the network (and never ends at 5×16). The same derivatives are
# found here the way reverse-mode differentiation finds them: SymPy differentiates each definition
# (net_j = Σ w·out + b, out_j = σ(net_j), E_o = ½(target − out)², …) by each thing it is written in,
# once for the network; mpmath evaluates those local derivatives at 40 digits, sample by sample, and
# an accumulation over the graph of definitions (a node used twice — out_h1 — adds up) gives each
# parameter's slope. Nothing here reads the engine's trace; central finite differences of the same
# definitions, at 40 digits, check the chain rule again on a spread of parameters.

DIGITS = 40  # working precision of the reference (30 are shown and compared)
FD_PARAMETERS = 24  # at most this many parameters get the finite-difference check
Program = tuple  # a SymPy expression compiled to nested tuples, evaluated by ``_evaluate``


@dataclass(frozen=True)
class Gradient:
    name: str
    engine: float
    sympy: Any  # mpmath's mpf: SymPy's chain rule evaluated at DIGITS digits

    def sympy_text(self, digits: int) -> str:
        import mpmath

        return mpmath.nstr(self.sympy, digits, strip_zeros=False)

    @property
    def difference(self) -> float:
        return float(abs(written(self.engine, exact_binary=True) - self.sympy))

    @property
    def relative(self) -> float:
        scale = float(abs(self.sympy))
        return self.difference / scale if scale else self.difference


@dataclass(frozen=True)
class Check:
    """Central finite differences of one sample's error against the chain rule, on some parameters."""

    sample: int
    parameters: list[str]
    worst: float  # the largest relative difference
    digits: int = DIGITS

    @property
    def ok(self) -> bool:
        return self.worst <= 1e-20


def written(value: object, exact_binary: bool = False):
    """A number at DIGITS digits: a lesson's number as the decimal it was written as; with
    ``exact_binary`` a float's exact binary value (how the engine holds it)."""
    import mpmath

    if isinstance(value, float):
        return mpmath.mpf(value) if exact_binary else mpmath.mpf(repr(value))
    return mpmath.mpf(str(value))


def exact(value: float) -> sp.Float:
    """A lesson's number as the decimal it was written as, at 30 digits."""
    return sp.Float(repr(value), 30)


class Graph:
    """The definitions of one sample's quantities, in topological order, each with SymPy's derivative
    by every node or parameter it is written in. Inputs and targets are symbols: every sample shares
    the graph, and only their values change."""

    def __init__(self, layout: Layout, activations: tuple[str, ...], loss: str):
        L = layout
        self.inputs = [sp.Symbol(i) for i in L.neurons[0]]
        self.targets = [sp.Symbol(f"target_{o}") for o in L.neurons[-1]]
        self.params = [sp.Symbol(p) for p in L.weight_names() + L.bias_names()]
        definitions: list[tuple[sp.Symbol, Expr]] = []
        for l in range(1, L.depth + 1):
            nets = []
            for r, j in enumerate(L.neurons[l]):
                src = [sp.Symbol(x if x.startswith("i") else f"out_{x}") for x in L.neurons[l - 1]]
                total = sp.Add(*(sp.Symbol(L.weights[l - 1][r][s]) * x for s, x in enumerate(src)))
                nets.append(sp.Symbol(f"net_{j}"))
                definitions.append((nets[-1], total + sp.Symbol(L.biases[l - 1][r])))
            name = activations[l - 1]
            for r, j in enumerate(L.neurons[l]):
                if name == "softmax":
                    out = sp.exp(nets[r]) / sp.Add(*(sp.exp(n) for n in nets))
                else:
                    out = activation(name, nets[r], composed=True)
                definitions.append((sp.Symbol(f"out_{j}"), out))
        errors = []
        for o, target in zip(L.neurons[-1], self.targets):
            term, _ = loss_terms(loss, target, sp.Symbol(f"out_{o}"))
            errors.append(sp.Symbol(f"E_{o}"))
            definitions.append((errors[-1], math(term)))
        self.error = sp.Symbol("E")
        definitions.append((self.error, sp.Add(*errors)))
        self.definitions = definitions
        self.order = [node for node, _ in definitions]
        self.forward = [(node, _compile(f)) for node, f in definitions]
        self.local: dict[sp.Symbol, list[tuple[sp.Symbol, Program]]] = {}

    def differentiate(self, progress: Callable[[int, int], None] | None = None) -> None:
        """SymPy's derivative of every definition by each node or parameter it is written in (once)."""
        if self.local:
            return
        nodes_and_params = set(self.order) | set(self.params)
        local = {}
        for k, (node, f) in enumerate(self.definitions):
            local[node] = [(p, _compile(d)) for p, d in sorted(derivatives(f).items(), key=lambda pd: str(pd[0]))
                           if p in nodes_and_params]
            if progress is not None:
                progress(k + 1, len(self.definitions))
        self.local = local

    def values(self, given: dict[sp.Symbol, object], x: tuple[float, ...], y: tuple[float, ...]) -> dict:
        """Every node's value for one sample (inputs ``x``, targets ``y``) at the parameters ``given``."""
        v = dict(given)
        v.update((s, written(a)) for s, a in zip(self.inputs, x))
        v.update((s, written(a)) for s, a in zip(self.targets, y))
        for node, program in self.forward:
            v[node] = _evaluate(program, v)
        return v

    def backward(self, v: dict, seed: Any) -> dict[sp.Symbol, Any]:
        """Reverse-mode accumulation: ∂E/∂(every node and parameter), from ∂E/∂E = ``seed``."""
        adjoint = {self.error: seed}
        for node in reversed(self.order):
            a = adjoint.get(node)
            if a is None:
                continue
            for parent, program in self.local[node]:
                adjoint[parent] = adjoint.get(parent, 0) + a * _evaluate(program, v)
        return adjoint


_TEMPLATES: dict[Expr, list[Expr]] = {}


def derivatives(f: Expr) -> dict[sp.Symbol, Expr]:
    """SymPy's derivative of ``f`` by each of its symbols.

    The definitions of a network repeat one form under many names (every net input of a layer is
    Σ w·out + b), so ``f`` is written with its symbols renamed t0, t1, … in the order they appear,
    that template is differentiated once by each of them, and the names are put back: renaming
    commutes with differentiation, and a template met again costs no differentiation at all.
    """
    names = list(dict.fromkeys(s for s in sp.preorder_traversal(f) if isinstance(s, sp.Symbol)))
    renamed = [sp.Symbol(f"_t{k}") for k in range(len(names))]
    template = f.xreplace(dict(zip(names, renamed)))
    if template not in _TEMPLATES:
        _TEMPLATES[template] = [sp.diff(template, t) for t in renamed]
    back = dict(zip(renamed, names))
    return {name: d.xreplace(back) for name, d in zip(names, _TEMPLATES[template])}


@functools.lru_cache(maxsize=4)
def graph_of(layout: Layout, activations: tuple[str, ...], loss: str) -> Graph:
    """The graph of a network's shape, activations and loss (its numbers do not change it)."""
    return Graph(layout, activations, loss)


def _compile(expr: Expr) -> Program:
    """A SymPy expression as nested tuples, so that evaluating it per sample does not walk SymPy
    objects. Only the functions the definitions use are known; anything else is an error."""
    import mpmath

    if isinstance(expr, sp.Symbol):
        return ("symbol", expr)
    if expr.is_Number:
        return ("number", mpmath.mpf(expr.p) / expr.q if expr.is_Rational else mpmath.mpf(str(expr)))
    if isinstance(expr, sp.Add):
        terms = [a.args if isinstance(a, sp.Mul) else (a, sp.Integer(1)) for a in expr.args]
        if all(len(t) == 2 and all(isinstance(x, sp.Symbol) or x.is_Number for x in t) for t in terms):
            return ("dot", tuple(tuple(_compile(x) for x in t) for t in terms))  # Σ w·out + b
        return ("add", tuple(_compile(a) for a in expr.args))
    if isinstance(expr, sp.Mul):
        return ("mul", tuple(_compile(a) for a in expr.args))
    if isinstance(expr, sp.Pow):
        return ("pow", _compile(expr.base), _compile(expr.exp))
    for kind, name in ((sigma, "sigma"), (sp.exp, "exp"), (sp.log, "log"), (sp.tanh, "tanh"), (relu, "relu"),
                       (step, "step")):
        if isinstance(expr, kind):
            return (name, _compile(expr.args[0]))
    raise ValueError(f"no numeric form for {type(expr).__name__}")


def _leaf(program: Program, values: dict):
    return values[program[1]] if program[0] == "symbol" else program[1]


def _evaluate(program: Program, values: dict):
    import mpmath

    kind = program[0]
    if kind == "symbol":
        return values[program[1]]
    if kind == "number":
        return program[1]
    if kind == "dot":
        return mpmath.fdot((_leaf(a, values), _leaf(b, values)) for a, b in program[1])
    if kind == "add":
        return mpmath.fsum(_evaluate(p, values) for p in program[1])
    if kind == "mul":
        out = mpmath.mpf(1)
        for p in program[1]:
            out *= _evaluate(p, values)
        return out
    if kind == "pow":
        return _evaluate(program[1], values) ** _evaluate(program[2], values)
    x = _evaluate(program[1], values)
    if kind == "sigma":
        return 1 / (1 + mpmath.exp(-x))
    if kind == "exp":
        return mpmath.exp(x)
    if kind == "log":
        return mpmath.log(x)
    if kind == "tanh":
        return mpmath.tanh(x)
    if kind == "relu":
        return x if x > 0 else mpmath.mpf(0)
    return mpmath.mpf(1 if x > 0 else 0)  # step, the slope of ReLU: 0 at 0, as the engine takes it


def reference_gradients(net: Network, progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """∂E_total/∂p for every parameter, from SymPy's local derivatives and reverse-mode accumulation at
    DIGITS digits, with the lesson's numbers as written. ``progress(stage, done, total)`` is told how far."""
    import mpmath

    with mpmath.workdps(DIGITS):
        graph = graph_of(net.layout, net.activations, net.loss)
        graph.differentiate((lambda done, total: progress("differentiating", done, total)) if progress else None)
        given = {s: written((net.weights | net.biases)[s.name]) for s in graph.params}
        n = len(net.samples)
        seed = mpmath.mpf(1) / n if net.batch == "mean" else mpmath.mpf(1)
        total = {p: mpmath.mpf(0) for p in graph.params}
        for k, (x, y) in enumerate(net.samples, 1):
            adjoint = graph.backward(graph.values(given, x, y), seed)
            for p in graph.params:
                total[p] += adjoint.get(p, 0)
            if progress is not None:
                progress("samples", k, n)
        return {p.name: +total[p] for p in graph.params}


def finite_differences(net: Network, names: list[str] | None = None,
                       progress: Callable[[str, int, int], None] | None = None) -> Check:
    """Central differences of sample 1's error at DIGITS digits (step 1e-15), against the chain rule of
    ``Graph`` for the same sample, on ``names`` or a spread of the trained parameters."""
    import mpmath

    trained = net.layout.weight_names() + (net.layout.bias_names() if net.train_biases else [])
    if names is None:
        step_ = max(1, len(trained) // FD_PARAMETERS)
        names = trained[::step_][:FD_PARAMETERS]
        if trained[-1] not in names:
            names[-1] = trained[-1]
    with mpmath.workdps(DIGITS):
        graph = graph_of(net.layout, net.activations, net.loss)
        graph.differentiate()
        given = {s: written((net.weights | net.biases)[s.name]) for s in graph.params}
        x, y = net.samples[0]
        adjoint = graph.backward(graph.values(given, x, y), mpmath.mpf(1))
        h = mpmath.mpf("1e-15")
        worst = mpmath.mpf(0)
        for name in names:
            p = sp.Symbol(name)
            up = graph.values(given | {p: given[p] + h}, x, y)[graph.error]
            down = graph.values(given | {p: given[p] - h}, x, y)[graph.error]
            fd = (up - down) / (2 * h)
            chain = adjoint.get(p, mpmath.mpf(0))
            scale = max(abs(chain), abs(fd))
            if scale:
                worst = max(worst, abs(fd - chain) / scale)
            if progress is not None:
                progress("finite differences", names.index(name) + 1, len(names))
        return Check(1, names, float(worst))


def verify(net: Network, trace: dict[str, float],
           progress: Callable[[str, int, int], None] | None = None) -> list[Gradient]:
    """The reference gradient of every trained parameter (``reference_gradients``) beside the engine's."""
    reference = reference_gradients(net, progress)
    trained = net.layout.weight_names() + (net.layout.bias_names() if net.train_biases else [])
    return [Gradient(p, trace[f"dE_total/d{p}"], reference[p]) for p in trained]


def composed_gradients(net: Network) -> dict[str, sp.Float]:
    """The old, slow oracle, kept for small networks in the tests: E_total composed as one expression in
    every parameter, differentiated by each, evaluated at 30 digits."""
    model = Model(net)
    one, params = model.total_error()
    L = net.layout
    errors = []
    for inputs, targets in net.samples:
        data = {symbol(i): exact(x) for i, x in zip(L.neurons[0], inputs)}
        data |= {symbol(f"target_{o}"): exact(y) for o, y in zip(L.neurons[-1], targets)}
        errors.append(one.xreplace(data))
    error = sp.Add(*errors) / (len(errors) if net.batch == "mean" else 1)
    values = {symbol(p): exact((net.weights | net.biases)[p]) for p in params}
    return {p: sp.diff(error, symbol(p)).xreplace(values).evalf(30) for p in params}


# ---------------------------------------------------------------------------------------------
# Formulas the learner typed (read by ``backprop_tutor.formula``, never by SymPy's parser)


def _formula(node, name: Callable[[str], Expr], shown: bool) -> Expr:
    """A formula tree as SymPy objects, built node by node: as typed (``shown``), or as algebra."""
    def go(n) -> Expr:
        return _formula(n, name, shown)

    kind, args = node.kind, node.args
    if kind == "num":
        if shown:
            return HALF if node.text == "½" else Num(node.text, bare=True)
        return sp.Rational(node.number.numerator, node.number.denominator)
    if kind == "name":
        return name(node.name)
    if kind == "e":
        return sp.E
    if kind == "neg":
        return sp.Mul(-1, go(args[0]), evaluate=False) if shown else -go(args[0])
    if kind == "call":
        x = go(args[0])
        if node.name == "sigma":
            return sigma(x) if shown else 1 / (1 + sp.exp(-x))
        if node.name == "relu":
            return sp.Function("max")(sp.Integer(0), x) if shown else relu(x)
        made = {"exp": sp.exp, "ln": sp.log, "tanh": sp.tanh, "step": step}[node.name]
        return made(x, evaluate=False) if shown and made is not step else made(x)
    a, b = go(args[0]), go(args[1])
    if kind == "pow" and args[0].kind == "e":
        return sp.exp(b, evaluate=not shown)
    if kind == "add":
        return sp.Add(a, b, evaluate=not shown)
    if kind == "sub":
        return _minus(a, b) if shown else a - b
    if kind == "mul":
        return sp.Mul(a, b, evaluate=not shown)
    if kind == "div":
        return sp.Mul(a, sp.Pow(b, -1, evaluate=False), evaluate=False) if shown else a / b
    return sp.Pow(a, b, evaluate=not shown)


def formula_shown(node) -> Expr:
    """The formula as it was typed, in the post's symbols: what the learner sees echoed back."""
    return _formula(node, symbol, shown=True)


def formula_drawing(qid: str, node, unicode: bool = True, width: int = 80) -> str:
    """``quantity = formula`` in 2-D (or one line where 2-D does not fit the width)."""
    parts = (symbol(qid), formula_shown(node))
    return equation_text(parts, unicode, width) or equation_line(parts, unicode)


def formula_texts(qid: str, node) -> tuple[str, str]:
    """The formula as read, in one line and in LaTeX."""
    expr = formula_shown(node)
    tex = LatexPrinter({"order": "none", "mul_symbol": "dot"}).doprint(expr)
    return _plain(expr), tex


def symbol_drawing(qid: str, unicode: bool = True) -> str:
    """A quantity's symbol drawn in 2-D (∂out_o1 over ∂net_o1)."""
    return equation_text((symbol(qid),), unicode, 200) or _plain(symbol(qid))


def algebra_agrees(node, qid: str, definition: Callable[[str], object | None], order: dict[str, int],
                   max_ops: int = 300, rounds: int = 40) -> bool:
    """Does SymPy show the formula equal to the quantity? Names are replaced by their definitions, the
    latest in the lesson's order first, until the difference expands (or cancels) to 0; False when it
    does not within the budget (the expression grows past ``max_ops`` operations)."""
    def plain(q: str) -> Expr:
        return sp.Symbol(q, real=True)

    def size(e: Expr) -> int:
        return sum(1 for _ in sp.preorder_traversal(e))

    own = definition(qid)
    if own is None:
        return False
    diff = _formula(node, plain, shown=False) - _formula(own, plain, shown=False)
    def cancels(e: Expr) -> bool:  # the slower test, for fractions and exponentials: tried only at the end
        return size(e) <= 200 and sp.cancel(sp.together(e)) == 0

    for _ in range(rounds):
        expanded = sp.expand(diff)
        if expanded == 0:
            return True
        if expanded.has(sp.Pow) and size(expanded) <= 60 and cancels(expanded):  # a fraction of the outputs
            return True  # (binary cross-entropy's slope over one denominator), before its names grow into e^x
        names = [s.name for s in diff.free_symbols if s.name in order and definition(s.name) is not None]
        if not names:
            return cancels(expanded)
        latest = max(names, key=order.__getitem__)
        replaced = diff.xreplace({plain(latest): _formula(definition(latest), plain, shown=False)})
        if size(replaced) > max_ops:
            return cancels(expanded)
        diff = replaced
    return False


def swap_drawing(typed: str, meant: str, unicode: bool = True) -> str:
    """One quantity where another belongs, drawn side by side: ``w₆ → w₇`` (2-D for derivatives)."""
    arrow = "→" if unicode else "->"
    printer = _Pretty(unicode)
    before = pretty_use_unicode(unicode)
    try:
        left, right = printer._print(symbol(typed)), printer._print(symbol(meant))
    finally:
        pretty_use_unicode(before)
    joined = prettyForm(*stringPict.next(left, f" {arrow} ", right))
    return "\n".join(line.rstrip() for line in joined.render(wrap_line=False).split("\n"))

"""The catalogue: every quantity of a network, with its symbol, meaning, formula and aliases.

One catalogue serves the checker, the lesson walk, the symbolic layer and shell completion.
Canonical ids are the engine's trace keys (``dE_total/dw5``); the names people type
(``dE/dw5``, ``∂E/∂w5``, ``grad_w5``, ``w5_new`` …) are aliases, matched by ``normalize``:
case, underscores and spaces do not matter, and ∂ δ ⁺ − may be typed as d, delta, +, -.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal

from backprop_tutor.errors import GivenQuantity, UnknownQuantity
from backprop_tutor.names import Layout
from backprop_tutor.network import ACTIVATIONS, LOSSES, RELU_KINK, Network, out_name, path_name, sample_key

SECTIONS = {
    "given": "Given",
    "forward": "Forward pass",
    "error": "Total error",
    "output": "Backward pass: output layer",
    "hidden": "Backward pass: hidden layer",
    "batch": "The batch: every sample's gradient combined",
    "after": "After the update",
}


@dataclass(frozen=True)
class Quantity:
    id: str
    symbol: str  # the post's notation, in unicode
    meaning: str
    formula: str  # right-hand side, with {id} for every quantity it is computed from
    section: str
    skill: str
    aliases: tuple[str, ...] = field(default=())

    @property
    def deps(self) -> list[str]:
        return re.findall(r"\{([^}]+)\}", self.formula)

    @property
    def given(self) -> bool:
        return self.section == "given"


def symbol(qid: str) -> str:
    """The unicode symbol of a canonical id: dE_total/dw5 → ∂E_total/∂w5, w5+ → w5⁺, delta_o1 → δ_o1."""
    if qid == "eta":
        return "η"
    if qid.endswith("+"):
        return symbol(qid[:-1]) + "⁺"
    if qid.startswith("delta_"):
        return "δ_" + qid[len("delta_"):]
    m = re.fullmatch(r"dE_via_(\w+)/dout_(\w+)", qid)
    if m:
        return f"∂E_total/∂net_{m[1]}·∂net_{m[1]}/∂out_{m[2]}"
    m = re.fullmatch(r"d(.+)/d(.+)", qid)
    if m:
        return f"∂{m[1]}/∂{m[2]}"
    return qid


_FOLD = str.maketrans({"∂": "d", "δ": "delta", "Δ": "delta", "−": "-", "–": "-", "’": "'",
                       "η": "eta", "_": None, " ": None, "\t": None})


def normalize(name: str) -> str:
    """The form names are matched in: NFKC (⁺ → +), ∂ → d, δ → delta, lower case, no _ or spaces."""
    return unicodedata.normalize("NFKC", name).translate(_FOLD).lower().replace("^+", "+")


def _aliases(qid: str, outputs: set[str], params: set[str]) -> list[str]:
    """The other names people type for a quantity (before normalization)."""
    names: list[str] = []
    if qid.endswith("+"):
        base = qid[:-1]
        names += [f"{base}_new", f"new_{base}", f"{base}_updated", f"updated_{base}", f"{base}_after",
                  f"{base}plus"]
        if base in params:
            names.append(base)  # in `check`, w5 means the weight that has to be computed: w5⁺
        if base == "E_total":
            names += ["E+", "E_new", "E_after", "error_after", "new_error"]
    elif qid == "E_total":
        names += ["E", "error", "total_error"]
    elif qid.startswith("delta_"):
        j = qid[len("delta_"):]
        names += [f"dE_total/dnet_{j}", f"dE/dnet_{j}"]
        if j in outputs:
            names.append(f"dE_{j}/dnet_{j}")
    elif m := re.fullmatch(r"dE_total/d(\w+)", qid):
        b = m[1]
        names.append(f"dE/d{b}")
        if b in params:
            names += [f"grad_{b}", f"gradient_{b}", f"g_{b}"]
        if b.startswith("out_") and b[4:] in outputs:
            names.append(f"dE_{b[4:]}/d{b}")
    elif m := re.fullmatch(r"dE_(o\d+)/dout_(\w+)", qid):
        names.append(f"dE_via_{m[1]}/dout_{m[2]}")
    return names


def build(net: Network) -> dict[str, Quantity]:
    """The catalogue of one network, in the order of the engine's trace."""
    if net.extra:
        return build_batch(net)
    L: Layout = net.layout
    loss = LOSSES[net.loss]
    outputs = set(L.neurons[-1])
    params = set(L.weight_names()) | set(L.bias_names())
    q: dict[str, Quantity] = {}

    def add(qid: str, meaning: str, formula: str, section: str, skill: str) -> None:
        q[qid] = Quantity(qid, symbol(qid), meaning, formula, section, skill,
                          tuple(_aliases(qid, outputs, params)))

    for i in L.neurons[0]:
        add(i, f"input {i}", "", "given", "given")
    for o in L.neurons[-1]:
        add(f"target_{o}", f"the value {o} should output", "", "given", "given")
    for w in L.weight_names():
        l, r, s = L.connection(w)
        add(w, f"weight from {L.neurons[l][s]} to {L.neurons[l + 1][r]}", "", "given", "given")
    for b in L.bias_names():
        add(b, "bias of " + ", ".join(j for l, names in enumerate(L.biases)
                                      for j, name in zip(L.neurons[l + 1], names) if name == b),
            "", "given", "given")
    add("eta", "learning rate", "", "given", "given")

    def forward(tag: str, section: str, when: str) -> None:
        def p(name: str) -> str:  # a weight or bias, before or after the update
            return name + tag if (tag and (net.train_biases or name.startswith("w"))) else name

        def src(name: str) -> str:
            return name if name.startswith("i") else f"out_{name}{tag}"

        for l in range(1, L.depth + 1):
            a = ACTIVATIONS[net.activations[l - 1]]
            for r, j in enumerate(L.neurons[l]):
                terms = [f"{{{p(L.weights[l - 1][r][s])}}}·{{{src(x)}}}"
                         for s, x in enumerate(L.neurons[l - 1])]
                terms.append(f"{{{p(L.biases[l - 1][r])}}}·1")
                add(f"net_{j}{tag}", f"net input of {j}{when}: its weighted inputs plus its bias",
                    " + ".join(terms), section, "net input")
                if a.name != "softmax":
                    add(f"out_{j}{tag}", f"output of {j}{when}: its net input through the {a.name} function",
                        a.formula.format(net=f"{{net_{j}{tag}}}"), section, "activation")
            if a.name == "softmax":  # the whole layer's net inputs first, then its outputs
                total = " + ".join(f"e^({{net_{k}{tag}}})" for k in L.neurons[l])
                for j in L.neurons[l]:
                    add(f"out_{j}{tag}", f"output of {j}{when}: the softmax of the layer's net inputs",
                        f"e^({{net_{j}{tag}}}) / ({total})", section, "activation")
        err_section = "error" if not tag else section
        for o in L.neurons[-1]:
            add(f"E_{o}{tag}", f"error of {o}{when}", loss.formula.format(
                target=f"{{target_{o}}}", out=f"{{out_{o}{tag}}}"), err_section, "error")
        add(f"E_total{tag}", f"total error{when}: the sum of the output errors",
            " + ".join(f"{{E_{o}{tag}}}" for o in L.neurons[-1]), err_section, "error")

    forward("", "forward", "")

    for l in range(L.depth, 0, -1):
        layer = L.neurons[l]
        a = ACTIVATIONS[net.activations[l - 1]]
        section = "output" if l == L.depth else "hidden"
        coupled = a.name == "softmax"
        if coupled:
            for j in layer:
                add(f"dE_total/dout_{j}", f"how fast the total error changes with out_{j}",
                    loss.slope_formula.format(target=f"{{target_{j}}}", out=f"{{out_{j}}}"), section, "output delta")
        for r, j in enumerate(layer):
            if coupled:
                for k in layer:  # the softmax's Jacobian: every output moves with every net input
                    if k == j:
                        add(f"dout_{j}/dnet_{j}", f"how out_{j} changes with its own net input: the softmax's "
                            f"slope out_{j}(1 − out_{j})", f"{{out_{j}}}(1 − {{out_{j}}})", section, "output delta")
                    else:
                        add(f"dout_{k}/dnet_{j}", f"how out_{k} changes with net_{j}: raising net_{j} takes a "
                            f"share of the total from out_{k}, −out_{k}·out_{j}", f"−{{out_{k}}}·{{out_{j}}}",
                            section, "output delta")
                add(f"delta_{j}", f"the error signal of {j}: ∂E_total/∂net_{j}, through every output of the "
                    f"softmax, Σ_k ∂E_total/∂out_k · ∂out_k/∂net_{j}; the softmax's slope cancels the "
                    "cross-entropy's 1/out",
                    f"{{out_{j}}} − {{target_{j}}}", section, "output delta")
            elif l == L.depth:
                add(f"dE_total/dout_{j}", f"how fast the total error changes with out_{j}",
                    loss.slope_formula.format(target=f"{{target_{j}}}", out=f"{{out_{j}}}"),
                    section, "output delta")
            else:
                for n, nxt in enumerate(L.neurons[l + 1]):
                    w = L.weights[l][n][r]
                    add(f"dnet_{nxt}/dout_{j}", f"how net_{nxt} changes with out_{j}: the weight {w}",
                        f"{{{w}}}", section, "hidden sum")
                    add(path_name(nxt, j), f"the part of ∂E_total/∂out_{j} that flows back through {nxt}",
                        f"{{delta_{nxt}}} · {{dnet_{nxt}/dout_{j}}}", section, "hidden sum")
                add(f"dE_total/dout_{j}",
                    f"how fast the total error changes with out_{j}: the sum over every path out of {j}",
                    " + ".join(f"{{{path_name(nxt, j)}}}" for nxt in L.neurons[l + 1]), section,
                    "hidden sum")
            skill = "output delta" if l == L.depth else "hidden sum"
            if not coupled:
                kink = f"; {RELU_KINK}" if a.name == "relu" else ""
                add(f"dout_{j}/dnet_{j}", f"slope of the {a.name} function of {j} at its net input{kink}",
                    a.slope_formula.format(net=f"{{net_{j}}}", out=f"{{out_{j}}}"), section, skill)
                add(f"delta_{j}", f"the error signal of {j}: ∂E_total/∂net_{j}",
                    f"{{dE_total/dout_{j}}} · {{dout_{j}/dnet_{j}}}", section, skill)
            for s, x in enumerate(L.neurons[l - 1]):
                w = L.weights[l - 1][r][s]
                add(f"dnet_{j}/d{w}", f"how net_{j} changes with {w}: the value {w} multiplies, {out_name(x)}",
                    f"{{{out_name(x)}}}", section, "gradient")
                chain = (f"{{delta_{j}}} · {{dnet_{j}/d{w}}}" if coupled
                         else f"{{dE_total/dout_{j}}} · {{dout_{j}/dnet_{j}}} · {{dnet_{j}/d{w}}}")
                add(f"dE_total/d{w}", f"gradient of the total error with respect to {w}", chain, section,
                    "gradient")
                add(f"{w}+", f"{w} after one step of gradient descent",
                    f"{{{w}}} − {{eta}} · {{dE_total/d{w}}}", section, "update")
        if net.train_biases:
            for b in dict.fromkeys(L.biases[l - 1]):
                fed = [j for j, name in zip(layer, L.biases[l - 1]) if name == b]
                add(f"dE_total/d{b}", f"gradient of the total error with respect to {b}",
                    " + ".join(f"{{delta_{j}}}·1" for j in fed), section, "gradient")
                add(f"{b}+", f"{b} after one step of gradient descent",
                    f"{{{b}}} − {{eta}} · {{dE_total/d{b}}}", section, "update")

    forward("+", "after", " after the update")
    return q


SHOWN = 15  # significant digits at most: never more than a value has (a float holds 15 to 17)
_WIDE = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN)


def post_digits(value: float | Decimal) -> str:
    """A value at the digits the post prints: 9 decimal places, or 6 significant digits below 0.001 —
    and never more than 15 significant digits (1.23456789012346e20, not a 21-digit integer).

    A value of the exact trace (``network.Exact`` or a Decimal) is rounded from its exact decimal, so
    every digit shown is right; a plain float from its shortest repr.
    """
    d = _decimal(value)
    if not d.is_finite():
        return repr(float(d))
    if d == 0:
        return "0"
    e = d.adjusted()  # the power of ten of the first digit
    if -3 <= e < SHOWN:
        places = min(9, SHOWN - 1 - e)
        q = d.quantize(Decimal(1).scaleb(-places, context=_WIDE), context=_WIDE)
        if q.adjusted() >= SHOWN:  # 999999999999999.9 rounds up to 16 digits
            return _significant(d, SHOWN)
        text = f"{q:f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return "0" if text in ("-0", "0") else text
    return _significant(d, 6 if e < -3 else SHOWN)


def full_digits(value: float | Decimal) -> str:
    """Every digit a value has to show, 15 significant, as %.15g writes them: -0.249116793652159.
    A value of the exact trace is rounded from its exact decimal, a plain float from its shortest repr."""
    d = _decimal(value)
    if not d.is_finite():
        return repr(float(d))
    return "0" if d == 0 else _significant(d, SHOWN)


def _decimal(value: float | Decimal) -> Decimal:
    if isinstance(value, Decimal):
        return value
    exact = getattr(value, "exact", None)
    return exact if exact is not None else Decimal(repr(float(value)))


def _significant(d: Decimal, digits: int) -> str:
    """``d`` at ``digits`` significant digits, trailing zeros dropped, as %g writes it: 0.000438568, 4.3731e-13."""
    q = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1, context=_WIDE), context=_WIDE)
    e = q.adjusted()
    if -4 <= e < digits:
        text = f"{q:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    sign, figures, _ = q.as_tuple()
    mantissa = "".join(map(str, figures)).rstrip("0") or "0"
    mantissa = mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{e}"


def build_batch(net: Network) -> dict[str, Quantity]:
    """Several samples: each sample's quantities (``net_h1@2``), then the batch's, as ``run_batch`` names them."""
    single = build(net.sample(1))
    shared = {*net.weights, *net.biases, "eta"}
    trained = [*net.weights, *(net.biases if net.train_biases else [])]
    n = len(net.samples)
    q: dict[str, Quantity] = {name: single[name] for name in single if name in shared}

    def per_sample(x: str, k: int) -> str:
        if x in shared or (x.endswith("+") and x[:-1] in shared):
            return x
        return sample_key(x, k)

    def relabel(item: Quantity, k: int) -> Quantity:
        qid = sample_key(item.id, k)
        formula = re.sub(r"\{([^}]+)\}", lambda m: "{" + per_sample(m[1], k) + "}", item.formula)
        return Quantity(qid, symbol(qid), f"{item.meaning} (sample {k})", formula, item.section, item.skill,
                        tuple(sample_key(a, k) for a in item.aliases if "/" in a or not a.endswith("+")))

    for k in range(1, n + 1):
        for item in single.values():
            if item.id not in shared and not item.id.endswith("+"):
                q[sample_key(item.id, k)] = relabel(item, k)
    mean = net.batch == "mean"

    def combined(key: str) -> str:
        total = " + ".join(f"{{{sample_key(key, k)}}}" for k in range(1, n + 1))
        return f"({total}) / {n}" if mean else total

    how = "the mean" if mean else "the sum"
    q["E_total"] = Quantity("E_total", symbol("E_total"), f"total error of the batch: {how} of the samples' errors",
                            combined("E_total"), "batch", "error", ("E", "error", "total_error"))
    for item in single.values():
        if item.id.startswith("dE_total/d") and item.id[len("dE_total/d"):] in trained:
            p = item.id[len("dE_total/d"):]
            q[item.id] = Quantity(item.id, item.symbol, f"gradient of the batch's error with respect to {p}: "
                                  f"{how} of the samples' gradients", combined(item.id), "batch", "gradient",
                                  item.aliases)
            plus = single[f"{p}+"]
            q[plus.id] = Quantity(plus.id, plus.symbol, f"{p} after one step of gradient descent on the batch",
                                  plus.formula, "batch", "update", plus.aliases)
    for k in range(1, n + 1):
        for item in single.values():
            if item.id.endswith("+") and item.id[:-1] not in shared and item.id != "E_total+":
                q[sample_key(item.id, k)] = relabel(item, k)
        after = single["E_total+"]
        q[sample_key("E_total+", k)] = relabel(after, k)
    q["E_total+"] = Quantity("E_total+", symbol("E_total+"), f"total error of the batch after the update: {how}",
                             combined("E_total+"), "after", "error", single["E_total+"].aliases)
    return q


def describe_formula(quantity: Quantity, values: dict[str, float] | None = None) -> str:
    """The formula in symbols, or with the values of its parts put in (at the post's digits)."""
    def part(m: re.Match[str]) -> str:
        if values is None:
            return symbol(m[1])
        v = values[m[1]]
        text = post_digits(v)
        return f"({text})" if v < 0 else text

    return re.sub(r"\{([^}]+)\}", part, quantity.formula)


class Resolver:
    """Turns what a person typed into a quantity of the catalogue."""

    def __init__(self, catalogue: dict[str, Quantity]):
        self.catalogue = catalogue
        self.index: dict[str, str] = {}
        for qid, quantity in catalogue.items():  # canonical ids first: they win over aliases
            if not quantity.given:
                self.index.setdefault(normalize(qid), qid)
        for qid, quantity in catalogue.items():
            for alias in quantity.aliases:
                self.index.setdefault(normalize(alias), qid)

    def resolve(self, name: str) -> Quantity:
        key = normalize(name.strip())
        if key in self.index:
            return self.catalogue[self.index[key]]
        for qid, quantity in self.catalogue.items():
            if quantity.given and normalize(qid) == key:
                raise GivenQuantity(qid)
        raise UnknownQuantity(name, self.suggest(key))

    def suggest(self, key: str, n: int = 3) -> list[str]:
        import difflib

        cutoff = 0.6 if len(key) > 4 else 0.4  # short names (w9) differ by a larger share
        close = difflib.get_close_matches(key, list(self.index), n=12, cutoff=cutoff)
        return list(dict.fromkeys(self.index[c] for c in close))[:n]

"""The catalogue: every quantity of a network, with its symbol, meaning, formula and aliases.

One catalogue serves the checker, the lesson walk, the symbolic layer and shell completion.
Canonical ids are the engine's trace keys (``dE_total/dw5``); the names people type
(``dE/dw5``, ``∂E/∂w5``, ``grad_w5``, ``w5_new`` …) are aliases, matched by ``normalize``:
case, underscores and spaces do not matter, and ∂ δ ⁺ − may be typed as d, delta, +, -.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal
from functools import cached_property

from backprop_tutor.errors import GivenQuantity, UnknownQuantity
from backprop_tutor.names import Layout
from backprop_tutor.network import ACTIVATIONS, LOSSES, RELU_KINK, Network, out_name, path_name, sample_key

_DEPS = re.compile(r"\{([^}]+)\}")

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

    @cached_property
    def deps(self) -> list[str]:
        return _DEPS.findall(self.formula)

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


def build(net: Network) -> Mapping[str, Quantity]:
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


class BatchCatalogue(Mapping[str, Quantity]):
    """The catalogue of a lesson with several samples, in the order of ``run_batch``: each sample's
    quantities (``net_h1@2``), then the batch's, then each sample's after the update.

    A sample's quantities are sample 1's relabelled, and are made only when asked for: a lesson of 64
    samples on five layers of 16 has 400,000 of them, and a command names a handful."""

    def __init__(self, net: Network):
        self.single = single = build(net.sample(1))
        self.n = n = len(net.samples)
        self.shared = shared = {*net.weights, *net.biases, "eta"}
        trained = [*net.weights, *(net.biases if net.train_biases else [])]
        self.head = {name: single[name] for name in single if name in shared}
        # each sample's own quantities (the givens i1@2, target_o1@2 too), then those after the update
        self.before = [q for q in single if q not in shared and not q.endswith("+")]
        self.after = [q for q in single if q.endswith("+") and q[:-1] not in shared]  # E_total+ is last
        self._sample_ids = set(self.before) | set(self.after)
        mean = net.batch == "mean"

        def combined(key: str) -> str:
            total = " + ".join(f"{{{sample_key(key, k)}}}" for k in range(1, n + 1))
            return f"({total}) / {n}" if mean else total

        how = "the mean" if mean else "the sum"
        setting = (f' (the lesson\'s batch = "mean": their sum divided by {n})' if mean
                   else ' (the lesson\'s batch = "sum")')
        middle = {"E_total": Quantity("E_total", symbol("E_total"),
                                      f"total error of the batch: {how} of the samples' errors{setting}",
                                      combined("E_total"), "batch", "error", ("E", "error", "total_error"))}
        for item in single.values():
            if item.id.startswith("dE_total/d") and item.id[len("dE_total/d"):] in trained:
                p = item.id[len("dE_total/d"):]
                middle[item.id] = Quantity(item.id, item.symbol, f"gradient of the batch's error with respect to "
                                           f"{p}: {how} of the samples' gradients{setting}", combined(item.id), "batch",
                                           "gradient", item.aliases)
                plus = single[f"{p}+"]
                middle[plus.id] = Quantity(plus.id, plus.symbol, f"{p} after one step of gradient descent on the "
                                           "batch", plus.formula, "batch", "update", plus.aliases)
        self.middle = middle
        self.tail = {"E_total+": Quantity("E_total+", symbol("E_total+"),
                                          f"total error of the batch after the update: {how}",
                                          combined("E_total+"), "after", "error", single["E_total+"].aliases)}
        self._made: dict[str, Quantity] = {}

    def sample_of(self, qid: str) -> tuple[str, int] | None:
        """A quantity of one sample as sample 1's id and the sample's number (net_h1@2+ → net_h1+, 2)."""
        m = _SAMPLE.fullmatch(qid)
        if m is None or m[2] != str(int(m[2])) or not 1 <= int(m[2]) <= self.n:
            return None
        base = m[1] + m[3]
        return (base, int(m[2])) if base in self._sample_ids else None

    def with_sample(self, k: int) -> list[str]:
        """The batch's own names and sample k's, in order."""
        return [*self.head, *(sample_key(q, k) for q in self.before), *self.middle,
                *(sample_key(q, k) for q in self.after), *self.tail]

    def __getitem__(self, qid: str) -> Quantity:
        for part in (self.head, self.middle, self.tail):
            if qid in part:
                return part[qid]
        if qid not in self._made:
            found = self.sample_of(qid)
            if found is None:
                raise KeyError(qid)
            self._made[qid] = self._relabel(self.single[found[0]], found[1])
        return self._made[qid]

    def _relabel(self, item: Quantity, k: int) -> Quantity:
        def per_sample(x: str) -> str:
            if x in self.shared or (x.endswith("+") and x[:-1] in self.shared):
                return x
            return sample_key(x, k)

        qid = sample_key(item.id, k)
        formula = re.sub(r"\{([^}]+)\}", lambda m: "{" + per_sample(m[1]) + "}", item.formula)
        return Quantity(qid, symbol(qid), f"{item.meaning} (sample {k})", formula, item.section, item.skill,
                        tuple(sample_key(a, k) for a in sample_aliases(item)))

    def __iter__(self) -> Iterator[str]:
        yield from self.head
        for k in range(1, self.n + 1):
            for q in self.before:
                yield sample_key(q, k)
        yield from self.middle
        for k in range(1, self.n + 1):
            for q in self.after:
                yield sample_key(q, k)
        yield from self.tail

    def __len__(self) -> int:
        return len(self.head) + self.n * (len(self.before) + len(self.after)) + len(self.middle) + len(self.tail)

    def __contains__(self, qid: object) -> bool:
        return isinstance(qid, str) and (qid in self.head or qid in self.middle or qid in self.tail
                                         or self.sample_of(qid) is not None)


_SAMPLE = re.compile(r"(.*)@(\d{1,6})(\+?)")


def sample_aliases(item: Quantity) -> list[str]:
    """The aliases a quantity of sample 1 keeps for every sample (w5_new names the shared weight, not a sample's)."""
    return [a for a in item.aliases if "/" in a or not a.endswith("+")]


def givens(cat: Mapping[str, Quantity]) -> list[str]:
    """The given quantities (inputs, targets, weights, biases, η), without making a batch's every quantity."""
    if isinstance(cat, BatchCatalogue):
        return [*cat.head, *(sample_key(q, k) for k in range(1, cat.n + 1) for q in cat.before
                             if cat.single[q].given)]
    return [q for q, item in cat.items() if item.given]


def build_batch(net: Network) -> BatchCatalogue:
    """Several samples: each sample's quantities (``net_h1@2``), then the batch's, as ``run_batch`` names them."""
    return BatchCatalogue(net)


def describe_formula(quantity: Quantity, values: Mapping[str, float] | None = None) -> str:
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

    def __init__(self, catalogue: Mapping[str, Quantity]):
        self.catalogue = catalogue
        self.batch = catalogue if isinstance(catalogue, BatchCatalogue) else None
        # a batch's own quantities are indexed once, a sample's as sample 1's names (net_h1 for net_h1@2)
        own = ({**self.batch.head, **self.batch.middle, **self.batch.tail} if self.batch is not None
               else catalogue)
        self.index = _index(own.items())
        self.per_sample: dict[str, str] = {}
        self.given_per_sample: dict[str, str] = {}
        if self.batch is not None:
            items = [self.batch.single[q] for q in (*self.batch.before, *self.batch.after)]
            self.per_sample = _index(((q.id, q) for q in items), sample_aliases)
            self.given_per_sample = {normalize(q.id): q.id for q in items if q.given}

    def id_of(self, key: str) -> str | None:
        """The id a normalized name stands for (a given's own name is not one), or None."""
        if key in self.index:
            return self.index[key]
        sample = self._sample(key)
        if sample is not None and sample[0] in self.per_sample:
            return sample_key(self.per_sample[sample[0]], sample[1])
        return None

    def _sample(self, key: str) -> tuple[str, int] | None:
        """A batch's name of one sample as sample 1's and the sample's number: neth1@2+ → neth1+, 2."""
        m = _SAMPLE.fullmatch(key) if self.batch is not None else None
        if m is None or m[2] != str(int(m[2])) or not 1 <= int(m[2]) <= self.batch.n:  # type: ignore[union-attr]
            return None
        return m[1] + m[3], int(m[2])

    def resolve(self, name: str) -> Quantity:
        key = normalize(name.strip())
        qid = self.id_of(key)
        if qid is not None:
            return self.catalogue[qid]
        sample = self._sample(key)
        if sample is not None and sample[0] in self.given_per_sample:
            raise GivenQuantity(sample_key(self.given_per_sample[sample[0]], sample[1]))
        for qid, quantity in (self.batch.head.items() if self.batch is not None else self.catalogue.items()):
            if quantity.given and normalize(qid) == key:
                raise GivenQuantity(qid)
        raise UnknownQuantity(name, self.suggest(key))

    def suggest(self, key: str, n: int = 3) -> list[str]:
        import difflib

        cutoff = 0.6 if len(key) > 4 else 0.4  # short names (w9) differ by a larger share
        names = dict(self.index)
        if self.batch is not None:  # a sample's names, with the sample typed (or sample 1's)
            m = re.search(r"@(\d{1,6})", key)
            k = int(m[1]) if m and m[1] == str(int(m[1])) and 1 <= int(m[1]) <= self.batch.n else 1
            key = key[:m.start()] + key[m.end():] if m else key
            names = {**names, **{b: sample_key(q, k) for b, q in self.per_sample.items()}}
        close = difflib.get_close_matches(key, list(names), n=12, cutoff=cutoff)
        return list(dict.fromkeys(names[c] for c in close))[:n]


def _index(items: Iterable[tuple[str, Quantity]],
           aliases: Callable[[Quantity], Iterable[str]] = lambda q: q.aliases) -> dict[str, str]:
    """Normalized name → id: canonical ids first (they win over aliases), the givens' ids left out."""
    items = list(items)
    index: dict[str, str] = {}
    for qid, quantity in items:
        if not quantity.given:
            index.setdefault(normalize(qid), qid)
    for qid, quantity in items:
        for alias in aliases(quantity):
            index.setdefault(normalize(alias), qid)
    return index

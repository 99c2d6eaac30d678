"""The lesson in matrices: W¹, W², b, x, zˡ, aˡ, δˡ, ∂E/∂Wˡ …, each entry labelled with its scalar name.

Nielsen's four equations on the lesson's own numbers.  Row r of Wˡ is the neuron r of layer l that the
weights feed, column s the neuron s of layer l − 1 they come from, so that zˡ = Wˡ aˡ⁻¹ + bˡ; under
either numbering (by-receiver, by-sender) only the labels move.  With several samples, each column of x,
zˡ, aˡ and δˡ is one sample (net_h1@2), and ∂E/∂Wˡ sums them.

Also the reader of a vector or matrix typed as an answer (``check delta_o "0.1385, -0.0381"``): brackets,
commas or spaces between entries, semicolons or inner brackets between rows; each entry is read by
``answers.parse_number`` and judged by ``Session.check``.  No heavy import here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backprop_tutor import answers
from backprop_tutor.errors import TutorError
from backprop_tutor.names import Layout
from backprop_tutor.network import Network
from backprop_tutor.safe_text import echo

if TYPE_CHECKING:
    from backprop_tutor.checking import CheckResult, Session

SUPERSCRIPT = str.maketrans("0123456789+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺")
MAX_TEXT = 4000
MAX_ENTRIES = 400


@dataclass(frozen=True)
class Labelled:
    """A matrix of the lesson: each entry's scalar name (a quantity of the trace) and its value."""

    key: str  # W2, b1, z1, a2, delta2, dE/dW2, dE/db1, W2+, x, y
    symbol: str  # W², δ², ∂E/∂W² …
    meaning: str
    equation: str
    labels: tuple[tuple[str, ...], ...]  # labels[r][c]
    values: tuple[tuple[float, ...], ...]
    aliases: tuple[str, ...] = ()
    given: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.labels), len(self.labels[0])


def _sup(l: int | str) -> str:
    return str(l).translate(SUPERSCRIPT)


def matrices(net: Network, trace: Mapping[str, float]) -> list[Labelled]:
    """Every matrix of the lesson, in the order of the forward pass, the backward pass and the update."""
    L: Layout = net.layout
    many = bool(net.extra)
    samples = range(1, len(net.samples) + 1) if many else [0]

    def tag(name: str, k: int) -> str:
        return f"{name}@{k}" if many else name

    def per_sample(names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(tag(n, k) for k in samples) for n in names)

    def make(key: str, symbol: str, meaning: str, equation: str, labels: tuple[tuple[str, ...], ...],
             aliases: tuple[str, ...] = (), given: bool = False) -> Labelled:
        values = tuple(tuple(float(trace[n]) if n in trace else float("nan") for n in row) for row in labels)
        return Labelled(key, symbol, meaning, equation, labels, values, aliases, given)

    columns = " (one column per sample)" if many else ""
    inputs, outputs = L.neurons[0], L.neurons[-1]
    x_labels = per_sample(inputs) if many else tuple((i,) for i in inputs)
    if many:  # the inputs of sample k are given as i1@k only when there are several
        x_values = tuple(tuple(float(net.samples[k - 1][0][r]) for k in samples) for r in range(len(inputs)))
    else:
        x_values = tuple((float(v),) for v in net.inputs)
    found = [Labelled("x", "x = a⁰", f"the inputs{columns}", "given", x_labels, x_values, ("a0", "i", "inputs"),
                      True)]
    backward: list[Labelled] = []
    depth = L.depth
    for l in range(1, depth + 1):
        letter = L.neurons[l][0][0]
        layer = ", ".join(L.neurons[l])
        weights = L.weights[l - 1]
        found.append(make(f"W{l}", f"W{_sup(l)}", f"the weights into {layer} (row: the neuron fed; column: the "
                          "neuron it comes from)", "given", weights, (f"w_{letter}",), given=True))
        found.append(make(f"b{l}", f"b{_sup(l)}", f"the biases of {layer}", "given",
                          tuple((b,) for b in L.biases[l - 1]), (f"b_{letter}",), given=True))
        found.append(make(f"z{l}", f"z{_sup(l)}", f"the net inputs of {layer}{columns}",
                          f"z{_sup(l)} = W{_sup(l)} a{_sup(l - 1)} + b{_sup(l)}",
                          per_sample(tuple(f"net_{j}" for j in L.neurons[l])), (f"net_{letter}",)))
        found.append(make(f"a{l}", f"a{_sup(l)}", f"the outputs of {layer}{columns}",
                          f"a{_sup(l)} = f(z{_sup(l)}), entry by entry" if net.activations[l - 1] != "softmax"
                          else f"a{_sup(l)} = softmax(z{_sup(l)})",
                          per_sample(tuple(f"out_{j}" for j in L.neurons[l])), (f"out_{letter}",)))
        if l == depth:
            eq = (f"δ{_sup(l)} = a{_sup(l)} − y" if net.activations[l - 1] == "softmax"
                  else f"δ{_sup(l)} = ∂E/∂a{_sup(l)} ⊙ f′(z{_sup(l)})")
        else:
            eq = f"δ{_sup(l)} = (W{_sup(l + 1)})ᵀ δ{_sup(l + 1)} ⊙ f′(z{_sup(l)})"
        delta = make(f"delta{l}", f"δ{_sup(l)}", f"the deltas ∂E/∂net of {layer}{columns}", eq,
                     per_sample(tuple(f"delta_{j}" for j in L.neurons[l])), (f"delta_{letter}", f"d{letter}"))
        grad = make(f"dE/dW{l}", f"∂E/∂W{_sup(l)}", f"the gradients of the weights into {layer}",
                    f"∂E/∂W{_sup(l)} = δ{_sup(l)} (a{_sup(l - 1)})ᵀ" + (", summed over the samples" if many else ""),
                    tuple(tuple(f"dE_total/d{w}" for w in row) for row in weights), (f"dE/dw_{letter}",))
        parts = [delta, grad]
        if net.train_biases:
            names = tuple(dict.fromkeys(L.biases[l - 1]))
            shared = len(names) == 1 < len(L.biases[l - 1])
            parts.append(make(f"dE/db{l}", f"∂E/∂b{_sup(l)}", f"the gradient of the bias{'' if shared else 'es'} "
                              f"of {layer}", f"∂E/∂b{_sup(l)} = " + (f"Σ δ{_sup(l)}, over the neurons that "
                                                                    "share it" if shared else f"δ{_sup(l)}"),
                              tuple((f"dE_total/d{b}",) for b in names), (f"dE/db_{letter}",)))
        parts.append(make(f"W{l}+", f"W{_sup(l)}⁺", f"the weights into {layer} after the update",
                          f"W{_sup(l)}⁺ = W{_sup(l)} − η ∂E/∂W{_sup(l)}",
                          tuple(tuple(f"{w}+" for w in row) for row in weights), (f"w_{letter}+",)))
        backward = parts + backward
    found.append(Labelled("y", "y", f"the targets{columns}", "given",
                          per_sample(tuple(f"target_{o}" for o in outputs)) if many else
                          tuple((f"target_{o}",) for o in outputs),
                          tuple(tuple(float(net.samples[k - 1 if many else 0][1][r]) for k in samples)
                                for r in range(len(outputs))), ("target", "targets"), True))
    return found + backward


def _norm(name: str) -> str:
    s = name.strip().lower().replace("∂", "d").replace("δ", "delta").replace("⁺", "+").replace("_total", "")
    s = s.replace("etotal", "e").translate(str.maketrans("", "", " _"))
    for word, plain in (("new", "+"), ("grad", "de/d")):
        s = s.replace(word, plain)
    return s.translate(str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))


def find(found: list[Labelled], name: str, for_check: bool = False) -> Labelled:
    """The matrix named (W2, delta_o, dE/dW2, net_h, z1 …: case and underscores do not matter).  In
    ``check`` a weight matrix means the one after the update, as ``check w5`` means w5⁺."""
    wanted = _norm(name)
    for m in found:
        if wanted in {_norm(m.key), *(_norm(a) for a in m.aliases)}:
            if for_check and m.key.startswith("W") and not m.key.endswith("+"):
                return find(found, m.key + "+")
            return m
    known = ", ".join(m.key for m in found)
    raise TutorError(f"no matrix '{echo(name, 40)}' in this lesson; the matrices are: {known}")


def short(label: str) -> str:
    return label.replace("dE_total/d", "∂E/∂").replace("delta_", "δ_").replace("target_", "t_")


def _fmt(v: float) -> str:
    return f"{v:.9g}"


def draw(m: Labelled, labelled: bool = True) -> list[str]:
    """The matrix in brackets, each entry ``label = value``."""
    cells = [[(f"{short(n)} = " if labelled else "") + _fmt(v) for n, v in zip(row, vals)]
             for row, vals in zip(m.labels, m.values)]
    widths = [max(len(row[c]) for row in cells) for c in range(len(cells[0]))]
    rows = len(cells)
    lines = []
    for r, row in enumerate(cells):
        left, right = ("[", "]") if rows == 1 else ("⎡", "⎤") if r == 0 else ("⎣", "⎦") if r == rows - 1 else ("⎢",
                                                                                                               "⎥")
        lines.append(f"  {left} " + "   ".join(cell.ljust(w) for cell, w in zip(row, widths)) + f" {right}")
    return lines


def explain(found: list[Labelled], name: str) -> list[str]:
    """The lines of ``explain --matrix NAME`` (``all``: every matrix)."""
    chosen = found if _norm(name) == "all" else [find(found, name)]
    lines: list[str] = []
    for m in chosen:
        rows, cols = m.shape
        lines.append(f"{m.symbol} ({rows}×{cols}): {m.meaning}")
        if m.equation != "given":
            lines.append(f"  {m.equation}")
        lines += draw(m)
        lines.append("")
    return lines[:-1]


# ---------------------------------------------------------------------------------------------
# Typed vectors and matrices


class BadArray(TutorError):
    def __init__(self, text: str, why: str):
        super().__init__(f"'{echo(text, 40)}' is not a vector or matrix I can read: {why}")


def looks_like_array(text: str) -> bool:
    """A vector or matrix rather than one number or a formula: brackets or semicolons, or commas between
    numbers (one comma and no point is a decimal comma: 0,3589).  Cheap: no parsing."""
    if "[" in text or ";" in text:
        return True
    return "," in text and (text.count(",") > 1 or "." in text or ", " in text)


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    word = ""
    for c in text:
        if c in "[],; \t\n":
            if word:
                out.append(word)
                word = ""
            if c in "[],;":
                out.append(c)
        else:
            word += c
    if word:
        out.append(word)
    return out


def parse_array(text: str) -> list[list[answers.Typed]]:
    """Rows of typed entries: "a, b", "[a, b]", "[[a, b], [c, d]]", "a b; c d", "[a, b; c, d]"."""
    if len(text) > MAX_TEXT:
        raise BadArray(text, f"it is {len(text):,} characters long; type at most {MAX_TEXT}")
    tokens = _tokens(text)
    if not tokens:
        raise BadArray(text, "nothing was typed")
    rows: list[list[str]] = []
    if tokens[:2] == ["[", "["]:  # [[a, b], [c, d]]
        if tokens[-1] != "]":
            raise BadArray(text, "a '[' is not closed")
        inner = tokens[1:-1]
        k = 0
        while k < len(inner):
            if inner[k] != "[":
                raise BadArray(text, "in [[…], […]] write each row in brackets")
            end = inner.index("]", k) if "]" in inner[k:] else -1
            if end < 0:
                raise BadArray(text, "a '[' is not closed")
            rows.append([t for t in inner[k + 1:end] if t != ","])
            if any(t in "[;" for t in rows[-1]):
                raise BadArray(text, "brackets nest two deep at most")
            k = end + 1
            if k < len(inner) and inner[k] == ",":
                k += 1
    else:
        if tokens[0] == "[":
            if tokens[-1] != "]":
                raise BadArray(text, "a '[' is not closed")
            tokens = tokens[1:-1]
        if "[" in tokens or "]" in tokens:
            raise BadArray(text, "the brackets do not match")
        row: list[str] = []
        for t in [*tokens, ";"]:
            if t == ";":
                rows.append(row)
                row = []
            elif t != ",":
                row.append(t)
    if any(not row for row in rows):
        raise BadArray(text, "a row is empty")
    if len({len(row) for row in rows}) > 1:
        raise BadArray(text, "the rows have different lengths")
    if sum(len(row) for row in rows) > MAX_ENTRIES:
        raise BadArray(text, f"it has more than {MAX_ENTRIES} entries")
    try:
        return [[answers.parse_number(t) for t in row] for row in rows]
    except TutorError as e:
        raise BadArray(text, f"{e} (write decimals with a point in a vector)") from None


@dataclass
class ArrayResult:
    """A typed vector or matrix judged entry by entry."""

    matrix: Labelled
    typed: str
    entries: list[tuple[int, int, CheckResult]]  # (row, column, the entry's verdict) as judged
    note: str = ""  # a transposed matrix, a row or column put in another's place
    transposed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.transposed:
            return answers.EXIT_CODES[answers.WRONG]
        codes = [r.exit_code for _, _, r in self.entries]
        return 1 if 1 in codes else 3 if 3 in codes else 0

    @property
    def verdict(self) -> str:
        return {0: answers.RIGHT, 1: answers.WRONG, 3: answers.IMPRECISE}[self.exit_code]

    def as_dict(self) -> dict[str, object]:
        return {"matrix": self.matrix.key, "symbol": self.matrix.symbol, "typed": self.typed,
                "shape": list(self.matrix.shape), "verdict": self.verdict, "exit_code": self.exit_code,
                "note": self.note, "transposed": self.transposed,
                "entries": [{"row": r + 1, "column": c + 1, **res.as_dict()} for r, c, res in self.entries]}


def _judge(session: Session, m: Labelled, typed: list[list[answers.Typed]], learner: Any
           ) -> list[tuple[int, int, CheckResult]]:
    return [(r, c, session.check(m.labels[r][c], typed[r][c].text, learner))
            for r in range(len(typed)) for c in range(len(typed[0]))]


def _all_right(results: list[tuple[int, int, CheckResult]]) -> bool:
    """Every entry right, or right but for its digits: to tell what the typed numbers are."""
    return all(res.verdict != answers.WRONG for _, _, res in results)


def check_array(session: Session, name: str, text: str, learner: Any = None) -> ArrayResult:
    """Judge a typed vector or matrix entry by entry, with the usual policy of each entry's quantity."""
    try:
        m = find(matrices(session.lesson.network, session.trace), name, for_check=True)
    except TutorError:
        try:
            quantity = session.resolver.resolve(name)
        except TutorError:
            quantity = None
        if quantity is not None:  # a scalar's name: w5 "1,2,3"
            raise BadArray(text, f"{quantity.symbol} is one number; type one value") from None
        raise
    if m.given:
        raise TutorError(f"{m.symbol} is given by the lesson, not computed: there is nothing to check")
    typed = parse_array(text)
    rows, cols = m.shape
    shape = (len(typed), len(typed[0]))
    flip = [list(col) for col in zip(*typed)]
    if 1 in (rows, cols) and shape in ((rows, cols), (cols, rows)):  # a vector: either way round
        flat = [t for row in typed for t in row]
        typed = [[t] for t in flat] if cols == 1 else [flat]
        return ArrayResult(m, text, _judge(session, m, typed, learner))
    if shape == (rows, cols):
        results = _judge(session, m, typed, learner)
        if all(res.accepted for _, _, res in results):
            return ArrayResult(m, text, results)
        if rows == cols and _all_right(_judge(session, m, flip, None)):
            return ArrayResult(m, text, results, transposed=True,
                               note=f"this is {m.symbol} transposed: row r of {m.symbol} holds the neuron r that "
                                    "is fed, column s the neuron s it comes from")
        return ArrayResult(m, text, results, note=_mixed_up(session, m, typed))
    if shape == (cols, rows):
        right = _all_right(_judge(session, m, flip, None))
        results = _judge(session, m, flip, learner) if not right else _judge(session, m, flip, None)
        return ArrayResult(m, text, results, transposed=True,
                           note=f"you typed {shape[0]}×{shape[1]}, {m.symbol} is {rows}×{cols}: "
                                + ("the entries are right, but transposed" if right else "it is transposed")
                                + " (row: the neuron fed, column: the neuron it comes from)")
    raise BadArray(text, f"{m.symbol} is {rows}×{cols}, you typed {shape[0]}×{shape[1]}")


def _mixed_up(session: Session, m: Labelled, typed: list[list[answers.Typed]]) -> str:
    """Rows or columns that hold the values of another row or column (two neurons swapped)."""
    rows, cols = m.shape
    notes = []

    def fits(label: str, typed: answers.Typed) -> bool:
        return session.check(label, typed.text).verdict != answers.WRONG

    for r in range(rows):
        for other in range(rows):
            if other != r and all(fits(m.labels[other][c], typed[r][c]) for c in range(cols)):
                notes.append(f"row {r + 1} holds the values of row {other + 1} "
                             f"({', '.join(short(n) for n in m.labels[other])})")
                break
    for c in range(cols):
        for other in range(cols):
            if other != c and all(fits(m.labels[r][other], typed[r][c]) for r in range(rows)):
                notes.append(f"column {c + 1} holds the values of column {other + 1} "
                             f"({', '.join(short(m.labels[r][other]) for r in range(rows))})")
                break
    return "; ".join(notes)


def result_lines(result: ArrayResult) -> list[tuple[str, str]]:
    """What ``check`` prints for a vector or matrix: (line, style)."""
    m = result.matrix
    rows, cols = m.shape
    marks = {answers.RIGHT: "✓", answers.DRIFT: "≈", answers.IMPRECISE: "?", answers.WRONG: "✗"}
    right = sum(res.accepted for _, _, res in result.entries)
    total = len(result.entries)
    if result.transposed:
        head, style = f"✗ not right: {result.note}", "bold red"
    elif result.exit_code == 0:
        head, style = f"✓ right: {m.symbol}, all {total} entries", "bold green"
    elif result.exit_code == 3:
        head, style = f"? give more digits: {total - right} of the {total} entries of {m.symbol}", "bold yellow"
    else:
        head, style = f"✗ not right: {total - right} of the {total} entries of {m.symbol} are not right", "bold red"
    lines = [(head, style), (f"  {m.symbol} ({rows}×{cols}): {m.meaning}", "dim")]
    if m.equation != "given":
        lines.append((f"  {m.equation}", ""))
    if result.note and not result.transposed:
        lines.append((f"  → {result.note}", "yellow"))
    where = "row {r}, column {c}" if min(rows, cols) > 1 else "entry {n}"
    for r, c, res in result.entries:
        at = where.format(r=r + 1, c=c + 1, n=max(r, c) + 1)
        mark = marks.get(res.verdict, "?")
        lines.append((f"  {mark} {at}: {res.quantity.symbol} = {res.typed.text}"
                      + ("" if res.accepted else f"   ({res.verdict}; {res.formula})"), ""))
    if result.exit_code:
        lines.append(("  Check an entry alone for its full diagnosis: backprop-tutor check NAME VALUE", "dim"))
    return lines


# ---------------------------------------------------------------------------------------------
# The closing section of the walk: the lesson again, a matrix at a time


def _uses(found: list[Labelled], m: Labelled) -> list[Labelled]:
    """The matrices that the equation of ``m`` is computed from, as the learner has them."""
    by_key = {x.key: x for x in found}
    depth = max(int(x.key[1:]) for x in found if x.key.startswith("z"))

    def get(*keys: str) -> list[Labelled]:
        return [by_key[k] for k in keys if k in by_key]

    key = m.key
    if key.startswith("z"):
        l = int(key[1:])
        return get(f"W{l}", "x" if l == 1 else f"a{l - 1}", f"b{l}")
    if key.startswith("a"):
        return get(f"z{key[1:]}")
    if key.startswith("delta"):
        l = int(key[5:])
        return get(f"a{l}", "y") if l == depth else get(f"W{l + 1}", f"delta{l + 1}", f"a{l}")
    if key.startswith("dE/dW"):
        l = int(key[5:])
        return get(f"delta{l}", "x" if l == 1 else f"a{l - 1}")
    if key.startswith("dE/db"):
        return get(f"delta{key[5:]}")
    if key.endswith("+"):
        return get(key[:-1], f"dE/dW{key[1:-1]}")
    return []


def asked(found: list[Labelled]) -> list[Labelled]:
    """The matrices the closing section asks for: the forward pass, the backward pass, the update."""
    forward = [m for m in found if m.key[0] in "za" and not m.given]
    update = [m for m in found if m.key.endswith("+")]
    backward = [m for m in found if not m.given and m not in forward and m not in update]
    return forward + backward + update


def walk(session: Session, ask: Any, say: Any, remember: Any) -> int:
    """Ask for every matrix of the lesson in turn (``ask(prompt) -> str``, ``say(line, style)``,
    ``remember(ArrayResult)``); returns how many were right.  `skip` shows one, `quit` stops."""
    found = matrices(session.lesson.network, session.trace)
    todo = asked(found)
    say("The same lesson in matrices: type each as [[…], […]] or with ; between rows "
        "(skip shows it, quit stops).", "bold")
    right = 0
    for n, m in enumerate(todo, 1):
        rows, cols = m.shape
        say("", "")
        say(f"Matrix {n} of {len(todo)}: {m.symbol} ({rows}×{cols}), {m.meaning}", "bold")
        say(f"  {m.equation}", "")
        for used in _uses(found, m):
            say(f"  {used.symbol}:", "dim")
            for line in draw(used, labelled=False):
                say(line, "")
        while True:
            text = ask(f"{m.symbol} = ").strip()
            if text.lower() in ("quit", "q"):
                return right
            if text.lower() in ("skip", "s"):
                for line in draw(m):
                    say(line, "")
                break
            if not text:
                continue
            try:
                result = check_array(session, m.key, text if looks_like_array(text) else f"[{text}]")
            except TutorError as e:
                say(f"  {e}", "yellow")
                continue
            remember(result)
            for line, style in result_lines(result):
                say(line, style)
            if result.exit_code == 0:
                right += 1
                break
    say("", "")
    say(f"Matrices right: {right} of {len(todo)}.", "bold")
    return right

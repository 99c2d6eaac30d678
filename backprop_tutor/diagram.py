"""The network drawn like the post's figure: the layers in columns, every connection with its weight.

Each neuron is drawn once, in its layer's column, with its values (net, out, δ once known, the
target of an output); the connections leave it to the right, one row each, grouped by the neuron
they leave: h1's w5 (to o1) and w7 (to o2) sit together, as ∂E_total/∂out_h1 sums over them.
Where the columns do not fit the width the layers are stacked, each above the next, and values are
abbreviated (rounded to fewer significant digits, never cut).

At a step, the connections its computation runs along are marked (━━▶): for a backward step every
connection the chain rule runs along, worked out from the catalogue (the step's parts, and theirs,
back to what the forward pass gave); the step's neuron is marked with *.  Until the section after
the update only the weights before the update are shown: every gradient uses them.

Large layers are summarised (a few neurons and connections, the rest counted), and a tall
picture keeps only the layers around the step.  Pure Python; ``picture`` returns lines of
(text, style) segments, styles ``path``, ``focus`` and ``dim``, for the caller to colour.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from backprop_tutor.names import Layout
from backprop_tutor.network import Network, sample_key

PATH, FOCUS, DIM = "path", "focus", "dim"
BACKWARD = ("output", "hidden", "batch")
DIGITS = (6, 5, 4, 3)  # significant digits tried, most first, until the picture fits
FULL_LAYER = 6  # a layer of up to this many neurons is drawn whole; a larger one, a few and a count
FEW = 4  # neurons of a large layer drawn (the step's own first) …
FEWEST = 2  # … or, where that is too tall, this many, and as many marked connections of each
FULL_FAN = 4  # a neuron with up to this many connections out has each drawn; more: the marked ones and a count
MARKED_SHOWN = 3  # marked connections of one neuron drawn before the rest are counted
TALL = 60  # rows above which only the layers around the step are drawn
GAP = "  "

Segment = tuple[str, str]
Line = list[Segment]

# the ASCII form of the picture's lines, one character for one (the text in them is made ASCII first)
_BOX = str.maketrans({"─": "-", "━": "=", "┬": "+", "├": "+", "└": "+", "▶": ">"})


def _ascii(text: str) -> str:
    from backprop_tutor.render import to_ascii

    return to_ascii(text.replace("–", "-"))


@dataclass
class Edge:
    weight: str  # w5, or w5⁺ after the update
    value: str
    to: str
    marked: bool


@dataclass
class Unit:
    """One neuron as drawn: its name, its rows of (label, value), the connections leaving it."""

    name: str
    rows: list[tuple[str, str]]
    edges: list[Edge]
    more: int = 0  # connections out not drawn
    focus: bool = False


@dataclass
class Block:
    """One layer's column: its header lines and its neurons (or a count of those not drawn)."""

    header: list[str]
    units: list[Unit | str] = field(default_factory=list)


# the path of a step ----------------------------------------------------------------------------

def _base(qid: str) -> str:
    """A quantity without its sample: net_h1@2 → net_h1, net_h1@2+ → net_h1+."""
    return re.sub(r"@\d+(\+?)$", r"\1", qid)


def path(net: Network, catalogue: Mapping, qid: str) -> set[str]:
    """The weights whose connections the computation of ``qid`` runs along.

    The step's parts are followed back through the backward pass (δ_o1 into ∂E/∂out_h1, and on):
    each path weight (∂net_o1/∂out_h1 = w5), each ∂net/∂w and each weight written in a formula marks
    a connection.  Values of the forward pass are where the chain ends: they are not followed.
    """
    L = net.layout
    weights = _where(L)
    between = {(L.neurons[l][s], L.neurons[l + 1][r]): w for w, (l, r, s) in weights.items()}
    found: set[str] = set()
    seen: set[tuple[str, bool]] = set()
    todo = [qid]
    while todo:
        q = todo.pop()
        base = _base(q)
        if (base, base != q) in seen:  # every sample's part runs along the same connections: followed once
            continue
        seen.add((base, base != q))
        if base.rstrip("+") in weights:
            found.add(base.rstrip("+"))
        elif m := re.fullmatch(r"dnet_(\w+)/dout_(\w+)", base):
            if (m[2], m[1]) in between:
                found.add(between[m[2], m[1]])
        elif m := re.fullmatch(r"dnet_\w+/d(w\d+)", base):
            found.add(m[1])
        item = catalogue.get(q)  # (an updated weight is where a chain ends too: w1⁺ is not how net_h1⁺ flows)
        if item is not None and (q == qid or (item.section in BACKWARD and not q.endswith("+"))):
            todo.extend(item.deps)
    return found


@functools.cache
def _where(L: Layout) -> dict[str, tuple[int, int, int]]:
    """(l, r, s) of every weight: it feeds neuron r of layer l+1 from neuron s of layer l."""
    return {L.weights[l][r][s]: (l, r, s) for l in range(L.depth) for r in range(L.sizes[l + 1])
            for s in range(L.sizes[l])}


def focus(net: Network, qid: str) -> str | None:
    """The neuron a step is about: h1 for net_h1, δ_h1 and ∂E_total/∂out_h1; o1 for ∂out_o1/∂net_o1."""
    names = {n for layer in net.layout.neurons[1:] for n in layer}
    base = _base(qid).rstrip("+")
    parts = base.split("/")
    for part in reversed(parts):  # the denominator first: ∂E/∂out_h1 is about h1
        for n in re.findall(r"(?:net|out|delta|E)_([a-z]\d+)", part):
            if n in names:
                return n
    return None


# values --------------------------------------------------------------------------------------

def _number(value: float, digits: int | None) -> str:
    """A value at ``digits`` significant digits (None: the post's digits), trailing zeros dropped."""
    from backprop_tutor.catalogue import post_digits

    exact = getattr(value, "exact", None)
    d = exact if isinstance(exact, Decimal) else (value if isinstance(value, Decimal) else Decimal(repr(value)))
    if not d.is_finite():
        return repr(float(d))
    if digits is None:
        return post_digits(d)
    if d == 0:
        return "0"
    text = format(d, f".{digits}g")
    if "e" in text or "E" in text:
        mantissa, _, exponent = text.lower().partition("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _ranges(names: list[str]) -> str:
    """h4, h5, h6, h9 → h4–h6, h9."""
    out: list[str] = []
    run: list[str] = []
    for name in names:
        if run and int(name[1:]) == int(run[-1][1:]) + 1:
            run.append(name)
            continue
        if run:
            out.append(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}")
        run = [name]
    if run:
        out.append(run[0] if len(run) == 1 else f"{run[0]}–{run[-1]}")
    return ", ".join(out)


# the picture ---------------------------------------------------------------------------------

@dataclass
class View:
    """What a picture shows: the values known, the step, its section and marked path, the sample."""

    known: dict[str, float]
    step: str | None = None
    section: str | None = None
    marked: set[str] = field(default_factory=set)
    sample: int = 1
    few: int = FEW  # neurons drawn of a large layer


def _blocks(net: Network, view: View, digits: int | None, ascii_: bool) -> list[Block]:
    L = net.layout
    after = view.section == "after"
    plus = "⁺" if after else ""
    tag = view.sample if net.extra else None
    t = _ascii if ascii_ else (lambda text: text)

    def value(name: str, own: bool = True) -> str:
        """A value of the picture's sample (net_h1@1), or a shared one (w5), as text; ? until known."""
        v = view.known.get(sample_key(name, tag) if own and tag is not None else name)
        return "?" if v is None else _number(v, digits)

    def param(name: str) -> tuple[str, str]:  # a weight or bias: after the update, its new value
        if after and (name.startswith("w") or net.train_biases):
            return t(name + "⁺"), value(name + "+", own=False)
        return name, value(name, own=False)

    marked_at: dict[str, set[str]] = {}  # neuron: the neurons its marked connections lead to
    for w in view.marked:
        l, r, s = _where(L)[w]
        marked_at.setdefault(L.neurons[l][s], set()).add(L.neurons[l + 1][r])
    step_neuron = focus(net, view.step) if view.step else None
    touched = set(marked_at) | {n for ns in marked_at.values() for n in ns} | {step_neuron}

    blocks: list[Block] = []
    for l, layer in enumerate(L.neurons):
        if l == 0:
            header = ["inputs"]
        else:
            kind = "outputs" if l == L.depth else ("hidden" if L.depth == 2 else f"hidden {l}")
            header = [kind, net.activations[l - 1]]
            if L.bias_mode == "per-layer":
                b, v = param(L.biases[l - 1][0])
                header.append(f"+ {b} {v}")
        block = Block(header)
        shown = list(layer)
        if len(layer) > FULL_LAYER:  # the step's neurons first, then the first others
            first = [n for n in layer if n in touched][:view.few]
            keep = set(first + [n for n in layer if n not in touched][:view.few - len(first)])
            shown = [n for n in layer if n in keep]
        for r, n in enumerate(layer):
            if n not in shown:
                continue
            rows: list[tuple[str, str]]
            if l == 0:
                rows = [("", value(n))]
            else:
                rows = []
                if L.bias_mode == "per-neuron":
                    rows.append(param(L.biases[l - 1][r]))
                rows += [(t(f"net{plus}"), value(f"net_{n}" + ("+" if after else ""))),
                         (t(f"out{plus}"), value(f"out_{n}" + ("+" if after else "")))]
                if l == L.depth:
                    rows.append(("target", value(f"target_{n}")))
                if not after and value(f"delta_{n}") != "?":  # δ once it is known
                    rows.append((t("δ"), value(f"delta_{n}")))
            edges: list[Edge] = []
            more = 0
            if l < L.depth:
                receivers = list(enumerate(L.neurons[l + 1]))
                if len(receivers) > FULL_FAN:  # the marked connections, a few, and a count of the rest
                    kept = [(k, to) for k, to in receivers if L.weights[l][k][r] in view.marked]
                    kept = kept[:min(MARKED_SHOWN, view.few)]
                    more = len(receivers) - len(kept)
                    receivers = kept
                for k, to in receivers:
                    w = L.weights[l][k][r]
                    name, v = param(w)
                    edges.append(Edge(name, v, to, w in view.marked))
            block.units.append(Unit(n, rows, edges, more, n == step_neuron))
        left = [n for n in layer if n not in shown]
        if left:
            block.units.append(t(f"… {len(left)} more: {_ranges(left)}"))
        blocks.append(block)
    return blocks


def _cell(u: Unit, k: int, name_w: int, label_w: int) -> Line:
    label, v = u.rows[k]
    name = (u.name + ("*" if u.focus else "")).ljust(name_w) if k == 0 else " " * name_w
    if label == "target":  # (not aligned: the longest label would widen every column)
        body = f"target {v}"
    elif label_w:
        body = f"{label.ljust(label_w)} {v}"
    else:
        body = v
    return [(name, FOCUS if u.focus and k == 0 else ""), (" " + body, DIM if v == "?" else "")]


def _edge(u: Unit, k: int, weight_w: int, value_w: int, below: bool = False) -> Line:
    """The k-th connection out of a neuron: beside its values (─┬ … └), or ``below`` them (├ … └)."""
    count = len(u.edges) + (1 if u.more else 0)
    if below:
        fork = "└" if k == count - 1 else "├"
    else:
        fork = "──" if count == 1 else ("─┬" if k == 0 else (" └" if k == count - 1 else " ├"))
    if k == len(u.edges):  # the connections not drawn, counted
        return [(f"{fork} {u.more} more" if u.edges else f"{fork} {u.more} connections", DIM)]
    e = u.edges[k]
    dash = "━" if e.marked else "─"
    return [(f"{fork} {e.weight.ljust(weight_w)} {e.value.ljust(value_w)} {dash}▶ {e.to}",
             PATH if e.marked else "")]


def _block_lines(block: Block, one_line_header: int | None, ascii_: bool,
                 below: bool = False) -> tuple[list[Line], int]:
    """A layer's column as lines, and how many of them are its header; with ``below``, each neuron's
    connections under its values."""
    units = [u for u in block.units if isinstance(u, Unit)]
    name_w = max((len(u.name) + u.focus for u in units), default=2)
    label_w = max((len(lab) for u in units for lab, _ in u.rows if lab != "target"), default=0)
    cells = [[_cell(u, k, name_w, label_w) for k in range(len(u.rows))] for u in units]
    cell_w = max((width_of(c) for cs in cells for c in cs), default=0)
    weight_w = max((len(e.weight) for u in units for e in u.edges), default=0)
    value_w = max((len(e.value) for u in units for e in u.edges), default=0)
    header = block.header
    joined = (" | " if ascii_ else " · ").join(header)
    if one_line_header and len(joined) <= one_line_header:
        header = [joined]
    out: list[Line] = [[(h, "bold")] for h in header]
    drawn = iter(cells)
    for k, u in enumerate(block.units):
        if k:
            out.append([])
        if isinstance(u, str):
            out.append([(u, DIM)])
            continue
        rows = next(drawn)
        count = len(u.edges) + (1 if u.more else 0)
        if below:  # the connections under the values, for a narrow terminal
            out += rows
            out += [[(" " * (name_w + 1), ""), *_edge(u, j, weight_w, value_w, below=True)] for j in range(count)]
            continue
        for j in range(max(len(rows), count)):
            line: Line = list(rows[j]) if j < len(rows) else []
            if j < count:
                line.append((" " * (cell_w - width_of(line)) + " ", ""))
                line += _edge(u, j, weight_w, value_w)
            out.append(line)
    return out, len(header)


def width_of(line: Line) -> int:
    return sum(len(t) for t, _ in line)


def _side_by_side(columns: list[list[Line]], header_rows: list[int]) -> list[Line]:
    """Columns next to each other, their headers aligned at the top and their neurons below."""
    top = max(header_rows)
    columns = [col[:h] + [[]] * (top - h) + col[h:] for col, h in zip(columns, header_rows)]
    widths = [max((width_of(line) for line in col), default=0) for col in columns]
    height = max(len(col) for col in columns)
    out: list[Line] = []
    for k in range(height):
        line: Line = []
        for c, col in enumerate(columns):
            part = col[k] if k < len(col) else []
            if c:
                line.append((GAP, ""))
            line += part
            if c < len(columns) - 1:
                line.append((" " * (widths[c] - width_of(part)), ""))
        out.append(_trim(line))
    return out


def _trim(line: Line) -> Line:
    while line and not line[-1][0].strip():
        line = line[:-1]
    if line:
        line = [*line[:-1], (line[-1][0].rstrip(), line[-1][1])]
    return line


def _layers(net: Network, view: View, marked: set[str]) -> tuple[int, int]:
    """The layers from the first to the last that the ``marked`` connections join, with the step's
    neuron's; with none marked, its neuron's layer and the one before."""
    L = net.layout
    n = focus(net, view.step) if view.step else None
    layers = {_where(L)[w][0] for w in marked}
    ends = {*layers, *(l + 1 for l in layers)}
    if n is not None:
        at = next(l for l, layer in enumerate(L.neurons) if n in layer)
        ends |= {at} if ends else {at - 1, at}
    if not ends:
        ends = {0, 1}
    return min(ends), max(ends)


def _near(net: Network, view: View, own: bool = False) -> set[str]:
    """The marked connections next to the step: those of its neuron (h1's w5, w7), or of its weight and
    the weight's receiver (for ∂E/∂w1: w1, and the connections out of h1); with ``own``, of its weight
    only."""
    L = net.layout
    n = focus(net, view.step) if view.step else None
    near: set[str] = set()
    base = _base(view.step).rstrip("+") if view.step else ""
    m = re.fullmatch(r"(?:.*/d)?(w\d+)", base)  # ∂E/∂w1, ∂net_h1/∂w1, w1⁺
    if n is None and m and m[1] in view.marked:
        l, r, _ = _where(L)[m[1]]
        n = L.neurons[l + 1][r]
        near.add(m[1])
        if own:
            return near
    for w in view.marked:
        l, r, s = _where(L)[w]
        if n in (L.neurons[l][s], L.neurons[l + 1][r]):
            near.add(w)
    return near


def picture(net: Network, known: dict[str, float], *, step: str | None = None, catalogue: Mapping | None = None,
            width: int = 80, unicode: bool = True, height: int | None = None, title: bool = True) -> list[Line]:
    """The network drawn to fit ``width`` columns, as lines of (text, style) segments.

    ``known`` holds the values to show (given and computed); ``step`` (with the ``catalogue``) marks
    the connections that step runs along and chooses what is shown: the weights after the update
    only in the section after it.  With ``height``, a picture taller than that keeps only the layers
    around the step, and is empty when even those do not fit.  Without ``title``, a blank line instead
    of the network's shape.
    """
    view = View(known, step)
    if step is not None and catalogue is not None and step in catalogue:
        view.section = catalogue[step].section
        view.marked = path(net, catalogue, step)
    if net.extra and step and (m := re.search(r"@(\d+)\+?$", step)):
        view.sample = int(m[1])
    ascii_ = not unicode
    width = max(width, 30)
    limit = min(height, TALL) if height is not None else TALL
    head = _title(net, view, width, ascii_) if title else [[]]
    full = (0, net.layout.depth)
    windows = [full, *(_layers(net, view, marked) for marked in (view.marked, _near(net, view),
                                                                  _near(net, view, own=True)))]
    tried: list[list[Line]] = []
    for few in (FEW, FEWEST):  # (only layers of more than FULL_LAYER neurons draw fewer)
        view.few = few
        for first, last in dict.fromkeys(windows):
            drawn, digits = _drawing(net, view, width, ascii_, first, last, 4 if (first, last) == full else 3)
            if first > 0 or last < net.layout.depth:
                drawn += [[], *_wrap(_left_out(net, first, last), width, DIM, ascii_)]
            tried.append(head + drawn + _legend(net, view, digits, width, ascii_))
            if len(tried[-1]) <= limit:
                return tried[-1]
    return [] if height is not None else min(tried, key=len)


def _drawing(net: Network, view: View, width: int, ascii_: bool, first: int, last: int,
             fewest: int) -> tuple[list[Line], int | None]:
    """The layers first … last, side by side at as many digits as fit (at least ``fewest``), or else
    stacked."""
    chosen: list[Line] = []
    digits_used: int | None = None
    for digits in (None, *(d for d in DIGITS if d >= fewest)):  # side by side, if they fit at some digits
        drawn = [_block_lines(b, None, ascii_) for b in _blocks(net, view, digits, ascii_)[first:last + 1]]
        wide = _side_by_side([d[0] for d in drawn], [d[1] for d in drawn])
        if max(width_of(line) for line in wide) <= width:
            chosen, digits_used = wide, digits
            break
    tries = [*((d, False) for d in (None, *DIGITS) if d is None or d >= 4), *((d, True) for d in (None, *DIGITS))]
    for digits, below in tries if not chosen else []:  # stacked: each layer above the next
        stacked = _stack(_blocks(net, view, digits, ascii_)[first:last + 1], width, ascii_, below)
        if max(width_of(line) for line in stacked) <= width or (digits, below) == tries[-1]:
            chosen, digits_used = stacked, digits
            break
    if ascii_:
        chosen = [[(text.translate(_BOX), style) for text, style in line] for line in chosen]
    return chosen, digits_used


def _stack(blocks: list[Block], width: int, ascii_: bool, below: bool = False) -> list[Line]:
    out: list[Line] = []
    for k, b in enumerate(blocks):
        if k:
            out.append([])
        out += [_trim(line) for line in _block_lines(b, width, ascii_, below)[0]]
    return out


def _left_out(net: Network, first: int, last: int) -> str:
    L = net.layout
    names = ["inputs" if l == 0 else ("outputs" if l == L.depth else f"hidden {l}") for l in range(L.depth + 1)]
    left = [names[l] for l in range(L.depth + 1) if not first <= l <= last]
    return f"(not drawn here: {', '.join(left)}.)"


def _wrap(text: str, width: int, style: str, ascii_: bool) -> list[Line]:
    if ascii_:
        text = _ascii(text)
    return [[(line, style)] for line in textwrap.wrap(text, width=width, break_on_hyphens=False)]


def _title(net: Network, view: View, width: int, ascii_: bool) -> list[Line]:
    L = net.layout
    shape = "-".join(map(str, L.sizes))
    bias = "one bias per layer, shared" if L.bias_mode == "per-layer" else "one bias per neuron"
    trained = ", trained" if net.train_biases else ", not trained"
    lines = _wrap(f"Network {shape}: {bias}{trained}.", width, "", ascii_)
    if net.extra:
        lines += _wrap(f"{len(net.samples)} samples; the values shown are those of sample {view.sample}.",
                       width, "", ascii_)
    return [*lines, []]


def _legend(net: Network, view: View, digits: int | None, width: int, ascii_: bool) -> list[Line]:
    out: list[Line] = [[]]
    if view.marked:
        names = sorted(view.marked, key=lambda w: int(w[1:]))
        L = net.layout

        def ends(w: str) -> str:
            l, r, s = _where(L)[w]
            return f"{L.neurons[l][s]} → {L.neurons[l + 1][r]} ({w})"

        shown = ", ".join(ends(w) for w in names) if len(names) <= 4 else \
            ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        how = "the chain rule runs along" if view.section in BACKWARD else "it is computed along"
        out += _wrap(f"━━▶ the connections {how}: {shown}.", width, PATH, ascii_)
    n = focus(net, view.step) if view.step else None
    if n is not None:
        out += _wrap(f"* {n}: the neuron of this step.", width, FOCUS, ascii_)
    if view.section == "after":
        out += _wrap("The weights after the update (w⁺): the forward pass again.", width, DIM, ascii_)
    elif view.section in BACKWARD:
        out += _wrap("The weights before the update: every gradient is taken with them.", width, DIM, ascii_)
    if digits is not None:
        out += _wrap(f"Values rounded to {digits} significant digits.", width, DIM, ascii_)
    return out if len(out) > 1 else []


def plain(lines: list[Line]) -> list[str]:
    """The picture as plain strings."""
    return ["".join(t for t, _ in line) for line in lines]


def lines(net: Network, known: dict[str, float], width: int = 80, unicode: bool = True) -> list[str]:
    """The network with the given values, no step: as plain strings (worksheets)."""
    return plain(picture(net, known, width=width, unicode=unicode))

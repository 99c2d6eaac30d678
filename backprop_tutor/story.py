"""The lesson's story: what each section of the walk is for, the chain it follows, the three rules it
leaves behind, and the lesson to do next.

Plain text built from a lesson's catalogue (no SymPy, no Rich): the walk's screens print it, the
tests read it. Every formula named here is the catalogue's own, so a lesson of another shape or with
other activations gets its own chain and rules.
"""

from __future__ import annotations

import re

from backprop_tutor.catalogue import Quantity, describe_formula, post_digits, symbol

SUGGESTED = ("post", "post-biases", "deep", "tanh-relu", "softmax-ce", "xor")  # the order `lessons` lists

WHY_BEFORE = (
    "Why the weights before the update: each partial derivative is the slope of E_total at one point, "
    "the weights as they are now. The gradient is all of those slopes taken at that same point, so every "
    "one of them uses the old weights; only when all are known does every weight take its step, together. "
    "A slope worked out with w⁺ in place of w would belong to a point the network has not reached yet."
)


def suggested(names: list[str]) -> list[str]:
    """Lesson names in the order they are best done in: the known ones first, then any other by name."""
    known = [n for n in SUGGESTED if n in names]
    return known + sorted(n for n in names if n not in SUGGESTED)


def next_lesson(name: str, names: list[str], done: set[str] | None = None) -> str | None:
    """The lesson after ``name`` in the suggested order that is not done yet (None when there is none)."""
    order = suggested(names)
    later = order[order.index(name) + 1:] if name in order else order
    return next((n for n in later if n not in (done or set())), None)


def _first(catalogue: dict[str, Quantity], order: list[str], section: str, pattern: str) -> Quantity | None:
    return next((catalogue[q] for q in order if catalogue[q].section == section and re.fullmatch(pattern, q)),
                None)


def chain(q: Quantity) -> str:
    return f"{q.symbol} = {describe_formula(q)}"


def framing(section: str, catalogue: dict[str, Quantity], order: list[str], trace: dict[str, float]) -> list[str]:
    """What the section is for and the chain it follows: a few short lines (none for a section it
    does not know). ``order`` is the walk's order of quantity ids."""
    if section == "forward":
        inputs = [q for q in catalogue if re.fullmatch(r"i\d+", q) and q in trace]
        given = (", ".join(f"{q} = {post_digits(trace[q])}" for q in inputs) if inputs
                 else "each sample's inputs (the first sample worked, the others shown)")
        return [f"What we want: the outputs the network gives for {given}.",
                "The chain: for each neuron, its net input (every value reaching it times its weight, plus the "
                "bias), then its output through the activation; layer by layer, from the inputs."]
    if section == "error":
        total = catalogue.get("E_total")
        return ["What we want: one number for how wrong the outputs are.",
                f"The chain: each output's error against its target, then their sum, {chain(total)}."
                if total else "The chain: each output's error against its target, then their sum."]
    if section == "output":
        g = _first(catalogue, order, "output", r"dE_total/dw\d+(@1)?")
        lines = ["What we want: how fast E_total changes with each weight into the output layer, its gradient; "
                 "it says which way to move the weight, and how far."]
        if g is not None:
            lines.append(f"The chain from the error back to {g.id.split('/d')[1]}: {chain(g)}. Each factor is "
                         "one link, computed on its own; their product is the gradient.")
        return lines
    if section == "hidden":
        g = _first(catalogue, order, "hidden", r"dE_total/dw\d+(@1)?")
        lines = ["What we want: the same gradient for each weight into the hidden layer, one layer further from "
                 "the error."]
        if g is not None:
            w = g.id.split("/d")[1]
            lines.append(f"The big picture, for {w}: {chain(g)}.")
            first = next((d for d in g.deps if d.startswith("dE_total/dout_")), None)
            if first is not None and first in catalogue:
                h = first[len("dE_total/dout_"):]
                fed = ", ".join(re.findall(r"(?:via_)?(o\d+|[hjkmn]\d+)/dout_", catalogue[first].formula)) or "it"
                lines.append(f"The new link is the first: out_{h} reaches the error through every neuron it "
                             f"feeds ({fed}), so its slope adds one path through each: {chain(catalogue[first])}. "
                             "Each path is a δ you have already, times the weight on that connection as it "
                             "was before the update.")
        return lines
    if section == "batch":
        return ["What we want: one gradient per weight for the whole batch: every sample's own gradient, "
                "combined. Then every weight steps once."]
    if section == "after":
        before = f" (before it: E_total = {post_digits(trace['E_total'])})" if "E_total" in trace else ""
        return [f"What we want: to see that the step helped: the forward pass again with the updated weights, "
                f"and the error after the update, E_total⁺{before}.", WHY_BEFORE]
    return []


def rules(catalogue: dict[str, Quantity]) -> list[str]:
    """The three rules of the backward pass, each with this lesson's first instance of it."""
    out_o = next((q for q in catalogue if re.fullmatch(r"delta_o\d+(@1)?", q)), None)
    hidden = next((q for q in catalogue if re.fullmatch(r"delta_[hjkmn]\d+(@1)?", q)), None)
    lines = []
    if out_o is not None:
        d = catalogue[out_o]
        written = _expanded(d, catalogue)
        lines.append(f"1. δ at an output: {chain(d)}" + (f" = {written}" if written else "") + ".")
    if hidden is not None:
        d = catalogue[hidden]
        j = hidden.split("_", 1)[1]
        total = catalogue.get(f"dE_total/dout_{j}")
        slope = catalogue.get(f"dout_{j.split('@')[0]}/dnet_{j.split('@')[0]}" + ("@1" if "@" in j else ""))
        if total is not None and slope is not None:
            paths = []
            for path in total.deps:
                p = catalogue[path]
                delta, weight_slope = p.deps
                weights = catalogue[weight_slope].deps
                paths.append(f"{symbol(delta)}·{symbol(weights[0]) if weights else symbol(weight_slope)}")
            lines.append(f"2. δ at a hidden neuron: the sum over the neurons it feeds of δ · w, times its own "
                         f"slope: {d.symbol} = ({' + '.join(paths)}) · {describe_formula(slope)}.")
    grads = [q for q in catalogue.values() if re.fullmatch(r"dE_total/dw\d+(@1)?", q.id)]
    examples = []
    for layer in ("o", "[hjkmn]"):
        g = next((q for q in grads if any(re.fullmatch(rf"dout_{layer}\d+/dnet_\w+(@\d+)?", d) or
                                          re.fullmatch(rf"delta_{layer}\d+(@\d+)?", d) for d in q.deps)), None)
        if g is not None:
            multiplies = next(d for d in g.deps if d.startswith("dnet_"))
            j = multiplies[len("dnet_"):].split("/")[0]
            source = catalogue[multiplies].formula.strip("{}")
            sample = "@1" if g.id.endswith("@1") else ""
            examples.append(f"{g.symbol} = δ_{j}{sample}·{symbol(source)}")
    if examples:
        lines.append("3. A weight's gradient: the δ of the neuron it feeds times the value it multiplies: "
                     + ", ".join(examples) + ".")
    return lines


def _expanded(delta: Quantity, catalogue: dict[str, Quantity]) -> str:
    """δ_o written out: its factors' own formulas (−(target − out) · out(1 − out))."""
    parts = [catalogue[d] for d in delta.deps]
    if not parts or any(p.given or not p.deps for p in parts):
        return ""
    return " · ".join(_bracketed(describe_formula(p)) if len(parts) > 1 else describe_formula(p) for p in parts)


def _bracketed(text: str) -> str:
    """``text`` in brackets where a sum or difference stands at its top level (a − b), else as it is."""
    depth = 0
    for k, c in enumerate(text):
        depth += (c == "(") - (c == ")")
        if depth == 0 and text[k:k + 3] in (" + ", " − ") and k > 0:
            return f"({text})"
    return text


def delta_note(catalogue: dict[str, Quantity], before: str | None, qid: str) -> str | None:
    """At δ_j right after a gradient that multiplied its factors out: δ as the name of their product."""
    if before is None or not qid.startswith("delta_") or not before.startswith("dE_total/dw"):
        return None
    delta, gradient = catalogue[qid], catalogue[before]
    if not set(delta.deps) <= set(gradient.deps):
        return None
    rest = [d for d in gradient.deps if d not in delta.deps]
    j = qid[len("delta_"):]
    return (f"The first factors of {gradient.symbol} get a name of their own: {delta.symbol}, the error signal of "
            f"{j.split('@')[0]}, how fast E_total changes with its net input. With it, {gradient.symbol} = "
            f"{delta.symbol} · " + " · ".join(symbol(d) for d in rest) + f", and every weight into "
            f"{j.split('@')[0]} shares this {delta.symbol}.")

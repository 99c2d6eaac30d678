"""The lesson's story: what each section of the walk is for, the chain it follows, the three rules it
leaves behind, and the lesson to do next.

Plain text built from a lesson's catalogue (no SymPy, no Rich): the walk's screens print it, the
tests read it. Every formula named here is the catalogue's own, so a lesson of another shape or with
other activations gets its own chain and rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from backprop_tutor.catalogue import Quantity, describe_formula, post_digits, symbol

# the order `lessons` lists
SUGGESTED = ("post", "post-biases", "post-batch", "post-bce", "deep", "tanh-relu", "softmax-ce", "xor")

BEFORE_THE_UPDATE = (
    "Each partial derivative is the slope of E_total at one point, "
    "the weights as they are now. The gradient is all of those slopes taken at that same point, so every "
    "one of them uses the old weights; only when all are known does every weight take its step, together. "
    "A slope worked out with w⁺ in place of w would belong to a point the network has not reached yet."
)
WHY_BEFORE = "Why the weights before the update: " + BEFORE_THE_UPDATE[0].lower() + BEFORE_THE_UPDATE[1:]


def suggested(names: list[str]) -> list[str]:
    """Lesson names in the order they are best done in: the known ones first, then any other by name."""
    known = [n for n in SUGGESTED if n in names]
    return known + sorted(n for n in names if n not in SUGGESTED)


def next_lesson(name: str, names: list[str], done: set[str] | None = None) -> str | None:
    """The lesson after ``name`` in the suggested order that is not done yet (None when there is none)."""
    order = suggested(names)
    later = order[order.index(name) + 1:] if name in order else order
    return next((n for n in later if n not in (done or set())), None)


def _first(catalogue: Mapping[str, Quantity], order: list[str], section: str, pattern: str) -> Quantity | None:
    return next((catalogue[q] for q in order if catalogue[q].section == section and re.fullmatch(pattern, q)),
                None)


def chain(q: Quantity) -> str:
    return f"{q.symbol} = {describe_formula(q)}"


def framing(section: str, catalogue: Mapping[str, Quantity], order: list[str], trace: Mapping[str, float]) -> list[str]:
    """What the section is for and the chain it follows: a few short lines (none for a section it
    does not know). ``order`` is the walk's order of quantity ids."""
    if section == "forward":
        inputs = []
        for q in catalogue:  # the inputs come before the first net input: stop there (a big lesson has many
            if q.startswith("net_"):  # quantities, and a batch's inputs are each sample's: i1@2)
                break
            if re.fullmatch(r"i\d+", q) and q in trace:
                inputs.append(q)
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


def rules(catalogue: Mapping[str, Quantity]) -> list[str]:
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
    grads = (catalogue[q] for q in catalogue if re.fullmatch(r"dE_total/dw\d+(@1)?", q))
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


def _expanded(delta: Quantity, catalogue: Mapping[str, Quantity]) -> str:
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


def delta_note(catalogue: Mapping[str, Quantity], before: str | None, qid: str) -> str | None:
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


def question(q: Quantity, catalogue: Mapping[str, Quantity], activation: str = "") -> str | None:
    """The first hint of a step: a question that points at what to do, without the screen said again.
    ``activation`` is the name of the activation of the step's neuron (for its slope). None for a kind
    of step without a question of its own."""
    base = re.sub(r"@\d+(?=\+?$)", "", q.id)
    if q.section == "batch" or (q.id in ("E_total", "E_total+") and "@" in q.formula):
        return "The batch's value comes from every sample's own value: are they added up, or averaged?"
    if m := re.fullmatch(r"net_(\w+?)\+?", base):
        after = " (the weights after the update)" if base.endswith("+") else ""
        return (f"Which value reaches {m[1]} along each of its connections, and which weight does each one meet"
                f"{after}? The bias counts as a weight on an input that is always 1.")
    if m := re.fullmatch(r"out_(\w+?)\+?", base):
        if activation == "logistic":
            return (f"What is e to the power −net_{m[1]}, for the net_{m[1]} you have? The logistic function "
                    "then takes 1 over (1 plus that).")
        return f"Which function turns net_{m[1]} into out_{m[1]}, and what does it give for the value you have?"
    if m := re.fullmatch(r"E_(o\d+)\+?", base):
        return f"How far is out_{m[1]} from its target, and what does the error do with that difference?"
    if re.fullmatch(r"E_total\+?", base):
        return "Which errors make up the total, and how are they put together?"
    if m := re.fullmatch(r"dE_total/dout_(o\d+)", base):
        return (f"Only one term of E_total holds out_{m[1]}: how does that term change when out_{m[1]} grows a "
                "little? Mind the sign of what is inside the bracket.")
    if m := re.fullmatch(r"dout_(\w+)/dnet_(\w+)", base):
        j = m[1]
        if m[1] != m[2]:
            return f"When net_{m[2]} grows, out_{m[2]} takes a larger share of the total: what happens to out_{j}?"
        if activation == "relu":
            return f"Is net_{j} above 0? What does that make the slope of ReLU there?"
        if activation in ("logistic", "tanh", "softmax"):
            return (f"The slope of this activation can be written with a value you already have from the forward "
                    f"pass: which one, net_{j} or out_{j}?")
        return f"How does out_{j} change when net_{j} grows by a little?"
    if m := re.fullmatch(r"delta_(\w+)", base):
        return (f"δ_{m[1]} is how fast E_total changes with net_{m[1]}: which of the slopes you already have "
                "does it multiply together?")
    if m := re.fullmatch(r"dnet_(\w+)/dout_(\w+)", base):
        return f"In net_{m[1]}, which weight multiplies out_{m[2]}?"
    if (m := re.fullmatch(r"dE_(?:via_)?(\w+)/dout_(\w+)", base)) and not base.startswith("dE_total/"):
        return (f"This path runs from out_{m[2]} through {m[1]}: which δ belongs to {m[1]}, and which weight sits "
                f"on the connection from {m[2]} to {m[1]}?")
    if m := re.fullmatch(r"dE_total/dout_(\w+)", base):
        return (f"Through which neurons does out_{m[1]} reach the error? Each of them gives one path you have "
                "computed; what do you do with the paths?")
    if m := re.fullmatch(r"dnet_(\w+)/d(\w+)", base):
        return f"In net_{m[1]}, what does {m[2]} multiply?"
    if m := re.fullmatch(r"dE_total/d(\w+)", base):
        return (f"Which slopes lie on the way from {m[1]} to E_total, and which of them do you have already? "
                "Multiply them.")
    if m := re.fullmatch(r"(\w+)\+", base):
        return (f"If ∂E_total/∂{m[1]} is positive, should {m[1]} go up or down to lower the error? By how much, "
                "with the learning rate η?")
    return None

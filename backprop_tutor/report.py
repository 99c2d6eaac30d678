"""What `backprop-tutor train` prints: checkpoints, the loss curve, the weights, the post's figures.

Plain text through ``render.Out`` (no Rich import): `train --epochs 10000` starts as fast as
`check`.  The loss curve is a few lines of text on a log scale, drawn here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from backprop_tutor.render import Out

if TYPE_CHECKING:
    from backprop_tutor.lesson import Lesson
    from backprop_tutor.training import ClaimCheck, Point

CURVE_HEIGHT = 10


def _e(v: float) -> str:
    return f"{v:.9g}"


def checkpoint_table(out: Out, lesson: Lesson, rows: Iterable[Point], net=None) -> None:
    """The table of checkpoints; ``rows`` is read twice (the widths, then the lines), never held."""
    net = net or lesson.network
    from backprop_tutor.network import output_labels

    heads = ["update", "E_total", *(f"{label} (target {t:g})" for label, t in output_labels(net))]

    def cells(p: Point) -> list[str]:
        return [f"{p.update:,}", _e(p.error), *(_e(v) for v in p.outputs)]

    widths = [len(h) for h in heads]
    for p in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, cells(p))]
    out.say("  " + "  ".join(h.rjust(w) for h, w in zip(heads, widths)), "bold")
    for p in rows:
        out.say("  " + "  ".join(v.rjust(w) for v, w in zip(cells(p), widths)))


def loss_curve(out: Out, samples: list[tuple[int, float]]) -> None:
    """E_total against the update, the error on a log scale."""
    samples = [(u, e) for u, e in samples if e > 0 and math.isfinite(e)]
    if len(samples) < 2:
        return
    width = max(20, min(72, out.width - 16))
    top = math.log10(max(e for _, e in samples))
    bottom = math.log10(min(e for _, e in samples))
    if top - bottom < 1e-12:
        top, bottom = top + 0.5, bottom - 0.5
    last = samples[-1][0] or 1
    grid = [[" "] * width for _ in range(CURVE_HEIGHT)]
    for u, e in samples:
        col = min(width - 1, round(u / last * (width - 1)))
        row = round((top - math.log10(e)) / (top - bottom) * (CURVE_HEIGHT - 1))
        grid[row][col] = "•"
    out.say("Loss curve: E_total on a log scale, against the update", "bold")
    for k, line in enumerate(grid):
        level = 10 ** (top - (top - bottom) * k / (CURVE_HEIGHT - 1))
        label = f"{level:9.2e} │" if k in (0, CURVE_HEIGHT // 2, CURVE_HEIGHT - 1) else " " * 9 + " │"
        out.say(label + "".join(line).rstrip())
    out.say(" " * 10 + "└" + "─" * width)
    right = f"{last:,}"
    out.say(" " * 11 + "0" + right.rjust(width - 1))


def weight_table(out: Out, names: list[str], before: dict[str, float], after: dict[str, float],
                 title: str = "Weights") -> None:
    out.say(f"{title} before and after", "bold")
    width = max(len(n) for n in names)
    for n in names:
        b, a = before[n], after[n]
        out.say(f"  {n.ljust(width)}  {_e(b):>14} → {_e(a):<14}  ({a - b:+.6g})")


def claims(out: Out, checks: list[ClaimCheck]) -> None:
    for c in checks:
        claim = c.claim
        out.say("")
        if c.error_right and c.outputs_right:
            out.say(f"These agree with the original's figures after {claim.updates:,} updates.", "green")
            continue
        outs = " / ".join(claim.outputs)
        out.paragraph(f"The original prints error {claim.error} and outputs {outs} after "
                      f"{claim.updates:,} updates. Those figures are wrong:", "", "", "bold yellow")
        if not c.error_right and c.error_one_short:
            out.paragraph(f"its error agrees with the error after {claim.updates - 1:,} "
                          f"updates, {_e(c.trained.previous_error)}: one update short.", "  • ", "    ")
        if not c.outputs_right and c.published_outputs:
            values = ", ".join(_e(v) for v in c.published.outputs)
            out.paragraph("its outputs come from back-propagating through the already-updated output "
                          f"weights: that slip gives {values} (error {_e(c.published.error)}).", "  • ", "    ")
        out.paragraph(claim.why, style="dim")
        out.say("  `backprop-tutor train --as-published` reproduces the original's figures.", "dim")


def as_published(out: Out, lesson: Lesson, figures: list[tuple[str, str, float, str, bool]]) -> None:
    """The original's figures, each beside the value its recipe reproduces."""
    out.say("")
    out.say("The original's figures, reproduced:", "bold")
    for label, printed, value, how, same in figures:
        mark = "✓" if same else "✗"
        out.paragraph(f"{label}: the original prints {printed}; {how} gives {_e(value)}.", f"  {mark} ", "    ")


def write_train_json(stream: TextIO, chosen: Lesson, net, loop, run, checks: list, figures: list,
                     until: float | None) -> None:
    """`train --json`: one object with the run, its checkpoints, the parameters and the claims checked.
    The checkpoints are written one by one as they are read (an --every 1 run has one per update)."""
    import json

    from backprop_tutor.network import output_labels
    from backprop_tutor.safe_text import json_text

    names = loop.names
    data: dict[str, object] = {
        "lesson": chosen.name, "updates": run.last.update, "requested": run.total, "learning_rate": loop.eta,
        "rule": "as-published" if loop.through_updated else "right", "biases_trained": net.train_biases,
        "initial_error": run.first.error, "error": run.last.error,
        "outputs": dict(zip((label for label, _ in output_labels(net)), run.last.outputs)),
        "targets": dict(zip((label.replace("out_", "target_") for label, _ in output_labels(net)),
                            (t for _, t in output_labels(net)))),
        "checkpoints": None,  # streamed below
        "parameters": {n: {"before": b, "after": a} for n, b, a in zip(names, loop.params(), run.last.params)},
        "stopped": run.stopped,
    }
    if until is not None:
        data["until"] = {"below": until, "reached": run.stopped == "until",
                         "update": run.last.update if run.stopped == "until" else None}
    if checks:
        data["claims"] = [{"updates": c.claim.updates, "printed_error": c.claim.error,
                           "printed_outputs": list(c.claim.outputs), "error_right": c.error_right,
                           "error_one_update_short": c.error_one_short, "outputs_right": c.outputs_right,
                           "outputs_from_the_earlier_rule": c.published_outputs} for c in checks]
    if figures:
        data["as_published"] = [{"figure": f[0], "printed": f[1], "reproduced": f[2], "how": f[3], "agrees": f[4]}
                                for f in figures]
    # json.dumps(data) with its usual separators, but the checkpoints written as they are read
    stream.write("{")
    for k, (key, value) in enumerate(data.items()):
        stream.write(", " * (k > 0) + json.dumps(key) + ": ")
        if key != "checkpoints":
            stream.write(json_text(value))  # lesson text, escaped as everywhere else
            continue
        stream.write("[")
        for n, p in enumerate(run.rows):
            stream.write(", " * (n > 0) + json.dumps({"update": p.update, "error": p.error,
                                                       "outputs": list(p.outputs)}))
        stream.write("]")
    stream.write("}\n")

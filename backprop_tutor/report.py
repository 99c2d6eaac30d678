"""What `backprop-tutor train` prints: checkpoints, the loss curve, the weights, the post's figures.

Plain text through ``render.Out`` (no Rich import): `train --epochs 10000` starts as fast as
`check`.  The loss curves are drawn by plotille (imported only to draw them): braille lines on a log
scale, a curve per run, a marker a point where colour or unicode is missing.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from backprop_tutor.render import Out

if TYPE_CHECKING:
    from backprop_tutor.compare import Outcome, Plan
    from backprop_tutor.lesson import Lesson
    from backprop_tutor.training import ClaimCheck, Point

CURVE_HEIGHT = 12


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


# The curves' colours on a colour terminal, and their markers where colour or unicode is missing (one
# character a point, since braille lines of one colour cannot be told apart): one each for MAX_RUNS runs.
COLOURS = ("blue", "red", "green", "magenta", "cyan", "yellow", "bright_blue", "bright_red", "bright_green",
           "bright_magenta")
MARKERS = ("o", "x", "+", "*", "#", "@", "%", "&", "=", "~")


def _figure(plotille):
    """A plotille figure, made without importing NumPy: plotille imports it, where it is installed, only
    to read NumPy dates, and that import would double the start-up of `train` (a test holds it)."""
    if "numpy" in sys.modules:
        return plotille.Figure()
    sys.modules["numpy"] = None  # `import numpy` raises ImportError
    try:
        return plotille.Figure()
    finally:
        del sys.modules["numpy"]


def loss_curve(out: Out, samples: list[tuple[int, float]]) -> None:
    """E_total against the update, the error on a log scale: one run."""
    loss_curves(out, [("", samples)])


def loss_curves(out: Out, series: list[tuple[str, list[tuple[int, float]]]]) -> None:
    """E_total against the update on a log scale, a curve per run, drawn by plotille, with a legend when
    there are several. Points that are not a positive finite number (a diverged run's) are left out."""
    kept = [(label, [(u, e) for u, e in points if e > 0 and math.isfinite(e)]) for label, points in series]
    if sum(len(points) for _, points in kept) < 2:
        return
    import plotille

    logs = [math.log10(e) for _, points in kept for _, e in points]
    top, bottom = max(logs), min(logs)
    if top - bottom < 1e-12:
        top, bottom = top + 0.5, bottom - 0.5
    margin = (top - bottom) / (4 * CURVE_HEIGHT)  # half a braille dot: the first and last points are drawn
    top, bottom = top + margin, bottom - margin
    last = max(u for _, points in kept for u, _ in points) or 1
    fig = _figure(plotille)
    fig.width, fig.height = max(20, min(70, out.width - 16)) // 10 * 10, CURVE_HEIGHT  # a tick every 10 columns
    fig.with_colors, fig.origin = out.colour, False
    fig.x_label, fig.y_label = "update", "E_total"
    fig.set_x_limits(0, last)
    fig.set_y_limits(bottom, top)
    fig.x_ticks_fkt = lambda low, _high: f"{low:,.0f}"
    fig.y_ticks_fkt = lambda low, _high: f"{10 ** low:.2e}"
    lines = out.unicode and (out.colour or len(kept) == 1)  # braille lines; otherwise a marker a point
    for k, (label, points) in enumerate(kept):
        if points:
            xs, ys, colour, marker = [u for u, _ in points], [math.log10(e) for _, e in points], \
                COLOURS[k % len(COLOURS)], MARKERS[k % len(MARKERS)]
            fig.plot(xs, ys, lc=colour, interp="linear" if lines else None, label=label,
                     marker=None if lines else marker)
            if lines and len(kept) > 1:  # the run's marker where its line ends: readable without the colours too
                fig.text([min(xs[-1], last * (1 - 1 / fig.width))], ys[-1:], [marker], lc=colour)  # (inside)
    out.say("Loss curve" + ("s" if len(kept) > 1 else "") + ": E_total on a log scale, against the update", "bold")
    for line in fig.show().splitlines():
        out.plot_line(line.replace("\u2800", " ").rstrip())  # the blank braille cell is a space
    if len(kept) > 1:
        for k, (label, points) in enumerate(kept):
            key = f"━━{MARKERS[k % len(MARKERS)]}" if lines else f"  {MARKERS[k % len(MARKERS)]}"
            shown = f"  {key} {label}" + ("" if points else " (nothing to draw)")
            out.plot_line(plotille.color(shown, fg=COLOURS[k % len(COLOURS)], mode="names",
                                         no_color=not out.colour))


COMPARED = {"lr": "learning rate", "biases": "biases", "hidden": "size of the hidden layer",
            "init": "starting weights and biases"}
BIAS_NOTES = {"none": "every bias 0, and kept there", "fixed": "the lesson's biases, kept as they are",
              "trained": "the lesson's biases, trained",
              "per-neuron": "one bias per neuron, each starting at the lesson's value for it, trained"}


def compare_table(out: Out, lesson: Lesson, plan: Plan, outcomes: list[Outcome], total: int,
                  until: float | None, per_epoch: int = 1) -> None:
    """`train --compare`: a row per run — updates made, when E_total fell below --until, the error at the
    start and at the end, and whether (and at which update) it diverged."""
    epochs = f" ({total // per_epoch:,} epochs)" if per_epoch > 1 else ""
    out.say(lesson.title, "bold")
    rates = {o.learning_rate for o in outcomes}
    rate = f", η = {rates.pop():g}" if len(rates) == 1 else ""
    out.say(f"{len(outcomes)} runs of {total:,} updates{epochs} each{rate}, compared by {COMPARED[plan.key]}",
            "bold")
    if plan.key == "hidden":
        out.paragraph(f"Each size starts from fresh weights and biases drawn from seed {plan.seed} (as `--random "
                      f"--seed {plan.seed}` draws them: ±0.9 and ±0.5, two decimals); the lesson's data stays.",
                      style="dim")
    elif plan.key == "init":
        out.paragraph("init=seed:N starts from fresh weights and biases drawn from seed N (as `--random --seed N` "
                      "draws them: ±0.9 and ±0.5, two decimals); the lesson's data stays.", style="dim")
    elif plan.key == "biases":
        for v in plan.variants:
            out.say(f"  {v.label}: {BIAS_NOTES[v.label.partition('=')[2]]}", "dim")
    out.say("")
    starts = len({o.initial_error for o in outcomes}) > 1  # the start differs from run to run
    heads = [plan.key, "updates" if until is None else f"updates to E < {until:g}",
             *(["E_total start"] if starts else []), "E_total end", "diverged"]

    def cells(o: Outcome) -> list[str]:
        if until is None or o.reached is not None:
            updates = f"{o.updates:,}"
        else:
            updates = "—" if o.diverged is not None else "not reached"
        diverged = f"at update {o.diverged:,} ({o.why})" if o.diverged is not None else "no"
        return [o.label.partition("=")[2], updates, *([_e(o.initial_error)] if starts else []), _e(o.error),
                diverged]

    rows = [cells(o) for o in outcomes]
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(heads)]
    left = {0, len(heads) - 1}  # the run's label and the divergence read from the left

    def line(values: list[str]) -> str:
        return "  " + "  ".join(v.ljust(w) if k in left else v.rjust(w)
                                for k, (v, w) in enumerate(zip(values, widths))).rstrip()

    out.say(line(heads), "bold")
    for r in rows:
        out.say(line(r))
    if until is not None:
        hit = [o for o in outcomes if o.reached is not None]
        if not hit:
            out.say(f"No run got E_total below {until:g} in {total:,} updates.", "bold yellow")
        else:
            best = min(hit, key=lambda o: o.reached or 0)
            out.say(f"{len(hit)} of {len(outcomes)} runs got E_total below {until:g}; the fastest, {best.label}, "
                    f"after {best.reached:,} updates.", "bold green" if len(hit) == len(outcomes) else "bold yellow")
    gone = [o for o in outcomes if o.diverged is not None]
    from backprop_tutor.compare import DIVERGED_FACTOR

    if gone:
        out.say(f"Diverged: {', '.join(f'{o.label} at update {o.diverged:,}' for o in gone)}: E_total was no longer "
                f"a finite number, or above {DIVERGED_FACTOR:g} times its start. A diverged run stops there; its "
                "error at the end is the error at that update.", "bold red")


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

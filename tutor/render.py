"""Presentation: the one Rich console, and how results are shown on it.

Only ``rich.console`` and ``rich.text`` are imported at the top; tables are imported by the
functions that draw them, so that ``check`` stays quick to start.
"""

from __future__ import annotations

import os
import sys
import textwrap

from rich.console import Console
from rich.text import Text

from tutor import answers
from tutor.checking import CheckResult
from tutor.lesson import Lesson

_ASCII = str.maketrans({"∂": "d", "δ": "delta", "⁺": "+", "·": "*", "−": "-", "½": "1/2", "²": "^2",
                        "η": "eta", "✓": "OK", "✗": "X", "≈": "~", "Σ": "sum", "→": "->", "…": "...",
                        "—": "-", "←": "<-", "≤": "<=", "≥": ">=", "×": "x", "’": "'"})


def make_console(no_color: bool = False, stderr: bool = False) -> Console:
    """The console, built after the options are parsed so that NO_COLOR and --no-color hold."""
    no_color = no_color or "NO_COLOR" in os.environ
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False,
                   emoji=False)


def fit(console: Console, text: str) -> str:
    """The text, in plain ASCII when the terminal cannot show the post's symbols."""
    encoding = (console.encoding or "").lower().replace("-", "")
    return text if encoding.startswith("utf") else text.translate(_ASCII).encode("ascii", "replace").decode()


def say(console: Console, text: str, style: str = "") -> None:
    """Print computed text literally (never as markup): [brackets] in it stay as they are."""
    console.print(Text(fit(console, text), style=style))


def error_line(message: str) -> None:
    """The one line a user sees for bad input; plain, on stderr, no Rich needed."""
    line = f"backprop-tutor: error: {message}"
    encoding = getattr(sys.stderr, "encoding", None) or "ascii"
    try:
        line.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        line = line.translate(_ASCII).encode("ascii", "replace").decode()
    print(line, file=sys.stderr)


def paragraph(console: Console, text: str, first: str = "  ", rest: str = "  ") -> str:
    """Text folded to the console's width, every line indented (Rich would not indent the rest)."""
    return textwrap.fill(" ".join(text.split()), width=max(console.width - 1, 30),
                         initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)


def check_result(console: Console, r: CheckResult) -> None:
    q, typed = r.quantity, r.typed.text
    if r.verdict == answers.RIGHT:
        say(console, f"✓ right: {q.symbol} = {typed}", "bold green")
    elif r.verdict == answers.DRIFT:
        say(console, f"≈ right method — carry more digits: {typed} is off from {q.symbol} only by "
            "the drift that rounded intermediate values cause.", "bold yellow")
    elif r.verdict == answers.IMPRECISE:
        say(console, f"? give more digits: {typed} agrees with {q.symbol}, but {r.typed.digits} "
            f"significant digit{'s' if r.typed.digits != 1 else ''} cannot tell a right method from a "
            f"wrong one. Type at least {answers.MIN_DIGITS}.", "bold yellow")
    elif r.erratum is not None:
        say(console, f"✗ not right: {typed} is the original post's printed {q.symbol}, and the post "
            "is wrong here.", "bold red")
        say(console, paragraph(console, r.erratum.why))
    else:
        say(console, f"✗ not right: {typed} is not {q.symbol} at the digits you typed.", "bold red")

    say(console, f"  {q.symbol}: {q.meaning}", "dim")
    say(console, f"  {r.formula}")
    if r.accepted:
        pad = " " * (len(q.symbol) + 3)
        say(console, f"  {pad}= {r.worked}")
        say(console, f"  {pad}= {r.value:.15g}", "bold")
    elif r.factors and r.verdict == answers.WRONG:
        names = ", ".join(r.factors)
        say(console, paragraph(console, f"Check the parts it is made of, one at a time: {names}."))


def lessons_table(console: Console, lessons: list[Lesson]) -> None:
    from rich.table import Table

    table = Table(title=fit(console, "Bundled lessons (use with --lesson NAME)"), show_lines=True)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("network", no_wrap=True)
    table.add_column("about")
    for lesson in lessons:
        net = lesson.network
        shape = "-".join(map(str, net.layout.sizes))
        about = Text(fit(console, lesson.title), style="bold")
        about.append("\n" + fit(console, " ".join(lesson.description.split())))
        table.add_row(lesson.name, f"{shape}\n{', '.join(dict.fromkeys(net.activations))}", about)
    console.print(table)


def quantities_table(console: Console, lesson: Lesson, catalogue: dict) -> None:
    from rich.table import Table

    from tutor.catalogue import SECTIONS

    given = [q for q in catalogue.values() if q.given]
    say(console, f"{lesson.title}", "bold")
    say(console, "Given (not checked): " + ", ".join(q.id for q in given), "dim")
    for section, heading in SECTIONS.items():
        rows = [q for q in catalogue.values() if q.section == section and not q.given]
        if not rows:
            continue
        table = Table(title=fit(console, heading), title_justify="left", expand=False)
        table.add_column("name", style="bold", no_wrap=True)
        table.add_column("symbol", no_wrap=True)
        table.add_column("meaning")
        for q in rows:
            table.add_row(q.id, fit(console, q.symbol), fit(console, q.meaning))
        console.print(table)
    say(console, "Names are forgiving: case, underscores and spaces do not matter; dE/dw5, ∂E/∂w5, "
        "grad_w5 and w5_new all work. In `check`, w5 means the updated weight w5⁺.", "dim")


def training_report(console: Console, lesson: Lesson, trained, claims: list) -> None:
    """What training reached, and how it compares with what the lesson's source claims."""
    net = lesson.network
    say(console, f"{lesson.title}: {trained.updates:,} update{'s' if trained.updates != 1 else ''} "
        f"of gradient descent, η = {trained.learning_rate:g}", "bold")
    say(console, f"  E_total: {trained.initial_error:.9g} before → {trained.error:.9g} after")
    for o, out, target in zip(net.layout.neurons[-1], trained.outputs, net.targets):
        say(console, f"  out_{o} = {out:.10g}   (target {target:g})")
    for c in claims:
        claim = c.claim
        say(console, "")
        if c.error_right and c.outputs_right:
            say(console, f"These agree with the original post's figures after {claim.updates:,} updates.", "green")
            continue
        outs = " / ".join(claim.outputs)
        say(console, f"The original post prints error {claim.error} and outputs {outs} after "
            f"{claim.updates:,} updates. Those figures are wrong:", "bold yellow")
        if not c.error_right and c.error_one_short:
            say(console, paragraph(console, f"its error agrees with the error after {claim.updates - 1:,} "
                f"updates, {trained.previous_error:.9g}: one update short.", "  • ", "    "))
        if not c.outputs_right and c.published_outputs:
            outs = ", ".join(f"{v:.10g}" for v in c.published.outputs)
            say(console, paragraph(console, "its outputs come from back-propagating through the "
                f"already-updated output weights: that slip gives {outs} (error {c.published.error:.9g}).",
                "  • ", "    "))
        say(console, paragraph(console, claim.why), "dim")

"""Presentation: how results are shown in the terminal.

``check`` and ``train`` print through ``Out``, a few lines of plain text with ANSI styles
when the output is a colour terminal: importing ``rich.console`` alone costs about a seventh
of a bare Typer app's start-up, which ``check`` cannot afford (see bench/startup.py).  Tables
use Rich, imported inside the functions that draw them.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from backprop_tutor import answers
from backprop_tutor.catalogue import full_digits
from backprop_tutor.safe_text import printable

if TYPE_CHECKING:
    from decimal import Decimal

    from rich.console import Console

    from backprop_tutor.checking import CheckResult
    from backprop_tutor.formulas import FormulaResult
    from backprop_tutor.gradcheck import Check
    from backprop_tutor.lesson import Lesson

_ASCII = str.maketrans({"∂": "d", "δ": "delta", "⁺": "+", "·": "*", "−": "-", "½": "1/2", "²": "^2",
                        "η": "eta", "σ": "sigma", "✓": "OK", "✗": "X", "≈": "~", "Σ": "sum", "→": "->", "…": "...",
                        "—": "-", "←": "<-", "─": "-", "━": "=", "│": "|", "┐": "+", "┘": "+", "┤": "+",
                        "┼": "+", "┬": "+", "┴": "+", "▶": ">", "≤": "<=", "≥": ">=", "×": "x", "’": "'", "•": "*"})
_SGR = re.compile("\x1b\\[[0-9;]*m")  # a colour or style, as a plot library writes it
_STYLES = {"bold": "1", "dim": "2", "green": "32", "red": "31", "yellow": "33"}


def to_ascii(text: str) -> str:
    return text.translate(_ASCII).encode("ascii", "replace").decode()


def can_encode(encoding: str | None, text: str) -> bool:
    """Can a stream with this encoding show the text? (No encoding known: assume ASCII.)"""
    try:
        text.encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def colour_wanted(stream: TextIO, no_color: bool = False) -> bool:
    """Colour as no-color.org, force-color.org and Rich have it: never with --no-color, a non-empty
    NO_COLOR, TERM=dumb or TTY_COMPATIBLE=0; always with TTY_COMPATIBLE=1 or a non-empty FORCE_COLOR;
    otherwise when the stream is a terminal.  An empty variable counts as unset."""
    env = os.environ
    if no_color or env.get("NO_COLOR") or env.get("TERM", "").lower() in ("dumb", "unknown") \
            or env.get("TTY_COMPATIBLE") == "0":
        return False
    if env.get("TTY_COMPATIBLE") == "1" or env.get("FORCE_COLOR"):
        return True
    try:
        return bool(getattr(stream, "isatty", lambda: False)())
    except ValueError:  # a closed stream
        return False


def enable_vt_mode() -> bool:
    """On Windows, ask the console to interpret ANSI styles (virtual-terminal processing, Windows 10
    and later); True when it does.  Elsewhere terminals do already, and nothing is done."""
    if sys.platform != "win32":
        return False
    import ctypes

    kernel32 = ctypes.windll.kernel32
    enabled = False
    for std_handle in (-11, -12):  # STD_OUTPUT_HANDLE, STD_ERROR_HANDLE
        handle = kernel32.GetStdHandle(std_handle)
        mode = ctypes.c_uint32()
        if kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            enabled = bool(kernel32.SetConsoleMode(handle, mode.value | 0x0004)) or enabled  # VT processing
    return enabled


class Out:
    """Lines of text on stdout: styled on a colour terminal, ASCII where unicode cannot be shown."""

    def __init__(self, no_color: bool = False, stream: TextIO | None = None):
        self.stream = stream or sys.stdout
        self.colour = colour_wanted(self.stream, no_color) and (sys.platform != "win32" or enable_vt_mode())
        self.unicode = can_encode(getattr(self.stream, "encoding", None), "∂δ⁺·−½²η✓✗≈→…—•")
        self.width = shutil.get_terminal_size((80, 24)).columns

    def fit(self, text: str) -> str:
        return text if self.unicode else to_ascii(text)

    def say(self, text: str = "", style: str = "") -> None:
        text = self.fit(printable(text, multiline=True))
        if self.width > 20 and any(len(line) > self.width for line in text.split("\n")):
            text = "\n".join(self._fold(line) for line in text.split("\n"))
        if self.colour and style:
            codes = ";".join(_STYLES[s] for s in style.split())
            text = f"\x1b[{codes}m{text}\x1b[0m"
        print(text, file=self.stream)

    def plot_line(self, line: str) -> None:
        """A line of a plot as it is drawn: never folded, and with its colour codes (SGR sequences, the
        only control sequences kept) where colour is wanted; everything else as ``say`` shows it."""
        parts = _SGR.split(line)
        codes = _SGR.findall(line) if self.colour else [""] * (len(parts) - 1)
        text = "".join(self.fit(printable(part)) + code for part, code in zip(parts, [*codes, ""]))
        print(text, file=self.stream)

    def _fold(self, line: str) -> str:
        """A line longer than the terminal, folded, keeping its indent: never cut by a narrow terminal.
        (Each line on its own: a paragraph already folded keeps its line breaks and spaces.)"""
        if len(line) <= self.width:
            return line
        import textwrap

        indent = line[:len(line) - len(line.lstrip())]
        return textwrap.fill(line.strip(), width=self.width - 1, initial_indent=indent,
                             subsequent_indent=indent + "  ", break_on_hyphens=False, break_long_words=True)

    def paragraph(self, text: str, first: str = "  ", rest: str = "  ", style: str = "") -> None:
        """Text folded to the terminal's width, every line indented."""
        import textwrap

        folded = textwrap.fill(" ".join(text.split()), width=max(self.width - 1, 30),
                               initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)
        self.say(folded, style)


def make_console(no_color: bool = False) -> Console:
    """A Rich console for tables, built after the options are parsed (NO_COLOR, --no-color hold)."""
    from rich.console import Console

    force = os.environ.get("FORCE_COLOR")  # Rich reads an empty FORCE_COLOR as "no terminal": it is unset
    force_terminal = sys.stdout.isatty() if force == "" and os.environ.get("TTY_COMPATIBLE") is None else None
    return Console(no_color=no_color or bool(os.environ.get("NO_COLOR")), force_terminal=force_terminal,
                   highlight=False, emoji=False, markup=False)


def error_line(message: str) -> None:
    """The one line a user sees for bad input; plain, on stderr, with control characters escaped."""
    line = f"backprop-tutor: error: {printable(message)}"
    print(line if can_encode(getattr(sys.stderr, "encoding", None), line) else to_ascii(line), file=sys.stderr)


def check_result(out: Out, r: CheckResult, explain: str = "`backprop-tutor explain {name}`") -> None:
    q, typed = r.quantity, r.typed.text
    if r.verdict == answers.RIGHT:
        out.say(f"✓ right: {q.symbol} = {typed}", "bold green")
    elif r.verdict == answers.DRIFT:
        out.say(f"≈ right method — carry more digits: {typed} is off from {q.symbol} only by "
            "the drift that rounded intermediate values cause.", "bold yellow")
    elif r.verdict == answers.IMPRECISE and r.confusion is not None:
        what, needed = r.confusion
        out.say(f"? give more digits: {typed} is, at these digits, also {what}. Type at least {needed} "
                "significant digits to tell them apart.", "bold yellow")
    elif r.verdict == answers.IMPRECISE and r.findings:
        out.say(f"? carry more digits: {typed} is not {q.symbol} at the digits you typed.", "bold yellow")
    elif r.verdict == answers.IMPRECISE:
        out.say(f"? give more digits: {typed} agrees with {q.symbol}, but {r.typed.digits} "
            f"significant digit{'s' if r.typed.digits != 1 else ''} cannot tell a right method from a "
            f"wrong one. Type at least {answers.MIN_DIGITS}.", "bold yellow")
    elif r.erratum is not None:
        out.say(f"✗ not right: {typed} is the figure the original prints for {q.symbol}, and the "
                "original is wrong here.", "bold red")
        out.paragraph(r.erratum.why)
    else:
        out.say(f"✗ not right: {typed} is not {q.symbol} at the digits you typed.", "bold red")

    out.say(f"  {q.symbol}: {q.meaning}", "dim")
    out.say(f"  {r.formula}")
    if r.accepted:
        pad = " " * (len(q.symbol) + 3)
        out.say(f"  {pad}= {r.worked}")
        out.say(f"  {pad}= {full_digits(r.value)}", "bold")
    elif r.findings and r.verdict in (answers.WRONG, answers.IMPRECISE):
        lead = "  → " if len(r.findings) == 1 else "  • "
        if len(r.findings) > 1:
            out.say("  These slips all give your value; it is one of them:", "yellow")
        for f in r.findings:
            out.paragraph(f.text, lead, "    ", "yellow")
        for mid, steps in r.patterns.items():
            from backprop_tutor.catalogue import symbol
            from backprop_tutor.mistakes import teaching

            where = ", ".join(symbol(q) for q in steps)
            out.paragraph(f"This is the same slip as before ({where}): a pattern, not a one-off. "
                          f"{teaching(mid)}", "  ! ", "    ", "bold yellow")
    elif r.erratum is not None:  # the parts are not where the slip is: the right value's derivation is
        out.paragraph(f"How the right value is computed: {explain.format(name=r.quantity.id)}.", style="dim")
    elif r.factors and r.verdict == answers.WRONG:
        names = ", ".join(r.factors)
        out.paragraph(f"Check the parts it is made of, one at a time: {names}.")


def formula_result(out: Out, r: FormulaResult) -> None:
    """A typed formula's verdict: what was read (in 2-D), how it was judged, what is wrong with it."""
    from backprop_tutor.formulas import LEVEL, RIGHT

    q = r.quantity
    if r.verdict == RIGHT:
        out.say(f"✓ right formula for {q.symbol}: {r.how_text}.", "bold green")
    elif r.verdict == LEVEL:
        out.say(f"? right formula at the wrong level: {r.level_text}.", "bold yellow")
    else:
        out.say(f"✗ not the formula of {q.symbol}.", "bold red")
    out.say("  What I read:", "dim")
    for line in r.drawing(out.unicode, max(out.width - 4, 30)).split("\n"):
        out.say(f"    {line}")
    out.say(f"  {q.symbol}: {q.meaning}", "dim")
    if r.verdict != RIGHT:
        for f in r.findings:
            out.paragraph(f.text, "  → ", "    ", "yellow")
        missing = r.missing_drawing(out.unicode)
        if missing is not None and r.diagnosis.missing is not None:
            out.say(f"  missing {r.diagnosis.missing[0]}:", "yellow")
            for line in missing.split("\n"):
                out.say(f"    {line}", "yellow")
        swap = r.replaced_drawing(out.unicode)
        if swap is not None:
            out.say("  in place of what belongs there:", "yellow")
            for line in swap.split("\n"):
                out.say(f"    {line}", "yellow")
        if not r.findings and r.verdict != LEVEL:
            from backprop_tutor.catalogue import describe_formula

            out.paragraph(f"Write it from its definition: {q.symbol} = {describe_formula(q)}.")


def lessons_table(console: Console, lessons: list[tuple[Lesson, str]]) -> None:
    """One row per lesson, in the order given (the suggested order): its title, shape and progress."""
    from rich.table import Table

    table = Table(title=_text(console, "Bundled lessons, in a suggested order (start --lesson NAME)"),
                  title_justify="left")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("network", no_wrap=True)
    table.add_column("about")
    table.add_column("your progress", no_wrap=True)
    for n, (lesson, status) in enumerate(lessons, 1):
        net = lesson.network
        shape = "-".join(map(str, net.layout.sizes))
        table.add_row(str(n), _text(console, lesson.name), _fit(console, shape), _fit(console, lesson.title), status)
    console.print(table)
    _say(console, "`backprop-tutor start --lesson NAME` begins one; its introduction says what it adds.", "dim")


ONE_SAMPLE_SHOWN = 5_000  # names: a batch with more lists sample 1's for every sample's
TABLE_ROWS = 500  # a section with more is listed a line a name, not as a table


def quantities_table(console: Console, lesson: Lesson, catalogue: Mapping) -> None:
    from rich.table import Table

    from backprop_tutor.catalogue import SECTIONS, BatchCatalogue

    every = catalogue
    if isinstance(catalogue, BatchCatalogue) and len(catalogue) > ONE_SAMPLE_SHOWN:
        # too many to read: sample 1's stand for every sample's, and the batch's are listed in full
        every = {q: catalogue[q] for q in catalogue.with_sample(1)}
    given = [q for q in every.values() if q.given]
    _say(console, f"{lesson.title}", "bold")
    _say(console, "Given (not checked): " + ", ".join(q.id for q in given), "dim")
    if every is not catalogue:
        n = len(lesson.network.samples)
        _say(console, f"{len(catalogue):,} names in all: those of sample 1 are listed, and each is a name of "
             f"samples 2 to {n} too, with @2 … @{n} for @1.", "dim")
    for section, heading in SECTIONS.items():
        rows = [q for q in every.values() if q.section == section and not q.given]
        if not rows:
            continue
        if len(rows) > TABLE_ROWS:  # a table this long takes Rich seconds to lay out: one line a name
            _say(console, heading, "bold")
            wide = max(len(q.id) for q in rows), max(len(q.symbol) for q in rows)
            console.print(_text(console, "\n".join(f"  {q.id:<{wide[0]}}  {q.symbol:<{wide[1]}}  {q.meaning}"
                                                    for q in rows)), overflow="fold")
            continue
        table = Table(title=_text(console, heading), title_justify="left", expand=False)
        table.add_column("name", style="bold", no_wrap=True)
        table.add_column("symbol", no_wrap=True)
        table.add_column("meaning")
        for q in rows:
            table.add_row(_text(console, q.id), _text(console, q.symbol), _text(console, q.meaning))
        console.print(table)
    _say(console, "Names are forgiving: case, underscores and spaces do not matter; dE/dw5, ∂E/∂w5, "
        "grad_w5 and w5_new all work. In `check`, w5 means the updated weight w5⁺.", "dim")


def derivation(console: Console, lesson: Lesson, derived, errata: list) -> None:
    """A derivation of the symbolic layer: headings, sentences, and equations drawn in 2-D.

    Equations are computed text, printed as ``Text`` (never markup) without wrapping: the symbolic
    layer fits them to the console's width, or writes them on one line each where they cannot fit.
    """
    from rich.text import Text

    from backprop_tutor import derivations
    from backprop_tutor.catalogue import SECTIONS

    quantity, value = derived.quantity, derived.value
    lines = derivations.lines(derived, unicode=unicode_ok(console), width=console.width)
    _say(console, f"{quantity.symbol}: {quantity.meaning}", "bold")
    _say(console, f"{SECTIONS[quantity.section]} · lesson {lesson.name}", "dim")
    print_lines(console, lines)
    console.print()
    _say(console, f"Full precision: {quantity.symbol} = {full_digits(value)}", "bold")
    for e in errata:
        console.print()
        _say(console, f"The original writes {e.wrote} here" if e.wrote else f"The original's {e.printed} is wrong",
             "bold yellow")
        console.print(Text(_fit(console, " ".join(e.why.split())), style="dim"), overflow="fold")


def answer_key(session, fmt: str, sample: int | None = None) -> None:
    """Every quantity of a lesson with its formula and value: Markdown, CSV or JSON, on stdout
    (in ASCII where the terminal cannot show unicode); with ``sample``, the batch's and that sample's."""
    text = printable(key_text(session, fmt, sample), multiline=True)
    print(text if can_encode(getattr(sys.stdout, "encoding", None), text) else to_ascii(text), end="")


def key_text(session, fmt: str, sample: int | None = None) -> str:
    from backprop_tutor.catalogue import SECTIONS, describe_formula, post_digits

    lesson, cat, trace = session.lesson, session.catalogue, session.trace
    names = cat.with_sample(sample) if sample is not None else list(cat)
    rows = [(q, describe_formula(q) if not q.given else "given", trace[q.id]) for q in map(cat.__getitem__, names)]
    if fmt == "json":
        from backprop_tutor.safe_text import json_text

        return json_text({"lesson": lesson.name, "title": lesson.title, "seed": lesson.seed,
                          "quantities": [{"name": q.id, "symbol": q.symbol, "section": q.section, "formula": f,
                                          "value": v, "shown": post_digits(v)} for q, f, v in rows]}) + "\n"
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["section", "name", "symbol", "formula", "value", "full_precision"])
        for q, f, v in rows:
            writer.writerow([q.section, q.id, q.symbol, f, post_digits(v), full_digits(v)])
        return buffer.getvalue()
    out = [f"# Answer key: {lesson.title}\n"]
    if lesson.seed is not None:
        out.append(f"Learners get these numbers with `backprop-tutor start --random --seed {lesson.seed}`.\n")
    if sample is not None:
        n = len(lesson.network.samples)
        out.append(f"The batch's values and those of sample {sample} of {n} (`--sample K` for another, "
                   "`--sample all` for every sample's).\n")
    for section, heading in SECTIONS.items():
        part = [(q, f, v) for q, f, v in rows if q.section == section]
        if not part:
            continue
        out += [f"## {heading}\n", "| quantity | formula | value | full precision |", "|---|---|---|---|"]
        for q, f, v in part:
            formula = f.replace("|", "\\|")
            out.append(f"| {q.symbol} | {formula} | {post_digits(v)} | {full_digits(v)} |")
        out.append("")
    return "\n".join(out) + "\n"


def what_if(out: Out, changes: dict[str, tuple[float, float]], before: Mapping[str, float],
            after: dict[str, float], names: list[str]) -> None:
    """Quantities before and after some given values change, side by side."""
    from backprop_tutor.catalogue import symbol

    out.say("What if " + ", ".join(f"{n} = {new:g} (was {old:g})" for n, (old, new) in changes.items()) + "?",
            "bold")
    width = max(len(symbol(n)) for n in names)
    out.say(f"  {'':{width}}  {'before':>15}  {'after':>15}  {'change':>12}", "bold")
    for n in names:
        b, a = before[n], after[n]
        flip = "  sign flips" if b * a < 0 else ""
        out.say(f"  {symbol(n):{width}}  {b:>15.9g}  {a:>15.9g}  {a - b:>+12.4g}{flip}")


def gradient_checks(out: Out, checks: list[Check], gradients: dict[str, Decimal], total: int, changed: bool) -> None:
    """Each gradient beside its central difference (``gradcheck.Check``), with the bound of their difference."""
    if not checks:
        return
    h = checks[0].h
    when = " after the change" if changed else ""
    out.say()
    out.say(f"Gradient check{when}: each gradient beside its central difference", "bold")
    out.say(f"  ΔE/Δp = (E_total(p + h) − E_total(p − h)) / 2h with h = {h}, computed at 50 digits so that the "
            "subtraction keeps its digits. It differs from ∂E/∂p by about h²/6 · ∂³E/∂p³ (the error is O(h²)), "
            "estimated from the nudges p ± 2h: the bound.", "dim")
    width = max(len(c.parameter) for c in checks) + 4
    out.say(f"  {'ΔE/Δp':>{width + 16}}   {'∂E/∂p':>15}  {'differ by':>9}  {'bound':>7}", "bold")
    for c in checks:
        grad = gradients[c.parameter]
        off, name = c.off_by(grad), f"ΔE/Δ{c.parameter}"
        difference, gradient = float(c.difference) + 0.0, float(grad) + 0.0  # (+ 0.0: never "-0")
        out.say(f"  {name:<{width}} {difference:>15.10g} ≈ {gradient:>15.10g}  {float(off):>9.1e} "
                f"{'≤' if off <= c.bound else '>'} {float(c.bound):.1e}")
    if total > len(checks):
        out.say(f"  ({len(checks)} of {total} parameters checked, the changed ones first: each check takes four "
                "forward passes at 50 digits)", "dim")


def print_lines(console: Console, lines) -> None:
    """(kind, text) pairs of the symbolic layer: headings, notes, 2-D equations, one-line equations."""
    from rich.text import Text

    for kind, text in lines:
        if kind == "heading":
            console.print()
            _say(console, text, "bold")
        elif kind == "note":
            console.print(Text(_fit(console, text), style="dim"), overflow="fold")
        elif kind == "math":
            for row in text.split("\n"):
                console.print(Text("  " + row), no_wrap=True, overflow="ignore", crop=False)
        else:
            for row in text.split("\n"):
                console.print(Text("  " + _fit(console, row)), overflow="fold")


DIAGRAM_STYLES = {"path": "bold yellow", "focus": "bold cyan", "dim": "dim", "bold": "bold"}


def print_diagram(console: Console, lines: list) -> None:
    """The network's picture (``diagram.picture``): each line as ``Text`` in its styles, never cut (it is
    drawn to the console's width) and never wrapped."""
    from rich.text import Text

    for line in lines:
        text = Text()
        for part, style in line:
            text.append(printable(part), style=DIAGRAM_STYLES.get(style, ""))
        console.print(text, no_wrap=True, overflow="ignore", crop=False)


def unicode_ok(console: Console) -> bool:
    """Can the console show SymPy's unicode forms and box drawing?"""
    return can_encode(console.encoding, "∂⋅─ₜ₁⎛⎞ℯ━┼▶")


def verification(console: Console, lesson: Lesson, rows: list, tolerance: float) -> bool:
    """The engine's gradients beside SymPy's, one row per parameter; True when all agree."""
    from rich.table import Table

    table = Table(title=_text(console, f"∂E_total/∂p for lesson {lesson.name}: the engine and SymPy, "
                                       "its chain rule at 40 digits, independent of the engine"), title_justify="left")
    for column in ("parameter", "engine", "SymPy", "difference"):
        table.add_column(column, justify="left" if column == "parameter" else "right", no_wrap=True)
    for r in rows:
        table.add_row(r.name, f"{r.engine:.17g}", r.sympy_text(17), f"{r.difference:.1e}")
    console.print(table)
    worst = max((r.relative for r in rows), default=0.0)
    ok = worst <= tolerance
    if ok:
        _say(console, f"✓ all {len(rows)} gradients agree: the largest relative difference is {worst:.1e} "
             f"(tolerance {tolerance:.0e}).", "bold green")
    else:
        bad = ", ".join(r.name for r in rows if r.relative > tolerance)
        _say(console, f"✗ the engine and SymPy disagree on {bad} (tolerance {tolerance:.0e}).", "bold red")
    return ok


def progress_report(console: Console, walk) -> None:
    """Each section's status, first-try accuracy per skill, hints used, values confirmed with check."""
    from rich.table import Table

    from backprop_tutor import progress
    from backprop_tutor.walk import skill_accuracy

    state, lesson = walk.state, walk.session.lesson
    for w in state.warnings:
        _say(console, f"Note: {w}", "yellow")
    records = state.records
    if not records:
        _say(console, f"No progress yet in {lesson.title}. `backprop-tutor start` begins the lesson.")
        return
    table = Table(title=_text(console, f"Your progress: {lesson.title}"), title_justify="left")
    for column in ("section", "done", "skipped", "status"):
        table.add_column(column, no_wrap=True)
    for heading, done, total, skipped in walk.section_status():
        status = "complete" if done == total else ("not started" if done == 0 else "in progress")
        table.add_row(_text(console, heading), f"{done} of {total}", str(skipped), status)
    console.print(table)
    skills = Table(title="Right at the first try, per skill", title_justify="left")
    for column in ("skill", "first try", "answered"):
        skills.add_column(column, no_wrap=True)
    for skill, right, total in skill_accuracy(state, walk.asked, walk.session.catalogue):
        share = f" ({right * 100 // total}%)" if total else ""
        skills.add_row(skill, f"{right}{share}", str(total))
    console.print(skills)
    hints = sum(r.hints for r in records.values()) + sum(p.get("hints", 0) for p in state.pending.values())
    checked = sum(1 for r in records.values() if r.status == progress.CHECKED)
    explained = sum(1 for r in records.values() if r.explained)
    _say(console, f"Hints used: {hints}. Values confirmed with `check`: {checked}."
         + (f" Explained before answering: {explained}." if explained else ""))
    seen: dict[str, list[str]] = {}
    for m, q in state.mistakes:
        seen.setdefault(m, []).append(q)
    if seen:
        _say(console, "Mistakes seen: " + "; ".join(f"{m} ({', '.join(qs)})" for m, qs in seen.items()))
    if state.position:
        _say(console, f"Next step: {walk.session.catalogue[state.position].symbol}. "
             "`backprop-tutor start` resumes there.", "bold")


def _fit(console: Console, text: str) -> str:
    """Text safe to show: control characters escaped, in ASCII where the console cannot show unicode."""
    text = printable(text, multiline=True)
    return text if can_encode(console.encoding, text) else to_ascii(text)


def _text(console: Console, text: str, style: str = ""):
    """A table title or cell: ``Text``, never markup (a lesson title "[/oops]" is shown as written)."""
    from rich.text import Text

    return Text(_fit(console, text), style=style)


def _say(console: Console, text: str, style: str = "") -> None:
    from rich.text import Text

    console.print(Text(_fit(console, text), style=style))

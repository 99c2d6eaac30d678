"""Blank worksheets and their keys, one per seed: Markdown, or LaTeX that plain pdflatex compiles.

A sheet has the seed, the network drawn with its given numbers, the given values, and the steps of
the lesson in its order, each with a blank to write the value in (no formulas: knowing them is the
exercise). The key is `backprop-tutor key`'s, for the same numbers.
"""

from __future__ import annotations

import os

from backprop_tutor import diagram
from backprop_tutor.catalogue import SECTIONS, describe_formula, full_digits, post_digits
from backprop_tutor.checking import Session
from backprop_tutor.safe_text import md_cell
from backprop_tutor.walk import lesson_steps

FORMATS = ("md", "tex")


def _given(session: Session) -> dict[str, float]:
    return {q: session.trace[q] for q, x in session.catalogue.items() if x.given}


def _sections(session: Session) -> list[tuple[str, list[str]]]:
    asked = [s for s in lesson_steps(session) if s.asked]
    return [(heading, [s.qid for s in asked if s.section == section]) for section, heading in SECTIONS.items()
            if any(s.section == section for s in asked)]


def _check_line(seed: int | None) -> str:
    return "backprop-tutor check NAME VALUE" + (f" --random --seed {seed}" if seed is not None else "")


# Markdown -----------------------------------------------------------------------------------------

def sheet_md(session: Session) -> str:
    lesson, seed = session.lesson, session.lesson.seed
    out = [f"# Worksheet: {md_cell(lesson.title)}", ""]
    if seed is not None:
        out += [f"Seed **{seed}**. Name: ____________________", ""]
    out += [f"Compute each value by hand. Check one with `{_check_line(seed)}`.", "",
            "## The network", "", "```text", *diagram.lines(lesson.network, _given(session)), "```", "",
            "## Given", "", "| quantity | value |", "|---|---|"]
    out += [f"| {md_cell(session.catalogue[q].symbol)} | {post_digits(v)} |" for q, v in _given(session).items()]
    number = 0
    for heading, qids in _sections(session):
        out += ["", f"## {heading}", "", "| # | compute | your value |", "|---|---|---|"]
        for qid in qids:
            number += 1
            out.append(f"| {number} | {md_cell(session.catalogue[qid].symbol)} |  |")
    return "\n".join(out) + "\n"


def key_md(session: Session) -> str:
    from backprop_tutor.render import key_text

    return key_text(session, "md")


# LaTeX --------------------------------------------------------------------------------------------

_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "%": r"\%",
        "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}", "<": r"\textless{}",
        ">": r"\textgreater{}", "|": r"\textbar{}", '"': r"\textquotedbl{}"}


def tex(text: str) -> str:
    """Text for LaTeX: in ASCII (what plain pdflatex can set), every special character escaped."""
    from backprop_tutor.render import to_ascii

    return "".join(_TEX.get(c, c) for c in " ".join(to_ascii(text).split()))


def _verbatim(lines: list[str]) -> list[str]:
    from backprop_tutor.render import to_ascii

    return [r"\begin{verbatim}", *(to_ascii(line).replace(r"\end{verbatim}", r"\end {verbatim}") for line in lines),
            r"\end{verbatim}"]


PREAMBLE = [r"\documentclass[a4paper,11pt]{article}", r"\usepackage[T1]{fontenc}",
            r"\usepackage[margin=2cm]{geometry}", r"\usepackage{longtable}", r"\usepackage{array}",
            r"\setlength{\parindent}{0pt}", r"\renewcommand{\arraystretch}{1.8}", r"\sloppy",
            r"\begin{document}"]


def sheet_tex(session: Session) -> str:
    lesson, seed = session.lesson, session.lesson.seed
    out = [*PREAMBLE, rf"\section*{{Worksheet: {tex(lesson.title)}}}"]
    if seed is not None:
        out.append(rf"Seed \textbf{{{seed}}}. Name: \rule{{6cm}}{{0.4pt}}\par\medskip")
    out += [rf"Compute each value by hand. Check one with \texttt{{{tex(_check_line(seed))}}}.",
            r"\subsection*{The network}", *_verbatim(diagram.lines(lesson.network, _given(session), unicode=False)),
            r"\subsection*{Given}", r"\begin{tabular}{ll}", r"\hline"]
    out += [rf"\texttt{{{tex(q)}}} & {tex(post_digits(v))} \\" for q, v in _given(session).items()]
    out += [r"\hline", r"\end{tabular}"]
    number = 0
    for heading, qids in _sections(session):
        out += [rf"\subsection*{{{tex(heading)}}}", r"\begin{longtable}{r l p{7cm}}", r"\hline",
                r"\# & compute & your value \\", r"\hline"]
        for qid in qids:
            number += 1
            out.append(rf"{number} & \texttt{{{tex(qid)}}} & \\ \hline")
        out.append(r"\end{longtable}")
    return "\n".join([*out, r"\end{document}"]) + "\n"


KEY_COLUMNS = r"\begin{longtable}{>{\raggedright\arraybackslash}p{3.6cm} >{\raggedright\arraybackslash}p{5.8cm} l l}"


def key_tex(session: Session) -> str:
    lesson = session.lesson
    out = [*PREAMBLE, rf"\section*{{Answer key: {tex(lesson.title)}}}"]
    if lesson.seed is not None:
        out.append(rf"Learners get these numbers with \texttt{{{tex(_check_line(lesson.seed))}}}.")
    for section, heading in SECTIONS.items():
        part = [q for q in session.catalogue.values() if q.section == section]
        if not part:
            continue
        out += [rf"\subsection*{{{tex(heading)}}}", KEY_COLUMNS, r"\hline",
                r"quantity & formula & value & full precision \\", r"\hline"]
        for q in part:
            formula = "given" if q.given else describe_formula(q)
            v = session.trace[q.id]
            breakable = tex(formula).replace("*", r"*\allowbreak{}")  # a long product may wrap
            out.append(rf"\texttt{{{tex(q.id)}}} & \texttt{{{breakable}}} & {tex(post_digits(v))} & "
                       rf"{tex(full_digits(v))} \\")
        out += [r"\hline", r"\end{longtable}"]
    return "\n".join([*out, r"\end{document}"]) + "\n"


def write(sessions: list[Session], fmt: str, folder: str) -> list[str]:
    """A sheet and a key per session (``sheet-7.md``, ``key-7.md``; without a seed ``sheet.md``); the paths."""
    sheet, key = (sheet_md, key_md) if fmt == "md" else (sheet_tex, key_tex)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for session in sessions:
        tail = "" if session.lesson.seed is None else f"-{session.lesson.seed}"
        for stem, make in (("sheet", sheet), ("key", key)):
            path = os.path.join(folder, f"{stem}{tail}.{fmt}")
            with open(path, "w", encoding="utf-8") as f:
                f.write(make(session))
            paths.append(path)
    return paths

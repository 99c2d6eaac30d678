"""A question bank in Moodle's XML format: one numerical question per (seed, step).

Each question gives the network's numbers and the values the step is computed from, and asks for the
step's value. Its answers, which Moodle tries in order:

* the right value (100 %), its tolerance the drift band `check` accepts as "right method" (what
  rounding every intermediate to about 4 significant digits causes; for w⁺, η times its gradient's),
  but never more than half way to a mistake's value (`check` calls a value nearer a mistake wrong);
* one answer (0 %) per value a known mistake gives on this step, with the mistake's explanation as
  feedback; and for an update, the value before the update. Their tolerances never reach the right
  answer's interval.

Questions are grouped per step by Moodle categories (``$course$/backprop-tutor/<lesson>/<step>``), so
a quiz can draw one random seed per step. Every text is built as HTML with what it embeds escaped, and
written by ElementTree, which escapes it again as XML text.
"""

from __future__ import annotations

import html
import math
import xml.etree.ElementTree as ET
from decimal import Decimal

from backprop_tutor import catalogue, progress
from backprop_tutor.checking import Session
from backprop_tutor.walk import lesson_steps

RIGHT_FEEDBACK = "Right."


def _num(value: float) -> str:
    return f"{float(value):.15g}"


def digits_needed(value: float, tolerance: float) -> int:
    """The fewest significant digits whose rounding of ``value`` stays inside the tolerance."""
    if value == 0 or tolerance <= 0:
        return 3
    d = Decimal(value)
    for n in range(3, 17):
        rounded = float(round(d, -d.adjusted() + n - 1))
        if abs(rounded - value) <= tolerance:
            return n
    return 17


def answers_for(session: Session, qid: str) -> tuple[float, float, list[tuple[float, float, str]]]:
    """The right value and its tolerance, and the mistakes' (value, tolerance, feedback) on this step,
    with every earlier step known (a question gives its parts)."""
    learner = progress.Progress(session.lesson.name)
    for q in session.catalogue:
        if q == qid:
            break
        learner.records[q] = progress.Record(progress.CHECKED, session.trace[q])
    true, tol = session.trace[qid], session.drift[qid]
    found: list[tuple[float, str]] = []
    before = qid[:-1]
    if qid.endswith("+") and before in session.trace and session.trace[before] != true:
        found.append((session.trace[before], f"That is {catalogue.symbol(before)} before the update: "
                      f"subtract η · ∂E_total/∂{before} from it."))
    found += [(v, f.text) for v, f in session.diagnoser(learner, qid).confusers(qid)]
    found = [(v, text) for v, text in found if math.isfinite(v) and v != true]
    # `check` takes a value in the drift band as right only if it is nearer the true value than any
    # mistake's: the right interval stops half way to the nearest one
    tol = min([tol, *(abs(v - true) / 2 * (1 - 1e-9) for v, _ in found)])
    mistakes: list[tuple[float, float, str]] = []
    for v, text in found:
        same = next((k for k, (w, _, _) in enumerate(mistakes) if abs(w - v) <= 1e-12 * max(abs(v), 1e-300)), None)
        if same is not None:  # two mistakes, one value: both are named
            w, t, old = mistakes[same]
            if text not in old:
                mistakes[same] = (w, t, f"{old} Or: {text}")
            continue
        mistakes.append((v, min(max(tol, 5e-5 * abs(v)), (abs(v - true) - tol) / 2), text))
    return true, tol, mistakes


def _text(parent: ET.Element, tag: str, text: str, fmt: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(element, "text").text = text
    return element


def _answer(question: ET.Element, fraction: int, value: float, tolerance: float, feedback: str) -> None:
    answer = ET.SubElement(question, "answer", {"fraction": str(fraction), "format": "moodle_auto_format"})
    ET.SubElement(answer, "text").text = _num(value)
    ET.SubElement(answer, "tolerance").text = f"{tolerance:.6g}"
    _text(answer, "feedback", f"<p>{html.escape(feedback)}</p>", "html")


def question(session: Session, qid: str) -> ET.Element:
    q = session.catalogue[qid]
    true, tol, mistakes = answers_for(session, qid)
    seed = session.lesson.seed
    given = ", ".join(f"{catalogue.symbol(g)} = {catalogue.post_digits(session.trace[g])}"
                      for g, x in session.catalogue.items() if x.given)
    parts = ", ".join(f"{catalogue.symbol(d)} = {catalogue.post_digits(session.trace[d])}"
                      for d in dict.fromkeys(q.deps) if d in session.trace)
    e = html.escape
    body = (f"<p>The network: {e(session.lesson.title)}.</p><p>Given: {e(given)}.</p>"
            f"<p>Compute {e(q.symbol)}: {e(q.meaning)}.</p>"
            f"<p>{e(q.symbol)} = {e(catalogue.describe_formula(q))}</p>"
            + (f"<p>You have: {e(parts)}.</p>" if parts else "")
            + f"<p>Give at least {digits_needed(true, tol)} significant digits.</p>")
    element = ET.Element("question", {"type": "numerical"})
    _text(element, "name", f"{session.lesson.name} · seed {'-' if seed is None else seed} · {qid}")
    _text(element, "questiontext", body, "html")
    _text(element, "generalfeedback", f"<p>{e(q.symbol)} = {e(catalogue.describe_formula(q, session.trace))}"
          f" = {e(catalogue.full_digits(true))}</p>", "html")
    ET.SubElement(element, "defaultgrade").text = "1"
    ET.SubElement(element, "penalty").text = "0.3333333"
    ET.SubElement(element, "hidden").text = "0"
    _answer(element, 100, true, tol, RIGHT_FEEDBACK)
    for v, t, text in mistakes:
        _answer(element, 0, v, t, text)
    return element


def bank(sessions: list[Session]) -> bytes:
    """The quiz: per step a category, then that step's question for every seed."""
    quiz = ET.Element("quiz")
    asked = [s.qid for s in lesson_steps(sessions[0]) if s.asked]
    for qid in asked:
        category = ET.SubElement(quiz, "question", {"type": "category"})
        name = sessions[0].lesson.name.replace("/", "//")  # Moodle reads a single / as a sub-category
        _text(category, "category", f"$course$/backprop-tutor/{name}/{qid.replace('/', '//')}")
        for session in sessions:
            quiz.append(question(session, qid))
    ET.indent(quiz)
    return ET.tostring(quiz, encoding="UTF-8", xml_declaration=True) + b"\n"

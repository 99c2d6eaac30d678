"""Checking one hand-computed value against a lesson: the service behind ``backprop-tutor check``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from backprop_tutor import answers, catalogue, progress
from backprop_tutor.answers import Typed
from backprop_tutor.catalogue import Quantity
from backprop_tutor.errors import BadNumber
from backprop_tutor.lesson import Erratum, Lesson
from backprop_tutor.network import Exact, exact_trace, run
from backprop_tutor.progress import Progress

if TYPE_CHECKING:
    from backprop_tutor import mistakes
    from backprop_tutor.formulas import FormulaResult
    from backprop_tutor.matrixview import ArrayResult
    from backprop_tutor.mistakes import Finding

SIGNIFICANT = 4  # the drift band: what rounding every intermediate to this many digits causes


def rounder(digits: int, mode: str):
    """A function that rounds a float to ``digits`` significant digits in the given Decimal mode."""
    def keep(x: float) -> float:
        if x == 0:
            return 0.0
        d = Decimal(x)
        return float(d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=mode))
    return keep


class Session:
    """A lesson with its trace, catalogue and name resolver, computed once."""

    def __init__(self, lesson: Lesson):
        self.lesson = lesson
        self.exact = exact_trace(lesson.network)  # the true values: 50 significant digits, exact zeros exact
        # the same as floats, for the code that computes with floats; each shows its exact digits
        self.trace: dict[str, float] = {q: Exact(v) for q, v in self.exact.items()}
        self.catalogue = catalogue.build(lesson.network)
        self.resolver = catalogue.Resolver(self.catalogue)
        self._diagnosers: dict[tuple[frozenset, ...], mistakes.Diagnoser] = {}
        self._variants: dict[tuple, Any] = {}  # the mistakes' traces, shared by the diagnosers

    def _rounded(self, digits: int, modes: tuple[str, ...]) -> list[dict[str, float]]:
        """For each rounding mode, every value as computed from intermediates rounded to ``digits``
        significant digits (the value itself not rounded: the learner types their own last digits)."""
        out = []
        for mode in modes:
            raw: dict[str, float] = {}
            try:
                run(self.lesson.network, keep=rounder(digits, mode), raw=raw)
            except (OverflowError, ZeroDivisionError, ValueError):
                continue
            out.append(raw)
        return out

    @cached_property
    def rounded(self) -> list[dict[str, float]]:
        """What a learner who rounds as they go gets: every intermediate rounded to 4 significant digits
        (to nearest, and down: truncated), then to 3."""
        return self.rounded4 + self._rounded(SIGNIFICANT - 1, (ROUND_HALF_EVEN, ROUND_DOWN))

    @cached_property
    def rounded4(self) -> list[dict[str, float]]:
        return self._rounded(SIGNIFICANT, (ROUND_HALF_EVEN, ROUND_DOWN))

    @cached_property
    def drift(self) -> dict[str, float]:
        """How far off each value may be from rounding every intermediate to 4 significant digits.

        Twice the largest deviation of two traces rounded to nearest and truncated (each value
        computed from rounded parts), and at least half a unit in the fifth significant digit of
        the value itself.  An update is judged on its step: w⁺'s band is η times its gradient's,
        and a value after the update may drift by at most a quarter of how much the update
        changed it.
        """
        traces = self.rounded4
        band = {q: max(2 * max((abs(t[q] - v) for t in traces if q in t), default=0.0),
                       5 * 10.0 ** -(SIGNIFICANT + 1) * abs(v))
                for q, v in self.trace.items()}
        eta = abs(self.trace.get("eta", 0.0))
        for q in self.catalogue:
            before = q[:-1]
            if not q.endswith("+") or before not in self.trace:
                continue
            gradient = f"dE_total/d{before}"
            if gradient in band:  # a weight or bias after the update
                band[q] = eta * band[gradient] * (1 + 1e-9)
            else:  # a forward value after the update
                band[q] = min(band[q], abs(self.trace[q] - self.trace[before]) / 4)
        return band

    def short_step(self, qid: str, typed: Typed) -> tuple[str, int] | None:
        """An update is judged on its step: the change from the old value that the typed digits imply
        must itself have three significant digits. What is wrong, and the digits needed, if it has not."""
        before = qid[:-1]
        if not qid.endswith("+") or f"dE_total/d{before}" not in self.trace:
            return None
        step = abs(self.trace[qid] - self.trace[before])
        if step == 0 or not math.isfinite(step):
            return None
        shown = math.floor(math.log10(step)) - typed.place + 1  # significant digits of the change
        if shown >= answers.MIN_DIGITS:
            return None
        place = math.floor(math.log10(step)) - answers.MIN_DIGITS + 1
        needed = Decimal(self.trace[qid]).adjusted() - place + 1
        return (f"{catalogue.symbol(before)} moved by a step of another size (the update changes it only "
                f"from the {_ordinal(-math.floor(math.log10(step)))} decimal place on)", needed)

    def confusers(self, qid: str, learner: Progress | None) -> list[tuple[float, str]]:
        """What an answer to this step could be confused with: the value before the update, and what
        each known mistake gives here."""
        out: list[tuple[float, str]] = []
        before = qid[:-1]
        if qid.endswith("+") and before in self.trace and self.trace[before] != self.trace[qid]:
            out.append((self.trace[before], f"{catalogue.symbol(before)} before the update"))
        out += [(v, f"what a known slip gives here ({f.id.replace('-', ' ')})")
                for v, f in self.diagnoser(learner, qid).confusers(qid)]
        return out

    def rivals(self, qid: str, learner: Progress | None) -> list[float]:
        """Every mistake's value here, even those inside the drift band: a value that is one of them at its
        digits is that mistake, not drift."""
        return [v for v, _ in self.diagnoser(learner, qid).candidates(qid, strict=False)]

    def errata_for(self, qid: str) -> list[Erratum]:
        return [e for e in self.lesson.errata if self.resolver.resolve(e.quantity).id == qid]

    def check(self, name: str, text: str, learner: Progress | None = None) -> CheckResult:
        """Judge a typed value; a wrong one is diagnosed, knowing what the ``learner`` already has."""
        quantity = self.resolver.resolve(name)
        typed = answers.parse_number(text)
        value = self.trace[quantity.id]
        true = self.exact.get(quantity.id, Decimal(value))  # judged against the exact value
        drift = self.drift[quantity.id]
        verdict = answers.judge(typed, true, drift)
        confusion: tuple[str, int] | None = None
        # a confuser is farther than the drift band from the true value; it can only agree with a typed
        # value that agrees with the true one when the typed digits are coarser than half that band
        if verdict == answers.DRIFT or (verdict != answers.WRONG and not answers.exact(typed, true)
                                        and 2 * typed.unit >= Decimal(drift)):
            near = self.confusers(quantity.id, learner)
            values = [v for v, _ in near]
            verdict = answers.judge(typed, true, drift, values,
                                    self.rivals(quantity.id, learner) if verdict == answers.DRIFT else ())
            k = answers.confused_with(typed, values)
            if k is not None and verdict != answers.RIGHT and typed.digits >= answers.MIN_DIGITS:
                confusion = (near[k][1], max(answers.digits_to_tell(true, values), typed.digits + 1))
            elif verdict == answers.RIGHT and (short := self.short_step(quantity.id, typed)):
                verdict, confusion = answers.IMPRECISE, short
        erratum = None
        if verdict != answers.RIGHT:
            for e in self.errata_for(quantity.id):
                printed = answers.parse_number(e.printed)
                if abs(typed.value.adjusted() - printed.value.adjusted()) > 50:
                    continue  # dozens of orders of magnitude apart (0e999999999): not the printed figure
                if answers.agrees(typed, printed.value) or answers.agrees(printed, typed.value):
                    verdict, erratum = answers.WRONG, e
        findings: list[Finding] = []
        patterns: dict[str, list[str]] = {}
        if verdict == answers.WRONG and erratum is None:
            findings = self.diagnoser(learner, quantity.id).diagnose(quantity.id, typed)
            if findings and findings[0].kind == "rounding":
                verdict = answers.IMPRECISE
            elif learner is not None:
                from backprop_tutor.mistakes import BY_ID
                from backprop_tutor.mistakes import patterns as seen_twice

                seen = [*learner.mistakes, *((m, quantity.id) for m in counted(findings))]
                kins = {BY_ID[m].kin for m in counted(findings)}
                patterns = {k: qs for k, qs in seen_twice(seen).items() if k in kins}
        return CheckResult(self, quantity, typed, verdict, value, erratum, findings, patterns, confusion)

    def check_any(self, name: str, text: str, learner: Progress | None = None
                  ) -> CheckResult | FormulaResult | ArrayResult:
        """A value, or a formula when the text is not a number but holds a quantity's name or a function
        (a plain number never loads the formula judge's SymPy).  A vector or a matrix, typed with brackets,
        semicolons or commas between numbers, is judged entry by entry (``matrixview``)."""
        if ("[" in text or ";" in text or "," in text) and _looks_like_array(text):
            from backprop_tutor.matrixview import check_array

            return check_array(self, name, text, learner)
        try:
            return self.check(name, text, learner)
        except BadNumber:
            from backprop_tutor.formulas import judge_for

            if not judge_for(self).looks_like_formula(text):
                raise
            return self.check_formula(name, text)

    def check_formula(self, name: str, text: str) -> FormulaResult:
        """Judge a typed formula for a quantity (``backprop_tutor.formulas``)."""
        from backprop_tutor.formulas import judge_for

        return judge_for(self).judge(self.resolver.resolve(name), text)

    def forget_learners(self, keep: int = 0) -> None:
        """Drop the diagnosers computed for learners' states once there are more than ``keep`` (a grader,
        after each student's sheet: students with the same right answers so far share one)."""
        if len(self._diagnosers) > keep:
            self._diagnosers.clear()
        if len(self._variants) > 16 * keep:
            self._variants.clear()

    def diagnoser(self, learner: Progress | None, qid: str) -> mistakes.Diagnoser:
        from backprop_tutor.mistakes import Diagnoser  # only for a wrong answer: `check` starts without it

        known: set[str] = set()
        own: dict[str, float] = {}
        corrected: dict[str, float] = {}
        if learner is not None:
            # what the learner produced right; a skipped step's value was shown, not worked out
            known = {q for q, r in learner.records.items() if r.status in (progress.RIGHT, progress.CHECKED)
                     and q != qid}
            for q, text in learner.wrong.items():
                if q == qid:
                    continue
                try:
                    value = float(answers.parse_number(text).value)
                except BadNumber:
                    continue
                (corrected if q in known else own)[q] = value
        key = (frozenset(known), frozenset(own.items()), frozenset(corrected.items()))
        if key not in self._diagnosers:  # the variants are computed once for what the learner has
            self._diagnosers[key] = Diagnoser(self.lesson.network, self.trace, self.catalogue,
                                              self.drift, known, own, corrected, lambda: self.rounded,
                                              self._variants)
        return self._diagnosers[key]


def _looks_like_array(text: str) -> bool:
    """Brackets or semicolons, or commas between numbers; one comma and no point is a decimal comma (0,3589).
    (The same test as ``matrixview.looks_like_array``, here so that a plain number imports nothing.)"""
    if not set(text) <= _ARRAY_CHARS:  # a letter: a formula, such as max(0, net_h1)
        return False
    if "[" in text or ";" in text:
        return True
    return text.count(",") > 1 or "." in text or ", " in text


_ARRAY_CHARS = frozenset("0123456789.,;[] \t\neE+-−")


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def counted(findings: list[Finding]) -> list[str]:
    """The mistakes that count toward a pattern: only a diagnosis that is the only one (one family)."""
    from backprop_tutor.mistakes import BY_ID

    ids = [f.id for f in findings if f.kind == "mistake" and f.id in BY_ID]
    return ids if len({BY_ID[m].kin for m in ids}) == 1 else []


@dataclass(frozen=True)
class CheckResult:
    session: Session
    quantity: Quantity
    typed: Typed
    verdict: str
    value: float
    erratum: Erratum | None
    findings: list[Finding] = field(default_factory=list)  # what the learner did, for a wrong value
    patterns: dict[str, list[str]] = field(default_factory=dict)  # mistakes seen on 2+ steps: family → steps
    confusion: tuple[str, int] | None = None  # what the answer could also be at its digits, and the digits needed

    @property
    def counted(self) -> list[str]:
        """The mistakes this answer counts toward patterns (a unique diagnosis only)."""
        return counted(self.findings)

    @property
    def exit_code(self) -> int:
        return answers.EXIT_CODES[self.verdict]

    @property
    def accepted(self) -> bool:
        return self.verdict in (answers.RIGHT, answers.DRIFT)

    @property
    def formula(self) -> str:
        return f"{self.quantity.symbol} = {catalogue.describe_formula(self.quantity)}"

    @property
    def worked(self) -> str:
        """The formula with the numbers put in: only to be shown once the answer is accepted."""
        return catalogue.describe_formula(self.quantity, self.session.trace)

    @property
    def factors(self) -> list[str]:
        """The computed quantities this one is made of: what to check next when it is wrong."""
        return [d for d in dict.fromkeys(self.quantity.deps) if not self.session.catalogue[d].given]

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "lesson": self.session.lesson.name,
            "quantity": self.quantity.id,
            "symbol": self.quantity.symbol,
            "typed": self.typed.text,
            "significant_digits": self.typed.digits,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "formula": self.formula,
            "check_next": self.factors if not self.accepted else [],
        }
        if self.accepted:
            out["value"] = self.value
            out["worked"] = self.worked
        if self.erratum:
            out["erratum"] = " ".join(self.erratum.why.split())
        if self.verdict == answers.WRONG:
            out["diagnosis"] = [f.as_dict() for f in self.findings]
            from backprop_tutor.mistakes import teaching

            out["patterns"] = [{"mistake": m, "steps": qs, "hint": teaching(m)}
                               for m, qs in self.patterns.items()]
        if self.confusion is not None:
            out["confused_with"] = {"what": self.confusion[0], "digits_needed": self.confusion[1]}
        return out

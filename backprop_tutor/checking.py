"""Checking one hand-computed value against a lesson: the service behind ``backprop-tutor check``."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from backprop_tutor import answers, catalogue, progress
from backprop_tutor.answers import Typed
from backprop_tutor.catalogue import Quantity
from backprop_tutor.errors import BadNumber
from backprop_tutor.lesson import Erratum, Lesson
from backprop_tutor.network import run
from backprop_tutor.progress import Progress

if TYPE_CHECKING:
    from backprop_tutor import mistakes
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
        self.trace = run(lesson.network)
        self.catalogue = catalogue.build(lesson.network)
        self.resolver = catalogue.Resolver(self.catalogue)
        self._diagnosers: dict[tuple[frozenset, frozenset], mistakes.Diagnoser] = {}

    @cached_property
    def drift(self) -> dict[str, float]:
        """How far off each value may be from rounding every intermediate to 4 significant digits.

        Twice the largest deviation of three traces rounded down, up and to nearest, and at
        least half a unit in the fourth significant digit of the value itself.
        """
        traces = [run(self.lesson.network, keep=rounder(SIGNIFICANT, mode))
                  for mode in (ROUND_HALF_EVEN, ROUND_DOWN, ROUND_UP)]
        return {q: max(2 * max(abs(t[q] - v) for t in traces), 5 * 10.0 ** -SIGNIFICANT * abs(v))
                for q, v in self.trace.items()}

    def errata_for(self, qid: str) -> list[Erratum]:
        return [e for e in self.lesson.errata if self.resolver.resolve(e.quantity).id == qid]

    def check(self, name: str, text: str, learner: Progress | None = None) -> CheckResult:
        """Judge a typed value; a wrong one is diagnosed, knowing what the ``learner`` already has."""
        quantity = self.resolver.resolve(name)
        typed = answers.parse_number(text)
        value = self.trace[quantity.id]
        verdict = answers.judge(typed, value, self.drift[quantity.id])
        erratum = None
        if verdict != answers.RIGHT:
            for e in self.errata_for(quantity.id):
                printed = answers.parse_number(e.printed)
                if answers.agrees(typed, printed.value) or answers.agrees(printed, typed.value):
                    verdict, erratum = answers.WRONG, e
        findings: list[Finding] = []
        patterns: dict[str, list[str]] = {}
        if verdict == answers.WRONG and erratum is None:
            findings = self.diagnoser(learner, quantity.id).diagnose(quantity.id, typed)
            if learner is not None:
                from backprop_tutor.mistakes import patterns as seen_twice

                seen = [(m, q) for m, q in learner.mistakes] + [(f.id, quantity.id) for f in findings]
                patterns = {m: qs for m, qs in seen_twice(seen).items()
                            if any(f.id == m for f in findings)}
        return CheckResult(self, quantity, typed, verdict, value, erratum, findings, patterns)

    def diagnoser(self, learner: Progress | None, qid: str) -> mistakes.Diagnoser:
        from backprop_tutor.mistakes import Diagnoser  # only for a wrong answer: `check` starts without it

        known: set[str] = set()
        own: dict[str, float] = {}
        if learner is not None:
            # what the learner produced right; a skipped step's value was shown, not worked out
            known = {q for q, r in learner.records.items() if r.status in (progress.RIGHT, progress.CHECKED)
                     and q != qid}
            for q, text in learner.wrong.items():
                if q not in known and q != qid:
                    try:
                        own[q] = float(answers.parse_number(text).value)
                    except BadNumber:
                        continue
        key = (frozenset(known), frozenset(own.items()))
        if key not in self._diagnosers:  # the variants are computed once for what the learner has
            self._diagnosers[key] = Diagnoser(self.lesson.network, self.trace, self.catalogue,
                                                       self.drift, known, own)
        return self._diagnosers[key]


@dataclass(frozen=True)
class CheckResult:
    session: Session
    quantity: Quantity
    typed: Typed
    verdict: str
    value: float
    erratum: Erratum | None
    findings: list[Finding] = field(default_factory=list)  # what the learner did, for a wrong value
    patterns: dict[str, list[str]] = field(default_factory=dict)  # mistakes seen on 2+ steps: id → steps

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
            from backprop_tutor.mistakes import BY_ID

            out["patterns"] = [{"mistake": m, "steps": qs, "hint": BY_ID[m].teach}
                               for m, qs in self.patterns.items()]
        return out

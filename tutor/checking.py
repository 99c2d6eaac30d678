"""Checking one hand-computed value against a lesson: the service behind ``backprop-tutor check``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal
from functools import cached_property

from tutor import answers, catalogue
from tutor.answers import Typed
from tutor.catalogue import Quantity
from tutor.lesson import Erratum, Lesson
from tutor.network import run

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

    def check(self, name: str, text: str) -> CheckResult:
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
        return CheckResult(self, quantity, typed, verdict, value, erratum)


@dataclass(frozen=True)
class CheckResult:
    session: Session
    quantity: Quantity
    typed: Typed
    verdict: str
    value: float
    erratum: Erratum | None

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
        return out

"""Checking one hand-computed value against a lesson: the service behind ``backprop-tutor check``."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import MAX_EMAX, MIN_EMIN, ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from backprop_tutor import answers, catalogue, progress
from backprop_tutor.answers import Typed
from backprop_tutor.bigbatch import BatchValues, View
from backprop_tutor.catalogue import Quantity
from backprop_tutor.errors import BadNumber
from backprop_tutor.lesson import Erratum, Lesson
from backprop_tutor.network import Exact, exact_trace, run, run_one
from backprop_tutor.progress import Progress

if TYPE_CHECKING:
    from backprop_tutor import mistakes
    from backprop_tutor.formulas import FormulaResult
    from backprop_tutor.matrixview import ArrayResult
    from backprop_tutor.mistakes import Finding

SIGNIFICANT = 4  # the drift band: what rounding every intermediate to this many digits causes
FLOOR = 5 * 10.0 ** -(SIGNIFICANT + 1)  # and at least half a unit in the fifth significant digit of the value
MODES = (ROUND_HALF_EVEN, ROUND_DOWN)  # rounded to nearest, and truncated
BIG = 100_000  # quantities: a batch with more is judged sample by sample (``bigbatch``)


def rounder(digits: int, mode: str) -> Callable[[float], float]:
    """A function that rounds a float to ``digits`` significant digits in the given Decimal mode (the
    float's exact binary value, rounded once).

    To nearest, Python's float formatting does that (it rounds the exact binary value correctly, half
    to even) at half Decimal's cost: the drift traces round every value of a lesson, 400,000 of them
    on a big batch. Truncated, Decimal does it (no faster way found is exact)."""
    if mode != ROUND_HALF_EVEN:
        return decimal_rounder(digits, mode)
    spec = f".{digits - 1}e"

    def nearest(x: float) -> float:
        return float(format(x, spec)) if x else 0.0
    return nearest


def decimal_rounder(digits: int, mode: str) -> Callable[[float], float]:
    """The rounding of ``rounder`` by Decimal: any mode."""
    make = Context(prec=digits, rounding=mode, Emax=MAX_EMAX, Emin=MIN_EMIN).create_decimal_from_float

    def keep(x: float) -> float:
        return float(make(x)) if x else 0.0
    return keep


class Session:
    """A lesson with its trace, catalogue and name resolver, computed once.

    A batch of more than BIG quantities is judged sample by sample: a sample's own quantities on a
    session of that sample alone (``sample``), the batch's combined from theirs (``bigbatch``)."""

    def __init__(self, lesson: Lesson, cat: Mapping[str, Quantity] | None = None,
                 resolver: catalogue.Resolver | None = None, in_batch: bool = False):
        self.lesson = lesson
        self.catalogue = catalogue.build(lesson.network) if cat is None else cat
        self.resolver = catalogue.Resolver(self.catalogue) if resolver is None else resolver
        self.in_batch = in_batch  # a sample of a big batch: its own update is never asked for
        self.batch: BatchValues | None = None
        if isinstance(self.catalogue, catalogue.BatchCatalogue) and len(self.catalogue) > BIG:
            self.batch = BatchValues(lesson.network, self.catalogue, self.sample,
                                     [rounder(SIGNIFICANT, mode) for mode in MODES], FLOOR)
        self._samples: dict[int, Session] = {}
        self._diagnosers: dict[tuple[frozenset, ...], mistakes.Diagnoser] = {}
        self._variants: dict[tuple, Any] = {}  # the mistakes' traces, shared by the diagnosers

    @cached_property
    def exact(self) -> Mapping[str, Decimal]:
        """The true values: 50 significant digits, exact zeros exact."""
        if self.batch is not None:
            return View(self.batch, "exact")
        return exact_trace(self.lesson.network, update=not self.in_batch)

    @cached_property
    def trace(self) -> Mapping[str, float]:
        """The same as floats, for the code that computes with floats; each shows its exact digits."""
        if self.batch is not None:
            return View(self.batch, "trace")
        if self.in_batch:  # (a sample of a big batch is asked for a few of its values)
            return _Floats(self.exact)
        return {q: Exact(v) for q, v in self.exact.items()}

    @cached_property
    def parameters(self) -> set[str]:
        """The weights and biases: what an update changes."""
        return {*self.lesson.network.weights, *self.lesson.network.biases}

    def sample(self, k: int) -> Session:
        """Sample k of a big batch as a lesson of its own (its quantities named without the @k)."""
        if k not in self._samples:
            assert isinstance(self.catalogue, catalogue.BatchCatalogue)
            one = dataclasses.replace(self.lesson, network=self.lesson.network.sample(k), errata=(), claims=(),
                                      step_texts={})
            if not self._samples:
                self._one = catalogue.Resolver(self.catalogue.single)  # (every sample's names are sample 1's)
            self._samples[k] = Session(one, self.catalogue.single, self._one, in_batch=True)
        return self._samples[k]

    def _rounded(self, digits: int, modes: tuple[str, ...]) -> list[dict[str, float]]:
        """For each rounding mode, every value as computed from intermediates rounded to ``digits``
        significant digits (the value itself not rounded: the learner types their own last digits)."""
        out = []
        for mode in modes:
            raw: dict[str, float] = {}
            try:
                if self.in_batch:
                    run_one(self.lesson.network, keep=rounder(digits, mode), raw=raw, update=False)
                else:
                    run(self.lesson.network, keep=rounder(digits, mode), raw=raw)
            except (OverflowError, ZeroDivisionError, ValueError):
                continue
            out.append(raw)
        return out

    @cached_property
    def rounded(self) -> Sequence[Mapping[str, float]]:
        """What a learner who rounds as they go gets: every intermediate rounded to 4 significant digits
        (to nearest, and down: truncated), then to 3.  (A big batch: its own values, to 4 digits.)"""
        if self.batch is not None:
            return self.batch.rounded_traces
        return self.rounded4 + self._rounded(SIGNIFICANT - 1, MODES)

    @cached_property
    def rounded4(self) -> list[dict[str, float]]:
        return self._rounded(SIGNIFICANT, MODES)

    @cached_property
    def drift(self) -> Mapping[str, float]:
        """How far off each value may be from rounding every intermediate to 4 significant digits.

        Twice the largest deviation of two traces rounded to nearest and truncated (each value
        computed from rounded parts), and at least half a unit in the fifth significant digit of
        the value itself.  An update is judged on its step: w⁺'s band is η times its gradient's,
        and a value after the update may drift by at most a quarter of how much the update
        changed it.
        """
        if self.batch is not None:
            return View(self.batch, "drift")
        traces = self.rounded4
        band = {q: max(2 * max((abs(t[q] - v) for t in traces if q in t), default=0.0), FLOOR * abs(v))
                for q, v in self.trace.items()}
        eta = abs(self.trace.get("eta", 0.0))
        for q in self.catalogue:
            before = q[:-1]
            if not q.endswith("+") or before not in self.trace or q not in self.trace:
                continue
            gradient = f"dE_total/d{before}"
            if before in self.parameters and gradient in band:  # a weight or bias after the update
                # (not out_h1⁺: ∂E_total/∂out_h1 is a gradient too, but out_h1 is no parameter)
                band[q] = eta * band[gradient] * (1 + 1e-9)
            else:  # a forward value after the update
                band[q] = min(band[q], abs(self.trace[q] - self.trace[before]) / 4)
        return band

    def short_step(self, qid: str, typed: Typed) -> tuple[str, int] | None:
        """An update is judged on its step: the change from the old value that the typed digits imply
        must itself have three significant digits. What is wrong, and the digits needed, if it has not."""
        before = qid[:-1]
        if not qid.endswith("+") or before not in self.parameters or f"dE_total/d{before}" not in self.trace:
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
        own = self._own_sample(quantity.id)
        findings: list[Finding] = []
        if own is not None:  # a big batch: judged on its sample alone
            base, k = own
            assert self.batch is not None
            mine = self.sample(k).check(base, text, _in_sample(learner, k, self.batch.cat))
            relabel = _Relabel(self.batch.cat, k)
            verdict, value = mine.verdict, mine.value
            confusion = mine.confusion and (relabel(mine.confusion[0]), mine.confusion[1])
            findings = [dataclasses.replace(f, text=relabel(f.text)) for f in mine.findings]
        else:
            verdict, value, confusion = self._judge(quantity.id, typed, learner)
        erratum = None
        if verdict != answers.RIGHT:
            for e in self.errata_for(quantity.id):
                if not e.printed:
                    continue  # a formula the source writes wrongly: shown at the step, not a figure to match
                printed = answers.parse_number(e.printed)
                if abs(typed.value.adjusted() - printed.value.adjusted()) > 50:
                    continue  # dozens of orders of magnitude apart (0e999999999): not the printed figure
                if answers.agrees(typed, printed.value) or answers.agrees(printed, typed.value):
                    verdict, erratum, findings = answers.WRONG, e, []
        patterns: dict[str, list[str]] = {}
        if verdict == answers.WRONG and erratum is None:
            if own is None:
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

    def _own_sample(self, qid: str) -> tuple[str, int] | None:
        """In a big batch, a quantity of one sample before the update: its id in the sample's session, and k."""
        if self.batch is None:
            return None
        own = self.batch.cat.sample_of(qid)
        return own if own is not None and not own[0].endswith("+") else None

    def _judge(self, qid: str, typed: Typed, learner: Progress | None) -> tuple[str, float, tuple[str, int] | None]:
        """The verdict on a typed value, the true value, and what the answer could be confused with."""
        if self.batch is not None:  # a batch's own value: its drift band is computed beside its exact value
            self.batch.begin_drift()
        value = self.trace[qid]
        true = self.exact.get(qid, Decimal(value))  # judged against the exact value
        drift = self.drift[qid]
        verdict = answers.judge(typed, true, drift)
        confusion: tuple[str, int] | None = None
        # a confuser is farther than the drift band from the true value; it can only agree with a typed
        # value that agrees with the true one when the typed digits are coarser than half that band
        if verdict == answers.DRIFT or (verdict != answers.WRONG and not answers.exact(typed, true)
                                        and 2 * typed.unit >= Decimal(drift)):
            near = self.confusers(qid, learner)
            values = [v for v, _ in near]
            verdict = answers.judge(typed, true, drift, values,
                                    self.rivals(qid, learner) if verdict == answers.DRIFT else ())
            k = answers.confused_with(typed, values)
            if k is not None and verdict != answers.RIGHT and typed.digits >= answers.MIN_DIGITS:
                confusion = (near[k][1], max(answers.digits_to_tell(true, values), typed.digits + 1))
            elif verdict == answers.RIGHT and (short := self.short_step(qid, typed)):
                verdict, confusion = answers.IMPRECISE, short
        return verdict, value, confusion

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
                                              self._variants, whole=self.batch is None)
        return self._diagnosers[key]


def _in_sample(learner: Progress | None, k: int, cat: catalogue.BatchCatalogue) -> Progress | None:
    """What a learner has of sample k of a big batch (and of the weights), named as in that sample's session."""
    if learner is None:
        return None

    def name(qid: str) -> str | None:
        own = cat.sample_of(qid)
        if own is not None:
            return own[0] if own[1] == k and not own[0].endswith("+") else None
        return qid if qid in cat.head else None

    view = Progress(learner.lesson)
    view.records = {n: r for q, r in learner.records.items() if (n := name(q)) is not None}
    view.wrong = {n: typed for q, typed in learner.wrong.items() if (n := name(q)) is not None}
    view.mistakes = [(m, n) for m, q in learner.mistakes if (n := name(q)) is not None]
    return view


class _Floats(Mapping[str, float]):
    """The exact values as floats that remember their digits (``network.Exact``), each made when asked for."""

    def __init__(self, exact: Mapping[str, Decimal]):
        self.exact = exact
        self.made: dict[str, float] = {}

    def __getitem__(self, q: str) -> float:
        if q not in self.made:
            self.made[q] = Exact(self.exact[q])
        return self.made[q]

    def __iter__(self) -> Iterator[str]:
        return iter(self.exact)

    def __len__(self) -> int:
        return len(self.exact)

    def __contains__(self, q: object) -> bool:
        return q in self.exact


class _Relabel:
    """A text of sample k's session with its quantities named as in the batch: out_h1 → out_h1@2."""

    def __init__(self, cat: catalogue.BatchCatalogue, k: int):
        self.names: dict[str, str] = {}
        for qid in cat.before:  # (not the inputs: "from i3 to h13" names neurons, and i3 is one of them)
            if cat.single[qid].given:
                continue
            self.names[qid] = catalogue.sample_key(qid, k)
            self.names[catalogue.symbol(qid)] = catalogue.symbol(catalogue.sample_key(qid, k))

    def __call__(self, text: str) -> str:
        return _TOKEN.sub(lambda m: "·".join(self.names.get(part, part) for part in m[0].split("·")), text)


_TOKEN = re.compile(r"[\w∂δ/·]+")


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

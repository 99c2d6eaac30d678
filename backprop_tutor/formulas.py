"""Judging a formula typed for a quantity: is it the quantity's definition, at the right level?

* The formula is read by ``backprop_tutor.formula`` (names resolved in this lesson's catalogue).
* It is evaluated at the lesson's values and at several random points: each point is the engine run
  on the lesson's network with every given value moved at random, so a name means the same there as
  in the lesson.  It is right only when it agrees with the quantity at every point.
* SymPy then tries to show the same as algebra (``symbolic.algebra_agrees``): the verdict says
  whether it was shown that way, or by evaluation.
* A right formula that uses only given values where the definition has computed parts is right at
  the wrong level; a wrong one is compared with the mistake rules of ``backprop_tutor.mistakes``,
  with the names the learner wrote taken as right, at every point.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from backprop_tutor import catalogue, formula
from backprop_tutor.catalogue import Quantity, normalize
from backprop_tutor.formula import FormulaError, Node
from backprop_tutor.network import Network, run

if TYPE_CHECKING:
    from backprop_tutor.checking import Session
    from backprop_tutor.mistakes import Finding

RIGHT, LEVEL, WRONG = "right", "right-level", "wrong"
EXIT_CODES = {RIGHT: 0, LEVEL: 3, WRONG: 1}
POINTS = 4  # random points besides the lesson's own values
SEED = 16
MAX_TERMS = 400  # SymPy tries a formula that multiplies out into at most this many terms


def close(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


class Reader:
    """Names in formulas for one lesson: a given's own name first (``w5`` is the given weight, not w5⁺),
    ``t_o1`` for a target, then every name ``check`` accepts."""

    def __init__(self, cat: Mapping[str, Quantity], resolver: catalogue.Resolver):
        self.resolver = resolver
        self.given: dict[str, str] = {}
        for qid, q in cat.items():
            if q.given:
                self.given[normalize(qid)] = qid
                if qid.startswith("target_"):
                    self.given[normalize("t_" + qid[len("target_"):])] = qid

    def __call__(self, text: str) -> str | None:
        key = normalize(text)
        if key in self.given:
            return self.given[key]
        return self.resolver.id_of(key)


@dataclass
class Judge:
    """What judging formulas on one lesson needs, computed once: the points, the definitions."""

    session: Session

    @cached_property
    def reader(self) -> Reader:
        return Reader(self.session.catalogue, self.session.resolver)

    @cached_property
    def order(self) -> dict[str, int]:
        return {q: k for k, q in enumerate(self.session.catalogue)}

    @cached_property
    def points(self) -> list[tuple[Network, Mapping[str, float]]]:
        """The lesson's own values, then POINTS random ones (the same every time for a lesson)."""
        net, cat = self.session.lesson.network, self.session.catalogue
        rng = random.Random(f"{SEED}:{self.session.lesson.name}")
        out = [(net, self.session.trace)]
        tries = 0
        while len(out) < POINTS + 1 and tries < 5 * POINTS:
            tries += 1
            changes = {}
            for qid, q in cat.items():
                if not q.given:
                    continue
                v = self.session.trace[qid]
                if qid.startswith("target_") and net.loss == "cross-entropy":
                    continue  # the targets must still add up to 1 (δ = out − target needs it)
                changes[qid] = abs(v) * rng.uniform(0.5, 1.5) if qid == "eta" else v * rng.uniform(0.6, 1.4) + \
                    rng.uniform(-0.1, 0.1)
            moved = net.with_givens(changes)
            try:
                trace = run(moved)
            except (OverflowError, ZeroDivisionError, ValueError):
                continue
            if all(math.isfinite(x) for x in trace.values()):
                out.append((moved, trace))
        return out

    def definition(self, qid: str) -> Node | None:
        """A quantity's catalogue formula as a tree (None for a given)."""
        cache = self.__dict__.setdefault("_definitions", {})
        if qid not in cache:
            q = self.session.catalogue[qid]
            cache[qid] = None if q.given else formula.parse(formula.template_text(q.formula), lambda _: None,
                                                            templates=True)
        return cache[qid]

    @cached_property
    def descendants(self) -> dict[str, set[str]]:
        """Every quantity computed (in part) from each one."""
        users: dict[str, set[str]] = {}
        for qid, q in self.session.catalogue.items():
            for d in q.deps:
                users.setdefault(d, set()).add(qid)
        out: dict[str, set[str]] = {}
        for qid in self.session.catalogue:
            seen: set[str] = set()
            todo = list(users.get(qid, ()))
            while todo:
                x = todo.pop()
                if x not in seen:
                    seen.add(x)
                    todo.extend(users.get(x, ()))
            out[qid] = seen
        return out

    def looks_like_formula(self, text: str) -> bool:
        return formula.looks_like_formula(text, self.reader)

    def read(self, qid: str, text: str) -> Node:
        """The formula's tree; a FormulaError for what cannot be read or is circular."""
        tree = formula.parse(text, self.reader)
        if not tree.names():
            raise FormulaError(text, 0, "a formula needs the names of the quantities it is made of "
                               "(type a value as a decimal number)")
        for n in _name_nodes(tree):
            if n.name == qid:
                raise FormulaError(text, n.pos, f"'{n.text}' is the quantity itself: write what it is made of")
            if n.name in self.descendants[qid]:
                raise FormulaError(text, n.pos, f"'{n.text}' is itself computed from "
                                   f"{catalogue.symbol(qid)}: write {catalogue.symbol(qid)} with what comes before it")
        return tree

    def judge(self, quantity: Quantity, text: str) -> FormulaResult:
        qid = quantity.id
        tree = self.read(qid, text)
        typed = [formula.value(tree, t) for _, t in self.points]
        agrees = all(close(v, t[qid]) for v, (_, t) in zip(typed, self.points))
        if not agrees:
            return FormulaResult(self, quantity, text, tree, WRONG, "numeric", self.diagnose(qid, tree, typed))
        shown = self.algebra(qid, tree)
        cat = self.session.catalogue
        computed = [d for d in quantity.deps if not cat[d].given]
        level = bool(computed) and all(cat[n].given for n in tree.names())
        return FormulaResult(self, quantity, text, tree, LEVEL if level else RIGHT,
                             "symbolic" if shown else "numeric")

    def algebra(self, qid: str, tree: Node) -> bool:
        """SymPy's verdict (once per formula, however it was spelled)."""
        from backprop_tutor import symbolic

        cache: dict[tuple[object, ...], bool] = self.__dict__.setdefault("_algebra", {})
        key = (qid, tree.key)
        if key not in cache:  # a formula that would multiply out into too many terms is left to the numbers
            cache[key] = formula.terms(tree) <= MAX_TERMS and symbolic.algebra_agrees(tree, qid, self.definition,
                                                                                      self.order)
        return cache[key]

    def diagnose(self, qid: str, tree: Node, typed: list[float]) -> Diagnosis:
        """What the wrong formula is: a mistake rule's formula, another quantity's, a factor or a term
        missing, the sign; each must hold at every point."""
        from backprop_tutor.mistakes import Diagnoser, Finding

        cat = self.session.catalogue
        named = {n for n in tree.names() if not cat[n].given}
        found: dict[tuple[str, str], Finding] | None = None
        for (net, trace), v in zip(self.points, typed):
            d = Diagnoser(net, trace, cat, {}, known=named)
            here = {(f.id, f.text): f for value, f in d.all_candidates(qid) if close(value, v)}
            found = here if found is None else {k: f for k, f in found.items() if k in here}
        findings = list(Diagnoser.unique(list((found or {}).values())))
        truth = [t[qid] for _, t in self.points]
        q = cat[qid]
        if all(close(v, -t) for v, t in zip(typed, truth)):
            if qid.startswith("delta_"):
                findings.append(Finding("convention", "delta-sign", f"That is {q.symbol} with the other sign "
                                        "convention, δ = −∂E/∂net; here δ is ∂E_total/∂net."))
            elif not any(f.id == "slope-sign" for f in findings):
                findings.append(Finding("slip", "sign", "Your formula has the right parts but the wrong sign."))
        missing = None
        for dep in dict.fromkeys(q.deps):
            if dep == "1":
                continue
            if all(close(t / v if v else math.nan, t2[dep]) for v, t, (_, t2) in zip(typed, truth, self.points)):
                missing = ("factor", dep)
                break
            if all(close(t - v, t2[dep]) for v, t, (_, t2) in zip(typed, truth, self.points)):
                missing = ("term", dep)
                break
        replaced = None if missing or (findings and findings[0].kind != "mistake") else self.replaced(qid, tree)
        others = [o for o, item in cat.items() if o != qid and not item.given and
                  all(close(v, t[o]) for v, (_, t) in zip(typed, self.points))]
        if others and not findings:
            o = cat[others[0]]
            findings.append(Finding("slip", "other-quantity", f"That is the formula of {o.symbol} ({o.meaning}), "
                                    f"not of {q.symbol}."))
        if missing and not findings:
            findings.append(Finding("mistake", "factor-left-out" if missing[0] == "factor" else "term-left-out",
                                    f"You left out {catalogue.symbol(missing[1])}: "
                                    f"{q.symbol} = {catalogue.describe_formula(q)}."))
        return Diagnosis(findings, missing, replaced)

    def replaced(self, qid: str, tree: Node) -> tuple[str, str] | None:
        """A name of the formula that, put in place of by another quantity, makes it right: (typed, meant)."""
        cat = self.session.catalogue
        allowed = [m for m in cat if m != qid and m not in self.descendants[qid]]
        for n in sorted(tree.names(), key=self.order.__getitem__):
            for m in allowed:
                if m != n and all(close(formula.value(tree, {**t, n: t[m]}), t[qid]) for _, t in self.points):
                    return n, m
        return None


def _name_nodes(node: Node) -> list[Node]:
    out = [node] if node.kind == "name" else []
    for a in node.args:
        out += _name_nodes(a)
    return out


@dataclass(frozen=True)
class Diagnosis:
    findings: list[Finding] = field(default_factory=list)
    missing: tuple[str, str] | None = None  # ("factor" or "term", the quantity left out)
    replaced: tuple[str, str] | None = None  # (a name typed, the quantity that belongs in its place)


@dataclass
class FormulaResult:
    judge: Judge
    quantity: Quantity
    text: str
    tree: Node
    verdict: str
    how: str  # "symbolic": SymPy showed it; "numeric": by evaluation at the points
    diagnosis: Diagnosis = field(default_factory=Diagnosis)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def accepted(self) -> bool:
        return self.verdict == RIGHT

    @property
    def findings(self) -> list[Finding]:
        return self.diagnosis.findings

    @property
    def counted(self) -> list[str]:
        from backprop_tutor.checking import counted

        return counted(self.findings)

    @property
    def points(self) -> int:
        return len(self.judge.points)

    @property
    def how_text(self) -> str:
        if self.how == "symbolic":
            return "the algebra shows it equal to the definition"
        return (f"it agrees with the definition at the lesson's values and at {self.points - 1} random points "
                "(the algebra could not show it quickly)")

    @property
    def level_text(self) -> str:
        cat = self.judge.session.catalogue
        parts = ", ".join(catalogue.symbol(d) for d in dict.fromkeys(self.quantity.deps) if not cat[d].given)
        return (f"true, but written in the given values only; write it with what {self.quantity.symbol} is made "
                f"of: {parts}")

    def drawing(self, unicode: bool = True, width: int = 80) -> str:
        from backprop_tutor import symbolic

        return symbolic.formula_drawing(self.quantity.id, self.tree, unicode, width)

    def replaced_drawing(self, unicode: bool = True) -> str | None:
        """``typed → meant``, both drawn in 2-D."""
        if self.diagnosis.replaced is None:
            return None
        from backprop_tutor import symbolic

        return symbolic.swap_drawing(*self.diagnosis.replaced, unicode=unicode)

    def missing_drawing(self, unicode: bool = True) -> str | None:
        if self.diagnosis.missing is None:
            return None
        from backprop_tutor import symbolic

        return symbolic.symbol_drawing(self.diagnosis.missing[1], unicode)

    def as_dict(self) -> dict[str, object]:
        from backprop_tutor import symbolic

        read, tex = symbolic.formula_texts(self.quantity.id, self.tree)
        out: dict[str, object] = {
            "lesson": self.judge.session.lesson.name,
            "quantity": self.quantity.id,
            "symbol": self.quantity.symbol,
            "typed": self.text,
            "answer": "formula",
            "formula_read": read,
            "formula_latex": tex,
            "verdict": self.verdict,
            "how": self.how,
            "points": self.points,
            "exit_code": self.exit_code,
            "definition": f"{self.quantity.symbol} = {catalogue.describe_formula(self.quantity)}",
        }
        if self.verdict == LEVEL:
            out["level"] = self.level_text
        if self.verdict == WRONG:
            out["diagnosis"] = [f.as_dict() for f in self.findings]
            if self.diagnosis.missing:
                out["missing"] = {"what": self.diagnosis.missing[0], "quantity": self.diagnosis.missing[1]}
            if self.diagnosis.replaced:
                out["replaced"] = {"typed": self.diagnosis.replaced[0], "meant": self.diagnosis.replaced[1]}
        return out


def judge_for(session: Session) -> Judge:
    """The session's judge of formulas, made once."""
    judge = session.__dict__.get("_formula_judge")
    if judge is None:
        judge = session.__dict__["_formula_judge"] = Judge(session)
    return judge


"""Reading a formula a learner typed: a tokenizer and a Pratt parser of its own, with no SymPy.

What can be typed (also in the README):

* names of quantities in every spelling ``check`` accepts (``out_o1``, ``outo1``, ``delta_o1``,
  ``δo1``, ``dE/dw5``, ``∂E_total/∂out_o1``, ``w5⁺``); in a formula a weight's plain name
  (``w5``) is the given weight; ``t_o1`` is ``target_o1``; ``eta`` or ``η``;
* numbers (``0.5``, ``.5``, ``1e-3``, ``½``); ``+ - * / ^ **`` and ``( )``; ``·`` ``×`` ``−``; ``²``;
* implicit multiplication before a bracket and after one: ``out_o1(1 - out_o1)``, ``(a)(b)``,
  ``2(1 - x)``; never between a number and a name (``2x``) or two names;
* ``σ(…)``, ``sigma(…)``, ``logistic(…)``, ``exp(…)``, ``e^…``, ``ln(…)``, ``log(…)`` (natural),
  ``tanh(…)``, ``max(0, …)``, ``step(…)`` (ReLU's slope: 1 above 0, else 0); a lower-case ``e``
  alone is Euler's number (``E`` is E_total).

``parse`` returns a small tree of ``Node``; ``value`` evaluates one with floats.  Nothing is ever
passed to ``eval``, ``exec`` or SymPy's ``sympify``: the tree is built token by token, and
``backprop_tutor.symbolic`` turns it into SymPy objects directly.  Length, nesting depth, the
number of nodes, the size of numbers and of exponents are limited, and anything the parser
cannot read is a ``FormulaError``: one line saying what, and the formula with a caret under it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from backprop_tutor.errors import TutorError

MAX_LENGTH = 300
MAX_DEPTH = 24  # brackets, signs and powers inside one another
MAX_NODES = 200
MAX_EXPONENT = 8  # a number as the power of something that is not a number
MAX_DEGREE = 16  # how far powers multiply out (keeps SymPy's expansion small)
MAX_MAGNITUDE = 1e300

FUNCTIONS = {"σ": "sigma", "sigma": "sigma", "logistic": "sigma", "exp": "exp", "ln": "ln", "log": "ln",
             "tanh": "tanh", "max": "max", "step": "step"}
_TIMES = "*×·⋅∙"
_MINUS = "-−–"
_SUPERSCRIPTS = {"²": 2, "³": 3}
_NUMBER = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME_CHARS = re.compile(r"[A-Za-z0-9_δΔησ∂@⁺']*")
_DERIVATIVE = re.compile(r"(?:∂|d)\s*[A-Za-z_][A-Za-z0-9_@]*\s*/\s*(?:∂|d)\s*[A-Za-z_][A-Za-z0-9_@]*")
_TEMPLATE = re.compile(r"\{([^{}]+)\}")


class FormulaError(TutorError):
    """What cannot be read, where: ``str()`` is one line; ``detail`` is the formula with a caret."""

    def __init__(self, text: str, position: int, why: str):
        self.text, self.position, self.why = text, position, why
        shown, at = _window(text, position)
        self.detail = (f"  {shown}", "  " + " " * at + "^")
        super().__init__(f"cannot read the formula: {why} (at character {position + 1})")


def _window(text: str, position: int, width: int = 70) -> tuple[str, int]:
    """The part of a long formula around the problem, printable, and where the caret goes in it."""
    start = max(0, min(position - width // 2, len(text) - width))
    part = text[start:start + width]
    shown = "".join(c if c.isprintable() else "?" for c in part)
    return shown, position - start


@dataclass(frozen=True)
class Node:
    """One part of a formula: kind is num, name, e, neg, add, sub, mul, div, pow or call."""

    kind: str
    args: tuple[Node, ...] = ()
    name: str = ""  # a quantity's id, or a function's name
    number: Fraction | None = None
    text: str = ""  # the number or name as typed
    pos: int = 0

    @property
    def key(self) -> tuple[object, ...]:
        """The formula's structure, however it was spelled (for caching a verdict)."""
        return (self.kind, self.name, self.number, *(a.key for a in self.args))

    def names(self) -> set[str]:
        out = {self.name} if self.kind == "name" else set()
        for a in self.args:
            out |= a.names()
        return out


@dataclass(frozen=True)
class Token:
    kind: str  # num, name, func, e, op, (, ), ",", sup, end
    text: str
    pos: int
    value: object = None


def _describe(c: str) -> str:
    try:
        return f"'{c}' ({unicodedata.name(c).lower()})" if c.isprintable() else f"U+{ord(c):04X}"
    except ValueError:
        return f"U+{ord(c):04X}"


def tokens(text: str, lookup: Callable[[str], str | None], templates: bool = False) -> list[Token]:
    """The tokens of a formula; names are looked up (``lookup`` gives a quantity's id or None)."""
    out: list[Token] = []
    n, k = len(text), 0
    while k < n:
        c = text[k]
        if c.isspace():
            k += 1
            continue
        if templates and c == "{":
            m = _TEMPLATE.match(text, k)
            if not m:
                raise FormulaError(text, k, "an unclosed {")
            out.append(Token("name", m[0], k, m[1]))
            k = m.end()
            continue
        m = _NUMBER.match(text, k)
        if m and (c.isdigit() or c == "."):
            out.append(Token("num", m[0], k))
            k = m.end()
            continue
        if c == "½":
            out.append(Token("num", "½", k, Fraction(1, 2)))
            k += 1
        elif c in _SUPERSCRIPTS:
            out.append(Token("sup", c, k, _SUPERSCRIPTS[c]))
            k += 1
        elif text.startswith("**", k):
            out.append(Token("op", "^", k))
            k += 2
        elif c in "+^/÷" or c in _TIMES or c in _MINUS:
            op = "*" if c in _TIMES else "-" if c in _MINUS else "/" if c == "÷" else c
            out.append(Token("op", op, k))
            k += 1
        elif c in "(),":
            out.append(Token(c, c, k))
            k += 1
        elif c in "[]{}":
            raise FormulaError(text, k, f"use round brackets ( ), not {c}")
        elif (c.isascii() and c.isalpha()) or c in "δΔησ∂":
            k = _name(text, k, lookup, out)
        else:
            raise FormulaError(text, k, f"{_describe(c)} cannot be read here")
    out.append(Token("end", "", n))
    return out


def _name(text: str, k: int, lookup: Callable[[str], str | None], out: list[Token]) -> int:
    """A name (a quantity, a function, e) starting at k; returns where it ends."""
    m = _DERIVATIVE.match(text, k)
    if m and (qid := lookup(m[0])):
        out.append(Token("name", m[0], k, qid))
        return m.end()
    if text[k] == "σ":  # σ is always the logistic function, even written σ2 or σx
        out.append(Token("func", "σ", k, "sigma"))
        return k + 1
    word = _NAME_CHARS.match(text, k)
    end = word.end() if word else k + 1
    name = text[k:end]
    if name.lower() in FUNCTIONS:
        out.append(Token("func", name, k, FUNCTIONS[name.lower()]))
    elif name == "e":
        out.append(Token("e", name, k))
    elif qid := lookup(name):
        out.append(Token("name", name, k, qid))
    else:
        if end < len(text) and not text[end].isspace() and text[end] not in "+-−–*×·/^(),²³½.":
            raise FormulaError(text, end, f"{_describe(text[end])} cannot be part of a name")
        raise FormulaError(text, k, f"unknown name '{name}'")
    return end


class _Parser:
    def __init__(self, text: str, toks: list[Token]):
        self.text, self.toks, self.k = text, toks, 0
        self.depth = 0
        self.nodes = 0

    @property
    def tok(self) -> Token:
        return self.toks[self.k]

    def fail(self, why: str, tok: Token | None = None) -> FormulaError:
        return FormulaError(self.text, (tok or self.tok).pos, why)

    def take(self) -> Token:
        t = self.tok
        self.k += 1
        return t

    def node(self, kind: str, *args: Node, pos: int, **kw: object) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(self.text, pos, f"the formula is too long (more than {MAX_NODES} parts)")
        return _checked(self.text, Node(kind, args, pos=pos, **kw))  # type: ignore[arg-type]

    def deeper(self, tok: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"brackets, signs or powers are nested more than {MAX_DEPTH} deep", tok)

    def expression(self) -> Node:
        left = self.product()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.take()
            right = self.product()
            left = self.node("add" if op.text == "+" else "sub", left, right, pos=op.pos)
        return left

    def starts_factor(self) -> bool:
        return self.tok.kind in ("name", "func", "e", "num", "(")

    def product(self) -> Node:
        left = self.unary()
        while True:
            t = self.tok
            if t.kind == "op" and t.text in "*/":
                self.take()
                right = self.unary()
                left = self.node("mul" if t.text == "*" else "div", left, right, pos=t.pos)
            elif self.starts_factor():
                before = self.toks[self.k - 1]
                if t.kind != "(" and before.kind != ")":
                    if before.kind == "num" and t.kind != "num":
                        raise self.fail(f"write {before.text}*{t.text}: a number and a name need a * between them")
                    raise self.fail("put * (or ·) between two factors written side by side")
                right = self.unary()
                left = self.node("mul", left, right, pos=t.pos)
            else:
                return left

    def unary(self) -> Node:
        t = self.tok
        if t.kind == "op" and t.text in "+-":
            self.take()
            self.deeper(t)
            inner = self.unary()
            self.depth -= 1
            return inner if t.text == "+" else self.node("neg", inner, pos=t.pos)
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        t = self.tok
        if t.kind == "op" and t.text == "^":
            self.take()
            self.deeper(t)
            exponent = self.unary()  # right-associative: a^b^c is a^(b^c); a^-b is a^(-b)
            self.depth -= 1
            return self.node("pow", base, exponent, pos=t.pos)
        return base

    def postfix(self) -> Node:
        node = self.atom()
        while self.tok.kind == "sup":
            t = self.take()
            power = self.node("num", number=Fraction(_SUPERSCRIPTS[t.text]), text=t.text, pos=t.pos)
            node = self.node("pow", node, power, pos=t.pos)
        return node

    def atom(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.take()
            value = t.value if isinstance(t.value, Fraction) else _fraction(self.text, t)
            return self.node("num", number=value, text=t.text, pos=t.pos)
        if t.kind == "name":
            self.take()
            return self.node("name", name=str(t.value), text=t.text, pos=t.pos)
        if t.kind == "e":
            self.take()
            return self.node("e", text="e", pos=t.pos)
        if t.kind == "(":
            self.take()
            self.deeper(t)
            inner = self.expression()
            self.close(t)
            self.depth -= 1
            return inner
        if t.kind == "func":
            return self.call()
        if t.kind == "end":
            raise self.fail("the formula ends too soon" if self.k else "nothing was typed")
        if t.kind == ")":
            raise self.fail("a ) without its (")
        raise self.fail(f"expected a name, a number or ( here, not '{t.text}'")

    def close(self, opening: Token) -> None:
        if self.tok.kind != ")":
            if self.tok.kind == "end":
                raise self.fail("this ( is never closed", opening)
            raise self.fail(f"expected ) here, not '{self.tok.text}'")
        self.take()

    def call(self) -> Node:
        f = self.take()
        name = str(f.value)
        if self.tok.kind != "(":
            raise self.fail(f"{f.text} needs its argument in brackets: {f.text}(…)")
        opening = self.take()
        self.deeper(opening)
        args = [self.expression()]
        while self.tok.kind == ",":
            self.take()
            args.append(self.expression())
        self.close(opening)
        self.depth -= 1
        if name == "max":
            if len(args) != 2 or not any(a.kind == "num" and a.number == 0 for a in args):
                raise FormulaError(self.text, f.pos, "max takes two arguments, one of them 0: max(0, x)")
            args = [a for a in args if not (a.kind == "num" and a.number == 0)][:1] or args[:1]
            name = "relu"
        elif len(args) != 1:
            raise FormulaError(self.text, f.pos, f"{f.text}(…) takes one argument")
        return self.node("call", *args, name=name, text=f.text, pos=f.pos)


def _fraction(text: str, t: Token) -> Fraction:
    m = re.search(r"[eE]([+-]?[0-9]+)$", t.text)
    if m and abs(int(m[1])) > 300:
        raise FormulaError(text, t.pos, f"{t.text} is beyond the size of any value here")
    return Fraction(t.text)  # decimal text the tokenizer has matched: never evaluated as code


def constant(node: Node) -> float | None:
    """The value of a part with no names in it (None if it has names)."""
    if node.kind != "name" and not node.names():
        return value(node, {})
    return None


def degree(node: Node) -> int:
    """How far the part multiplies out: a name is 1, a product adds, a power multiplies."""
    if node.kind in ("num", "e"):
        return 0
    if node.kind == "name":
        return 1
    if node.kind == "pow":
        c = constant(node.args[1])
        return degree(node.args[0]) * (abs(round(c)) if c is not None and math.isfinite(c) else 1) + \
            degree(node.args[1])
    if node.kind in ("mul", "div"):
        return sum(degree(a) for a in node.args)
    return max((degree(a) for a in node.args), default=0)


def terms(node: Node, cap: int = 10**9) -> int:
    """About how many terms the formula has once multiplied out (what SymPy's expansion would cost)."""
    kind, args = node.kind, node.args
    if kind in ("num", "e", "name"):
        return 1
    if kind in ("neg", "call"):
        return terms(args[0], cap)
    a, b = terms(args[0], cap), terms(args[1], cap)
    if kind in ("add", "sub"):
        return min(a + b, cap)
    if kind == "pow":
        c = constant(args[1])
        if c is not None and math.isfinite(c) and c == round(c):
            return min(math.comb(a + abs(round(c)) - 1, abs(round(c))) if a > 1 else 1, cap)
    return min(a * b, cap)


def _checked(text: str, node: Node) -> Node:
    """Refuse a part whose number is too large, or whose power would multiply out too far."""
    if node.kind == "name":
        return node
    if node.kind == "div" and constant(node.args[1]) == 0:
        raise FormulaError(text, node.pos, "this divides by 0")
    if node.kind == "pow":
        base, exponent = node.args
        c = constant(exponent)
        if c is not None and not node.args[0].kind == "e" and constant(base) is None:
            if not math.isfinite(c) or abs(c) > MAX_EXPONENT:
                raise FormulaError(text, node.pos, f"an exponent above {MAX_EXPONENT} is not needed here")
    if not node.names():
        try:
            v = _value(node, {})
        except OverflowError:
            v = math.inf
        except ZeroDivisionError:
            raise FormulaError(text, node.pos, "this divides by 0") from None
        except ValueError:
            raise FormulaError(text, node.pos, "this has no value (a logarithm of 0 or less, or the like)") from None
        if not math.isfinite(v) or abs(v) > MAX_MAGNITUDE:
            raise FormulaError(text, node.pos, "this number is beyond the size of any value here")
    if degree(node) > MAX_DEGREE:
        raise FormulaError(text, node.pos, "the powers here multiply out too far")
    return node


def parse(text: str, lookup: Callable[[str], str | None], templates: bool = False) -> Node:
    """The tree of a formula, or a FormulaError saying what could not be read and where."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(text, MAX_LENGTH, f"it is {len(text):,} characters long; type at most {MAX_LENGTH}")
    toks = tokens(text, lookup, templates)
    parser = _Parser(text, toks)
    tree = parser.expression()
    if parser.tok.kind != "end":
        t = parser.tok
        raise parser.fail("a ) without its (" if t.kind == ")" else f"'{t.text}' cannot follow here")
    return tree


def looks_like_formula(text: str, lookup: Callable[[str], str | None]) -> bool:
    """Cheap: does the text hold a quantity's name or a function, so that it is meant as a formula?"""
    if len(text) > MAX_LENGTH:
        return False
    for m in _WORD.finditer(text):
        word = m[0]
        if word.lower() in FUNCTIONS or word[0] == "σ" or lookup(re.sub(r"\s+", "", word)):
            return True
        if "/" in word and lookup(word.split("/")[0].strip()):
            return True
    return False


_WORD = re.compile(r"(?<![0-9.])[A-Za-z_δΔη∂σ][A-Za-z0-9_@⁺']*(?:\s*/\s*[∂d][A-Za-z0-9_@]*)?")


# ---------------------------------------------------------------------------------------------
# Evaluation with floats (the judging uses the engine's values at several points)


def _sigma(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


_CALLS: dict[str, Callable[[float], float]] = {
    "sigma": _sigma, "exp": math.exp, "ln": math.log, "tanh": math.tanh,
    "relu": lambda x: x if x > 0 else 0.0, "step": lambda x: 1.0 if x > 0 else 0.0,
}


def value(node: Node, values: Mapping[str, float]) -> float:
    """The formula's value with these values of its names; NaN where it has none (0 divided …)."""
    try:
        return _value(node, values)
    except (ZeroDivisionError, OverflowError, ValueError):
        return math.nan


def _value(node: Node, v: Mapping[str, float]) -> float:
    kind, args = node.kind, node.args
    if kind == "num":
        assert node.number is not None
        return float(node.number)
    if kind == "name":
        return v[node.name]
    if kind == "e":
        return math.e
    if kind == "neg":
        return -_value(args[0], v)
    if kind == "call":
        return _CALLS[node.name](_value(args[0], v))
    a, b = _value(args[0], v), _value(args[1], v)
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div":
        return a / b
    if kind == "pow":
        if args[0].kind == "e":
            return math.exp(b)
        result = a ** b
        if isinstance(result, complex):
            raise ValueError("a negative number to a fractional power")
        return float(result)
    raise ValueError(kind)  # pragma: no cover - every kind is above


def template_text(formula: str) -> str:
    """A catalogue template as a formula the parser reads: ReLU's slope ``(1 if {net} > 0 else 0)``
    becomes ``step({net})``."""
    return re.sub(r"\(1 if (\{[^}]+\}) > 0 else 0\)", r"step(\1)", formula)

"""Reading a typed number, and judging it by the precision it was typed with.

The policy (also in ``backprop-tutor check --help``):

* a value is read exactly as typed (``0.3589``, ``.3589``, ``0,3589``, ``3.589e-1``, ``+0.5``,
  ``-0.0226``, ``−0.0226``), and the place of its last digit says how precise it claims to be;
* **right** when it agrees with the true value at the digits given, with one unit of slack in
  the last digit (so rounding and truncating are both fine) — and at least three significant
  digits, and those digits tell it apart from what it could be confused with on that step (the
  value before the update, a known mistake's value); a value that is exact as typed (0.3775,
  0.05) is right however few its digits;
* **give more digits** when it agrees but has fewer than three significant digits
  (``0.0004`` for 0.000438568: rounded or truncated, not ``1`` for 0.3775), or when at its
  digits it agrees just as well with something it could be confused with (``0.150`` for
  w1⁺ = 0.14978: w1 before the update is 0.15);
* an integer's trailing zeros are not significant (``2910`` has three digits, ``2.910e3`` four),
  and ``0`` for a value that is not zero is wrong;
* **right method, carry more digits** when it is off only by the drift that rounding every
  intermediate to about four significant digits causes;
* **wrong** otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from functools import cached_property

from backprop_tutor.errors import BadNumber

MIN_DIGITS = 3  # fewer significant digits than this cannot tell a right method from a wrong one
MAX_LENGTH = 200
EXACT = Decimal("1e-12")  # relative: a typed value this close is the true value itself
_CONTEXT = Context(prec=80, Emax=10**9, Emin=-(10**9))
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

RIGHT, DRIFT, IMPRECISE, WRONG = "right", "drift", "imprecise", "wrong"
EXIT_CODES = {RIGHT: 0, DRIFT: 0, WRONG: 1, IMPRECISE: 3}


@dataclass(frozen=True)
class Typed:
    """A number as typed: its exact value, the place of its last digit, its significant digits."""

    text: str
    value: Decimal

    @cached_property
    def place(self) -> int:
        """The power of ten of the last significant typed digit: 0.3589 → -4, 1.2e3 → 2, 2910 → 1."""
        exponent = self.value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite by construction
        if self.integer and self.value != 0:  # 2910: the trailing zero only places the digits
            digits = "".join(map(str, self.value.as_tuple().digits))
            return exponent + len(digits) - len(digits.rstrip("0"))
        return exponent

    @cached_property
    def integer(self) -> bool:
        """Typed without a decimal point or exponent (``2910``, ``-12``)."""
        return not any(c in self.text for c in ".,eE")

    @cached_property
    def digits(self) -> int:
        """Significant digits typed: 0.000439 → 3, 0.40 → 2, 2910 → 3, 2.910e3 → 4, 0 → 0."""
        digits = "".join(map(str, self.value.as_tuple().digits)).lstrip("0")
        return len(digits.rstrip("0")) if self.integer else len(digits)

    @cached_property
    def unit(self) -> Decimal:
        return Decimal(1).scaleb(self.place, _CONTEXT)


def parse_number(text: str) -> Typed:
    """Read a number the way people type it, or raise BadNumber saying what is wrong with it."""
    raw = text
    s = text.strip().replace("−", "-").replace("–", "-").replace("\u2009", "").replace(" ", "")
    if not s:
        raise BadNumber(raw, "nothing was typed")
    if len(s) > MAX_LENGTH:
        raise BadNumber(raw, f"it is {len(s):,} characters long; type at most {MAX_LENGTH}")
    low = s.lower().lstrip("+-")
    if low in ("nan", "snan", "qnan"):
        raise BadNumber(raw, "NaN is not a value; type the number you computed")
    if low in ("inf", "infinity", "∞"):
        raise BadNumber(raw, "infinity is not a value; type the number you computed")
    if s.count(",") == 1 and "." not in s:
        s = s.replace(",", ".")  # a decimal comma: 0,3589
    elif "," in s:
        raise BadNumber(raw, "use one decimal point or one decimal comma, and no thousands separators")
    if "/" in s:
        raise BadNumber(raw, "write a fraction as a decimal (1/2 → 0.5)")
    if any(c in s for c in "*×^()"):
        raise BadNumber(raw, "type the value itself, not an expression")
    if not _NUMBER.fullmatch(s):
        if any(c.isdigit() and not c.isascii() for c in s):
            raise BadNumber(raw, "type the digits 0-9")
        raise BadNumber(raw, "expected a decimal number such as 0.3589, -0.0226 or 4.3857e-4")
    try:
        value = Decimal(s)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid numbers
        raise BadNumber(raw, "expected a decimal number") from None
    if abs(value) > LARGEST:
        raise BadNumber(raw, "it is beyond the range of any value here (about ±1.8e308)")
    return Typed(text.strip(), value)


LARGEST = Decimal("1.7976931348623157e308")  # the largest float: no value of a lesson is larger


def agrees(typed: Typed, true: Decimal) -> bool:
    """Does the true value agree with what was typed at the digits given (one unit of slack)?

    The typed value must also be of the true value's size: ``0`` never agrees with 0.3775, nor
    ``1e40`` (one digit, but forty places off)."""
    if typed.value == 0 or true == 0:
        return typed.value == true
    if abs(typed.value.adjusted() - true.adjusted()) > 1:
        return False
    diff = abs(_CONTEXT.subtract(typed.value, true))
    return diff <= typed.unit + abs(true) * EXACT


def rounded_or_cut(typed: Typed, true: Decimal, drift: float) -> bool:
    """Is the typed value the true value rounded or truncated at its last digit? The one unit of slack of
    ``agrees`` also lets in the value rounded the wrong way, which at three digits or more is what
    rounding as you go does to a last digit, but at one or two is another number: ``1`` for 0.3775
    (that is 0.4 rounded, 0.3 truncated). Rounding as you go may still move it by the drift band."""
    diff = abs(_CONTEXT.subtract(typed.value, true))
    cut = (typed.value < 0) == (true < 0) and abs(typed.value) <= abs(true)
    return cut or diff <= typed.unit / 2 + Decimal(drift) + abs(true) * EXACT


def exact(typed: Typed, true: Decimal) -> bool:
    """The typed text is the true value itself (to a part in 10¹²)."""
    return abs(_CONTEXT.subtract(typed.value, true)) <= abs(true) * EXACT


def judge(typed: Typed, true_value: float | Decimal, drift: float,
          confusers: Sequence[float | Decimal] = (), rivals: Sequence[float | Decimal] = ()) -> str:
    """The verdict on a typed value: RIGHT, DRIFT, IMPRECISE or WRONG (see the module's policy).

    ``confusers`` are values the answer could be confused with on this step (the value before
    the update, a mistake's value); each must be told apart from the true value.  ``rivals`` are
    mistakes' values too close to tell apart: a value that is one of them is not rounding drift."""
    true = true_value if isinstance(true_value, Decimal) else Decimal(true_value)
    if typed.value == true or (not isinstance(true_value, Decimal) and float(typed.value) == true_value):
        return RIGHT  # the typed text is that very number (as the computer holds it)
    if true == 0:
        return RIGHT if typed.value == 0 else WRONG
    if typed.value == 0 or abs(typed.value.adjusted() - true.adjusted()) > 50:
        return WRONG  # zero for a value that is not, or dozens of orders of magnitude off (1e999)
    if exact(typed, true):
        return RIGHT
    close = [Decimal(c) for c in confusers]
    if agrees(typed, true) and (typed.digits >= MIN_DIGITS or rounded_or_cut(typed, true, drift)):
        if any(agrees(typed, c) for c in close):
            return IMPRECISE  # at these digits it is just as much the value it could be confused with
        return RIGHT if typed.digits >= MIN_DIGITS else IMPRECISE
    diff = abs(_CONTEXT.subtract(typed.value, true))
    if (typed.digits >= MIN_DIGITS and diff <= Decimal(drift)
            and not any(agrees(typed, c) or abs(_CONTEXT.subtract(typed.value, c)) < diff for c in close)
            and not any(agrees(typed, Decimal(r)) for r in rivals)):
        return DRIFT
    return WRONG


def confused_with(typed: Typed, confusers: Sequence[float | Decimal]) -> int | None:
    """The index of the first confuser the typed value agrees with at its digits, if any."""
    for k, c in enumerate(confusers):
        if agrees(typed, Decimal(c)):
            return k
    return None


def digits_to_tell(true: float | Decimal, confusers: Sequence[float | Decimal]) -> int:
    """How many significant digits the true value needs before none of the confusers agrees with it."""
    t = Decimal(true)
    for n in range(MIN_DIGITS, 18):
        value = t.quantize(Decimal(1).scaleb(t.adjusted() - n + 1), context=_CONTEXT)
        rounded = Typed(str(value), value)
        if not any(agrees(rounded, Decimal(c)) for c in confusers):
            return n
    return 17

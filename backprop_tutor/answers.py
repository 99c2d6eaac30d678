"""Reading a typed number, and judging it by the precision it was typed with.

The policy (also in ``backprop-tutor check --help``):

* a value is read exactly as typed (``0.3589``, ``.3589``, ``0,3589``, ``3.589e-1``, ``+0.5``,
  ``-0.0226``, ``−0.0226``), and the place of its last digit says how precise it claims to be;
* **right** when it agrees with the true value at the digits given, with one unit of slack in
  the last digit (so rounding and truncating are both fine) — and at least three significant
  digits; a value that is exact as typed (0.3775, 0.05) is right however few its digits;
* **give more digits** when it agrees but has fewer than three significant digits
  (``0.0004`` for 0.000438568): too few to tell a right method from a wrong one;
* **right method, carry more digits** when it is off only by the drift that rounding every
  intermediate to about four significant digits causes;
* **wrong** otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

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

    @property
    def place(self) -> int:
        """The power of ten of the last typed digit: 0.3589 → -4, 1.2e3 → 2."""
        exponent = self.value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite by construction
        return exponent

    @property
    def digits(self) -> int:
        """Significant digits typed: 0.000439 → 3, 0.40 → 2, 0 → 0."""
        return len("".join(map(str, self.value.as_tuple().digits)).lstrip("0"))

    @property
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
    """Does the true value agree with what was typed at the digits given (one unit of slack)?"""
    diff = abs(_CONTEXT.subtract(typed.value, true))
    return diff <= typed.unit + abs(true) * EXACT


def judge(typed: Typed, true_value: float, drift: float) -> str:
    """The verdict on a typed value: RIGHT, DRIFT, IMPRECISE or WRONG (see the module's policy)."""
    if float(typed.value) == true_value:
        return RIGHT  # the typed text is that very number (as the computer holds it)
    true = Decimal(true_value)
    if true == 0:
        return RIGHT if typed.value == 0 else WRONG
    if abs(typed.value.adjusted() - true.adjusted()) > 50:
        return WRONG  # dozens of orders of magnitude off (1e999 and the like)
    diff = abs(_CONTEXT.subtract(typed.value, true))
    if diff <= abs(true) * EXACT:
        return RIGHT
    if agrees(typed, true):
        return RIGHT if typed.digits >= MIN_DIGITS else IMPRECISE
    if typed.digits >= MIN_DIGITS and diff <= Decimal(drift):
        return DRIFT
    return WRONG

"""The rounding model of the drift band (``checking.rounder``): a float rounded once, from its exact binary
value, to so many significant digits. Held against Decimal doing the same (``decimal_rounder``) and
against rounding written here with Fraction, on values chosen to be hard: ties, neighbours of short
decimals, powers of ten, carries, the ends of the float range."""

import math
import random
import struct
from decimal import ROUND_DOWN, ROUND_HALF_EVEN
from fractions import Fraction

import pytest

from backprop_tutor.checking import MODES, decimal_rounder, rounder


def hard_values(count: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    xs = [5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
          math.inf, -math.inf, 0.0, -0.0, 1.0, 10.0, 9.9995, 9.99949999, 0.15, 0.1, 0.3775, 1e22, 1e23, 123456789.0]
    for _ in range(count):
        xs.append(rng.uniform(-1, 1) * 10 ** rng.uniform(-30, 30))
        short = float(Fraction(rng.randint(100, 99999)) * Fraction(10) ** rng.randint(-12, 12))
        xs += [short, math.nextafter(short, math.inf), math.nextafter(short, -math.inf), -short]
        xs.append((rng.randint(1000, 9999) + 0.5) * 10.0 ** rng.randint(-8, 8))  # a tie at 4 or 5 digits
        xs.append(float("0." + "9" * rng.randint(3, 17) + str(rng.randint(0, 9))) * 10.0 ** rng.randint(-5, 5))
        xs.append(struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0])
    return xs


def by_fraction(x: float, digits: int, mode: str) -> float:
    """x rounded to ``digits`` significant digits in exact rational arithmetic."""
    if not x or not math.isfinite(x):
        return 0.0 if not x else x
    q = Fraction(x)
    e = math.floor(math.log10(abs(x))) - digits + 1
    while abs(q) >= Fraction(10) ** (e + digits):  # (log10 of a float near a power of ten may be one off)
        e += 1
    while abs(q) < Fraction(10) ** (e + digits - 1):
        e -= 1
    scaled = q / Fraction(10) ** e
    if mode == ROUND_DOWN:
        n = math.trunc(scaled)
    else:
        n = round(scaled)  # (Fraction rounds half to even)
    return float(n * Fraction(10) ** e)


def same(a: float, b: float) -> bool:
    return (a == b and math.copysign(1, a) == math.copysign(1, b)) or (a != a and b != b)


@pytest.mark.parametrize("digits", [1, 3, 4, 5])
@pytest.mark.parametrize("mode", MODES)
def test_the_rounding_model_is_decimals_rounding_of_the_exact_value(digits, mode):
    fast, slow = rounder(digits, mode), decimal_rounder(digits, mode)
    values = hard_values(6000)
    assert all(same(fast(x), slow(x)) for x in values), [x for x in values if not same(fast(x), slow(x))][:5]


@pytest.mark.parametrize("mode", MODES)
def test_the_rounding_model_is_rounding_in_exact_arithmetic(mode):
    keep = rounder(4, mode)
    values = [x for x in hard_values(1500, seed=8) if math.isfinite(x) and 1e-300 < abs(x) < 1e300]
    assert all(keep(x) == by_fraction(x, 4, mode) for x in values), \
        [x for x in values if keep(x) != by_fraction(x, 4, mode)][:5]


def test_a_few_by_hand():
    nearest, down = rounder(4, ROUND_HALF_EVEN), rounder(4, ROUND_DOWN)
    assert nearest(0.35891648) == 0.3589 and down(0.35891648) == 0.3589
    assert nearest(0.74136507) == 0.7414 and down(0.74136507) == 0.7413
    assert nearest(-0.0821670405) == -0.08217 and down(-0.0821670405) == -0.08216
    assert down(0.15) == 0.1499  # the float 0.15 is 0.1499999999999999944…
    assert nearest(0.0) == 0.0 and down(0.0) == 0.0

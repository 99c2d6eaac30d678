"""Reading typed numbers, and the precision policy, through `check` and directly."""

import json
from decimal import Decimal

import pytest

from backprop_tutor.answers import DRIFT, IMPRECISE, RIGHT, WRONG, judge, parse_number
from backprop_tutor.errors import BadNumber


@pytest.mark.parametrize(("text", "value"), [
    ("0.3589", "0.3589"), (".3589", "0.3589"), ("0,3589", "0.3589"), ("3.589e-1", "0.3589"),
    ("3.589E-1", "0.3589"), ("+0.5", "0.5"), ("-0.0226", "-0.0226"), ("−0.0226", "-0.0226"),
    ("  0.3589 ", "0.3589"), ("4.3857e-4", "0.00043857"), ("12", "12"),
])
def test_numbers_are_read_as_people_type_them(text, value):
    assert parse_number(text).value == Decimal(value)


@pytest.mark.parametrize(("text", "why"), [
    ("", "nothing"), ("   ", "nothing"), ("nan", "NaN"), ("NaN", "NaN"), ("inf", "infinity"),
    ("-Infinity", "infinity"), ("abc", "expected a decimal number"), ("1/2", "fraction"),
    ("2*0.3", "expression"), ("1,234.5", "thousands"), ("1,2,3", "decimal comma"),
    ("١٢", "0-9"), ("1" * 10_000, "characters"), ("0.35.8", "expected"), ("e5", "expected"),
    ("0x1p-2", "expected"), ("--0.5", "expected"),
])
def test_what_is_not_a_number_is_said_so(text, why):
    with pytest.raises(BadNumber, match=why):
        parse_number(text)


@pytest.mark.parametrize(("text", "digits", "place"), [
    ("0.3589", 4, -4), ("0.000439", 3, -6), ("0.40", 2, -2), ("1.2e3", 2, 2), ("0", 0, 0),
])
def test_significant_digits_and_last_place(text, digits, place):
    typed = parse_number(text)
    assert (typed.digits, typed.place) == (digits, place)


W5 = 0.358916479717885  # w5⁺ from the reference
DW1 = 0.000438567734474347


@pytest.mark.parametrize(("text", "true", "verdict"), [
    ("0.3589", W5, RIGHT),          # rounded
    ("0.35891", W5, RIGHT),         # truncated: one unit of slack in the last digit
    ("0.358917", W5, RIGHT),
    ("0.35893", W5, DRIFT),         # 1.4 units off at 5 digits: rounding drift
    ("0.36", W5, IMPRECISE),        # agrees, but two digits say nothing about the method
    ("0.4", W5, IMPRECISE),
    ("0.5", W5, WRONG),             # does not agree even at one digit
    ("0.3178", W5, WRONG),          # the learning rate forgotten
    ("0.0004", DW1, IMPRECISE),     # the example
    ("0.000439", DW1, RIGHT),
    ("0.000364723", DW1, WRONG),    # back-propagated through updated weights
    ("0.05", 0.05, RIGHT),          # exact values are right as typed
    ("0.3775", 0.3775, RIGHT),
    ("0.4", 0.4, RIGHT),
    ("-0.0226", -0.0226025404774751, RIGHT),
    ("0.0226", -0.0226025404774751, WRONG),  # sign flipped
    ("1e-999", W5, WRONG),
    # at one or two digits only the value rounded or truncated agrees, not the one rounded the wrong way
    ("1", 0.3775, WRONG), ("0.4", 0.3775, IMPRECISE), ("0.3", 0.3775, IMPRECISE),
    ("0.38", 0.3775, IMPRECISE), ("0.37", 0.3775, IMPRECISE), ("0.39", 0.3775, WRONG),
    ("-0.02", -0.0226025404774751, IMPRECISE), ("-0.03", -0.0226025404774751, WRONG),
    ("0.0005", DW1, WRONG), ("0.00044", DW1, IMPRECISE), ("0.00043", DW1, IMPRECISE),
    ("0.378", 0.3775, RIGHT),      # at three digits the slack stays: 0.3775 is 0.37749999… as a float
])
def test_the_precision_policy(text, true, verdict):
    drift = 5e-4 * abs(true)
    assert judge(parse_number(text), true, drift) == verdict


def test_a_value_outside_the_drift_band_is_wrong():
    assert judge(parse_number("0.3592"), W5, drift=1e-5) == WRONG
    assert judge(parse_number("0.35893"), W5, drift=1e-5) == WRONG


@pytest.mark.parametrize(("name", "typed", "code", "verdict"), [
    ("w5", "0.3589", 0, "right"),
    ("w5", ".3589", 0, "right"),
    ("w5", "0,3589", 0, "right"),
    ("w5", "3.589e-1", 0, "right"),
    ("dE/dw7", "-0.0226", 0, "right"),
    ("dE/dw7", "−0.0226", 0, "right"),
    ("dE/dw7", "-0.02260254", 0, "right"),
    ("dE/dw1", "0.0004", 3, "imprecise"),
    ("dE/dw1", "0.0005", 1, "wrong"),  # rounded the wrong way: at one digit it is 0.0004, rounded or truncated
    ("dE/dw1", "0.0006", 1, "wrong"),
    ("w5", "0.3178", 1, "wrong"),
    ("dE_o2/dout_h1", "-0.017144205", 1, "wrong"),
    ("dE/dw1", "0.000364723", 1, "wrong"),
    # carried 4 significant digits through the chain: 0.03635 · 0.2413 · 0.05
    ("dE/dw1", "0.000438563", 0, "drift"),
    ("out_o1", "0.7513", 0, "right"),
    ("net_h1", "+0.3775", 0, "right"),
])
def test_check_verdicts_and_exit_codes(cli, name, typed, code, verdict):
    result = cli("check", name, typed, "--json")
    assert result.exit_code == code, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == verdict
    assert data["typed"] == typed
    assert ("value" in data) == (code == 0)


def test_the_drift_verdict_says_carry_more_digits(cli):
    result = cli("check", "dE/dw1", "0.000438563")
    assert result.exit_code == 0
    assert "carry more digits" in result.output
    assert "0.000438567734474" in result.output


def test_the_help_explains_the_policy(cli):
    result = cli("check", "--help")
    assert result.exit_code == 0
    for words in ("significant digits", "carry more digits", "give more digits", "Exit codes"):
        assert words in result.output

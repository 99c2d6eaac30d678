"""The gradient check of `what-if`: each gradient beside its central difference, within the bound it states.
Oracles written here: a forward pass in mpmath at 60 digits (tests/test_bce.py's, for every loss of the
post's network) and its own central differences."""

import re
from decimal import Decimal

import mpmath
import pytest

from backprop_tutor import gradcheck
from backprop_tutor.lesson import bundled_names, load
from backprop_tutor.network import exact_trace

ROW = re.compile(r"^\s+ΔE/Δ(\w+)\s+(\S+) ≈\s+(\S+)\s+(\S+) ([≤>]) (\S+)$")


def mp_error(values, loss):
    """E_total of the post's 2-2-2 network (numbered by receiver) with weights ``values``, at 60 digits."""
    s = lambda x: 1 / (1 + mpmath.exp(-x))  # noqa: E731
    m = mpmath.mpf
    w = [values[f"w{k}"] for k in range(1, 9)]
    h1 = s(w[0] * m("0.05") + w[1] * m("0.1") + m("0.35"))
    h2 = s(w[2] * m("0.05") + w[3] * m("0.1") + m("0.35"))
    o1, o2 = s(w[4] * h1 + w[5] * h2 + m("0.6")), s(w[6] * h1 + w[7] * h2 + m("0.6"))
    pairs = ((m("0.01"), o1), (m("0.99"), o2))
    if loss == "binary-cross-entropy":
        return sum(-(t * mpmath.log(o) + (1 - t) * mpmath.log(1 - o)) for t, o in pairs)
    return sum((t - o) ** 2 / 2 for t, o in pairs)


def mp_difference(changes, p, h, loss):
    with mpmath.workdps(60):
        values = {f"w{k + 1}": mpmath.mpf(v) for k, v in enumerate("0.15 0.2 0.25 0.3 0.4 0.45 0.5 0.55".split())}
        values |= {k: mpmath.mpf(v) for k, v in changes.items()}
        up, down = dict(values), dict(values)
        up[p] += mpmath.mpf(h)
        down[p] -= mpmath.mpf(h)
        return (mp_error(up, loss) - mp_error(down, loss)) / (2 * mpmath.mpf(h))


def rows(output):
    return {m[1]: (float(m[2]), float(m[3]), float(m[4]), m[5], float(m[6]))
            for line in output.splitlines() if (m := ROW.match(line))}


@pytest.mark.parametrize(("lesson", "loss"), [("post", "half-squared-error"), ("post-bce", "binary-cross-entropy")])
def test_what_if_shows_each_gradient_beside_its_central_difference_within_the_bound(cli, lesson, loss):
    result = cli("what-if", "--lesson", lesson, "w5=0.5")
    assert result.exit_code == 0, result.output
    assert "h = 0.0001" in result.output and "O(h²)" in result.output
    shown = rows(result.output)
    assert next(iter(shown)) == "w5" and set(shown) == {f"w{k}" for k in range(1, 9)}  # the one changed first
    for p, (difference, gradient, off, sign, bound) in shown.items():
        true = mp_difference({"w5": "0.5"}, p, "1e-20", loss)  # ∂E/∂p itself: the error is 1e-40 here
        assert gradient == pytest.approx(float(true), rel=1e-9), p
        assert difference == pytest.approx(float(mp_difference({"w5": "0.5"}, p, "0.0001", loss)), rel=1e-9), p
        assert sign == "≤" and float(abs(mp_difference({"w5": "0.5"}, p, "0.0001", loss) - true)) <= bound * 1.05, p
        assert off == pytest.approx(float(abs(mp_difference({"w5": "0.5"}, p, "0.0001", loss) - true)), rel=0.06)


def test_the_error_shrinks_as_h_squared(cli):
    big = rows(cli("what-if", "w1=0.15", "--nudge", "0.001").output)
    small = rows(cli("what-if", "w1=0.15", "--nudge", "0.0001").output)
    for p in big:
        assert big[p][2] / small[p][2] == pytest.approx(100, rel=0.01), p  # h ten times smaller: 100 times closer
        assert big[p][4] / small[p][4] == pytest.approx(100, rel=0.1), p  # (the bound is shown to 2 digits)


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_lesson_passes_its_own_gradient_check(name):
    net = load(name).network
    exact = exact_trace(net)
    checks, total = gradcheck.checks(net)
    assert len(checks) == min(total, gradcheck.MAX_CHECKED) == min(total, gradcheck.how_many(net))
    for c in checks:
        assert c.off_by(exact[f"dE_total/d{c.parameter}"]) <= c.bound, (name, c.parameter)
        assert c.bound < Decimal("1e-8") * max(1, abs(c.difference))


def test_a_big_lesson_checks_fewer_parameters_but_at_least_one(write_lesson):
    from biglesson import lesson_text

    net = load(str(write_lesson(lesson_text([16] * 6, 64)))).network
    assert gradcheck.how_many(net) == 1 and gradcheck.how_many(load("post").network) == gradcheck.MAX_CHECKED


def test_the_difference_is_computed_where_floats_would_lose_it():
    """At h = 1e-12 the floats' (E(p + h) − E(p − h)) / 2h keeps 3 or 4 digits; the check keeps 30."""
    net = load("post").network
    c = gradcheck.check(net, "w1", Decimal("1e-12"))
    assert c.off_by(exact_trace(net)["dE_total/dw1"]) < Decimal("1e-25")


@pytest.mark.parametrize("nudge", ["0", "-0.001", "abc", "1", "1e-40"])
def test_a_bad_nudge_is_one_line_before_anything_else(cli, nudge):
    result = cli("what-if", "w5=0.5", "--nudge", nudge)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.count("\n") == 1 and "--nudge" in result.output


def test_the_check_can_be_left_out(cli):
    result = cli("what-if", "w5=0.5", "--no-check")
    assert result.exit_code == 0 and "ΔE/Δ" not in result.output and "E_total" in result.output

"""The gradient check by hand (`start --gradient-check`): after the output layer the walk offers to nudge w5
by ±h, compute E_total twice and divide by 2h. The answers are computed here in mpmath (tests/test_gradcheck.py's
forward pass of the post's network), never taken from the program."""

import mpmath
import pytest
from test_gradcheck import mp_error

from backprop_tutor.checking import Session
from backprop_tutor.lesson import load
from backprop_tutor.walk import lesson_steps

H = "0.001"


def nudged_errors():
    with mpmath.workdps(60):
        values = {f"w{k + 1}": mpmath.mpf(v) for k, v in enumerate("0.15 0.2 0.25 0.3 0.4 0.45 0.5 0.55".split())}
        up, down = dict(values), dict(values)
        up["w5"] += mpmath.mpf(H)
        down["w5"] -= mpmath.mpf(H)
        plus, minus = mp_error(up, "half-squared-error"), mp_error(down, "half-squared-error")
        tiny = dict(values)
        tiny["w5"] += mpmath.mpf("1e-25")
        gradient = (mp_error(tiny, "half-squared-error") - mp_error(values, "half-squared-error")) / mpmath.mpf("1e-25")
        return plus, minus, (plus - minus) / (2 * mpmath.mpf(H)), gradient


def up_to_the_hidden_layer():
    session = Session(load("post"))
    asked = [s.qid for s in lesson_steps(session) if s.asked]
    return "".join(f"{session.trace[q]:.12g}\n" for q in asked if session.catalogue[q].section in
                   ("forward", "error", "output"))


def test_the_check_by_hand_is_judged_and_agrees_with_the_gradient(cli):
    plus, minus, difference, gradient = nudged_errors()
    answers = up_to_the_hidden_layer() + "y\n" + "".join(
        mpmath.nstr(v, 12) + "\n" for v in (plus, minus, difference)) + "quit\n"
    result = cli("start", "--gradient-check", input=answers)
    out = result.output
    assert result.exit_code == 0, out
    assert "h = 0.001" in out and "O(h²)" in out
    assert out.count("✓ right: E_total(w5 + h)") == 1 and out.count("✓ right: E_total(w5 − h)") == 1
    assert out.count("✓ right: ΔE/Δw5") == 1
    assert "they differ by" in out and "within h²/6" in out
    assert abs(difference - gradient) < mpmath.mpf("1e-8")  # what the closing line says: the O(h²) agreement
    assert out.index("ΔE/Δw5 =") < out.index("Backward pass: hidden layer")  # offered after the output layer


def test_the_gradient_itself_passes_but_a_slip_does_not(cli):
    plus, minus, difference, gradient = nudged_errors()
    head = up_to_the_hidden_layer() + "y\n" + mpmath.nstr(plus, 12) + "\n" + mpmath.nstr(minus, 12) + "\n"
    right = cli("start", "--gradient-check", input=head + mpmath.nstr(gradient, 10) + "\nquit\n").output
    assert "✓ right: ΔE/Δw5" in right  # within the O(h²) error of the central difference
    off = cli("start", "--gradient-check", "--restart", "--yes",
              input=head + mpmath.nstr(difference * (1 + mpmath.mpf("1e-4")), 10) + "\nquit\n").output
    assert "✗ not right" in off and "✓ right: ΔE/Δw5" not in off


def test_the_nudged_errors_need_their_digits(cli):
    plus, *_ = nudged_errors()
    out = cli("start", "--gradient-check", input=up_to_the_hidden_layer() + "y\n" + mpmath.nstr(plus, 6)
              + "\nquit\n").output
    assert "give more digits: type at least 9" in out


@pytest.mark.parametrize(("flag", "reply", "offered", "done"), [([], "", False, False),
                                                                (["--gradient-check"], "n\n", True, False)])
def test_the_check_is_optional(cli, flag, reply, offered, done):
    result = cli("start", *flag, input=up_to_the_hidden_layer() + reply + "quit\n")
    assert result.exit_code == 0
    assert ("A gradient check, by hand" in result.output) == offered
    assert ("E_total(w5 + h) =" in result.output) == done
    assert "Backward pass: hidden layer" in result.output  # the walk goes on to the hidden layer

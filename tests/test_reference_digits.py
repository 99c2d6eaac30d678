"""Every shown digit against an independent 50-digit reference (tests/reference_digits.py), and the
digit defects of the audit, each by name.  The full run is ``python bench/reference_digits.py``."""

from collections import Counter
from decimal import Decimal

import mpmath
import pytest
from reference_digits import KINDS, Comparison, compare, random_doc, random_lessons

from backprop_tutor import answers
from backprop_tutor.catalogue import full_digits, post_digits
from backprop_tutor.checking import Session
from backprop_tutor.lesson import load, parse
from backprop_tutor.network import PRECISION, exact_trace, run
from backprop_tutor.render import key_text


def lesson_of(network: dict, data: dict, name: str = "t"):
    return parse({"title": name, "description": name, "network": network, "data": data}, name, name)


def test_every_shown_digit_agrees_with_the_50_digit_reference_on_random_lessons():
    lessons = list(random_lessons(20))
    result = Comparison()
    for lesson in lessons:
        compare(lesson, result)
    kinds = Counter(lesson.title.split()[1] for lesson in lessons)
    assert set(kinds) == set(KINDS)  # every ill-conditioned kind is among them
    assert result.quantities > 2000 and result.zeros > 100
    assert result.mismatches == []


def test_the_reference_tells_the_float_trace_apart(monkeypatch):
    """The comparison can fail: the float trace, shown at 15 digits, disagrees on these lessons."""
    import backprop_tutor.checking as checking

    class FloatSession(checking.Session):
        def __init__(self, lesson):
            super().__init__(lesson)
            self.trace = run(lesson.network)

    monkeypatch.setattr(checking, "Session", FloatSession)
    result = Comparison()
    for lesson in random_lessons(10):
        compare(lesson, result)
    assert len(result.mismatches) > 20


def test_random_lessons_are_what_the_format_accepts():
    doc = random_doc(3)  # relu-kink
    assert doc["network"]["activation"][0] == "relu"
    lesson = parse(doc, "x", "x")
    assert exact_trace(lesson.network)["net_h1"] == 0


KINK = {"layers": [2, 2, 2], "activation": ["relu", "identity"], "loss": "half-squared-error",
        "weights": [0.15, 0.20, 0.25, 0.30, 0.40, 0.40, 0.50, 0.55], "bias_mode": "per-neuron",
        "biases": [-0.0275, 0.35, -0.157, 0.60], "learning_rate": 0.5, "train_biases": True}
KINK_DATA = {"inputs": [0.05, 0.10], "targets": [0.01, 0.99]}


def test_relu_whose_net_input_is_exactly_zero_gets_slope_zero():
    # net_h1 = 0.15·0.05 + 0.20·0.10 − 0.0275 = 0 in decimals, 3.5e-18 in floats
    lesson = lesson_of(KINK, KINK_DATA)
    assert 0.15 * 0.05 + 0.20 * 0.10 - 0.0275 != 0
    session = Session(lesson)
    assert session.exact["net_h1"] == 0 and session.exact["dout_h1/dnet_h1"] == 0
    assert session.exact["net_o1"] == 0  # 0.40·out_h2 − 0.157 with out_h2 = 0.3925
    assert session.exact["delta_h1"] == 0 and session.exact["dE_total/dw1"] == 0
    assert run(lesson.network)["dout_h1/dnet_h1"] == 0.0  # the float trace is on the same side
    assert compare(lesson).mismatches == []


@pytest.mark.parametrize(("name", "typed"), [
    ("net_h1", "0"), ("net_o1", "0"), ("net_o1", "0.000"), ("dout_h1/dnet_h1", "0"), ("w1+", "0.15"),
    ("w6+", "0.4019625"),  # 0.40 − 0.5 · (0 − 0.01)·1 · 0.3925, exactly
    ("b1+", "-0.0275"),
])
def test_exact_answers_at_a_relu_kink_are_right(name, typed):
    session = Session(lesson_of(KINK, KINK_DATA))
    assert session.check(name, typed).verdict == answers.RIGHT


def test_a_sum_cancelling_in_floats_is_the_exact_zero_and_an_overflow_is_not():
    from backprop_tutor.network import total

    assert total([0.15 * 0.05, 0.20 * 0.10, -0.0275]) == 0.0
    assert total([0.15 * 0.05, 0.20 * 0.10, -0.0274]) != 0.0
    assert total([1e308, 1e308]) == float("inf")


def test_the_relu_kink_convention_is_said_at_that_step():
    session = Session(lesson_of(KINK, KINK_DATA))
    meaning = session.catalogue["dout_h1/dnet_h1"].meaning
    assert "exactly 0" in meaning and "kink" in meaning and "PyTorch" in meaning


SOFTMAX = {"layers": [2, 2, 2], "activation": ["logistic", "softmax"], "loss": "cross-entropy",
           "weights": [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55], "biases": [0.35, 0.60],
           "learning_rate": 0.5, "train_biases": True}


@pytest.mark.parametrize("typed", ["0", "0.000", "-0"])
def test_an_exact_zero_is_exact_softmax_ce_bias_gradient(typed):
    # ∂E/∂b2 = Σ_o (out_o − target_o) = 1 − 1 = 0: the outputs and the targets both add up to 1
    session = Session(lesson_of(SOFTMAX, {"inputs": [0.05, 0.10], "targets": [0.0, 1.0]}))
    assert session.exact["dE_total/db2"] == 0
    assert session.check("dE/db2", typed).verdict == answers.RIGHT
    assert session.check("dE/db2", "2.78e-17").verdict == answers.WRONG


def logistic_slope(x: str):
    with mpmath.workdps(60):
        net = mpmath.mpf(x)
        return mpmath.exp(-net) / (1 + mpmath.exp(-net)) ** 2


def test_saturated_slopes_keep_their_relative_precision():
    # net_o1 = 28.4578 (a 1-1 network): out(1 − out) in floats is 4.3721e-13 for 4.3731e-13
    lesson = lesson_of({"layers": [1, 1], "activation": "logistic", "loss": "half-squared-error",
                        "weights": [28.0], "biases": [0.4578], "learning_rate": 0.5},
                       {"inputs": [1.0], "targets": [0.5]})
    true = logistic_slope("28.4578")
    assert abs(run(lesson.network)["dout_o1/dnet_o1"] / true - 1) < 1e-14
    exact = exact_trace(lesson.network)["dout_o1/dnet_o1"]
    with mpmath.workdps(60):
        assert abs(mpmath.mpf(str(exact)) / true - 1) < mpmath.mpf(10) ** -(PRECISION - 16)  # 34 digits or more
    assert post_digits(Session(lesson).trace["dout_o1/dnet_o1"]) == mpmath.nstr(true, 6)


def test_saturated_tanh_slope_keeps_its_digits():
    lesson = lesson_of({"layers": [1, 1], "activation": "tanh", "loss": "half-squared-error",
                        "weights": [15.0], "biases": [0.25], "learning_rate": 0.5},
                       {"inputs": [1.0], "targets": [0.5]})
    with mpmath.workdps(60):
        true = mpmath.sech(mpmath.mpf("15.25")) ** 2
    assert abs(run(lesson.network)["dout_o1/dnet_o1"] / true - 1) < 1e-14
    assert full_digits(Session(lesson).trace["dout_o1/dnet_o1"]) == mpmath.nstr(true, 15)


@pytest.mark.parametrize(("value", "shown"), [
    (0.593269992107187, "0.593269992"), (0.000438567734474, "0.000438568"), (4.3731e-13, "4.3731e-13"),
    (-0.0226, "-0.0226"), (2913.55, "2913.55"), (0.0, "0"), (-0.0, "0"), (0.5, "0.5"),
    (1.2345678901234567e20, "1.23456789012346e20"), (123456789.123456789, "123456789.123457"),
    (999999999999999.9, "1e15"), (Decimal("5.07595E-435"), "5.07595e-435"), (Decimal("-1E-50"), "-1e-50"),
])
def test_values_are_shown_with_only_the_digits_they_have(value, shown):
    assert post_digits(value) == shown


def test_values_above_1e15_are_not_printed_as_long_integers():
    # identity outputs of 1e20 and more: the float shows a 21-digit integer of which 5 digits are noise
    lesson = lesson_of({"layers": [1, 1], "activation": "identity", "loss": "half-squared-error",
                        "weights": [1.23456789e10], "biases": [0.0], "learning_rate": 0.1},
                       {"inputs": [3.3e10], "targets": [0.0]})
    session = Session(lesson)
    for qid in ("net_o1", "E_total", "dE_total/dw1", "w1+", "E_total+"):
        shown = post_digits(session.trace[qid])
        assert len(shown.split("e")[0].replace("-", "").replace(".", "").rstrip("0")) <= 15, shown
    assert post_digits(session.trace["net_o1"]) == "4.074074037e20"  # 1.23456789e10 · 3.3e10
    assert compare(lesson).mismatches == []


def test_softmax_jacobian_terms_are_quantities():
    lesson = load("softmax-ce")
    session = Session(lesson)
    with mpmath.workdps(50):  # the post's net inputs of o1 and o2, through the logistic hidden layer
        h1 = 1 / (1 + mpmath.exp(-(mpmath.mpf("0.15") * mpmath.mpf("0.05") + mpmath.mpf("0.2") * mpmath.mpf("0.1")
                                   + mpmath.mpf("0.35"))))
        h2 = 1 / (1 + mpmath.exp(-(mpmath.mpf("0.25") * mpmath.mpf("0.05") + mpmath.mpf("0.3") * mpmath.mpf("0.1")
                                   + mpmath.mpf("0.35"))))
        n1 = mpmath.mpf("0.4") * h1 + mpmath.mpf("0.45") * h2 + mpmath.mpf("0.6")
        n2 = mpmath.mpf("0.5") * h1 + mpmath.mpf("0.55") * h2 + mpmath.mpf("0.6")
        o1, o2 = mpmath.exp(n1) / (mpmath.exp(n1) + mpmath.exp(n2)), mpmath.exp(n2) / (mpmath.exp(n1) + mpmath.exp(n2))
        expected = {"dout_o1/dnet_o2": -o1 * o2, "dout_o2/dnet_o1": -o2 * o1,
                    "dout_o1/dnet_o1": o1 * (1 - o1), "dout_o2/dnet_o2": o2 * (1 - o2)}
        for qid, value in expected.items():
            assert abs(mpmath.mpf(str(session.exact[qid])) - value) < mpmath.mpf(10) ** -45
    q = session.resolver.resolve("∂out_o1/∂net_o2")
    assert q.id == "dout_o1/dnet_o2" and q.section == "output" and q.symbol == "∂out_o1/∂net_o2"
    assert q.formula == "−{out_o1}·{out_o2}"
    assert session.resolver.resolve("dout_o1/dnet_o2").id == q.id
    assert session.check("dout_o1/dnet_o2", mpmath.nstr(expected["dout_o1/dnet_o2"], 9)).verdict == answers.RIGHT
    key = key_text(session, "md")
    assert "| ∂out_o1/∂net_o2 | −out_o1·out_o2 |" in key and "| ∂out_o2/∂net_o2 |" in key
    ids = list(session.catalogue)
    assert ids.index("dE_total/dout_o2") < ids.index("dout_o1/dnet_o1") < ids.index("delta_o1")


def test_a_zero_of_rounded_values_is_exact_and_decides_the_kink():
    # net_o1 = σ(0.3) + σ(−0.3) − 1 = 0 exactly (σ(x) + σ(−x) = 1), though out_h1 and out_h2 are rounded
    lesson = lesson_of({"layers": [1, 2, 1], "activation": ["logistic", "relu"], "loss": "half-squared-error",
                        "weights": [1.0, -1.0, 1.0, 1.0], "bias_mode": "per-neuron", "biases": [0.3, -0.3, -1.0],
                        "learning_rate": 0.5, "train_biases": True},
                       {"inputs": [0.0], "targets": [0.5]})
    exact = exact_trace(lesson.network)
    assert exact["net_o1"] == 0 and exact["dout_o1/dnet_o1"] == 0 and exact["delta_o1"] == 0
    assert exact["dE_total/dw3"] == 0 and exact["w3+"] == 1
    session = Session(lesson)
    assert post_digits(session.trace["net_o1"]) == "0" and session.check("net_o1", "0").verdict == answers.RIGHT


def test_binary_cross_entropy_lessons_agree_with_the_50_digit_reference():
    """The bundled post-bce and random lessons of the "bce" kind (targets of exactly 0 and 1 among them),
    every shown digit against the reference, whose loss and slope are written from the definitions."""
    lessons = [load("post-bce"), *(parse(random_doc(seed), "bce", "bce") for seed in range(400)
                                   if KINDS[seed % len(KINDS)] == "bce")][:8]
    assert {lesson.network.loss for lesson in lessons} == {"binary-cross-entropy"}
    assert any(t in (0.0, 1.0) for lesson in lessons for _, y in lesson.network.samples for t in y)
    result = Comparison()
    for lesson in lessons:
        compare(lesson, result)
    assert result.quantities > 300 and result.mismatches == []


def test_binary_cross_entropy_of_the_post_at_50_digits():
    """E_total, δ_o1 = out_o1 − target_o1 and ∂E/∂w5 of post-bce, from mpmath written here."""
    with mpmath.workdps(60):
        s = lambda x: 1 / (1 + mpmath.exp(-x))  # noqa: E731
        mp = mpmath.mpf
        h1, h2 = s(mp("0.15") * mp("0.05") + mp("0.2") * mp("0.1") + mp("0.35")), \
            s(mp("0.25") * mp("0.05") + mp("0.3") * mp("0.1") + mp("0.35"))
        o1, o2 = s(mp("0.4") * h1 + mp("0.45") * h2 + mp("0.6")), s(mp("0.5") * h1 + mp("0.55") * h2 + mp("0.6"))
        t1, t2 = mp("0.01"), mp("0.99")
        e = sum(-(t * mpmath.log(o) + (1 - t) * mpmath.log(1 - o)) for t, o in ((t1, o1), (t2, o2)))
        want = {"E_total": e, "delta_o1": o1 - t1, "delta_o2": o2 - t2, "dE_total/dw5": (o1 - t1) * h1}
        exact = exact_trace(load("post-bce").network)
        for qid, value in want.items():
            assert abs(exact[qid] - Decimal(mpmath.nstr(value, 55))) <= Decimal(10) ** (-PRECISION + 2), qid

"""Judging as a teacher would (issue 13): no wrong answer passes, the mistake is named on the step
itself, rounding and typos before concepts, fewer and truer diagnoses, carried errors by their root.

Every typed value here is computed in this file from the post's definitions (plain floats), or
taken from the post's printed numbers; none is copied from the engine."""

import dataclasses
import json
import math

import pytest

from backprop_tutor import answers, progress
from backprop_tutor.checking import Session
from backprop_tutor.lesson import Lesson, load


def sigma(x):
    return 1 / (1 + math.exp(-x))


class Post:
    """The post's network by hand: i1, i2 → h1, h2 → o1, o2, logistic, ½ squared error."""

    def __init__(self, eta=0.5):
        self.i = (0.05, 0.10)
        self.t = (0.01, 0.99)
        self.w = dict(zip([f"w{k}" for k in range(1, 9)], (0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55)))
        self.b1, self.b2, self.eta = 0.35, 0.60, eta
        w, i = self.w, self.i
        self.net_h = (w["w1"] * i[0] + w["w2"] * i[1] + self.b1, w["w3"] * i[0] + w["w4"] * i[1] + self.b1)
        self.out_h = tuple(sigma(x) for x in self.net_h)
        self.net_o = (w["w5"] * self.out_h[0] + w["w6"] * self.out_h[1] + self.b2,
                      w["w7"] * self.out_h[0] + w["w8"] * self.out_h[1] + self.b2)
        self.out_o = tuple(sigma(x) for x in self.net_o)
        self.E = tuple(0.5 * (t - o) ** 2 for t, o in zip(self.t, self.out_o))
        self.dE_dout = tuple(-(t - o) for t, o in zip(self.t, self.out_o))
        self.slope_o = tuple(o * (1 - o) for o in self.out_o)
        self.delta_o = tuple(a * b for a, b in zip(self.dE_dout, self.slope_o))
        self.slope_h = tuple(o * (1 - o) for o in self.out_h)
        self.dE_dout_h1 = self.delta_o[0] * w["w5"] + self.delta_o[1] * w["w7"]
        self.delta_h1 = self.dE_dout_h1 * self.slope_h[0]
        self.g = {"w5": self.delta_o[0] * self.out_h[0], "w1": self.delta_h1 * i[0]}
        self.plus = {k: self.w[k] - eta * g for k, g in self.g.items()}


P = Post()


def session(eta=0.5):
    lesson = load()
    if eta != 0.5:
        lesson = dataclasses.replace(lesson, network=dataclasses.replace(lesson.network, learning_rate=eta))
    return Session(lesson)


def walked_to(s: Session, qid: str) -> progress.Progress:
    """A learner who has every step before ``qid`` right, as in the walk."""
    state = progress.Progress(s.lesson.name)
    for q, item in s.catalogue.items():
        if q == qid:
            break
        if not item.given:
            state.records[q] = progress.Record(progress.RIGHT, s.trace[q])
    return state


CONTEXTS = ["cold", "walk"]


def check(s, qid, typed, context):
    return s.check(qid, typed, walked_to(s, qid) if context == "walk" else None)


# 1. precision that tells answers apart --------------------------------------------------------------

@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize(("qid", "typed"), [
    ("w1+", "0.150"), ("w1+", "0.15"), ("w2+", "0.200"), ("w4+", "0.300"),  # not updated at all
    ("net_h1+", "0.3775"),  # the value before the update
    ("w1+", f"{0.15 - 0.5 * 0.000364723:.7f}"),  # the post's own slip, through the updated weights
    ("w1+", f"{0.15 - 0.5 * P.delta_o[0] * P.w['w5'] * P.slope_h[0] * P.i[0]:.6f}"),  # one path only
])
def test_wrong_updates_never_pass(qid, typed, context):
    result = check(session(), qid, typed, context)
    assert not result.accepted, (qid, typed, result.verdict)


def test_the_old_value_gets_its_own_message(cli):
    result = cli("check", "w1", "0.150")
    assert result.exit_code == 3
    assert "is, at these digits, also w1 before the update" in result.output
    assert "significant digits to tell them apart" in result.output
    data = json.loads(cli("check", "w1", "0.150", "--json").stdout)
    assert data["confused_with"]["what"] == "w1 before the update" and data["confused_with"]["digits_needed"] >= 5


def test_an_update_is_judged_on_its_step():
    s = session()
    right = f"{P.plus['w1']:.9f}"
    assert s.check("w1+", right).verdict == answers.RIGHT
    # 0.14978: the change it implies, 0.00022, has two significant digits only
    assert s.check("w1+", f"{P.plus['w1']:.5f}").verdict == answers.IMPRECISE
    # w5 changes by 0.041: four digits of w5⁺ carry the change to three
    assert s.check("w5+", f"{P.plus['w5']:.4f}").verdict == answers.RIGHT


@pytest.mark.parametrize("qid", ["E_total+", "out_o1+", "w1+"])
def test_with_a_small_learning_rate_the_value_before_the_update_is_not_accepted(qid):
    """η = 0.01: every change is tiny, and the drift band must not swallow it."""
    s = session(eta=0.01)
    before = s.trace[qid[:-1]]
    for digits in (4, 6, 9):
        result = s.check(qid, f"{before:.{digits}g}")
        assert not result.accepted, (qid, digits, result.verdict)


def test_delta_h1_with_h2_slope_is_wrong_and_named():
    value = P.dE_dout_h1 * P.slope_h[1]
    for context in CONTEXTS:
        result = check(session(), "delta_h1", f"{value:.9g}", context)
        assert result.verdict == answers.WRONG
        assert "wrong-neuron" in [f.id for f in result.findings], (context, result.findings)


# 2. diagnose the step itself ------------------------------------------------------------------------

def test_a_factor_left_out_is_named_with_the_factors_confirmed():
    s = session()
    value = P.dE_dout[0] * P.out_h[0]  # the slope left out: 0.4398
    result = s.check("dE_total/dw5", f"{value:.4g}", walked_to(s, "dE_total/dw5"))
    assert [f.id for f in result.findings] == ["output-slope-forgotten"]
    assert "You left out ∂out_o1/∂net_o1, which you had right" in result.findings[0].text


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize(("qid", "value", "mistake"), [
    ("dE_total/dw5", P.dE_dout[0] * P.slope_o[0] * P.out_h[1], "wrong-source"),
    ("dE_total/dout_h1", P.delta_o[0] * P.w["w5"], "one-path"),
    ("dE_total/dout_h1", (P.delta_o[0] * P.w["w5"] + P.delta_o[1] * P.w["w7"]) / 2, "paths-averaged"),
    ("dE_total/dout_h1", P.delta_o[0] * (P.w["w5"] + P.w["w6"]), "wrong-index"),
    ("dE_o2/dout_h1", P.delta_o[1] * P.w["w6"], "path-weight-numbering"),
    ("dE_total/dw1", P.delta_h1 * P.w["w1"], "weight-as-input"),
    ("w5+", P.w["w5"] - 0.05 * P.g["w5"], "eta-mistyped"),
    ("w5+", P.w["w5"] + 0.5 * P.g["w5"], "gradient-added"),
    ("dout_o1/dnet_o1", 1 - P.out_o[0] ** 2, "other-activation-slope"),
    ("out_h1", 1 / (1 + 10 ** -P.net_h[0]), "base-ten"),
    ("out_h1", math.exp(-P.net_h[0]), "no-reciprocal"),
    ("E_o2", 0.5 * (P.t[0] - P.out_o[1]) ** 2, "wrong-target"),
    ("E_total", 0.5 * sum(t - o for t, o in zip(P.t, P.out_o)) ** 2, "error-of-sum"),
    ("E_total", (P.t[0] - P.out_o[0]) ** 2 + (P.t[1] - P.out_o[1]) ** 2, "half-dropped"),
    ("net_o1", P.w["w5"] * P.out_h[0] + P.w["w6"] * P.out_h[1], "bias-left-out"),
])
def test_the_mistake_is_named_in_both_contexts(qid, value, mistake, context):
    result = check(session(), qid, f"{value:.9g}", context)
    assert result.verdict == answers.WRONG
    assert mistake in [f.id for f in result.findings], (context, result.findings)


# 3. rounding and typos before concepts ----------------------------------------------------------------

def three(x):
    return float(f"{x:.3g}")


def test_intermediates_rounded_to_three_digits_are_never_called_a_concept():
    # ∂E/∂w1 from 3-digit intermediates: δ_o1, δ_o2, the weights, out_h1's slope
    d1, d2 = three(P.delta_o[0]), three(P.delta_o[1])
    value = three(d1 * 0.40 + d2 * 0.50) * three(P.slope_h[0]) * 0.05
    result = session().check("dE_total/dw1", f"{value:.6g}")
    assert not any(f.kind == "mistake" for f in result.findings)


def test_every_intermediate_rounded_to_three_digits_gets_a_rounding_message():
    # the whole chain to ∂E/∂w5 by hand, each value rounded to 3 significant digits as it is written down
    out_h = [three(sigma(three(x))) for x in P.net_h]
    net_o1 = three(0.40 * out_h[0] + 0.45 * out_h[1] + 0.60)
    out_o1 = three(sigma(net_o1))
    value = three(out_o1 - 0.01) * three(out_o1 * (1 - out_o1)) * out_h[0]
    result = session().check("dE_total/dw5", f"{value:.6g}")
    assert result.verdict in (answers.IMPRECISE, answers.DRIFT), result
    assert not any(f.kind == "mistake" for f in result.findings)


@pytest.mark.parametrize("typed", ["0.3598", "0.3859", "0.3689", "0.5389"])
def test_a_typo_is_called_a_typo(typed):
    result = session().check("w5+", typed)
    assert result.verdict == answers.WRONG
    assert [f.kind for f in result.findings] == ["typo"], result.findings


# 4. fewer, truer diagnoses ------------------------------------------------------------------------------

def test_e_o2_with_the_other_target_is_not_called_e_total_after():
    result = session().check("E_o2", "0.2910299")
    assert [f.id for f in result.findings] == ["wrong-target"]


def test_e_total_without_the_half_is_not_called_out_h2():
    for context in CONTEXTS:
        result = check(session(), "E_total", "0.5967422", context)
        assert "half-dropped" in [f.id for f in result.findings], (context, result.findings)
        assert not any("out_h2" in f.text for f in result.findings)


def test_the_other_sign_convention_for_delta_is_a_convention():
    result = session().check("delta_o1", f"{-P.delta_o[0]:.9f}")
    assert [(f.kind, f.id) for f in result.findings] == [("convention", "delta-sign")]
    assert result.counted == []


def test_only_a_unique_diagnosis_counts_toward_a_pattern():
    s = session()
    # w5⁺ with the ½ dropped and with η left out is the same value: two candidates, no pattern
    result = s.check("w5+", f"{P.w['w5'] - P.g['w5']:.9f}")
    assert {"half-dropped", "no-learning-rate"} <= {f.id for f in result.findings}
    assert result.counted == []


def test_the_slope_forgotten_at_both_layers_is_one_pattern():
    s = session()
    state = progress.Progress("post")
    first = s.check("delta_o1", f"{P.dE_dout[0]:.9f}", state)
    state.note_wrong("delta_o1", first.typed.text, first.counted)
    second = s.check("delta_h1", f"{P.dE_dout_h1:.9f}", state)
    assert list(second.patterns) == ["slope-forgotten"]
    assert second.patterns["slope-forgotten"] == ["delta_o1", "delta_h1"]


# 5. carried errors -------------------------------------------------------------------------------------

def learner_with_wrong_net_h1():
    state = progress.Progress("post")
    state.wrong["net_h1"] = "0.0275"  # the bias left out
    return state


def test_a_carried_error_names_the_root():
    s = session()
    state = learner_with_wrong_net_h1()
    state.wrong["out_h1"] = f"{sigma(0.0275):.9f}"
    net_o1 = P.w["w5"] * sigma(0.0275) + P.w["w6"] * P.out_h[1] + P.b2
    result = s.check("net_o1", f"{net_o1:.9f}", state)
    assert [f.kind for f in result.findings] == ["carried"]
    assert "your net_h1, the first value that was off" in result.findings[0].text


def test_a_new_mistake_on_top_of_a_carried_value():
    s = session()
    state = learner_with_wrong_net_h1()
    value = math.exp(-0.0275)  # σ without 1/(1 + ·), on the learner's own net_h1
    result = s.check("out_h1", f"{value:.9f}", state)
    assert "no-reciprocal" in [f.id for f in result.findings]
    assert "this uses your net_h1, which was off" in result.findings[0].text


def test_a_value_still_using_a_corrected_one_says_so():
    s = session()
    state = learner_with_wrong_net_h1()
    state.records["net_h1"] = progress.Record(progress.RIGHT, s.trace["net_h1"])  # corrected since
    result = s.check("out_h1", f"{sigma(0.0275):.9f}", state)
    assert [f.id for f in result.findings] == ["stale"]
    assert "which you have since corrected" in result.findings[0].text


# typed numbers as a person means them -------------------------------------------------------------------

def test_an_integers_trailing_zeros_are_not_significant():
    assert answers.parse_number("2910").digits == 3
    assert answers.parse_number("2.910e3").digits == 4
    assert answers.judge(answers.parse_number("2910"), 2913.55, 1.0) == answers.RIGHT
    assert answers.judge(answers.parse_number("2.910e3"), 2913.55, 1.0) == answers.WRONG


@pytest.mark.parametrize("typed", ["0", "0.000", "-0", "1e40", "1e-40"])
def test_absurd_values_are_wrong(cli, typed):
    result = cli("check", "net_h1", typed)
    assert result.exit_code == 1, result.output


def test_a_lesson_value_of_exactly_zero_takes_zero():
    assert answers.judge(answers.parse_number("0.000"), 0.0, 0.0) == answers.RIGHT
    assert answers.judge(answers.parse_number("2.78e-17"), 0.0, 0.0) == answers.WRONG


def test_a_random_exercise_judges_its_updates_on_their_steps():
    from backprop_tutor.lesson import randomized

    lesson: Lesson = randomized(load(), 7)
    s = Session(lesson)
    for w in lesson.network.weights:
        before = s.trace[w]
        assert not s.check(f"{w}+", f"{before:.6g}").accepted


def test_a_corrected_value_is_remembered_across_sessions(cli):
    """net_h1 wrong, then right, in two `check` runs; a third run with an out_h1 from the old net_h1."""
    assert cli("check", "net_h1", "0.0275").exit_code == 1
    assert cli("check", "net_h1", "0.3775").exit_code == 0
    data = json.loads(cli("check", "out_h1", f"{sigma(0.0275):.9f}", "--json").stdout)
    assert [d["id"] for d in data["diagnosis"]] == ["stale"]


def test_a_slope_from_a_wrong_out_is_carried_not_a_new_mistake():
    """out_o2 typed as net_o2 (no squash); the slope out(1 − out) from that out follows from it."""
    s = session()
    state = walked_to(s, "out_o2")
    state.note_wrong("out_o2", f"{P.net_o[1]:.9f}", [])
    result = s.check("dout_o2/dnet_o2", f"{P.net_o[1] * (1 - P.net_o[1]):.9f}", state)
    assert [f.kind for f in result.findings] == ["carried"], result.findings


def after_update_without(weight):
    """E_total⁺ of the post by hand, with every weight updated except ``weight``."""
    p = Post()
    g = {"w5": p.delta_o[0] * p.out_h[0], "w6": p.delta_o[0] * p.out_h[1],
         "w7": p.delta_o[1] * p.out_h[0], "w8": p.delta_o[1] * p.out_h[1]}
    d_h = [(p.delta_o[0] * p.w["w5"] + p.delta_o[1] * p.w["w7"]) * p.slope_h[0],
           (p.delta_o[0] * p.w["w6"] + p.delta_o[1] * p.w["w8"]) * p.slope_h[1]]
    g |= {"w1": d_h[0] * p.i[0], "w2": d_h[0] * p.i[1], "w3": d_h[1] * p.i[0], "w4": d_h[1] * p.i[1]}
    w = {k: (v if k == weight else v - p.eta * g[k]) for k, v in p.w.items()}
    h = [sigma(w["w1"] * p.i[0] + w["w2"] * p.i[1] + p.b1), sigma(w["w3"] * p.i[0] + w["w4"] * p.i[1] + p.b1)]
    o = [sigma(w["w5"] * h[0] + w["w6"] * h[1] + p.b2), sigma(w["w7"] * h[0] + w["w8"] * h[1] + p.b2)]
    return sum(0.5 * (t - x) ** 2 for t, x in zip(p.t, o))


@pytest.mark.parametrize("weight", ["w5", "w7", "w8", "w1"])
def test_the_error_after_the_update_with_one_weight_not_updated_is_not_drift(weight):
    s = session()
    value = after_update_without(weight)
    assert abs(value - 0.291027774) > 5e-8  # it is another value (the post's E_total⁺ is 0.291027774)
    result = s.check("E_total+", f"{value:.9f}")
    assert not result.accepted, (weight, result.verdict)
    assert "one-not-updated" in [f.id for f in result.findings]


def test_the_neighbours_delta_in_a_three_factor_gradient_is_the_wrong_neuron():
    value = P.delta_o[1] * P.out_h[0]  # δ_o2 · out_h1 for ∂E/∂w5
    result = session().check("dE_total/dw5", f"{value:.9f}")
    assert [f.id for f in result.findings] == ["wrong-neuron"], result.findings

"""The derivations a learner writes (σ′ = out(1 − out), the square's 2·½(target − out)^(2−1)·(−1), tanh′,
ReLU′, softmax with cross-entropy): every line is true.

For every activation and loss the engine knows (``network.ACTIVATIONS``, ``network.LOSSES``: a new one is
tested as soon as it is registered), each line of its derivation equals the one before it (SymPy), the
first equals SymPy's own derivative of the function written here from its textbook definition, and the
last equals the engine's slope at many points. The screens show the lines, never the word "SymPy".
"""

from __future__ import annotations

import itertools
import random

import pytest
import sympy as sp

from backprop_tutor import calculus, derivations, symbolic
from backprop_tutor.checking import Session
from backprop_tutor.lesson import bundled_names, load
from backprop_tutor.network import ACTIVATIONS, LOSSES

NET, OUT = sp.Symbol("net"), sp.Symbol("out")
DEFINITIONS = {  # the textbook definitions, written here again: the oracle the first line is checked against
    "logistic": 1 / (1 + sp.exp(-NET)),
    "tanh": (sp.exp(NET) - sp.exp(-NET)) / (sp.exp(NET) + sp.exp(-NET)),
    "relu": sp.Piecewise((NET, NET > 0), (0, True)),
    "identity": NET,
}
POINTS = [-3.0, -0.7, -0.01, 0.0, 0.01, 0.3775, 1.1, 2.5]


def activation_steps(name: str) -> calculus.Steps:
    maker = calculus.ACTIVATION_STEPS.get(name)
    return maker(NET, OUT) if maker else calculus.generic_activation(DEFINITIONS[name], NET)


def consecutive_lines_are_equal(steps: calculus.Steps, first: sp.Expr) -> None:
    previous = first
    for k, line in enumerate(steps.lines):
        now = calculus.value(line.expr, steps.outputs)
        assert calculus.equal(previous, now), (k, line.why, previous, now)
        previous = now


@pytest.mark.parametrize("name", [a for a in ACTIVATIONS if a != "softmax"])
def test_every_line_of_an_activation_slope_is_true(name):
    steps = activation_steps(name)
    assert steps.lines, name
    consecutive_lines_are_equal(steps, sp.diff(DEFINITIONS[name], NET))
    assert calculus.activation_checked(name)
    # the last line, in out, is the engine's slope (out from the engine's own function)
    engine = ACTIVATIONS[name]
    last = steps.lines[-1].expr
    for x in POINTS:
        out = engine.f(x)
        shown = calculus.value(last, {}).xreplace({OUT: out, NET: x})
        assert float(shown) == pytest.approx(engine.slope(x, out), rel=1e-12, abs=1e-15), (name, x)


@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_a_squashing_slope_ends_in_the_output_alone(name):
    assert calculus.value(activation_steps(name).lines[-1].expr, {}).free_symbols == {OUT}


def test_relu_takes_the_slope_at_the_kink_as_the_engine_does():
    last = calculus.value(activation_steps("relu").lines[-1].expr, {})
    assert last.xreplace({NET: 0}) == 0 and ACTIVATIONS["relu"].slope(0.0, 0.0) == 0
    assert "kink" in activation_steps("relu").lines[-1].why


def test_a_wrong_line_is_caught():
    steps = activation_steps("logistic")
    wrong = calculus.Steps(steps.written, (*steps.lines[:-1], calculus.Line("", OUT * (1 + OUT))), steps.function,
                           steps.wrt, steps.outputs)
    assert not calculus.checked(wrong) and calculus.checked(steps)


LOSS_DEFINITIONS = {  # one output's error, again from the textbook
    "half-squared-error": lambda t, y: sp.Rational(1, 2) * (t - y) ** 2,
    "cross-entropy": lambda t, y: -t * sp.log(y),
    "binary-cross-entropy": lambda t, y: -(t * sp.log(y) + (1 - t) * sp.log(1 - y)),
}


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("n, o", [(1, 0), (2, 0), (2, 1), (3, 2)])
def test_every_line_of_a_loss_slope_is_true(name, n, o):
    targets = [sp.Symbol(f"t{k}") for k in range(n)]
    outs = [sp.Symbol(f"y{k}") for k in range(n)]
    maker = calculus.LOSS_STEPS.get(name)
    error = sp.Add(*(LOSS_DEFINITIONS[name](t, y) for t, y in zip(targets, outs)))
    steps = maker(targets, outs, o) if maker else calculus.generic_loss(
        [LOSS_DEFINITIONS[name](t, y) for t, y in zip(targets, outs)], outs, o)
    consecutive_lines_are_equal(steps, sp.diff(error, outs[o]))
    assert calculus.loss_checked(name, n, o) or maker is None
    rng = random.Random(15)
    for _ in range(8):
        t, y = rng.uniform(0.01, 0.99), rng.uniform(0.01, 0.99)
        value = calculus.value(steps.lines[-1].expr, {}).xreplace({targets[o]: t, outs[o]: y})
        assert float(value) == pytest.approx(LOSSES[name].slope(t, y), rel=1e-12)


def test_the_square_is_taken_as_the_post_takes_it():
    steps = calculus.half_squared_error([sp.Symbol("t")], [sp.Symbol("y")], 0)
    first = symbolic.plain(steps.lines[0].expr)
    assert first.startswith("2·1/2·(t - y)^2 - 1·(-1)") or "2 - 1" in first, first


@pytest.mark.parametrize("n", [2, 3])
def test_every_line_of_a_softmax_slope_is_true(n):
    nets = [sp.Symbol(f"net{k}") for k in range(n)]
    outs = [sp.Symbol(f"out{k}") for k in range(n)]
    exps = [sp.exp(x) for x in nets]
    for k in range(n):
        for j in range(n):
            steps = calculus.softmax(nets, outs, k, j)
            consecutive_lines_are_equal(steps, sp.diff(exps[k] / sp.Add(*exps), nets[j]))
            assert calculus.softmax_checked(n, k, j)


def test_softmax_with_cross_entropy_leaves_out_minus_target():
    session = Session(load("softmax-ce"))
    d = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue).derivation("delta_o1")
    why = next(b for b in d.blocks if b.heading == "Why the slope disappears")
    chain = why.equations[0]
    one_hot = {sp.Symbol("target_o2"): 1 - sp.Symbol("target_o1")}  # the targets add up to 1
    for a, b in itertools.pairwise(chain[1:]):
        assert sp.simplify((symbolic.math(a) - symbolic.math(b)).xreplace(one_hot)) == 0
    one = chain[-1]
    assert sp.expand(one - (sp.Symbol("out_o1") - sp.Symbol("target_o1"))) == 0


def drawn_text(name: str, qid: str) -> str:
    session = Session(load(name))
    d = derivations.Derivations(session.lesson, session.trace, session.catalogue).get(qid)
    return "\n".join(text for _, text in derivations.lines(d, unicode=True, width=100))


@pytest.mark.parametrize("name, qid", [("post", "dout_o1/dnet_o1"), ("post", "dout_h1/dnet_h1"),
                                       ("tanh-relu", "dout_o1/dnet_o1"), ("tanh-relu", "dout_h1/dnet_h1"),
                                       ("softmax-ce", "dout_o1/dnet_o1"), ("softmax-ce", "dout_o2/dnet_o1"),
                                       ("post", "dE_total/dout_o1"), ("softmax-ce", "dE_total/dout_o1")])
def test_explain_shows_the_steps_and_never_says_sympy(name, qid):
    session = Session(load(name))
    d = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue).derivation(qid)
    headings = [b.heading for b in d.blocks]
    assert "Derivative, step by step" in headings, headings
    steps = [b for b in d.blocks if b.heading in ("Derivative, step by step", "")]
    assert all(b.note for b in steps)  # every line has its reason
    assert "SymPy" not in drawn_text(name, qid)


def test_the_logistic_slope_reads_as_the_learner_writes_it():
    text = drawn_text("post", "dout_o1/dnet_o1")
    for reason in ("chain rule", "minus signs cancel", "two fractions", "1 minus the first", "out itself"):
        assert reason in text, reason
    assert "outₒ₁⋅(1 - outₒ₁) = 0.75136507⋅(1 - 0.75136507) = 0.186815602" in text  # the post's numbers


@pytest.mark.parametrize("name", bundled_names())
def test_no_derivation_of_a_bundled_lesson_says_sympy(name):
    session = Session(load(name))
    deriver = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue)
    for qid in symbolic.representatives(session.lesson.network, session.catalogue)[:400]:
        for _, text in symbolic.lines(deriver.derivation(qid)):
            assert "SymPy" not in text, (qid, text)

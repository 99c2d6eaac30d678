"""The symbolic layer against oracles that did not come from the engine: SymPy's own
differentiation of the whole E_total, central finite differences, and the post's printed numbers."""

import io
import re

import pytest
import sympy as sp
from rich.console import Console
from test_engine import SHAPES, finite_difference, random_network

from backprop_tutor import render, symbolic
from backprop_tutor.catalogue import build
from backprop_tutor.checking import Session
from backprop_tutor.lesson import load
from backprop_tutor.network import run

NETWORKS = [pytest.param(random_network(shape, seed, bias_mode=mode, train_biases=trained, activations=acts),
                         id=f"{'-'.join(map(str, shape))}-{mode}-{'trained' if trained else 'fixed'}-{seed}")
            for shape in SHAPES for seed, mode, trained, acts in [
                (1, "per-layer", True, None), (2, "per-neuron", True, None), (3, "per-layer", False, None),
                (4, "per-neuron", True, ("relu",) * (len(shape) - 2) + ("identity",))]]


@pytest.fixture(scope="module")
def post():
    return Session(load())


def test_sympy_gradients_of_the_post_match_the_engine_and_the_post(post):
    rows = symbolic.verify(post.lesson.network, post.trace)
    assert [r.name for r in rows] == [f"w{k}" for k in range(1, 9)]  # the post's biases are not trained
    printed = {"w1": 0.000438568, "w5": 0.082167041}  # the post's two worked gradients
    for r in rows:
        assert abs(float(r.sympy) - r.engine) <= 1e-12 * abs(float(r.sympy))
        if r.name in printed:
            assert round(float(r.sympy), 9) == printed[r.name]


@pytest.mark.parametrize("net", NETWORKS)
def test_sympy_gradients_equal_the_engine_and_finite_differences(net):
    trace = run(net)
    rows = symbolic.verify(net, trace)
    trained = net.layout.weight_names() + (net.layout.bias_names() if net.train_biases else [])
    assert [r.name for r in rows] == trained
    for r in rows:
        g = float(r.sympy)
        assert abs(g - r.engine) <= 1e-12 * abs(g) + 1e-300, r.name
        assert g == pytest.approx(finite_difference(net, r.name), rel=1e-5, abs=1e-8), r.name


def evaluate(expr, trace):
    """A form SymPy derived, with the engine's values of the quantities it is written in."""
    values = {symbolic.symbol(q): sp.Float(repr(v), 30) for q, v in trace.items()}
    return float(expr.xreplace(values).evalf(30))


def each_factor(net):
    trace, catalogue = run(net), build(net)
    deriver = symbolic.Deriver(net, trace, catalogue)
    for qid, q in catalogue.items():
        if not q.given:
            d = deriver.derivation(qid)
            for factor, form in d.factors:
                yield qid, factor, form, trace


@pytest.mark.parametrize("net", [pytest.param(load().network, id="post"), *NETWORKS])
def test_every_factor_sympy_derives_evaluates_to_the_engines_value(net):
    seen = set()
    for qid, factor, form, trace in each_factor(net):
        assert evaluate(form, trace) == pytest.approx(trace[factor], rel=1e-12, abs=1e-15), (qid, factor, form)
        seen.add(factor)
    kinds = {re.sub(r"_\w\d+", "_x", f) for f in seen}
    # every kind of factor is derived at least once: error slope, activation slope, net slope, paths
    assert {"dE_total/dout_x", "dout_x/dnet_x", "dnet_x/dw1"} <= {re.sub(r"dw\d+", "dw1", k) for k in kinds}


def test_factors_are_in_textbook_form(post):
    forms = {f: symbolic._plain(form) for _, f, form, _ in each_factor(post.lesson.network)}
    assert forms["dE_total/dout_o1"] == "-(target_o1 - out_o1)"
    assert forms["dout_o1/dnet_o1"] == "out_o1·(1 - out_o1)"
    assert forms["dout_h1/dnet_h1"] == "out_h1·(1 - out_h1)"
    assert forms["dnet_o1/dw5"] == "out_h1"
    assert forms["dnet_h1/dw1"] == "i1"
    assert forms["dnet_o2/dout_h1"] == "w7"  # the h1 → o2 weight by the post's numbering
    assert forms["dE_total/dout_h1"] == "δ_o1·w5 + δ_o2·w7"


def test_tanh_relu_identity_slopes():
    net = random_network((2, 2, 2, 1), 5, activations=("tanh", "relu", "identity"))
    model = symbolic.Model(net)
    assert symbolic._plain(model.activation_slope("h1")) == "1 - out_h1^2"
    assert "Piecewise((1, net_j1 > 0), (0, True))" == symbolic._plain(model.activation_slope("j1"))
    assert symbolic._plain(model.activation_slope("o1")) == "1"


class AsciiFile(io.StringIO):
    encoding = "ascii"


def shown(session, name, ascii=False, width=80):
    console = Console(record=True, width=width, color_system=None, file=AsciiFile() if ascii else io.StringIO())
    qid = session.resolver.resolve(name).id
    render.derivation(console, session.lesson, symbolic.derive(session.lesson.network, session.trace,
                                                               session.catalogue, qid), [])
    return "\n".join(line.rstrip() for line in console.export_text().split("\n")).rstrip("\n") + "\n"


OUT_H1 = """\
out_h1: output of h1: its net input through the logistic function
Forward pass · lesson post

Definition
The logistic function σ squashes any net input into the range 0 to 1.
                          1             1
  outₕ₁ = σ(netₕ₁) = ─────────── = ──────────── = 0.593269992
                          -netₕ₁        -0.3775
                     1 + ℯ         1 + ℯ

Full precision: out_h1 = 0.593269992107187
"""


OUT_H1_ASCII = """\
out_h1: output of h1: its net input through the logistic function
Forward pass * lesson post

Definition
The logistic function sigma squashes any net input into the range 0 to 1.
                                1              1
  out_h1 = sigma(net_h1) = ------------ = ------------ = 0.593269992
                                -net_h1        -0.3775
                           1 + e          1 + e

Full precision: out_h1 = 0.593269992107187
"""


DW5 = """\
∂E_total/∂w5: gradient of the total error with respect to w5
Backward pass: output layer · lesson post

Chain rule
w5 changes the error only through net_o1, then out_o1 (o1 is in the output
layer): multiply the slopes along the way.
  ∂Eₜₒₜₐₗ   ∂Eₜₒₜₐₗ ∂outₒ₁ ∂netₒ₁
  ─────── = ───────⋅──────⋅──────
    ∂w₅     ∂outₒ₁  ∂netₒ₁  ∂w₅

Each factor
Each one differentiated from the definitions:
  ∂Eₜₒₜₐₗ
  ─────── = -(targetₒ₁ - outₒ₁) = -(0.01 - 0.75136507) = 0.74136507
  ∂outₒ₁
  ∂outₒ₁
  ────── = outₒ₁⋅(1 - outₒ₁) = 0.75136507⋅(1 - 0.75136507) = 0.186815602
  ∂netₒ₁
  ∂netₒ₁
  ────── = outₕ₁ = 0.593269992
   ∂w₅

δ form
The first two factors are δ_o1, the error signal of o1:
  ∂Eₜₒₜₐₗ
  ─────── = δₒ₁⋅outₕ₁
    ∂w₅

Numbers
  ∂Eₜₒₜₐₗ   ∂Eₜₒₜₐₗ ∂outₒ₁ ∂netₒ₁
  ─────── = ───────⋅──────⋅────── = 0.74136507⋅0.186815602⋅0.593269992
    ∂w₅     ∂outₒ₁  ∂netₒ₁  ∂w₅
          = 0.082167041

Full precision: ∂E_total/∂w5 = 0.0821670405642308
"""


DW5_ASCII = """\
dE_total/dw5: gradient of the total error with respect to w5
Backward pass: output layer * lesson post

Chain rule
w5 changes the error only through net_o1, then out_o1 (o1 is in the output
layer): multiply the slopes along the way.
  dE_total   dE_total dout_o1 dnet_o1
  -------- = --------*-------*-------
    dw5      dout_o1  dnet_o1   dw5

Each factor
Each one differentiated from the definitions:
  dE_total
  -------- = -(target_o1 - out_o1) = -(0.01 - 0.75136507) = 0.74136507
  dout_o1
  dout_o1
  ------- = out_o1*(1 - out_o1) = 0.75136507*(1 - 0.75136507) = 0.186815602
  dnet_o1
  dnet_o1
  ------- = out_h1 = 0.593269992
    dw5

delta form
The first two factors are delta_o1, the error signal of o1:
  dE_total
  -------- = delta_o1*out_h1
    dw5

Numbers
  dE_total   dE_total dout_o1 dnet_o1
  -------- = --------*-------*------- = 0.74136507*0.186815602*0.593269992
    dw5      dout_o1  dnet_o1   dw5
           = 0.082167041

Full precision: dE_total/dw5 = 0.0821670405642308
"""


DW1 = """\
∂E_total/∂w1: gradient of the total error with respect to w1
Backward pass: hidden layer · lesson post

Chain rule
w1 changes the error only through net_h1, then out_h1 (h1 is in a hidden layer):
multiply the slopes along the way.
  ∂Eₜₒₜₐₗ   ∂Eₜₒₜₐₗ ∂outₕ₁ ∂netₕ₁
  ─────── = ───────⋅──────⋅──────
    ∂w₁     ∂outₕ₁  ∂netₕ₁  ∂w₁

Each factor
Each one differentiated from the definitions. The first is a sum: out_h1 reaches
the error through every neuron it feeds, and each path is that neuron's δ times
the weight on the connection:
  ∂Eₜₒₜₐₗ    ∂Eₒ₁     ∂Eₒ₂
  ─────── = ────── + ────── = δₒ₁⋅w₅ + δₒ₂⋅w₇
  ∂outₕ₁    ∂outₕ₁   ∂outₕ₁
          = 0.138498562⋅0.4 + (-0.038098237)⋅0.5 = 0.036350306
   ∂Eₒ₁     ∂Eₒ₁  ∂netₒ₁
  ────── = ──────⋅────── = δₒ₁⋅w₅ = 0.138498562⋅0.4 = 0.055399425
  ∂outₕ₁   ∂netₒ₁ ∂outₕ₁
   ∂Eₒ₂     ∂Eₒ₂  ∂netₒ₂
  ────── = ──────⋅────── = δₒ₂⋅w₇ = (-0.038098237)⋅0.5 = -0.019049118
  ∂outₕ₁   ∂netₒ₂ ∂outₕ₁
  ∂outₕ₁
  ────── = outₕ₁⋅(1 - outₕ₁) = 0.593269992⋅(1 - 0.593269992) = 0.241300709
  ∂netₕ₁
  ∂netₕ₁
  ────── = i₁ = 0.05
   ∂w₁

δ form
The first two factors are δ_h1, the error signal of h1:
  ∂Eₜₒₜₐₗ
  ─────── = δₕ₁⋅i₁ = (δₒ₁⋅w₅ + δₒ₂⋅w₇)⋅outₕ₁⋅(1 - outₕ₁)⋅i₁
    ∂w₁

Numbers
  ∂Eₜₒₜₐₗ   ∂Eₜₒₜₐₗ ∂outₕ₁ ∂netₕ₁
  ─────── = ───────⋅──────⋅────── = 0.036350306⋅0.241300709⋅0.05 = 0.000438568
    ∂w₁     ∂outₕ₁  ∂netₕ₁  ∂w₁

Full precision: ∂E_total/∂w1 = 0.000438567734474347
"""


DW1_ASCII = """\
dE_total/dw1: gradient of the total error with respect to w1
Backward pass: hidden layer * lesson post

Chain rule
w1 changes the error only through net_h1, then out_h1 (h1 is in a hidden layer):
multiply the slopes along the way.
  dE_total   dE_total dout_h1 dnet_h1
  -------- = --------*-------*-------
    dw1      dout_h1  dnet_h1   dw1

Each factor
Each one differentiated from the definitions. The first is a sum: out_h1 reaches
the error through every neuron it feeds, and each path is that neuron's delta
times the weight on the connection:
  dE_total    dE_o1     dE_o2
  -------- = ------- + ------- = delta_o1*w5 + delta_o2*w7
  dout_h1    dout_h1   dout_h1
           = 0.138498562*0.4 + (-0.038098237)*0.5 = 0.036350306
   dE_o1     dE_o1  dnet_o1
  ------- = -------*------- = delta_o1*w5 = 0.138498562*0.4 = 0.055399425
  dout_h1   dnet_o1 dout_h1
   dE_o2     dE_o2  dnet_o2
  ------- = -------*------- = delta_o2*w7 = (-0.038098237)*0.5 = -0.019049118
  dout_h1   dnet_o2 dout_h1
  dout_h1
  ------- = out_h1*(1 - out_h1) = 0.593269992*(1 - 0.593269992) = 0.241300709
  dnet_h1
  dnet_h1
  ------- = i1 = 0.05
    dw1

delta form
The first two factors are delta_h1, the error signal of h1:
  dE_total
  -------- = delta_h1*i1 = (delta_o1*w5 + delta_o2*w7)*out_h1*(1 - out_h1)*i1
    dw1

Numbers
  dE_total   dE_total dout_h1 dnet_h1
  -------- = --------*-------*------- = 0.036350306*0.241300709*0.05
    dw1      dout_h1  dnet_h1   dw1
           = 0.000438568

Full precision: dE_total/dw1 = 0.000438567734474347
"""



@pytest.mark.parametrize(("name", "ascii", "expected"), [
    ("out_h1", False, OUT_H1), ("out_h1", True, OUT_H1_ASCII),
    ("dE/dw5", False, DW5), ("dE/dw5", True, DW5_ASCII),
    ("dE/dw1", False, DW1), ("dE/dw1", True, DW1_ASCII),
])
def test_derivations_read_exactly_so(post, name, ascii, expected):
    text = shown(post, name, ascii)
    assert text == expected
    if ascii:
        assert text.isascii()


def test_narrow_terminals_get_one_line_forms_that_fit(post):
    text = shown(post, "dE/dw1", width=40)
    assert all(len(line) <= 40 for line in text.split("\n"))
    assert "= 0.000438568" in text


def latex_is_balanced(tex):
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    return depth == 0 and tex.count(r"\left") == tex.count(r"\right")


@pytest.mark.parametrize("qid", ["out_h1", "dE_total/dw5", "dE_total/dw1", "dE_total/dout_h1", "w5+", "E_total"])
def test_latex_is_math_that_compiles(post, qid):
    tex = symbolic.latex(symbolic.derive(post.lesson.network, post.trace, post.catalogue, qid))
    assert tex.startswith(r"\begin{align*}") and tex.endswith(r"\end{align*}")
    assert latex_is_balanced(tex)
    body = tex.split("\n", 1)[1].rsplit("\n", 1)[0]
    assert "\\begin" not in body and "$" not in body
    commands = set(re.findall(r"\\[a-zA-Z]+", body))
    assert commands <= {r"\frac", r"\partial", r"\cdot", r"\sigma", r"\left", r"\right", r"\delta", r"\eta"}
    if qid.startswith("dE"):
        assert r"\frac{\partial E_{total}}{\partial " in tex


def test_latex_of_the_hidden_gradient(post):
    tex = symbolic.latex(symbolic.derive(post.lesson.network, post.trace, post.catalogue, "dE_total/dw1"))
    assert (r"\frac{\partial E_{total}}{\partial w_{1}} &= \frac{\partial E_{total}}{\partial out_{h1}} \cdot "
            r"\frac{\partial out_{h1}}{\partial net_{h1}} \cdot \frac{\partial net_{h1}}{\partial w_{1}}") in tex
    assert r"&= 0.000438568" in tex

"""Binary cross-entropy with logistic outputs. Oracles written here, independent of the engine: a forward
pass in mpmath at 60 digits and its central differences, SymPy's own differentiation of E_total built
here from the definitions, and SymPy's proof that δ_o = out_o − target_o."""

import random
from decimal import Decimal, localcontext

import mpmath
import pytest
import sympy as sp

from backprop_tutor import symbolic
from backprop_tutor.checking import Session
from backprop_tutor.export_code import program
from backprop_tutor.lesson import bundled_dir, load, randomized
from backprop_tutor.names import Layout
from backprop_tutor.network import Network, exact_trace

BCE = "binary-cross-entropy"


def mp_error(net, values):
    """E_total at 60 digits: the forward pass from the layout's numbering, the loss from its definition."""
    L, total = net.layout, mpmath.mpf(0)
    for x, y in net.samples:
        outs = [mpmath.mpf(repr(v)) for v in x]
        for l in range(L.depth):
            nets = [sum(values[L.weights[l][r][s]] * outs[s] for s in range(len(outs))) + values[L.biases[l][r]]
                    for r in range(L.sizes[l + 1])]
            f = {"logistic": lambda v: 1 / (1 + mpmath.exp(-v)), "tanh": mpmath.tanh}[net.activations[l]]
            outs = [f(v) for v in nets]
        for t, o in zip(y, outs):
            t = mpmath.mpf(repr(t))
            total += -(t * mpmath.log(o) + (1 - t) * mpmath.log(1 - o))
    return total / len(net.samples) if net.batch == "mean" and net.extra else total


def random_bce(seed):
    rng = random.Random(seed)
    shape = [rng.randint(1, 3) for _ in range(rng.randint(3, 4))]
    layout = Layout(tuple(shape), rng.choice(["by-receiver", "by-sender"]), rng.choice(["per-layer", "per-neuron"]))
    samples = [(tuple(round(rng.uniform(-1, 1), 2) for _ in range(shape[0])),
                tuple(rng.choice([0.0, 1.0, round(rng.uniform(0.01, 0.99), 2)]) for _ in range(shape[-1])))
               for _ in range(rng.choice([1, 2]))]
    acts = (*(rng.choice(["logistic", "tanh"]) for _ in shape[1:-1]), "logistic")
    return Network(layout, {w: round(rng.uniform(-0.9, 0.9), 2) for w in layout.weight_names()},
                   {b: round(rng.uniform(-0.5, 0.5), 2) for b in layout.bias_names()}, acts, BCE,
                   samples[0][0], samples[0][1], 0.5, True, tuple(samples[1:]), rng.choice(["sum", "mean"]))


NETS = [pytest.param(load("post-bce").network, id="post-bce"),
        *(pytest.param(random_bce(seed), id=f"random-{seed}") for seed in range(4))]


@pytest.mark.parametrize("net", NETS)
def test_gradients_agree_with_60_digit_central_differences(net):
    exact = exact_trace(net)
    with mpmath.workdps(60):
        values = {k: mpmath.mpf(repr(v)) for k, v in (net.weights | net.biases).items()}
        h = mpmath.mpf("1e-18")  # the central difference's error is O(h²): about 1e-36 of the gradient
        for p in list(net.weights) + (list(net.biases) if net.train_biases else []):
            up, down = dict(values), dict(values)
            up[p] += h
            down[p] -= h
            difference = (mp_error(net, up) - mp_error(net, down)) / (2 * h)
            engine = mpmath.mpf(str(exact[f"dE_total/d{p}"]))
            assert abs(engine - difference) <= mpmath.mpf("1e-30") * max(1, abs(difference)), p
        assert abs(mpmath.mpf(str(exact["E_total"])) - mp_error(net, values)) <= mpmath.mpf("1e-45")


def test_gradients_agree_with_sympys_own_differentiation():
    """E_total of post-bce built here in SymPy; its derivative by each weight, at 40 digits."""
    net = load("post-bce").network
    w = sp.symbols("w1:9")
    i1, i2, b1, b2 = sp.Rational(5, 100), sp.Rational(1, 10), sp.Rational(35, 100), sp.Rational(6, 10)

    def s(x):
        return 1 / (1 + sp.exp(-x))

    h1, h2 = s(w[0] * i1 + w[1] * i2 + b1), s(w[2] * i1 + w[3] * i2 + b1)
    o1, o2 = s(w[4] * h1 + w[5] * h2 + b2), s(w[6] * h1 + w[7] * h2 + b2)
    pairs = ((sp.Rational(1, 100), o1), (sp.Rational(99, 100), o2))
    E = sum(-(t * sp.log(o) + (1 - t) * sp.log(1 - o)) for t, o in pairs)
    at = {w[k]: sp.Rational(repr(v)) for k, v in enumerate(net.weights.values())}
    exact = exact_trace(net)
    for k in range(8):
        g = sp.diff(E, w[k]).subs(at).evalf(45)
        assert abs(g - sp.Float(str(exact[f"dE_total/dw{k + 1}"]), 45)) < sp.Float("1e-40"), k + 1


def test_delta_is_out_minus_target_proven_by_sympy():
    t, net_o = sp.symbols("t net_o", real=True)
    out = 1 / (1 + sp.exp(-net_o))
    E = -(t * sp.log(out) + (1 - t) * sp.log(1 - out))
    assert sp.simplify(sp.diff(E, net_o) - (out - t)) == 0  # ∂E/∂net_o, differentiated through σ
    o = sp.Symbol("o", positive=True)
    slope = sp.diff(-(t * sp.log(o) + (1 - t) * sp.log(1 - o)), o)
    assert sp.simplify(slope - (o - t) / (o * (1 - o))) == 0  # the slope has σ′ = o(1 − o) as its denominator
    assert sp.simplify(slope * o * (1 - o) - (o - t)) == 0  # … which cancels


def test_the_tutors_derivation_shows_the_cancellation():
    session = Session(load("post-bce"))
    model = symbolic.Model(session.lesson.network)
    derived, textbook = model.loss_slope("o1")
    assert symbolic.same(derived, textbook)
    product, _, left = symbolic.cancelled_delta(textbook, model.activation_slope("o1"))
    assert sp.simplify(left - (sp.Symbol("out_o1") - sp.Symbol("target_o1"))) == 0
    assert sp.simplify(product - left) == 0
    deriver = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue)
    headings = [b.heading for b in deriver.derivation("delta_o1").blocks]
    assert "Why the slope cancels" in headings
    assert "Why the slope cancels" not in [b.heading for b in deriver.derivation("delta_h1").blocks]
    post = Session(load("post"))
    plain = symbolic.Deriver(post.lesson.network, post.trace, post.catalogue).derivation("delta_o1")
    assert "Why the slope cancels" not in [b.heading for b in plain.blocks]


def test_delta_is_out_minus_target_in_the_trace():
    exact = exact_trace(load("post-bce").network)
    with localcontext(prec=60):
        for o in ("o1", "o2"):
            assert abs(exact[f"delta_{o}"] - (exact[f"out_{o}"] - exact[f"target_{o}"])) < Decimal("1e-48")


def test_formulas_of_the_cancellation_are_judged_symbolically():
    s = Session(load("post-bce"))
    right = s.check_formula("delta_o1", "out_o1 - target_o1")
    assert right.accepted and right.how == "symbolic"
    slope = s.check_formula("dE/dout_o1", "(out_o1 - target_o1)/(out_o1*(1 - out_o1))")
    assert slope.accepted and slope.how == "symbolic"
    assert not s.check_formula("delta_o1", "(out_o1 - target_o1)*out_o1*(1 - out_o1)").accepted


@pytest.mark.parametrize(("change", "says"), [
    ('activation = "logistic"', 'activation = ["logistic", "tanh"]'),
    ("targets = [0.01, 0.99]", "targets = [0.01, 1.5]"),
    ("targets = [0.01, 0.99]", "targets = [-0.01, 0.99]"),
])
def test_binary_cross_entropy_needs_logistic_outputs_and_targets_from_0_to_1(cli, write_lesson, change, says):
    text = (bundled_dir() / "post-bce.toml").read_text(encoding="utf-8")
    assert change in text
    result = cli("lesson-check", write_lesson(text.replace(change, says)))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ("logistic" in result.output) if "tanh" in says else ("from 0 to 1" in result.output)
    assert len(result.output.strip().splitlines()) == 1


def test_fresh_numbers_keep_the_loss_and_probabilities():
    for seed in range(5):
        net = randomized(load("post-bce"), seed).network
        assert net.loss == BCE and all(0 < t < 1 for t in net.targets)
        exact = exact_trace(net)
        with localcontext(prec=60):
            assert abs(exact["delta_o1"] - (exact["out_o1"] - exact["target_o1"])) < Decimal("1e-48")


def test_the_exported_programs_use_the_matching_loss():
    net = load("post-bce").network
    torch = program("post-bce", net, "pytorch")
    assert "torch.nn.functional.binary_cross_entropy(a, y, reduction='sum')" in torch
    numpy = program("post-bce", net, "numpy")
    assert "np.log1p(-a[-1])" in numpy and "delta = a[-1] - y" in numpy


def test_training_lowers_the_binary_cross_entropy(cli):
    import json

    data = json.loads(cli("train", "--lesson", "post-bce", "-n", "200", "--json").stdout)
    exact = exact_trace(load("post-bce").network)
    assert data["initial_error"] == pytest.approx(float(exact["E_total"]), rel=1e-12)
    assert data["error"] < data["initial_error"] / 3

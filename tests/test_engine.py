"""The engine against oracles that did not come from it: central finite differences of an
independent forward pass written here, the post's numbering, and the reference's errata."""

import math
import random

import pytest

from backprop_tutor.lesson import load
from backprop_tutor.names import Layout
from backprop_tutor.network import Network, run
from backprop_tutor.training import train

SHAPES = [(2, 2, 2), (3, 4, 2), (2, 3, 3, 1), (1, 1), (2, 3, 2, 2, 1)]
ACT = {
    "logistic": lambda x: 1 / (1 + math.exp(-x)),
    "tanh": math.tanh,
    "identity": lambda x: x,
    "relu": lambda x: max(0.0, x),
}


def independent_error(layout, weights, biases, activations, x, y, loss="half-squared-error"):
    """E_total by a forward pass that knows only the layout's numbering, not the engine."""
    outs = list(x)
    for l in range(layout.depth):
        nets = [sum(weights[layout.weights[l][r][s]] * outs[s] for s in range(len(outs)))
                + biases[layout.biases[l][r]] for r in range(layout.sizes[l + 1])]
        if activations[l] == "softmax":
            exps = [math.exp(n) for n in nets]
            outs = [e / sum(exps) for e in exps]
        else:
            outs = [ACT[activations[l]](n) for n in nets]
    if loss == "cross-entropy":
        return sum(-t * math.log(o) for t, o in zip(y, outs) if t)
    if loss == "binary-cross-entropy":
        return sum(-t * math.log(o) - (1 - t) * math.log(1 - o) for t, o in zip(y, outs))
    return sum(0.5 * (t - o) ** 2 for t, o in zip(y, outs))


def random_network(shape, seed, *, numbering="by-receiver", bias_mode="per-layer", activations=None,
                   train_biases=True):
    rng = random.Random(seed)
    layout = Layout(shape, numbering, bias_mode)
    acts = activations or tuple(rng.choice(["logistic", "tanh"]) for _ in range(layout.depth))
    return Network(layout,
                   {w: rng.uniform(-1, 1) for w in layout.weight_names()},
                   {b: rng.uniform(-1, 1) for b in layout.bias_names()},
                   acts, "half-squared-error",
                   tuple(rng.uniform(-1, 1) for _ in range(shape[0])),
                   tuple(rng.uniform(0.05, 0.95) for _ in range(shape[-1])),
                   rng.choice([0.1, 0.5, 1.0]), train_biases)


def finite_difference(net, name, h=1e-6):
    def e(delta):
        changed = net.with_values(**{name: (net.weights | net.biases)[name] + delta})
        errors = [independent_error(changed.layout, changed.weights, changed.biases, changed.activations, x, y,
                                    changed.loss) for x, y in changed.samples]
        return sum(errors) / (len(errors) if changed.batch == "mean" else 1)
    return (e(h) - e(-h)) / (2 * h)


CASES = [(shape, seed, numbering, bias_mode)
         for shape in SHAPES for seed in (1, 2)
         for numbering, bias_mode in [("by-receiver", "per-layer"), ("by-sender", "per-neuron")]]


@pytest.mark.parametrize(("shape", "seed", "numbering", "bias_mode"), CASES)
def test_gradients_match_central_finite_differences(shape, seed, numbering, bias_mode):
    net = random_network(shape, seed, numbering=numbering, bias_mode=bias_mode)
    t = run(net)
    assert t["E_total"] == pytest.approx(
        independent_error(net.layout, net.weights, net.biases, net.activations, net.inputs, net.targets),
        rel=1e-12)
    for name in [*net.layout.weight_names(), *net.layout.bias_names()]:
        assert t[f"dE_total/d{name}"] == pytest.approx(finite_difference(net, name), rel=1e-6, abs=1e-9), name
        assert t[f"{name}+"] == pytest.approx(t[name] - net.learning_rate * t[f"dE_total/d{name}"], rel=1e-15)


@pytest.mark.parametrize("shape", SHAPES)
def test_error_after_the_update_is_the_forward_pass_of_the_updated_weights(shape):
    net = random_network(shape, 7)
    t = run(net)
    updated = net.with_values(**{n: t[n + "+"] for n in [*net.weights, *net.biases]})
    assert t["E_total+"] == pytest.approx(
        independent_error(updated.layout, updated.weights, updated.biases, updated.activations,
                          updated.inputs, updated.targets), rel=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_training_takes_the_same_step_as_the_named_trace(shape):
    for train_biases in (True, False):
        net = random_network(shape, 3, train_biases=train_biases)
        t, one = run(net), train(net, 1)
        for name, value in (one.network.weights | one.network.biases).items():
            expected = t.get(name + "+", t[name])
            assert value == pytest.approx(expected, rel=1e-12, abs=1e-15), name
        assert one.error == pytest.approx(t["E_total+"], rel=1e-12)


def test_relu_and_identity_gradients_match_finite_differences():
    net = random_network((2, 3, 2), 11, activations=("relu", "identity"))
    t = run(net)
    for name in net.layout.weight_names():
        assert t[f"dE_total/d{name}"] == pytest.approx(finite_difference(net, name), rel=1e-6, abs=1e-9)


def test_biases_stay_fixed_unless_the_lesson_trains_them():
    t = run(load().network)
    assert "b1+" not in t and "dE_total/db1" not in t
    fixed = run(random_network((2, 2, 2), 5, train_biases=False))
    assert "b2+" not in fixed


def test_shared_bias_gradients_of_the_post_when_trained():
    post = load().network
    trained = Network(post.layout, post.weights, post.biases, post.activations, post.loss, post.inputs,
                      post.targets, post.learning_rate, train_biases=True)
    t = run(trained)
    assert t["dE_total/db1"] == pytest.approx(0.0187256093947041, rel=1e-12)
    assert t["dE_total/db2"] == pytest.approx(0.100400325112001, rel=1e-12)


def test_the_posts_weight_numbering():
    w = Layout((2, 2, 2)).weights
    assert w[0] == (("w1", "w2"), ("w3", "w4"))  # h1 <- w1·i1 + w2·i2, h2 <- w3·i1 + w4·i2
    assert w[1] == (("w5", "w6"), ("w7", "w8"))  # o1 <- w5·out_h1 + w6·out_h2, o2 <- w7, w8
    by_sender = Layout((2, 2, 2), "by-sender").weights
    assert by_sender[0] == (("w1", "w3"), ("w2", "w4"))


def test_deeper_networks_are_named_h_then_j():
    layout = Layout((2, 3, 3, 1))
    assert layout.neurons == (("i1", "i2"), ("h1", "h2", "h3"), ("j1", "j2", "j3"), ("o1",))
    assert layout.weight_count == 6 + 9 + 3
    t = run(random_network((2, 3, 3, 1), 1))
    assert "dE_via_j2/dout_h1" in t and "delta_j3" in t and "dE_o1/dout_j1" in t


def test_the_posts_erratum_after_one_update():
    post = load().network
    assert run(post)["E_total+"] == pytest.approx(0.291027773693599, rel=1e-12)
    # the post's 0.291027924 comes from back-propagating through the updated weights
    assert round(run(post, backprop_through_updated=True)["E_total+"], 9) == 0.291027924


def test_ten_thousand_updates_and_the_posts_figures():
    post = load().network
    trained = train(post, 10_000)
    assert trained.error == pytest.approx(3.51018778297885e-5, rel=1e-9)
    assert trained.outputs == pytest.approx((0.0159136204435506, 0.984064273514624), rel=1e-9)
    assert trained.previous_error == pytest.approx(3.51085481225128e-5, rel=1e-9)
    published = train(post, 10_000, backprop_through_updated=True)
    assert published.outputs == pytest.approx((0.0159121963260345, 0.984065734485629), rel=1e-9)
    assert published.error == pytest.approx(3.50847862963135e-5, rel=1e-9)


def test_the_logistic_function_does_not_overflow():
    from backprop_tutor.network import ACTIVATIONS

    f = ACTIVATIONS["logistic"].f
    assert f(-1000) == 0.0 and f(1000) == 1.0 and f(0) == 0.5

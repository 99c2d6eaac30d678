"""The catalogue of quantities: the names people type, symbols, and agreement with the engine."""

import pytest
from test_engine import SHAPES, random_network

from backprop_tutor.catalogue import Resolver, build, describe_formula
from backprop_tutor.errors import GivenQuantity, UnknownQuantity
from backprop_tutor.lesson import load
from backprop_tutor.network import run


@pytest.fixture(scope="module")
def post():
    net = load().network
    return build(net), Resolver(build(net)), run(net)


@pytest.mark.parametrize(("typed", "canonical"), [
    ("w5", "w5+"), ("w5+", "w5+"), ("w5⁺", "w5+"), ("w5_new", "w5+"), ("W5_NEW", "w5+"),
    ("dE/dw5", "dE_total/dw5"), ("dEtotal/dw5", "dE_total/dw5"), ("∂E/∂w5", "dE_total/dw5"),
    ("∂E_total/∂w5", "dE_total/dw5"), ("grad_w5", "dE_total/dw5"), ("d E_total / d w5", "dE_total/dw5"),
    ("delta_o1", "delta_o1"), ("δo1", "delta_o1"), ("δ_o1", "delta_o1"), ("dE_o1/dnet_o1", "delta_o1"),
    ("dE_total/dnet_o1", "delta_o1"),
    ("out_h1", "out_h1"), ("outh1", "out_h1"), ("OUT_H1", "out_h1"),
    ("E_total", "E_total"), ("Etotal", "E_total"), ("e_total", "E_total"),
    ("dE_o2/dout_h1", "dE_o2/dout_h1"), ("dnet_o1/dout_h1", "dnet_o1/dout_h1"),
    ("dout_h1/dnet_h1", "dout_h1/dnet_h1"), ("E_total+", "E_total+"), ("E_total_new", "E_total+"),
    ("dE_o1/dout_o1", "dE_total/dout_o1"), ("dE/dout_o1", "dE_total/dout_o1"),
    ("E_o2", "E_o2"), ("net_o2", "net_o2"), ("out_o1+", "out_o1+"),
])
def test_forgiving_names(post, typed, canonical):
    _, resolver, _ = post
    assert resolver.resolve(typed).id == canonical


def test_unknown_names_get_the_closest_suggestions(post):
    _, resolver, _ = post
    with pytest.raises(UnknownQuantity) as e:
        resolver.resolve("dE/dw9")
    assert e.value.suggestions and all(s.startswith("dE_total/dw") for s in e.value.suggestions)
    with pytest.raises(UnknownQuantity) as e:
        resolver.resolve("outh7")
    assert any(s.startswith("out_h") for s in e.value.suggestions)
    with pytest.raises(UnknownQuantity) as e:
        resolver.resolve("zzzzzzzz")
    assert e.value.suggestions == []


def test_given_values_are_not_checked(post):
    _, resolver, _ = post
    for name in ("i1", "target_o1", "b1", "eta"):
        with pytest.raises(GivenQuantity):
            resolver.resolve(name)


@pytest.mark.parametrize("shape", SHAPES)
def test_catalogue_and_trace_name_the_same_quantities(shape):
    for train_biases in (False, True):
        net = random_network(shape, 2, train_biases=train_biases)
        assert list(build(net)) == list(run(net))


@pytest.mark.parametrize("shape", SHAPES)
def test_every_alias_resolves_to_its_own_quantity(shape):
    net = random_network(shape, 4)
    cat = build(net)
    resolver = Resolver(cat)
    for qid, q in cat.items():
        if not q.given:
            assert resolver.resolve(qid).id == qid
        for alias in q.aliases:
            assert resolver.resolve(alias).id == qid, (alias, qid)


def test_formulas_name_the_posts_factors(post):
    cat, _, trace = post
    assert describe_formula(cat["net_h1"]) == "w1·i1 + w2·i2 + b1·1"
    assert describe_formula(cat["net_o1"]) == "w5·out_h1 + w6·out_h2 + b2·1"
    assert describe_formula(cat["dE_total/dw5"]) == "∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5"
    assert describe_formula(cat["dE_total/dout_h1"]) == "∂E_o1/∂out_h1 + ∂E_o2/∂out_h1"
    assert describe_formula(cat["w1+"]) == "w1 − η · ∂E_total/∂w1"
    assert describe_formula(cat["dE_total/dw5"], trace) == "0.74136507 · 0.186815602 · 0.593269992"
    assert describe_formula(cat["E_o1"], trace) == "½(0.01 − 0.75136507)²"


@pytest.mark.parametrize("shape", SHAPES)
def test_formula_dependencies_come_before_the_quantity(shape):
    net = random_network(shape, 9)
    cat = build(net)
    order = {qid: k for k, qid in enumerate(cat)}
    for qid, q in cat.items():
        for dep in q.deps:
            assert order[dep] < order[qid], (qid, dep)

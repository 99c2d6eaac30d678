"""Big lessons: the reference gradients of `verify` against oracles that did not come from them or the
engine (SymPy's differentiation of the whole composed E_total, central finite differences), and the
parts that make big lessons fast doing exactly what the slow ways did."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp
from biglesson import write
from test_engine import finite_difference, random_network

from backprop_tutor import symbolic
from backprop_tutor.catalogue import build
from backprop_tutor.checking import Session
from backprop_tutor.lesson import bundled_names, load
from backprop_tutor.network import run

SMALL = [
    pytest.param(random_network((2, 3, 2), 1), id="2-3-2"),
    pytest.param(random_network((3, 2, 2, 2), 2, bias_mode="per-neuron"), id="3-2-2-2-per-neuron"),
    pytest.param(random_network((2, 3, 1), 3, numbering="by-sender", activations=("relu", "identity")),
                 id="relu-identity"),
    pytest.param(load("softmax-ce").network, id="softmax-ce"),
    pytest.param(load("xor").network, id="xor-4-samples"),
    pytest.param(dataclasses.replace(load("xor").network, batch="mean"), id="xor-mean"),
]


@pytest.mark.parametrize("net", SMALL)
def test_reverse_mode_equals_sympys_derivative_of_the_whole_composed_error(net):
    reference = symbolic.reference_gradients(net)
    composed = symbolic.composed_gradients(net)
    assert set(reference) == set(composed)
    for p, g in composed.items():
        # (1e-30 absolute: an exact 0, Σ(out − target) of softmax outputs, is a 40-digit residue here)
        assert abs(float(reference[p] - sp.Float(g, 30).evalf(30))) <= max(1e-25 * abs(float(g)), 1e-30), p


@pytest.mark.parametrize("net", SMALL)
def test_reverse_mode_agrees_with_float_finite_differences(net):
    reference = symbolic.reference_gradients(net)
    for p in net.layout.weight_names():
        assert float(reference[p]) == pytest.approx(finite_difference(net, p), rel=1e-5, abs=1e-9), p


def test_a_medium_lesson_with_samples_agrees_with_the_engine_and_finite_differences(tmp_path):
    lesson = load(str(write(tmp_path / "m.toml", [8, 8, 8], samples=4, seed=3, train_biases=True)))
    rows = symbolic.verify(lesson.network, run(lesson.network))
    assert len(rows) == 128 + 2
    assert max(r.relative for r in rows) <= 1e-12
    check = symbolic.finite_differences(lesson.network)
    assert check.ok and len(check.parameters) == symbolic.FD_PARAMETERS and "b2" in check.parameters


def test_finite_differences_catch_a_wrong_local_derivative(monkeypatch):
    """The second check is a real one: a chain rule off by one part in 10⁹ on one factor fails it."""
    real = symbolic.derivatives

    def off(f):
        found = real(f)
        return {p: d * sp.Rational(1_000_000_001, 1_000_000_000) if p.name == "w5" else d for p, d in found.items()}

    net = load().network
    monkeypatch.setattr(symbolic, "derivatives", off)
    monkeypatch.setattr(symbolic, "_TEMPLATES", {})
    symbolic.graph_of.cache_clear()
    try:
        check = symbolic.finite_differences(net, ["w1", "w5"])
        assert not check.ok and check.worst > 1e-10
    finally:
        monkeypatch.undo()
        symbolic.graph_of.cache_clear()
    assert symbolic.finite_differences(net, ["w1", "w5"]).ok


def test_verify_shows_no_progress_in_a_pipe(cli, tmp_path):
    path = write(tmp_path / "w.toml", [4, 4, 4, 4], samples=3, seed=1)
    result = cli("verify", "--lesson", path)
    assert result.exit_code == 0, result.output
    assert "all 48 gradients agree" in result.output and "finite differences at 40 digits on 24" in result.output
    assert "differentiating" not in result.output and "samples" not in result.output.split("\n")[0]


@pytest.mark.parametrize("name", bundled_names())
def test_numbers_are_put_in_as_a_table_of_every_symbol_would_put_them(name):
    """Deriver looks each quantity up as it meets it; the old way built a table of every symbol."""
    session = Session(load(name))
    deriver = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue)
    table = {symbolic.symbol(q): symbolic.number(v) for q, v in session.trace.items()}
    for j in (j for layer in session.lesson.network.layout.neurons[1:] for j in layer):
        if f"delta_{j}" in session.trace:
            table[symbolic.Partial(sp.Symbol("E_total"), sp.Symbol(f"net_{j}"))] = table[sp.Symbol(f"delta_{j}")]
            if j in session.lesson.network.layout.neurons[-1]:
                table[symbolic.Partial(sp.Symbol(f"E_{j}"), sp.Symbol(f"net_{j}"))] = table[sp.Symbol(f"delta_{j}")]
    for qid in session.catalogue:
        assert symbolic.qid_of(symbolic.symbol(qid)) == qid
        for block in deriver.derivation(qid).blocks:
            for parts in block.equations:
                for part in parts:
                    with sp.evaluate(False):
                        assert deriver.numbers(part) == part.xreplace(table), (qid, part)


def test_representatives_cover_every_kind_and_layer_and_each_derives(monkeypatch, tmp_path):
    lesson = load(str(write(tmp_path / "r.toml", [3, 4, 4, 2], samples=3, seed=2, train_biases=True)))
    catalogue = build(lesson.network)
    assert symbolic.representatives(lesson.network, catalogue) == list(catalogue)  # small: every one
    monkeypatch.setattr(symbolic, "ALL_DERIVED", 10)
    chosen = symbolic.representatives(lesson.network, catalogue)
    assert len(chosen) < len(catalogue) / 3
    L = lesson.network.layout
    for grid in L.weights:  # a gradient and an update of every layer of weights, in samples 1, k, the batch
        names = [w for row in grid for w in row]
        for first, last in [("dE_total/d{}@1",) * 2, ("dE_total/d{}@2", "dE_total/d{}@3"), ("dE_total/d{}",) * 2,
                            ("{}+",) * 2]:
            assert first.format(names[0]) in chosen and last.format(names[-1]) in chosen
    for layer in L.neurons[1:]:
        assert f"out_{layer[0]}@1" in chosen and f"out_{layer[-1]}@3+" in chosen
    deriver = symbolic.Deriver(lesson.network, run(lesson.network), catalogue)
    for qid in chosen:
        assert deriver.derivation(qid).blocks


def test_verify_shows_its_progress_on_a_terminal(tmp_path):
    import os
    import sys

    import pexpect
    path = write(tmp_path / "t.toml", [4, 4, 4, 4], samples=16, seed=4)
    child = pexpect.spawn(sys.executable, ["-m", "backprop_tutor", "verify", "--lesson", str(path)],
                          env={**os.environ, "TERM": "xterm", "NO_COLOR": "1", "BACKPROP_TUTOR_HOME": str(tmp_path)},
                          dimensions=(30, 100), encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    shown = child.before
    assert child.exitstatus == 0, shown
    before_table = shown[:shown.find("gradients agree")]
    assert "samples" in before_table and "differentiating" in before_table and "━" in before_table

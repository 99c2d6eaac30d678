"""Every bundled lesson: SymPy's gradients and finite differences agree with the engine, every
quantity has a derivation, and the walk can be done to the end."""

import pytest
from test_engine import finite_difference

from backprop_tutor import symbolic
from backprop_tutor.checking import Session
from backprop_tutor.lesson import bundled_dir, bundled_names, load
from backprop_tutor.walk import lesson_steps, steps

LESSONS = bundled_names()


def test_the_bundled_lessons():
    assert LESSONS[0] == "post"
    assert {"post", "post-biases", "tanh-relu", "deep"} <= set(LESSONS)


@pytest.mark.parametrize("name", LESSONS)
def test_sympy_and_finite_differences_agree_with_the_engine(name):
    lesson = load(name)
    session = Session(lesson)
    rows = symbolic.verify(lesson.network, session.trace)
    assert rows
    for r in rows:
        g = float(r.sympy)
        assert abs(g - r.engine) <= 1e-12 * abs(g) + 1e-300, (name, r.name)
        assert g == pytest.approx(finite_difference(lesson.network, r.name), rel=1e-5, abs=1e-9), (name, r.name)


@pytest.mark.parametrize("name", LESSONS)
def test_every_quantity_has_a_derivation(name):
    session = Session(load(name))
    deriver = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue)
    for qid in session.catalogue:
        d = deriver.derivation(qid)
        assert d.blocks and d.value == session.trace[qid]


@pytest.mark.parametrize("name", LESSONS)
def test_a_scripted_walk_to_the_end(cli, name):
    session = Session(load(name))
    asked = [s.qid for s in lesson_steps(session) if s.asked]
    answers = "".join(f"{session.trace[q]:.12g}\n" for q in asked)
    result = cli("start", "--lesson", name, input=answers)
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ right") == len(asked)
    assert f"You have worked through {session.lesson.title}." in result.output


def test_a_dead_relu_neuron_passes_no_gradient():
    session = Session(load("tanh-relu"))
    t = session.trace
    dead = [j for j in ("h1", "h2", "h3") if t[f"net_{j}"] <= 0]
    assert dead, "the lesson promises a neuron with a negative net input"
    for j in dead:
        assert t[f"out_{j}"] == 0 and t[f"dout_{j}/dnet_{j}"] == 0 and t[f"delta_{j}"] == 0


def test_shared_bias_gradient_sums_the_deltas_of_the_neurons_it_feeds():
    t = Session(load("post-biases")).trace
    assert t["dE_total/db2"] == pytest.approx(t["delta_o1"] + t["delta_o2"], rel=1e-15)
    assert t["dE_total/db2"] == pytest.approx(0.100400325112001, rel=1e-12)  # the reference
    assert t["dE_total/db1"] == pytest.approx(0.0187256093947041, rel=1e-12)


def test_cross_entropy_delta_is_out_minus_target_symbolically():
    import sympy as sp

    session = Session(load("softmax-ce"))
    deriver = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue)
    for o in ("o1", "o2"):
        d = deriver.derivation(f"delta_{o}")
        form = dict(d.factors)[f"delta_{o}"]
        assert sp.simplify(form - (sp.Symbol(f"out_{o}") - sp.Symbol(f"target_{o}"))) == 0
        assert any(b.heading == "Why the slope disappears" for b in d.blocks)
        assert session.trace[f"delta_{o}"] == pytest.approx(
            session.trace[f"out_{o}"] - session.trace[f"target_{o}"], abs=1e-15)


def test_cross_entropy_training_and_the_slip_of_keeping_the_softmax_slope():
    from backprop_tutor.compiled import CompiledLoop
    from backprop_tutor.mistakes import Diagnoser
    from backprop_tutor.training import train
    from backprop_tutor.updates import plain_updates

    lesson = load("softmax-ce")
    loop = CompiledLoop(lesson.network)
    fast, slow = loop.params(), loop.params()
    loop.step(fast, 30)
    plain_updates(loop, slow, 30)
    assert fast == pytest.approx(slow, rel=1e-12)
    assert train(lesson.network, 5000).error < 0.01
    session = Session(lesson)
    out, t = session.trace["out_o1"], session.trace["target_o1"]
    kept = (out - t) * out * (1 - out)  # the softmax's slope multiplied in again
    result = session.check("delta_o1", f"{kept:.9g}")
    assert "softmax-slope-kept" in [f.id for f in result.findings]
    assert Diagnoser(lesson.network, session.trace, session.catalogue, session.drift).mistakes_on("delta_o1")


@pytest.mark.parametrize(("change", "words"), [
    (lambda s: s.replace('["logistic", "softmax"]', '["softmax", "softmax"]'), "outputs only"),
    (lambda s: s.replace('"cross-entropy"', '"half-squared-error"'), "cross-entropy"),
    (lambda s: s.replace("targets = [0.0, 1.0]", "targets = [0.5, 0.7]"), "adding up to 1"),
])
def test_softmax_and_cross_entropy_go_together(cli, write_lesson, change, words):
    from backprop_tutor.lesson import bundled_dir

    path = write_lesson(change((bundled_dir() / "softmax-ce.toml").read_text()))
    result = cli("check", "w5", "0.3", "--lesson", path)
    assert result.exit_code == 2 and words in result.stderr


def test_xor_reaches_a_small_error_with_the_documented_settings(cli):
    from backprop_tutor.training import train

    xor = load("xor").network
    assert len(xor.samples) == 4 and xor.batch == "sum"
    assert train(xor, 1200).error < 0.01  # full batch, η = 0.5, the lesson's starting weights (seed 15)
    out = cli("train", "--lesson", "xor", "--until", "0.01").output
    assert "E_total fell below 0.01 after 1,103 updates." in out
    assert "epochs of 4 samples, full batch, gradients summed" in out


def test_batch_quantities_combine_the_samples():
    t = Session(load("xor")).trace
    assert t["E_total"] == pytest.approx(sum(t[f"E_total@{k}"] for k in range(1, 5)), rel=1e-15)
    assert t["dE_total/dw5"] == pytest.approx(sum(t[f"dE_total/dw5@{k}"] for k in range(1, 5)), rel=1e-15)
    assert t["w5+"] == pytest.approx(t["w5"] - t["eta"] * t["dE_total/dw5"], rel=1e-15)
    # the second sample, (0, 1) → 1, by hand: net_h1 = w1·0 + w2·1 + b1
    assert t["net_h1@2"] == pytest.approx(-0.98 + 0.38)


def test_the_walk_asks_the_first_sample_and_shows_the_others():
    session = Session(load("xor"))
    asked = [s.qid for s in steps(session.catalogue) if s.asked]
    assert "net_h1@1" in asked and "net_h1@2" not in asked and "dE_total/dw5@3" not in asked
    assert "dE_total/dw5" in asked and "w5+" in asked and asked[-1] == "E_total+"
    assert [q for q in asked if q.endswith("+") and "@" in q] == []
    assert [s.qid for s in lesson_steps(session) if s.asked] == asked  # xor's by_hand is "first"


def test_by_hand_all_asks_every_sample_and_shows_the_values_after_the_update(write_lesson):
    text = (bundled_dir() / "xor.toml").read_text(encoding="utf-8").replace('batch = "sum"',
                                                                           'batch = "sum"\nby_hand = "all"')
    session = Session(load(str(write_lesson(text))))
    asked = [s.qid for s in lesson_steps(session) if s.asked]
    assert {"net_h1@1", "net_h1@4", "dE_total/dw5@3", "E_total", "w5+", "E_total+"} <= set(asked)
    assert [q for q in asked if q.endswith("+") and "@" in q] == []


def test_by_hand_takes_first_or_all(cli, write_lesson):
    text = (bundled_dir() / "xor.toml").read_text(encoding="utf-8").replace('batch = "sum"',
                                                                           'batch = "sum"\nby_hand = "some"')
    result = cli("lesson-check", write_lesson(text))
    assert result.exit_code == 2 and "data.by_hand" in result.output and "first, all" in result.output


@pytest.mark.parametrize(("shape", "batch", "size"), [((2, 2, 1), "sum", None), ((2, 3, 2), "mean", 2),
                                                       ((3, 2, 2, 1), "sum", 1), ((2, 2, 2), "mean", 3)])
def test_the_compiled_batch_loop_is_the_engine_sample_by_sample(shape, batch, size):
    import dataclasses
    import random

    from test_engine import random_network

    from backprop_tutor.compiled import CompiledLoop
    from backprop_tutor.network import run
    from backprop_tutor.updates import plain_updates

    rng = random.Random(len(shape))
    net = random_network(shape, 4, activations=("logistic",) * (len(shape) - 1))
    extra = tuple((tuple(rng.uniform(-1, 1) for _ in range(shape[0])),
                   tuple(rng.uniform(0.1, 0.9) for _ in range(shape[-1]))) for _ in range(3))
    net = dataclasses.replace(net, extra=extra, batch=batch)
    if size is None:  # one full-batch update is the engine's update
        loop = CompiledLoop(net)
        p = loop.params()
        loop.step(p, 1)
        t = run(net)
        for name, value in zip(loop.names, p):
            assert value == pytest.approx(t.get(name + "+", t[name]), rel=1e-12, abs=1e-15)
    loop = CompiledLoop(net, batch_size=size)
    fast, slow = loop.params(), loop.params()
    loop.step(fast, 25)
    plain_updates(loop, slow, 25)
    assert fast == pytest.approx(slow, rel=1e-10, abs=1e-13)


@pytest.mark.parametrize(("old", "new", "words"), [
    ("targets = [[0], [1], [1], [0]]", "targets = [[0], [1], [1]]", "expected 4 lists of targets"),
    ("targets = [[0], [1], [1], [0]]", "targets = [0, 1, 1, 0]", "one list of targets per sample"),
    ("inputs = [[0, 0], [0, 1], [1, 0], [1, 1]]", "inputs = [[0, 0], [0, 1, 1], [1, 0], [1, 1]]",
     "data.inputs[1]"),
    ('batch = "sum"', 'batch = "median"', "data.batch"),
])
def test_malformed_samples(cli, write_lesson, old, new, words):
    from backprop_tutor.lesson import bundled_dir

    source = (bundled_dir() / "xor.toml").read_text()
    assert old in source
    result = cli("check", "w5", "0.3", "--lesson", write_lesson(source.replace(old, new)))
    assert result.exit_code == 2 and words in result.stderr


def test_check_and_explain_a_sample(cli):
    t = Session(load("xor")).trace
    assert cli("check", "--lesson", "xor", "net_h1@2", f"{t['net_h1@2']:.9g}").exit_code == 0
    assert cli("check", "--lesson", "xor", "dE/dw5", f"{t['dE_total/dw5']:.9g}").exit_code == 0
    out = cli("explain", "--lesson", "xor", "dE/dw5").output
    assert "sum of the 4 samples' values" in out
    assert "Sample 2 of 4: inputs 0, 1, targets 1" in cli("explain", "--lesson", "xor", "out_o1@2").output


def test_what_if_and_the_diagram_with_several_samples(cli):
    out = cli("what-if", "--lesson", "xor", "i1@2=1").output
    assert "What if i1@2 = 1 (was 0)?" in out and "out_o1@2" in out
    walk = cli("start", "--lesson", "xor", input="d\nq\n").output
    assert "4 samples; the values shown are those of sample 1." in walk and "target 0" in walk


def test_a_certain_wrong_softmax_answer_is_an_error_not_a_crash(cli, write_lesson):
    from backprop_tutor.lesson import bundled_dir

    source = (bundled_dir() / "softmax-ce.toml").read_text()
    path = write_lesson(source.replace("0.40, 0.45, 0.50, 0.55", "900, 900, -900, -900"))
    result = cli("check", "w5", "0.3", "--lesson", path)
    assert result.exit_code == 2 and "E_o2 is not a finite number" in result.stderr
    what_if = cli("what-if", "--lesson", "softmax-ce", "w7=-2000", "w8=-2000")
    assert what_if.exit_code == 2 and "no longer a finite number" in what_if.stderr

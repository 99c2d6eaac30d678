"""A big batch is judged sample by sample (``backprop_tutor.bigbatch``): the same values, bands and
verdicts as the whole lesson, on lessons small enough to have both; and on the largest lesson the
format allows, a sample's value is judged quickly and right against an exact sum written here."""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from biglesson import write
from reference_digits import compare, random_lessons
from typer.testing import CliRunner

from backprop_tutor import checking
from backprop_tutor.catalogue import post_digits
from backprop_tutor.checking import Session
from backprop_tutor.cli import app
from backprop_tutor.lesson import load


def batches(tmp_path: Path) -> list:
    """xor, and generated batches with every kind of layer, loss and bias that changes the combining."""
    out = [load("xor")]
    for n, (layers, activation, loss, trained) in enumerate([
            ([2, 3, 2], "logistic", "half-squared-error", False), ([3, 2, 2], "relu", "half-squared-error", True),
            ([2, 2, 3], "tanh", "half-squared-error", True), ([2, 3, 3], "logistic", "cross-entropy", True)]):
        path = write(tmp_path / f"b{n}.toml", layers, samples=3 + n, seed=n, activation=activation, loss=loss,
                     train_biases=trained)
        out.append(load(str(path)))
    out.append(dataclasses.replace(out[1], network=dataclasses.replace(out[1].network, batch="mean")))
    return out


def both(lesson, monkeypatch) -> tuple[Session, Session]:
    whole = Session(lesson)
    monkeypatch.setattr(checking, "BIG", 0)
    big = Session(lesson)
    monkeypatch.undo()
    assert whole.batch is None and big.batch is not None
    return whole, big


def test_a_big_batch_has_the_whole_lessons_values_and_bands(tmp_path, monkeypatch):
    for lesson in batches(tmp_path):
        whole, big = both(lesson, monkeypatch)
        assert set(big.trace) == set(whole.trace) and len(big.trace) == len(whole.trace)
        for q in whole.trace:
            assert abs(big.exact[q] - whole.exact[q]) <= abs(whole.exact[q]) * Decimal_tiny, (lesson.title, q)
            assert post_digits(big.trace[q]) == post_digits(whole.trace[q]), (lesson.title, q)
            assert big.drift[q] == pytest.approx(whole.drift[q], rel=1e-9, abs=1e-300), (lesson.title, q)


Decimal_tiny = Decimal("1e-45")


def test_the_bands_are_the_same_whether_the_rounded_traces_run_side_by_side_or_in_turn(tmp_path, monkeypatch):
    from backprop_tutor import parallel
    from backprop_tutor.bigbatch import BatchValues

    forks = parallel.can_fork()
    made_here: list[int] = []  # the rounded passes this process made (a child's are made in its own memory)
    real = BatchValues.rounded_before

    def spy(self, keep):
        made_here.append(1)
        return real(self, keep)

    for lesson in batches(tmp_path)[1:4]:
        bands = []
        for fork in (forks, False):
            monkeypatch.setattr(checking, "BIG", 0)
            monkeypatch.setattr(parallel, "can_fork", lambda fork=fork: fork)
            monkeypatch.setattr(BatchValues, "rounded_before", spy)
            made_here.clear()
            big = Session(lesson)
            bands.append({q: big.drift[q] for q in big.trace})
            assert big.batch is not None and len(big.batch.rounded_traces) == 2
            assert len(made_here) == (0 if fork else 2)  # side by side, every pass came from a child
            monkeypatch.undo()
        assert bands[0] == bands[1]


def typed_values(value: float) -> list[str]:
    """What learners type for a value: right at several digits, rounded early, off, the sign wrong."""
    return [f"{value:.6g}", f"{value:.4g}", f"{value:.3g}", f"{value * 1.003:.6g}", f"{-value:.5g}",
            f"{value * 10:.5g}", f"{value + 0.01:.4g}", "0", "1"]


def test_a_samples_quantity_gets_the_verdict_the_whole_lesson_gives(tmp_path, monkeypatch):
    compared = 0
    for lesson in batches(tmp_path)[:3]:
        whole, big = both(lesson, monkeypatch)
        for q in itertools.islice((q for q in whole.catalogue if "@" in q and not q.endswith("+")
                                   and not whole.catalogue[q].given), 0, None, 5):
            for text in typed_values(float(whole.trace[q])):
                a, b = whole.check(q, text), big.check(q, text)
                assert (a.verdict, a.value) == (b.verdict, b.value), (lesson.title, q, text)
                compared += 1
    assert compared > 300


def test_a_samples_diagnosis_names_that_samples_quantities(monkeypatch):
    whole, big = both(load("xor"), monkeypatch)
    result = big.check("net_o1@3", f"{float(whole.trace['net_h1@3']):.6g}")  # the hidden neuron's for the output's
    assert result.verdict == "wrong"
    text = " ".join(f.text for f in result.findings)
    assert "@3" in text and "@1" not in text and "@2" not in text, text


def test_every_digit_of_a_big_batch_against_the_reference(monkeypatch):
    monkeypatch.setattr(checking, "BIG", 0)
    lessons = [lesson for lesson in random_lessons(60) if lesson.network.extra][:6]
    assert len(lessons) >= 3
    for lesson in lessons:
        result = compare(lesson)
        assert not result.mismatches, result.mismatches[:3]


@pytest.fixture(scope="module")
def biggest(tmp_path_factory) -> Path:
    """The largest lesson the format allows: 64 samples, 16 inputs, five hidden layers of 16, 16 outputs."""
    return write(tmp_path_factory.mktemp("big") / "64x5x16.toml", [16] * 7, samples=64, seed=3)


def test_on_the_largest_lesson_a_samples_net_input_is_judged_against_its_exact_sum(biggest, monkeypatch, tmp_path):
    monkeypatch.setenv("BACKPROP_TUTOR_HOME", str(tmp_path))
    net = load(str(biggest)).network
    inputs, _ = net.samples[63]
    exact = sum((Fraction(repr(net.weights[f"w{s + 1}"])) * Fraction(repr(x)) for s, x in enumerate(inputs)),
                Fraction(repr(net.biases["b1"])))
    runner = CliRunner()
    right = runner.invoke(app, ["check", "net_h1@64", f"{float(exact):.7g}", "--lesson", str(biggest)])
    assert right.exit_code == 0, right.output
    wrong = runner.invoke(app, ["check", "net_h1@64", f"{float(exact) + 0.01:.7g}", "--lesson", str(biggest)])
    assert wrong.exit_code == 1, wrong.output
    for name in ("net_h1@65", "net_h1@064"):
        unknown = runner.invoke(app, ["check", name, "0.5", "--lesson", str(biggest)])
        assert unknown.exit_code == 2 and "unknown quantity" in unknown.output, (name, unknown.output)


def test_a_batchs_steps_are_made_without_making_every_quantity(tmp_path):
    from backprop_tutor.catalogue import build
    from backprop_tutor.walk import steps

    for lesson in batches(tmp_path):
        cat = build(lesson.network)
        assert steps(cat) == steps(dict(cat.items())), lesson.title  # the general rule, on every quantity


def test_what_if_on_a_big_batch_shows_what_it_shows_on_the_whole_lesson(monkeypatch):
    """On a big batch what-if's exact values and gradient check run side by side in children
    (``parallel``): the same table and the same checks as the whole lesson in one process."""
    runner = CliRunner()
    args = ["what-if", "w5=0.5", "i1@2=0.3", "--lesson", "xor"]
    whole = runner.invoke(app, args)
    monkeypatch.setattr(checking, "BIG", 0)
    big = runner.invoke(app, args)
    assert whole.exit_code == big.exit_code == 0, big.output
    assert "Gradient check" in big.output and big.output == whole.output
    bad = runner.invoke(app, ["what-if", "w1=1e308", "w2=1e308", "--lesson", "xor"])
    assert bad.exit_code == 2 and "no longer a finite number" in bad.output

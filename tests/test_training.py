"""Training: the compiled loop against the plain one and the engine's own update, the post's figures
after 10,000 updates (shared/reference/post-numbers.md), and `train`'s options as a person uses them."""

import csv
import dataclasses
import json
import math
import os
import sys
from pathlib import Path

import pexpect
import pytest
from test_engine import SHAPES, random_network

from backprop_tutor.compiled import CompiledLoop, loop_source
from backprop_tutor.lesson import bundled_dir, load
from backprop_tutor.network import run
from backprop_tutor.training import train
from backprop_tutor.updates import plain_updates

CASES = [pytest.param(shape, seed, numbering, bias_mode, trained, acts, through,
                      id=f"{'-'.join(map(str, shape))}-{numbering}-{bias_mode}-{trained}-{through}")
         for shape in SHAPES
         for seed, numbering, bias_mode, trained, acts, through in [
             (1, "by-receiver", "per-layer", True, None, False),
             (2, "by-sender", "per-neuron", True, None, True),
             (3, "by-receiver", "per-neuron", False, ("relu",) * (len(shape) - 2) + ("identity",), False)]]


@pytest.mark.parametrize(("shape", "seed", "numbering", "bias_mode", "trained", "acts", "through"), CASES)
def test_the_compiled_loop_is_the_plain_loop(shape, seed, numbering, bias_mode, trained, acts, through):
    net = random_network(shape, seed, numbering=numbering, bias_mode=bias_mode, train_biases=trained,
                         activations=acts)
    loop = CompiledLoop(net, 0.3, through_updated=through)
    fast, slow = loop.params(), loop.params()
    loop.step(fast, 40)
    plain_updates(loop, slow, 40)
    assert fast == pytest.approx(slow, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("shape", "seed", "numbering", "bias_mode", "trained", "acts", "through"), CASES)
def test_one_compiled_update_is_the_engines_update(shape, seed, numbering, bias_mode, trained, acts, through):
    net = random_network(shape, seed, numbering=numbering, bias_mode=bias_mode, train_biases=trained,
                         activations=acts)
    trace = run(net, backprop_through_updated=through)
    loop = CompiledLoop(net, through_updated=through)
    p = loop.params()
    loop.step(p, 1)
    after = dict(zip(loop.names, p))
    for name in loop.names:
        expected = trace[name + "+"] if name + "+" in trace else trace[name]  # untrained biases stay
        assert after[name] == pytest.approx(expected, rel=1e-12, abs=1e-15), name
    error, outputs = loop.evaluate(p)
    assert error == pytest.approx(trace["E_total+"], rel=1e-12)
    assert outputs == pytest.approx([trace[f"out_{o}+"] for o in net.layout.neurons[-1]], rel=1e-12)


def test_the_compiled_source_holds_no_lesson_values():
    """The safety of the compiled loop's exec: only templates and indices reach its source."""
    a = random_network((2, 3, 2), 1)
    b = random_network((2, 3, 2), 2)
    b = dataclasses.replace(b, activations=a.activations, learning_rate=0.9)
    assert loop_source(a) == loop_source(b)
    assert all(f"{v:.6f}"[2:8] not in loop_source(a) for v in a.weights.values())
    several_a = dataclasses.replace(a, extra=((b.inputs, b.targets),), batch="mean")
    several_b = dataclasses.replace(b, extra=((a.inputs, a.targets),) * 1)
    assert loop_source(several_a) == loop_source(several_b) != loop_source(a)
    assert all(f"{v:.6f}"[2:8] not in loop_source(several_a) for v in [*a.weights.values(), *b.inputs])


def test_the_builder_refuses_a_character_its_templates_cannot_write(monkeypatch):
    from backprop_tutor.network import ACTIVATIONS

    bad = dataclasses.replace(ACTIVATIONS["tanh"], code="__import__('os').getpid() or tanh({net})")
    monkeypatch.setitem(ACTIVATIONS, "tanh", bad)
    with pytest.raises(AssertionError, match="unexpected characters"):
        loop_source(random_network((2, 2, 1), 1, activations=("tanh", "tanh")))


def test_ten_thousand_updates_reproduce_the_reference():
    t = train(load().network, 10_000)
    assert f"{t.error:.9g}" == f"{3.51018778297885e-5:.9g}"
    assert f"{t.outputs[0]:.9g}" == f"{0.0159136204435506:.9g}"
    assert f"{t.outputs[1]:.9g}" == f"{0.984064273514624:.9g}"
    assert f"{t.previous_error:.9g}" == f"{3.51085481225128e-5:.9g}"


def test_overflowing_logistics_fall_back_to_the_stable_loop(cli):
    result = cli("train", "--lr", "100000", "-n", "200", "-q")
    assert result.exit_code == 0, result.output
    assert "E_total" in result.output and "nan" not in result.output


def test_as_published_reproduces_the_posts_three_figures(cli):
    out = cli("train", "--as-published").output
    assert "the original's earlier rule" in out and "That rule is wrong" in out
    assert out.count("  ✓ ") == 3 and "✗" not in out
    assert "the original prints 0.0000351085" in out and "3.51085481e-05" in out
    assert "the original prints 0.015912196" in out and "0.0159121963" in out
    assert "the original prints 0.984065734" in out
    data = json.loads(cli("train", "--as-published", "--json").stdout)
    assert [f["agrees"] for f in data["as_published"]] == [True, True, True]
    assert data["rule"] == "as-published"


def test_until_stops_at_the_first_update_below(cli):
    result = cli("train", "--until", "0.001", "-n", "100000")
    assert result.exit_code == 0
    line = next(l for l in result.output.splitlines() if l.startswith("E_total fell below"))
    n = int(line.split(" after ")[1].split(" ")[0].replace(",", ""))
    net = load().network
    assert train(net, n).error < 0.001 <= train(net, n - 1).error
    data = json.loads(cli("train", "--until", "0.001", "-n", "100000", "--json").stdout)
    assert data["until"] == {"below": 0.001, "reached": True, "update": n}
    never = cli("train", "--until", "1e-9", "-n", "50").output
    assert "did not fall below 1e-09 in 50 updates" in never


def test_csv_history(cli, tmp_path):
    path = tmp_path / "history.csv"
    assert cli("train", "-n", "30", "--csv", path, "-q").exit_code == 0
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["update", "E_total", "out_o1", "out_o2", *(f"w{k}" for k in range(1, 9)), "b1", "b2"]
    assert [int(r[0]) for r in rows[1:]] == list(range(31))
    first = dict(zip(rows[0], map(float, rows[2])))  # after one update: the post's numbers
    assert first["E_total"] == pytest.approx(0.291027773693599, rel=1e-12)
    assert first["w5"] == pytest.approx(0.358916479717885, rel=1e-12)
    assert first["w1"] == pytest.approx(0.149780716132763, rel=1e-12)
    every = tmp_path / "every.csv"
    cli("train", "-n", "100", "--every", "25", "--csv", every, "-q")
    assert [r[0] for r in list(csv.reader(every.open()))[1:]] == ["0", "25", "50", "75", "100"]


def test_every_adds_table_rows(cli):
    out = cli("train", "-n", "60", "--every", "20").output
    rows = [l.split()[0] for l in out.splitlines() if l.strip() and l.split()[0].replace(",", "").isdigit()]
    assert rows[:6] == ["0", "1", "10", "20", "40", "60"]


def test_quiet_and_json(cli):
    quiet = cli("train", "-q")
    assert quiet.output.strip().count("\n") == 0
    assert quiet.output.startswith("E_total 3.51018778e-05 after 10,000 updates")
    data = json.loads(cli("train", "--json").stdout)
    assert data["updates"] == 10_000 and data["error"] == pytest.approx(3.51018778297885e-5, rel=1e-9)
    assert data["claims"][0]["error_one_update_short"] is True
    assert data["claims"][0]["outputs_from_the_earlier_rule"] is True
    assert data["parameters"]["w5"]["before"] == 0.4


def test_update_biases(cli):
    out = cli("train", "--update-biases").output
    assert "biases trained" in out and "Weights and biases before and after" in out
    assert "The original prints" not in out  # another rule than the original's: no comparison
    data = json.loads(cli("train", "--update-biases", "--json").stdout)
    assert data["parameters"]["b1"]["after"] != 0.35


@pytest.mark.parametrize(("args", "words"), [
    (["--every", "0"], "--every"), (["--until", "-1"], "--until"), (["--until", "nan"], "--until"),
    (["--csv", "/nonexistent/dir/h.csv"], "cannot write --csv"),
])
def test_bad_train_options(cli, args, words):
    result = cli("train", *args)
    assert result.exit_code == 2 and words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_as_published_needs_published_figures(cli, write_lesson):
    source = (bundled_dir() / "post.toml").read_text()
    path = write_lesson(source.split("[[errata]]")[0])
    result = cli("train", "--as-published", "--lesson", path)
    assert result.exit_code == 2 and "no published figures" in result.stderr


def installed():
    script = Path(sys.executable).with_name("backprop-tutor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "backprop_tutor"]


def test_ctrl_c_stops_cleanly_and_shows_the_state_reached(tmp_path):
    command = installed()
    env = {**os.environ, "TERM": "xterm-256color", "BACKPROP_TUTOR_HOME": str(tmp_path)}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(command[0], [*command[1:], "train", "--epochs", "10000000"], env=env,
                          dimensions=(40, 120), encoding="utf-8", timeout=60)
    child.expect(r"[1-9][\d]*/10000000")  # the live progress bar, moving
    child.sendintr()
    child.expect(r"Stopped \(Ctrl-C\) after ([\d,]+) of 10,000,000 updates")
    reached = int(child.match.group(1).replace(",", ""))
    child.expect(pexpect.EOF)
    child.close()
    assert 0 < reached < 10_000_000 and child.exitstatus == 130, child.before
    assert "Traceback" not in child.before
    assert math.isfinite(train(load().network, 1).error)


def test_an_interrupt_before_the_first_update_still_shows_the_state(cli, monkeypatch):
    from backprop_tutor import training

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "run_schedule", interrupted)
    result = cli("train", "-n", "1000")
    assert result.exit_code == 130
    assert "Stopped (Ctrl-C) after 0 of 1,000 updates." in result.output
    assert "0.298371109" in result.output  # the error at the start: the state reached


def test_run_schedule_keeps_the_last_state_on_interrupt():
    from backprop_tutor.training import run_schedule

    seen = []

    def progress(done):
        seen.append(done)
        if done >= 40:
            raise KeyboardInterrupt

    loop = CompiledLoop(load().network)
    run = run_schedule(loop, 100, every=20, progress=progress)
    assert run.stopped == "interrupted" and 20 <= run.last.update < 40  # the last state fully reached
    rows = list(run.rows)
    assert (rows[-1].update, rows[-1].error) == (run.last.update, run.last.error) and rows[-2].update == 20


def test_csv_on_a_full_device_is_one_line_and_exit_2(cli):
    """The write fails only when the buffer is flushed, at close: still one line, exit 2."""
    result = cli("train", "-n", "3", "--csv", "/dev/full", "-q")
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == "backprop-tutor: error: cannot write --csv /dev/full: No space left on device"


def test_the_posts_train_imports_neither_numpy_nor_sympy():
    script = ("import sys\nfrom backprop_tutor.cli import app\n"
              "try:\n    app(['train', '-n', '10', '--csv', '/dev/null'], prog_name='backprop-tutor')\n"
              "except SystemExit:\n    pass\n"
              "print('HEAVY', [m for m in ('numpy', 'sympy') if m in sys.modules])\n")
    import subprocess

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


WIDE = """title = "wide"
description = "16-16-16, trained by NumPy's matrices"
[network]
layers = [16, 16, 16]
activation = "logistic"
loss = "half-squared-error"
weights = [{weights}]
biases = [0.1, -0.1]
learning_rate = 0.5
[data]
inputs = [{inputs}]
targets = [{targets}]
"""


def test_ctrl_c_and_the_progress_bar_with_numpys_loop(tmp_path):
    from backprop_tutor.lesson import load_file
    from backprop_tutor.training import matrices_win

    text = WIDE.format(weights=", ".join(f"{((k * 37) % 19 - 9) / 30:.3f}" for k in range(512)),
                       inputs=", ".join(f"{k / 16:.3f}" for k in range(16)),
                       targets=", ".join(f"{0.1 + k / 20:.3f}" for k in range(16)))
    path = tmp_path / "wide.toml"
    path.write_text(text)
    assert matrices_win(load_file(path, "wide").network)
    command = installed()
    env = {**os.environ, "TERM": "xterm-256color", "BACKPROP_TUTOR_HOME": str(tmp_path)}
    env.pop("NO_COLOR", None)
    child = pexpect.spawn(command[0], [*command[1:], "train", "--lesson", str(path), "--epochs", "10000000"],
                          env=env, dimensions=(40, 120), encoding="utf-8", timeout=60)
    child.expect(r"[1-9][\d]*/10000000")  # the live progress bar, moving
    child.sendintr()
    child.expect(r"Stopped \(Ctrl-C\) after ([\d,]+) of 10,000,000 updates")
    reached = int(child.match.group(1).replace(",", ""))
    child.expect(pexpect.EOF)
    child.close()
    assert 0 < reached < 10_000_000 and child.exitstatus == 130, child.before
    assert "Traceback" not in child.before


def test_as_published_is_refused_for_several_samples(cli, write_lesson):
    source = (bundled_dir() / "xor.toml").read_text()
    claims = '\n[[claims]]\nupdates = 10\nerror = "0.5"\noutputs = ["0.5"]\nwhy = "a claim"\n'
    result = cli("train", "--as-published", "--lesson", write_lesson(source + claims))
    assert result.exit_code == 2 and "a rule for one sample" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

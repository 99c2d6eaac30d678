"""`train --compare`: every row of the table against a separate `train` run of the same network (a lesson
file the test writes, or train's own options), the curves against a NumPy reimplementation, divergence,
bad specs, the csv, and the plot in colour, without it and in ASCII."""

import csv
import io
import json
import math
import re

import numpy as np
import pytest

from backprop_tutor.compare import DIVERGED_FACTOR, MAX_RUNS, Variant, run_variant
from backprop_tutor.lesson import load, randomized
from backprop_tutor.training import Schedule

POST = """title = "{title}"
description = "written by the test"
[network]
layers = {layers}
activation = "logistic"
loss = "half-squared-error"
weight_numbering = "by-receiver"
weights = {weights}
bias_mode = "{bias_mode}"
biases = {biases}
train_biases = {train}
learning_rate = 0.5
[data]
inputs = {inputs}
targets = {targets}
"""


def lesson_text(title="copy", layers=(2, 2, 2), weights=(0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55),
                bias_mode="per-layer", biases=(0.35, 0.60), train=False, inputs=(0.05, 0.10), targets=(0.01, 0.99)):
    def toml(values):
        return json.dumps([list(v) if isinstance(v, tuple) else v for v in values])
    return POST.format(title=title, layers=list(layers), weights=toml(weights), bias_mode=bias_mode,
                       biases=toml(biases), train=str(train).lower(), inputs=toml(inputs), targets=toml(targets))


XOR_DATA = {"inputs": ((0, 0), (0, 1), (1, 0), (1, 1)), "targets": ((0,), (1,), (1,), (0,))}
XOR_WEIGHTS = (0.93, -0.98, 0.47, -0.68, 0.97, -0.97)  # lessons/xor.toml, written out again here


def table(output: str, key: str) -> dict[str, dict[str, str]]:
    """The compare table's rows by run, each a dict from the column's heading to its cell (cells stand two
    spaces or more apart)."""
    lines = output.splitlines()
    head = next(k for k, line in enumerate(lines) if line.startswith(f"  {key} "))
    heads = re.split(r"\s{2,}", lines[head].strip())
    rows = {}
    for line in lines[head + 1:]:
        if not line.startswith("  ") or not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        assert len(cells) == len(heads), (heads, cells)
        rows[cells[0]] = dict(zip(heads[1:], cells[1:]))
    return rows


def single(cli, *args) -> dict:
    result = cli("train", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def expected(data: dict, until: float | None = None, start: bool = False) -> dict[str, str]:
    """The cells a separate run's JSON gives: updates (or not reached), E_total at the end, not diverged."""
    if until is None:
        cells = {"updates": f"{data['updates']:,}"}
    else:
        cells = {f"updates to E < {until:g}": f"{data['updates']:,}" if data["until"]["reached"] else "not reached"}
    if start:
        cells["E_total start"] = f"{data['initial_error']:.9g}"
    return cells | {"E_total end": f"{data['error']:.9g}", "diverged": "no"}


def compared(cli, *args) -> str:
    result = cli("train", *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_learning_rates_are_separate_runs(cli, tmp_path):
    out = compared(cli, "--compare", "lr=0.1,0.5,1,5", "-n", "3000", "--until", "0.001", "--csv",
                   tmp_path / "all.csv")
    rows = table(out, "lr")
    assert list(rows) == ["0.1", "0.5", "1", "5"]
    for rate in rows:
        assert rows[rate] == expected(single(cli, "--lr", rate, "-n", "3000", "--until", "0.001"), 0.001), rate
    assert rows["0.1"]["updates to E < 0.001"] == "not reached"
    assert "3 of 4 runs got E_total below 0.001; the fastest, lr=5" in out
    # the csv: one tidy file, each run's rows those of train's own --csv, to the last digit
    tidy = list(csv.reader((tmp_path / "all.csv").open()))
    assert tidy[0] == ["run", "update", "E_total"]
    for rate in ("0.1", "5"):
        path = tmp_path / f"{rate}.csv"
        assert cli("train", "--lr", rate, "-n", "3000", "--until", "0.001", "--csv", path, "-q").exit_code == 0
        alone = [(r[0], r[1]) for r in list(csv.reader(path.open()))[1:]]
        assert [(u, e) for label, u, e in tidy[1:] if label == f"lr={rate}"] == alone


def test_biases_fixed_trained_per_neuron_and_none(cli, write_lesson):
    out = compared(cli, "--compare", "biases=none,fixed,trained,per-neuron", "-n", "800")
    rows = table(out, "biases")
    assert rows["fixed"] == expected(single(cli, "-n", "800"), start=True)
    assert rows["trained"] == expected(single(cli, "-n", "800", "--update-biases"), start=True)
    per_neuron = write_lesson(lesson_text(bias_mode="per-neuron", biases=(0.35, 0.35, 0.60, 0.60), train=True),
                              "per-neuron.toml")
    assert rows["per-neuron"] == expected(single(cli, "-n", "800", "--lesson", per_neuron), start=True)
    none = write_lesson(lesson_text(biases=(0, 0)), "none.toml")
    assert rows["none"] == expected(single(cli, "-n", "800", "--lesson", none), start=True)
    assert len({r["E_total end"] for r in rows.values()}) == 4  # each learns differently


def test_xor_without_biases_fails_and_with_them_learns(cli, write_lesson):
    """The bundled answer of the README: XOR without biases does not get below 0.01; with them it does."""
    out = compared(cli, "--lesson", "xor", "--compare", "biases=none,trained", "--until", "0.01", "-n", "5000")
    rows = table(out, "biases")
    none = write_lesson(lesson_text(layers=(2, 2, 1), weights=XOR_WEIGHTS, bias_mode="per-neuron",
                                    biases=(0, 0, 0), **XOR_DATA), "xor-none.toml")
    data = single(cli, "--lesson", none, "-n", "5000", "--until", "0.01")
    assert rows["none"] == expected(data, 0.01, start=True) and not data["until"]["reached"]
    assert data["error"] > 0.3  # stuck: one pattern at least stays wrong
    trained = single(cli, "--lesson", "xor", "-n", "5000", "--until", "0.01")
    assert rows["trained"] == expected(trained, 0.01, start=True) and trained["until"]["reached"]


def test_init_seeds_are_train_random_seeds(cli, write_lesson):
    out = compared(cli, "--lesson", "xor", "--compare", "init=lesson,seed:1..3", "-n", "600")
    rows = table(out, "init")
    assert list(rows) == ["lesson", "seed:1", "seed:2", "seed:3"]
    assert rows["lesson"] == expected(single(cli, "--lesson", "xor", "-n", "600"), start=True)
    for seed in (1, 2, 3):  # on XOR, --random --seed N draws fresh weights and keeps the data
        assert rows[f"seed:{seed}"] == expected(single(cli, "--lesson", "xor", "--seed", seed, "-n", "600"),
                                                start=True)
    # on the post (one sample), only the weights and biases are drawn: the post's data stays
    rows = table(compared(cli, "--compare", "init=lesson,seed:4", "-n", "600"), "init")
    fresh = randomized(load(), 4).network
    copy = write_lesson(lesson_text(weights=tuple(fresh.weights.values()), biases=tuple(fresh.biases.values())))
    assert rows["seed:4"] == expected(single(cli, "--lesson", copy, "-n", "600"), start=True)


def test_hidden_sizes_get_fresh_weights_from_the_stated_seed(cli, write_lesson):
    out = compared(cli, "--compare", "hidden=1,3,8", "-n", "700")
    assert "fresh weights and biases drawn from seed 1" in " ".join(out.split())
    rows = table(out, "hidden")
    for n in (1, 3, 8):
        shaped = write_lesson(lesson_text(layers=(2, n, 2), weights=(0.1,) * (4 * n)), f"shape{n}.toml")
        fresh = randomized(load(str(shaped)), 1).network  # train's own --seed 1 draw for that shape
        copy = write_lesson(lesson_text(layers=(2, n, 2), weights=tuple(fresh.weights.values()),
                                        biases=tuple(fresh.biases.values())), f"copy{n}.toml")
        assert rows[str(n)] == expected(single(cli, "--lesson", copy, "-n", "700"), start=True)
    assert "seed 7" in " ".join(compared(cli, "--compare", "hidden=2", "--seed", "7", "-n", "10").split())


def numpy_post(rate: float, updates: int) -> list[float]:
    """E_total after each update of the post's network, written here with NumPy matrices."""
    W1, W2 = np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([[0.40, 0.45], [0.50, 0.55]])
    b1, b2, x, y = 0.35, 0.60, np.array([0.05, 0.10]), np.array([0.01, 0.99])
    errors = []
    for _ in range(updates + 1):
        h = 1 / (1 + np.exp(-(W1 @ x + b1)))
        o = 1 / (1 + np.exp(-(W2 @ h + b2)))
        errors.append(float(0.5 * np.sum((y - o) ** 2)))
        d2 = (o - y) * o * (1 - o)
        d1 = (W2.T @ d2) * h * (1 - h)
        W2, W1 = W2 - rate * np.outer(d2, h), W1 - rate * np.outer(d1, x)
    return errors


def test_curves_and_errors_against_numpy(cli):
    net = load().network
    for rate in (0.1, 5.0):
        errors = numpy_post(rate, 2000)
        outcome = run_variant(Variant(f"lr={rate:g}", net, rate), 2000)
        assert outcome.error == pytest.approx(errors[-1], rel=1e-9)
        assert outcome.curve[0] == (0, pytest.approx(errors[0], rel=1e-12))
        for u, e in outcome.curve:
            assert e == pytest.approx(errors[u], rel=1e-9)
        assert len(outcome.curve) == Schedule(2000).curve_count + 1  # sampled: 121 points, whatever the length


LINEAR = """title = "a linear neuron"
description = "identity output: a learning rate too large makes it blow up"
[network]
layers = [2, 1]
activation = "identity"
loss = "half-squared-error"
weights = [0.1, 0.2]
biases = [0.1]
train_biases = true
learning_rate = 0.01
[data]
inputs = [[1, 2], [3, 4]]
targets = [[1], [2]]
"""


def linear_errors(rate: float, updates: int) -> list[float]:
    """E_total of the linear neuron after each update, in plain floats written here."""
    w, b = np.array([0.1, 0.2]), 0.1
    X, Y = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 2.0])
    errors = []
    with np.errstate(all="ignore"):
        for _ in range(updates + 1):
            o = X @ w + b
            errors.append(float(0.5 * np.sum((o - Y) ** 2)))
            w, b = w - rate * (o - Y) @ X, b - rate * np.sum(o - Y)
    return errors


def test_divergence_is_a_row_not_a_crash(cli, write_lesson):
    path = write_lesson(LINEAR)
    result = cli("train", "--lesson", path, "--compare", "lr=0.01,0.1,1000000", "-n", "20000", "--until", "1e-6")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "Warning" not in result.output
    rows = table(result.output, "lr")
    errors = linear_errors(0.1, 40)
    first = next(u for u, e in enumerate(errors) if e > DIVERGED_FACTOR * errors[0])
    assert rows["0.1"] == {"updates to E < 1e-06": "—", "E_total end": f"{errors[first]:.9g}",
                           "diverged": f"at update {first:,} (E > 1e+06× start)"}
    assert rows["0.01"]["updates to E < 1e-06"] != "not reached" and rows["0.01"]["diverged"] == "no"
    assert rows["1e+06"]["diverged"] == "at update 1 (E > 1e+06× start)"
    assert "Diverged: lr=0.1 at update" in result.output
    # alone, train stops with its own divergence (not a finite number), later than the bound
    alone = cli("train", "--lesson", path, "--lr", "0.1", "-n", "20000")
    assert alone.exit_code == 1 and "diverged" in alone.stderr


def test_a_run_that_overflows_is_reported_as_not_finite(write_lesson, monkeypatch):
    import backprop_tutor.compare as compare

    net = load(str(write_lesson(LINEAR))).network
    outcome_bounded = run_variant(Variant("lr=0.1", net, 0.1), 5000).diverged
    monkeypatch.setattr(compare, "DIVERGED_FACTOR", math.inf)  # no bound: it goes on to overflow
    unbounded = run_variant(Variant("lr=0.1", net, 0.1), 5000)
    errors = linear_errors(0.1, 2000)
    first = next(u for u, e in enumerate(errors) if not math.isfinite(e))
    assert unbounded.diverged == first and unbounded.why == "not finite"
    assert outcome_bounded is not None and outcome_bounded < first


@pytest.mark.parametrize(("spec", "words"), [
    ("lr=", "expected values after lr="),
    ("lr=abc", "'abc' is not a learning rate"),
    ("lr=0", "'0' is not a learning rate"),
    ("lr=nan", "'nan' is not a learning rate"),
    ("lr=1e999", "'1e999' is not a learning rate"),
    ("lr=0.5,0.50", "0.5 is given twice"),
    ("hidden=0", "'0' is not a hidden layer's size"),
    ("hidden=100000", "'100000' is not a hidden layer's size"),
    ("hidden=2.5", "'2.5' is not a hidden layer's size"),
    ("init=seed:5..1", "the seeds 5..1 run backwards"),
    ("init=seed:x", "'seed:x' is not a start"),
    ("init=seed:1..11", f"the most is {MAX_RUNS}"),
    ("lr=" + ",".join(str(k) for k in range(1, MAX_RUNS + 2)), f"asks for {MAX_RUNS + 1} runs"),
    ("speed=1,2", "expected KEY=VALUES with KEY one of lr, biases, hidden, init"),
    ("lr", "expected KEY=VALUES"),
    ("biases=sometimes", "unknown biases 'sometimes'"),
    ("lr=\x1b[2J", "'\\x1b[2J' is not a learning rate"),
    ("x" * 500, "a spec has at most 200"),
])
def test_bad_specs_are_one_line_and_exit_2(cli, spec, words):
    result = cli("train", "--compare", spec)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop-tutor: error: --compare"), lines
    assert words in lines[0] and "\x1b" not in lines[0]


def test_two_close_rates_keep_two_labels(cli):
    rows = table(compared(cli, "--compare", "lr=0.1234567,0.12345678,5e-7", "-n", "10", "-q"), "lr")
    assert list(rows) == ["0.1234567", "0.12345678", "5e-07"]


@pytest.mark.parametrize(("args", "words"), [
    (["--lesson", "deep", "--compare", "hidden=2,4"], "lesson deep has 2 hidden layers"),
    (["--compare", "lr=1,2", "--lr", "3"], "leave out --lr"),
    (["--compare", "biases=fixed,trained", "--update-biases"], "leave out --update-biases"),
    (["--compare", "lr=1,2", "-n", "6000000"], "2 runs of 6,000,000 updates are 12,000,000 updates"),
    (["--compare", "lr=1,2", "--json"], "--compare does not go with --json"),
    (["--compare", "lr=1,2", "--as-published"], "--compare does not go with --as-published"),
    (["--compare", "lr=1,2", "--csv", "/dev/full"], "cannot write --csv /dev/full: No space left on device"),
])
def test_options_that_do_not_fit(cli, args, words):
    result = cli("train", *args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and words in result.stderr, result.stderr


def test_the_plot_has_a_curve_and_a_legend_line_per_run(cli):
    out = compared(cli, "--compare", "lr=0.1,0.5,1,5", "-n", "1000")
    assert "Loss curves: E_total on a log scale, against the update" in out
    legend = [line.split() for line in out.splitlines()[-4:]]
    assert legend == [["o", "lr=0.1"], ["x", "lr=0.5"], ["+", "lr=1"], ["*", "lr=5"]]
    plot = out[out.index("Loss curves"):]
    for marker in "ox+*":  # without colour every run has its marker
        assert plot.count(marker) > 3
    quiet = compared(cli, "--compare", "lr=0.1,0.5", "-n", "100", "-q")
    assert "Loss curves" not in quiet and table(quiet, "lr")


def _draw(colour: bool, encoding: str, series) -> str:
    from backprop_tutor import report
    from backprop_tutor.render import Out

    buffer = io.BytesIO()
    stream = io.TextIOWrapper(buffer, encoding=encoding, errors="strict", newline="\n")
    out = Out(stream=stream)
    out.colour, out.width = colour, 80
    report.loss_curves(out, series)
    stream.flush()
    return buffer.getvalue().decode(encoding)


SERIES = [("lr=0.1", [(0, 0.3), (50, 0.1), (100, 0.01)]), ("lr=5", [(0, 0.3), (50, 1e-4), (100, 1e-6)]),
          ("lr=50", [(0, 0.3), (10, math.nan)])]


def test_the_plot_in_colour_without_and_in_ascii():
    coloured = _draw(True, "utf-8", SERIES)
    assert re.search("\x1b\\[[0-9;]*m", coloured)
    assert not re.search("\x1b(?!\\[[0-9;]*m)", coloured)  # colour codes only, no other control sequence
    assert "⠀" not in coloured and any("\u2801" <= c <= "\u28ff" for c in coloured)  # braille lines
    plain = _draw(False, "utf-8", SERIES)
    assert "\x1b" not in plain and "o lr=0.1" in plain and "x lr=5" in plain
    ascii_only = _draw(False, "ascii", SERIES)  # strict: a character ASCII cannot show would raise
    assert "o lr=0.1" in ascii_only and "+ lr=50" in ascii_only
    assert ascii_only.encode("ascii")
    assert _draw(False, "utf-8", [("one", [(0, 1.0)])]) == ""  # one point: nothing to draw


def test_colour_follows_no_color_and_force_color(cli, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" in compared(cli, "--compare", "lr=0.1,5", "-n", "200")
    plain = cli("--no-color", "train", "--compare", "lr=0.1,5", "-n", "200")
    assert plain.exit_code == 0 and "\x1b" not in plain.output
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR")
    assert "\x1b" not in compared(cli, "--compare", "lr=0.1,5", "-n", "200")


def test_lesson_text_is_never_markup_or_a_control(cli, write_lesson):
    path = write_lesson(lesson_text(title="[bold red]loud[/] \\u001b[2J"))
    out = compared(cli, "--lesson", path, "--compare", "lr=0.5,1", "-n", "50")
    assert "[bold red]loud[/] \\x1b[2J" in out and "\x1b" not in out


def test_single_train_draws_the_same_plot():
    """One way of plotting: `train`'s own curve is the compare plot of one run, without a legend."""
    from backprop_tutor import report

    assert report.loss_curve.__code__.co_names.count("loss_curves") == 1
    one = _draw(False, "utf-8", SERIES[:1])
    assert "Loss curve: E_total" in one and "lr=0.1" not in one


def test_ctrl_c_shows_the_runs_made_and_exits_130(cli, monkeypatch):
    import backprop_tutor.compare as compare

    real, calls = compare.history, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        for k, point in enumerate(real(*args, **kwargs)):
            if len(calls) == 2 and k == 5:
                raise KeyboardInterrupt
            yield point

    monkeypatch.setattr(compare, "history", interrupted)
    result = cli("train", "--compare", "lr=0.1,0.5,1", "-n", "1200")
    assert result.exit_code == 130, result.output
    rows = table(result.output, "lr")
    assert list(rows) == ["0.1", "0.5"] and rows["0.1"]["updates"] == "1,200"
    assert rows["0.5"]["updates"] == "30"  # the fifth state looked at: updates 0, 1, 10, 20, 30
    assert "Stopped (Ctrl-C) in run lr=0.5 after 30 of 1,200 updates; the runs after it were not made." in result.output


def test_a_long_run_keeps_a_bounded_curve():
    outcome = run_variant(Variant("lr=0.5", load().network), 100_000)
    assert outcome.updates == 100_000 and len(outcome.curve) == Schedule(100_000).curve_count + 1


def test_the_readme_shows_compare_runs_as_they_are(cli, monkeypatch):
    """Every `train --compare` transcript in the README is the command's output (100 columns, no colour)."""
    import shlex
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ backprop-tutor (train [^\n]*--compare[^\n]*)\n(.*?)\n```", readme, re.S)
    assert len(blocks) >= 5
    monkeypatch.setenv("COLUMNS", "100")
    for command, shown in blocks:
        result = cli(*shlex.split(command))
        assert result.exit_code == 0 and result.output.rstrip("\n") == shown, command
    commands = " ".join(command for command, _ in blocks)
    for answer in ("--lesson xor --compare biases=none", "init=lesson,seed:11,seed:14",
                   "biases=fixed,trained,per-neuron"):
        assert answer in commands


def test_check_and_a_quiet_train_never_import_the_plot_library():
    import subprocess
    import sys

    script = ("import sys\nfrom backprop_tutor.cli import app\n"
              "for args in (['check', 'w5', '0.3589'], ['train', '-n', '10', '-q'],"
              " ['train', '--compare', 'lr=1,2', '-n', '10', '-q']):\n"
              "    try:\n        app(args, prog_name='backprop-tutor')\n    except SystemExit:\n        pass\n"
              "print('LOADED', [m for m in ('plotille', 'numpy', 'sympy', 'rich.console') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "LOADED []" in out.stdout, out.stdout + out.stderr


def test_a_wide_lesson_compares_with_numpys_loop_as_train_does(cli, write_lesson):
    import random

    from backprop_tutor.training import make_loop

    rng = random.Random(3)
    numbers = [round(rng.uniform(-0.5, 0.5), 3) for _ in range(512)]
    text = lesson_text(layers=(16, 16, 16), weights=numbers, inputs=[round(rng.uniform(0, 1), 3) for _ in range(16)],
                       targets=[round(rng.uniform(0.1, 0.9), 3) for _ in range(16)])
    path = write_lesson(text, "wide.toml")
    assert type(make_loop(load(str(path)).network)).__name__ == "MatrixLoop"
    rows = table(compared(cli, "--lesson", path, "--compare", "lr=0.1,3", "-n", "300", "--until", "0.01"), "lr")
    for rate in ("0.1", "3"):
        assert rows[rate] == expected(single(cli, "--lesson", path, "--lr", rate, "-n", "300", "--until", "0.01"),
                                      0.01), rate

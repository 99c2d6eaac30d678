"""The command line as a person uses it: output, exit codes, bad input, and what stays fast."""

import json
import os
import subprocess
import sys

import pytest

from backprop_tutor import __version__


def test_right_answer_shows_value_and_formula(cli):
    result = cli("check", "dE/dw5", "0.082167041")
    assert result.exit_code == 0
    out = result.output
    assert "right" in out
    assert "∂E_total/∂w5 = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5" in out
    assert "0.74136507 · 0.186815602 · 0.593269992" in out
    assert "0.0821670405642308" in out


def test_wrong_answer_shows_formula_and_parts_but_never_the_value(cli):
    result = cli("check", "dE/dw5", "0.0615")
    assert result.exit_code == 1
    out = result.output
    assert "not right" in out
    assert "∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5" in out
    assert "dE_total/dout_o1" in out  # the parts to check next
    assert "0.0821" not in out and "0.7413" not in out


def test_imprecise_answer_asks_for_more_digits(cli):
    result = cli("check", "dE/dw1", "0.0004")
    assert result.exit_code == 3
    assert "give more digits" in result.output
    assert "0.000438" not in result.output


@pytest.mark.parametrize("value", ["-0.0226", "−0.0226", "-2.26e-2"])
def test_negative_values_work_as_arguments(cli, value):
    result = cli("check", "dE/dw7", value)
    assert result.exit_code == 0, result.output


def test_negative_values_work_with_options_around_them(cli):
    assert cli("check", "--lesson", "post", "dE/dw7", "-0.0226").exit_code == 0
    assert cli("check", "dE/dw7", "-0.0226", "--json").exit_code == 0


def test_json_is_one_object_for_a_grader(cli):
    result = cli("check", "w5", "0.35891648", "--json")
    data = json.loads(result.stdout)
    assert data["quantity"] == "w5+" and data["verdict"] == "right" and data["exit_code"] == 0
    assert data["typed"] == "0.35891648" and data["lesson"] == "post"
    assert data["value"] == pytest.approx(0.358916479717885, rel=1e-14)
    wrong = json.loads(cli("check", "w5", "0.3178", "--json").stdout)
    assert wrong["verdict"] == "wrong" and "value" not in wrong and "worked" not in wrong
    assert wrong["check_next"] == ["dE_total/dw5"]


@pytest.mark.parametrize(("args", "words"), [
    (["check", "w9", "0.3"], ["unknown quantity 'w9'", "did you mean"]),
    (["check", "outh7", "0.5"], ["unknown quantity", "out_h"]),
    (["check", "w5", "abc"], ["not a number"]),
    (["check", "w5", ""], ["nothing was typed"]),
    (["check", "w5", "nan"], ["NaN"]),
    (["check", "w5", "inf"], ["infinity"]),
    (["check", "w5", "-inf"], ["infinity"]),
    (["check", "w5"], ["Missing argument"]),
    (["check"], ["Missing argument"]),
    (["check", "w5", "0.3", "extra"], ["unexpected extra argument"]),
    (["check", "i1", "0.05"], ["given by the lesson"]),
    (["check", "w5", "0.3", "--lesson", "nope"], ["no lesson 'nope'"]),
    (["nosuchcommand"], ["No such command"]),
    (["train", "--epochs", "0"], ["--epochs", "1 to"]),
    (["train", "--epochs", "-5"], ["--epochs"]),
    (["train", "--epochs", "ten"], ["--epochs"]),
    (["train", "--epochs", "1.5"], ["--epochs"]),
    (["train", "--lr", "0"], ["--lr", "above 0"]),
    (["train", "--lr", "-0.5"], ["--lr"]),
    (["train", "--lr", "nan"], ["--lr"]),
    (["quantities", "--lesson", "nope"], ["no lesson"]),
    (["lessons", "--bogus"], ["No such option"]),
    (["explain"], ["Missing argument"]),
    (["explain", "dE/dw9"], ["unknown quantity 'dE/dw9'", "dE_total/dw8"]),
    (["explain", "w5", "--lesson", "nope"], ["no lesson 'nope'"]),
    (["explain", "w5", "--latex=maybe"], ["--latex"]),
    (["verify", "--lesson", "nope"], ["no lesson 'nope'"]),
    (["verify", "extra"], ["unexpected extra argument"]),
])
def test_bad_input_is_one_line_and_exit_2(cli, args, words):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backprop-tutor: error:")
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert result.stdout == ""


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and __version__ in result.stdout


def test_lessons_lists_the_bundled_lessons(cli):
    result = cli("lessons")
    assert result.exit_code == 0
    assert "post" in result.output and "2-2-2" in result.output


def test_quantities_lists_every_checkable_name(cli):
    result = cli("quantities")
    assert result.exit_code == 0
    for name in ("net_h1", "out_o2", "E_total", "dE_total/dw5", "delta_o1", "w5+", "dE_o2/dout_h1",
                 "dE_total/dout_h1", "dout_h1/dnet_h1", "w1+", "E_total+"):
        assert name in result.output, name


def test_train_reports_error_outputs_and_the_posts_errata(cli):
    result = cli("train", "--epochs", "10000")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "3.51018778e-05" in out
    assert "0.0159136204" in out and "0.984064274" in out  # the reference, at 9 significant digits
    assert "0.0000351085" in out  # the post's figure, named as wrong
    assert "9,999 updates" in out and "3.51085481e-05" in out
    assert "0.0159121963" in out and "0.984065734" in out  # what the post's slip gives


def test_train_with_another_learning_rate_does_not_compare_with_the_post(cli):
    result = cli("train", "--epochs", "100", "--lr", "0.1")
    assert result.exit_code == 0
    assert "The original prints" not in result.output


def test_train_a_short_run(cli):
    result = cli("train", "-n", "1")
    assert result.exit_code == 0
    assert "0.298371109 before" in result.output and "0.291027774 after" in result.output


def run_module(*args, env=None):
    return subprocess.run([sys.executable, "-m", "backprop_tutor", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=60)


def test_python_dash_m_tutor_works_and_exit_codes_hold():
    assert run_module("check", "w5", "0.3589").returncode == 0
    assert run_module("check", "w5", "0.3178").returncode == 1
    assert run_module("check", "dE/dw1", "0.0004").returncode == 3
    bad = run_module("check", "w5", "abc")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def test_check_and_train_never_import_sympy():
    script = (
        "import sys\n"
        "from backprop_tutor.cli import app\n"
        "for args in (['check', 'w5', '0.3589'], ['check', 'w5', '0.3', '--json'], ['train', '-n', '10']):\n"
        "    try:\n"
        "        app(args, prog_name='backprop-tutor')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('sympy', 'rich.console', 'rich.table', 'rich.progress') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_plain_output_when_piped_and_ascii_when_the_terminal_cannot_show_unicode():
    piped = run_module("check", "dE/dw5", "0.082167041", env={"NO_COLOR": "", "TERM": "xterm"})
    assert "\x1b[" not in piped.stdout
    ascii_out = run_module("check", "dE/dw5", "0.082167041", env={"PYTHONIOENCODING": "ascii"})
    assert ascii_out.returncode == 0, ascii_out.stderr
    assert "dE_total/dw5 = dE_total/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5" in ascii_out.stdout


def test_a_diverging_run_stops_with_one_line_and_no_traceback(cli, write_lesson, tmp_path):
    source = (__import__("backprop_tutor.lesson", fromlist=["bundled_dir"]).bundled_dir() / "post.toml").read_text()
    path = write_lesson(source.replace('activation = "logistic"', 'activation = "identity"'))
    result = cli("train", "--lesson", path, "--lr", "50", "--epochs", "10000")
    assert result.exit_code == 1, result.output
    assert "diverged" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_explain_shows_the_whole_derivation(cli):
    result = cli("explain", "dE/dw1")
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in ("Chain rule", "Each factor", "δ form", "Numbers"):
        assert f"\n{heading}\n" in out
    assert "0.036350306⋅0.241300709⋅0.05 = 0.000438568" in out  # the post's numbers
    assert "Full precision: ∂E_total/∂w1 = 0.000438567734474" in out


def test_explain_accepts_any_name_check_does_and_given_values(cli):
    assert "0.35891648" in cli("explain", "w5").output  # w5 means the updated weight, as in check
    given = cli("explain", "i1")
    assert given.exit_code == 0 and "given" in given.output and "0.05" in given.output


def test_explain_tells_where_the_original_is_wrong(cli):
    out = cli("explain", "E_total+").output
    assert "0.291027774" in out and "0.291027924" in out and "wrong" in out


def test_explain_latex(cli):
    result = cli("explain", "dE/dw5", "--latex")
    assert result.exit_code == 0
    assert result.stdout.startswith("\\begin{align*}")
    assert "\\frac{\\partial E_{total}}{\\partial w_{5}}" in result.stdout
    assert "0.082167041" in result.stdout


def test_verify_agrees_and_exits_0(cli):
    result = cli("verify")
    assert result.exit_code == 0, result.output
    for k in range(1, 9):
        assert f"│ w{k} " in result.output
    assert "all 8 gradients agree" in result.output


def test_verify_a_lesson_with_trained_biases_and_relu(cli, write_lesson):
    source = (__import__("backprop_tutor.lesson", fromlist=["bundled_dir"]).bundled_dir() / "post.toml").read_text()
    assert 'activation = "logistic"' in source and "train_biases = false" in source
    path = write_lesson(source.replace('activation = "logistic"', 'activation = "relu"')
                        .replace("train_biases = false", "train_biases = true"))
    result = cli("verify", "--lesson", path)
    assert result.exit_code == 0, result.output
    assert "│ b1 " in result.output and "│ b2 " in result.output and "all 10 gradients agree" in result.output


def test_verify_fails_loudly_when_the_engine_is_wrong(cli, monkeypatch):
    from backprop_tutor import network

    real = network.run

    def broken(net, **kw):
        trace = real(net, **kw)
        trace["dE_total/dw3"] *= 1 + 1e-9
        return trace

    monkeypatch.setattr(network, "run", broken)
    result = cli("verify")
    assert result.exit_code == 1
    assert "disagree on w3" in result.output


def test_every_command_has_help_with_an_example(cli):
    from backprop_tutor.cli import app

    names = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    assert len(names) >= 12
    for name in names:
        result = cli(name, "--help")
        assert result.exit_code == 0, name
        assert "Example: backprop-tutor " + name in " ".join(result.output.split()), name
    top = cli("--help")
    assert top.exit_code == 0 and all(n in top.output for n in names)

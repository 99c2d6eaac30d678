"""What the console script does to start fast: an app of the named command alone, and the garbage
collector paused until the command's work begins. Neither may change what any command does."""

import gc
import os
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from backprop_tutor import startup
from backprop_tutor.cli import app, app_for

COMMANDS = sorted(c for c in typer.main.get_command(app).commands)  # type: ignore[attr-defined]


def _run(application, args):
    result = CliRunner().invoke(application, args)
    return result.exit_code, result.output


def test_every_command_is_found_by_its_name():
    assert len(COMMANDS) >= 17
    for name in COMMANDS:
        one = app_for([name, "x"])
        assert one is not app
        assert [c for c in typer.main.get_command(one).commands] == [name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_s_help_is_the_same_from_the_app_of_it_alone(name):
    assert _run(app_for([name, "--help"]), [name, "--help"]) == _run(app, [name, "--help"])


@pytest.mark.parametrize("args", [
    ["check", "w5", "0.3589"], ["check", "dE/dw5", "-0.0226"], ["check", "nope", "1"], ["check", "w5"],
    ["check", "w5", "0.3589", "--bogus"], ["key", "--lesson", "xor"], ["quantities"], ["lessons"],
    ["what-if", "w5=0.5"], ["explain", "dE/dw1"], ["train", "--epochs", "3"], ["progress"],
])
def test_a_command_does_the_same_from_the_app_of_it_alone(args):
    assert _run(app_for(args), args) == _run(app, args)


@pytest.mark.parametrize("args", [[], ["--help"], ["-V"], ["--no-color", "check", "w5", "1"], ["chek", "w5", "1"],
                                  ["CHECK", "w5", "1"], ["check-"], [""]])
def test_anything_but_a_command_s_exact_name_first_gets_the_whole_app(args):
    assert app_for(args) is app


def test_completion_gets_the_whole_app(monkeypatch):
    monkeypatch.setenv("_BACKPROP_TUTOR_COMPLETE", "bash_complete")
    assert app_for(["check", "w5"]) is app


def test_a_misspelt_command_is_still_told_apart_from_the_right_one():
    code, out = _run(app_for(["chek", "w5", "1"]), ["chek", "w5", "1"])
    assert code == 2 and "Did you mean 'check'" in out


def test_the_collector_paused_at_start_runs_again_when_the_command_begins():
    assert gc.isenabled()
    try:
        startup.pause_collector()
        assert not gc.isenabled()
        code, _ = _run(app_for(["check", "w5", "0.3589"]), ["check", "w5", "0.3589"])
        assert code == 0
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what start-up made is kept out of later collections
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_collector_paused_by_someone_else_is_left_as_it_was():
    gc.disable()
    try:
        startup.pause_collector()
        startup.resume_collector()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_long_command_runs_with_the_collector_on():
    """`train` and the walk run for minutes: the pause ends when their work begins."""
    script = ("import gc, sys\n"
              "seen = []\n"
              "import backprop_tutor.training as t\n"
              "original = t.run_schedule\n"
              "def spy(*a, **k):\n"
              "    seen.append(gc.isenabled())\n"
              "    return original(*a, **k)\n"
              "t.run_schedule = spy\n"
              "sys.argv = ['backprop-tutor', 'train', '--epochs', '2']\n"
              "from backprop_tutor.__main__ import main\n"
              "try:\n"
              "    main()\n"
              "except SystemExit:\n"
              "    pass\n"
              "print('collector on:', seen)\n")
    env = {**os.environ, "NO_COLOR": "1"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert "collector on: [True]" in out.stdout, out.stdout + out.stderr


def test_the_console_script_and_python_m_start_the_same_way():
    env = {**os.environ, "NO_COLOR": "1"}
    via_m = subprocess.run([sys.executable, "-m", "backprop_tutor", "check", "w5", "0.3589"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert via_m.returncode == 0 and "right" in via_m.stdout
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "backprop-tutor"]
    assert script.value == "backprop_tutor.__main__:main"

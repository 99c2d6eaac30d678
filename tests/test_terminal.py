"""The real program in a pseudo-terminal: colour on a terminal, none with --no-color or NO_COLOR."""

import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest


def run_in_terminal(*args, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update({"TERM": "xterm-256color", **(env or {})})
    child = pexpect.spawn(sys.executable, ["-m", "backprop_tutor", *args], env=environment, dimensions=(24, 100),
                          encoding="utf-8", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    return child.before, child.exitstatus


def test_colour_on_a_terminal():
    out, code = run_in_terminal("check", "w5", "0.3589")
    assert code == 0 and "\x1b[1;32m" in out and "right" in out


def test_no_colour_when_asked():
    for args, env in ((("--no-color", "check", "w5", "0.3589"), None),
                      (("check", "w5", "0.3589"), {"NO_COLOR": "1"}),
                      (("check", "w5", "0.3589"), {"TERM": "dumb"})):
        out, code = run_in_terminal(*args, env=env)
        assert code == 0 and "\x1b[" not in out, (args, env)


def test_bad_input_in_a_terminal_is_one_line():
    out, code = run_in_terminal("check", "w5", "0.35.8")
    assert code == 2
    assert out.strip().count("\n") == 0 and "not a number" in out


def installed_command():
    """The installed console script (the README's install), or `python -m backprop_tutor` from a checkout."""
    script = Path(sys.executable).with_name("backprop-tutor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "backprop_tutor"]


def start_in_terminal(home, *args):
    command = installed_command()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update({"TERM": "xterm-256color", "BACKPROP_TUTOR_HOME": str(home)})
    return pexpect.spawn(command[0], [*command[1:], "start", *args], env=environment, dimensions=(40, 100),
                         encoding="utf-8", timeout=30)


def prompt(name):
    return f"\r\n{name} = "  # the prompt opens a line; the tutor's own formula lines are indented


def test_a_lesson_in_a_terminal_survives_ctrl_c_and_resumes(tmp_path):
    child = start_in_terminal(tmp_path)
    child.expect(prompt("net_h1"))
    child.sendline("0.3775")
    child.expect("right")
    child.expect(prompt("out_h1"))
    child.sendline("0.7")
    child.expect("not right")
    child.expect(prompt("out_h1"))
    child.sendline("hint")
    child.expect("Hint 1 of 3")
    child.expect(prompt("out_h1"))
    child.sendline("0.593269992")
    child.expect("right")
    child.expect(prompt("net_h2"))
    child.sendintr()
    child.expect("Saved: 2 of 57 steps done. Resume with: backprop-tutor start")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130 and "Traceback" not in child.before

    again = start_in_terminal(tmp_path)
    again.expect("Welcome back")
    again.expect(prompt("net_h2"))
    again.sendline("q")
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == 0


def test_a_corrupt_progress_file_in_a_terminal(tmp_path):
    (tmp_path / "progress").mkdir()
    (tmp_path / "progress" / "post.json").write_bytes(b"\x00garbage")
    child = start_in_terminal(tmp_path)
    child.expect("could not be read")
    child.expect(prompt("net_h1"))
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in child.before
    assert any(p.name.startswith("post.json.unreadable-") for p in (tmp_path / "progress").iterdir())


def test_piped_answers_work_line_by_line_without_control_codes(tmp_path):
    environment = {**os.environ, "BACKPROP_TUTOR_HOME": str(tmp_path), "TERM": "xterm-256color"}
    environment.pop("NO_COLOR", None)
    done = subprocess.run([*installed_command(), "start"], input="0.3775\n0.5\n0.593269992\n", text=True,
                          capture_output=True, env=environment, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert "out_h1 = 0.5\n" in done.stdout  # the answer read is echoed, so the transcript reads right
    assert "Saved: 2 of 57 steps done." in done.stdout


COMMANDS = [
    ["check", "dE/dw5", "0.082167041"], ["check", "dE/dw5", "0.0921"], ["explain", "dE/dw1"],
    ["train", "-n", "200"], ["lessons"], ["quantities"], ["verify"], ["key"], ["what-if", "w5=0.5"],
    ["progress"], ["lesson-check", str(Path(__file__).parent.parent / "lessons" / "xor.toml")],
    ["--help"], ["train", "--help"],
]


def run_plain(args, home, **env):
    environment = {**os.environ, "BACKPROP_TUTOR_HOME": str(home), **env}
    environment.pop("NO_COLOR", None)
    return subprocess.run([*installed_command(), *args], input=b"q\n", capture_output=True, timeout=120,
                          env=environment)


@pytest.mark.parametrize("args", [*COMMANDS, ["start"]], ids=lambda a: " ".join(a)[:30])
def test_piped_output_has_no_control_codes_and_ascii_terminals_get_ascii(args, tmp_path):
    piped = run_plain(args, tmp_path, TERM="xterm-256color")
    assert piped.returncode in (0, 1), piped.stderr
    assert b"\x1b" not in piped.stdout
    ascii_run = run_plain(args, tmp_path, PYTHONIOENCODING="ascii", LANG="C", LC_ALL="C")
    assert ascii_run.returncode == piped.returncode, ascii_run.stderr
    ascii_run.stdout.decode("ascii")  # a non-UTF-8 terminal gets ASCII fallbacks, never an encoding error
    assert b"Traceback" not in ascii_run.stderr


@pytest.mark.parametrize("args", [["lessons"], ["quantities"], ["verify"], ["progress"], ["explain", "dE/dw1"],
                                  ["check", "dE/dw1", "0.000438568"], ["train", "-n", "200"]],
                         ids=lambda a: " ".join(a))
def test_a_40_column_terminal(args, tmp_path):
    run_plain(["start"], tmp_path)  # some progress for `progress`
    done = run_plain(args, tmp_path, COLUMNS="40", TERM="xterm-256color")
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    table_rows = [line for line in text.splitlines() if line[:1] in "┏┃┡│└┗╭╰━" or line.startswith(("  ∂", "  ─"))]
    assert all(len(line) <= 40 for line in table_rows), [line for line in table_rows if len(line) > 40]
    if args[0] in ("explain", "check"):  # too wide for 2-D: one-line forms, folded; no line is cut
        assert "0.000438568" in text and all(len(line) <= 40 for line in text.splitlines())


def test_term_dumb_in_a_terminal_has_no_escape_codes(tmp_path):
    for args in (["lessons"], ["explain", "out_h1"], ["train", "-n", "50"]):
        environment = {**os.environ, "TERM": "dumb", "BACKPROP_TUTOR_HOME": str(tmp_path)}
        environment.pop("NO_COLOR", None)
        command = installed_command()
        child = pexpect.spawn(command[0], [*command[1:], *args], env=environment, dimensions=(40, 100),
                              encoding="utf-8", timeout=60)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0 and "\x1b[" not in child.before, args


def complete(words, cword):
    environment = {**os.environ, "_BACKPROP_TUTOR_COMPLETE": "complete_bash", "COMP_WORDS": words,
                   "COMP_CWORD": str(cword)}
    done = subprocess.run(installed_command(), capture_output=True, text=True, env=environment, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_shell_completion_of_commands_lessons_and_quantities():
    assert complete("backprop-tutor che", 1) == ["check"]
    assert {"start", "explain", "what-if", "lesson-check"} <= set(complete("backprop-tutor ", 1))
    assert complete("backprop-tutor start --lesson po", 3) == ["post", "post-batch", "post-bce", "post-biases"]
    assert complete("backprop-tutor check dE_total/dw", 2)[:2] == ["dE_total/dw5", "dE_total/dw6"]
    assert "net_h1@2" in complete("backprop-tutor explain --lesson xor net_h1", 4)
    assert "delta_o1" in complete("backprop-tutor start --step del", 3)

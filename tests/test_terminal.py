"""The real program in a pseudo-terminal: colour on a terminal, none with --no-color or NO_COLOR."""

import os
import subprocess
import sys
from pathlib import Path

import pexpect


def run_in_terminal(*args, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update({"TERM": "xterm-256color", **(env or {})})
    child = pexpect.spawn(sys.executable, ["-m", "tutor", *args], env=environment, dimensions=(24, 100),
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
    """The installed console script (the README's install), or `python -m tutor` from a checkout."""
    script = Path(sys.executable).with_name("backprop-tutor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tutor"]


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

"""The real program in a pseudo-terminal: colour on a terminal, none with --no-color or NO_COLOR."""

import os
import sys

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

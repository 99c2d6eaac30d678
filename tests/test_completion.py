"""Shell completion of every alias and of the `@` names of lessons with several samples, in bash and
zsh, through the variables the shells' scripts set; and once in a real bash."""

import os
import sys
from pathlib import Path

import pexpect
import pytest
from typer.testing import CliRunner

from backprop_tutor.cli import app


def bash(line: str) -> list[str]:
    """What the bash script gets back for the line up to the cursor."""
    env = {"_BACKPROP_TUTOR_COMPLETE": "complete_bash", "COMP_LINE": line, "COMP_WORDS": line,
           "COMP_CWORD": "0", "COMP_WORDBREAKS": " \t\n\"'@><=;|&(:"}
    result = CliRunner().invoke(app, [], env=env, prog_name="backprop-tutor")
    return result.stdout.split()


def zsh(line: str) -> str:
    env = {"_BACKPROP_TUTOR_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}
    return CliRunner().invoke(app, [], env=env, prog_name="backprop-tutor").stdout


@pytest.mark.parametrize(("typed", "offered"), [
    ("dE/dw", ["dE/dw1", "dE/dw5", "dE/dw8"]), ("grad", ["grad_w1", "grad_w8"]),
    ("gradient_w", ["gradient_w2"]), ("delta", ["delta_o1", "delta_h2"]), ("w5", ["w5+"]),
    ("w5_", ["w5_new"]), ("E", ["E_total", "E_total+"]), ("dE/dout_o", ["dE/dout_o1", "dE/dout_o2"]),
])
def test_completion_of_every_alias_in_bash_and_zsh(typed, offered):
    got = bash(f"backprop-tutor check {typed}")
    assert set(offered) <= set(got) and all(g.startswith(typed) for g in got), got
    shown = zsh(f"backprop-tutor check {typed}")
    assert all(f'"{name}"' in shown for name in offered), shown


def test_completion_of_at_names_in_bash_answers_the_part_after_the_at():
    """Bash splits `net_h1@` at the `@`: the answer replaces the `@` (or what follows it), never the
    whole name, or the line would read net_h1net_h1@1."""
    assert bash("backprop-tutor check --lesson xor net_h1@") == ["@1", "@2", "@3", "@4", "@1+", "@2+", "@3+", "@4+"]
    assert bash("backprop-tutor check --lesson xor net_h1@2") == ["@2", "@2+"]
    assert bash("backprop-tutor check -l xor dE/dw5@")[:4] == ["@1", "@2", "@3", "@4"]
    assert bash("backprop-tutor check --lesson=x") == ["xor"]  # `=` is a word break too


def test_completion_of_at_names_in_zsh():
    shown = zsh("backprop-tutor check --lesson xor net_h1@")
    assert '"net_h1@1"' in shown and '"net_h1@4"' in shown


def test_completion_of_lesson_names_and_steps():
    assert bash("backprop-tutor lesson-check po") == ["post", "post-batch", "post-bce", "post-biases"]
    assert "dE/dw1" in bash("backprop-tutor start --step dE/dw")
    assert bash("backprop-tutor check nosuchname") == []


def test_completion_in_a_real_bash(tmp_path):
    """Bash itself, with the script `--install-completion` writes: what a person sees at the prompt."""
    import typer

    from backprop_tutor.completion import BashComplete

    script = tmp_path / "completion.sh"
    script.write_text(BashComplete(typer.main.get_command(app), {}, "backprop-tutor",
                                   "_BACKPROP_TUTOR_COMPLETE").source())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "backprop-tutor").write_text(f"#!/bin/sh\nexec '{sys.executable}' -m backprop_tutor \"$@\"\n")
    (bin_dir / "backprop-tutor").chmod(0o755)
    env = {"PS1": "$ ", "TERM": "dumb", "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path),
           "BACKPROP_TUTOR_HOME": str(tmp_path / "home"), "PYTHONPATH": str(Path(__file__).parent.parent),
           "INPUTRC": os.devnull}
    child = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], encoding="utf-8", timeout=30, env=env,
                          dimensions=(24, 200))
    child.sendline(f"source {script}; bind 'set show-all-if-ambiguous on'; bind 'set bell-style none'")
    child.expect_exact("$ ")

    def complete(line: str) -> tuple[str, str]:
        """The candidates bash lists for the line, and the line as bash completes it (echoed back)."""
        child.send(f"{line}\t\x01echo =\x05=\r")  # keys wait while bash completes: no sleep needed
        child.expect(r"\r\n=([^\r\n]*)=\r\n")
        listed, completed = child.before, child.match.group(1)
        child.expect_exact("$ ")
        return listed, completed

    listed, line = complete("backprop-tutor check -l xor dE_total/dw5@")
    assert "@1" in listed and "@4" in listed, listed
    assert line == "backprop-tutor check -l xor dE_total/dw5@", line  # not dE_total/dw5dE_total/dw5@
    assert complete("backprop-tutor check -l xor net_o1@3+")[1] == "backprop-tutor check -l xor net_o1@3+ "
    assert complete("backprop-tutor check grad")[1] == "backprop-tutor check grad_w"
    listed, line = complete("backprop-tutor check dE/dw")
    assert "dE/dw1" in listed and "dE/dw8" in listed and line == "backprop-tutor check dE/dw", (listed, line)
    child.sendline("exit")
    child.expect(pexpect.EOF)

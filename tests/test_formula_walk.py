"""`start --formulas` (issue 16): the first step of each kind asks for the formula, then the number; hints on
both stages; progress records both. Driven in a pseudo-terminal, as a person would, and piped."""

import json
import os
import sys
from pathlib import Path

import pexpect

from backprop_tutor.catalogue import build
from backprop_tutor.lesson import load
from backprop_tutor.walk import formula_steps, steps


def start(home, *args):
    script = Path(sys.executable).with_name("backprop-tutor")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "backprop_tutor"]
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update({"TERM": "xterm-256color", "BACKPROP_TUTOR_HOME": str(home)})
    return pexpect.spawn(command[0], [*command[1:], "start", *args], env=environment, dimensions=(40, 100),
                         encoding="utf-8", timeout=60)


def test_a_formulas_walk_in_a_terminal(tmp_path):
    child = start(tmp_path, "--formulas")
    child.expect("First write the formula")
    child.expect("formula: net_h1 = ")
    child.sendline("w1*i1 + w2*i2")  # the bias left out
    child.expect("not the formula of net_h1")
    child.expect("missing term:")
    child.expect("formula: net_h1 = ")
    child.sendline("w1·i1 + w2·i2 + b1")
    child.expect("right formula for net_h1")
    child.expect("Now compute the value of net_h1")
    child.expect("\r\nnet_h1 = ")
    child.sendline("0.3775")
    child.expect("right: net_h1 = 0.3775")
    child.expect("formula: out_h1 = ")
    child.sendline("hint")
    child.expect("Hint 1 of 3 \\(the formula\\)")
    child.expect("formula: out_h1 = ")
    child.sendline("1/(1 + e^(-net_h1))")
    child.expect("right formula for out_h1")
    child.expect("\r\nout_h1 = ")
    child.sendline("hint")  # hints on the number stage too
    child.expect("Hint 1 of 3")
    child.expect("\r\nout_h1 = ")
    child.sendline("0.593269992")
    child.expect("right: out_h1")
    child.expect("\r\nnet_h2 = ")  # the same kind of step again: the number only
    child.sendline("0.3925")
    child.expect("\r\nout_h2 = ")
    child.sendline("q")
    child.expect("Resume with: backprop-tutor start --formulas")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in child.before
    records = json.loads((tmp_path / "progress" / "post.json").read_text())["records"]
    assert records["net_h1"]["formula"] == "right" and records["net_h1"]["formula_attempts"] == 1
    assert records["out_h1"]["formula"] == "right" and records["out_h1"]["formula_hints"] == 1
    assert records["out_h1"]["hints"] == 1 and records["net_h2"]["formula"] == ""
    assert "bias-left-out" in records["net_h1"]["mistakes"]


def test_a_formula_that_cannot_be_read_and_skip_in_the_walk(cli):
    answers = ["w1*i1 + (w2*i2", "w1*[bold]i1[/bold]", "skip", "0.3775", "q"]
    out = cli("start", "--formulas", input="\n".join(answers) + "\n").output
    assert "cannot read the formula: this ( is never closed" in out
    assert "  w1*[bold]i1[/bold]\n" in out and "use round brackets" in out  # printed as typed, never as markup
    assert "Skipped. net_h1 = w1·i1 + w2·i2 + b1·1" in out and "right: net_h1 = 0.3775" in out
    assert "Traceback" not in out


def test_every_hint_of_the_formula_stage(cli):
    """Hint 2 of the formula stage is the step's first equation without its numbers, from the drawn
    derivation (it crashed with exit 70 once the derivations were drawn from the cache)."""
    for _ in range(2):  # a cold derivation cache, then a warm one
        result = cli("start", "--formulas", input="hint\nhint\nhint\nhint\nq\n")
        out = result.output
        assert result.exit_code == 0, out
        assert "Hint 1 of 3 (the formula)" in out and "net_h1 is built from w1, i1, w2, i2, b1." in out
        assert "Hint 2 of 3 (the formula)" in out and "netₕ₁ = w₁⋅i₁ + w₂⋅i₂ + b₁⋅1" in out
        assert "0.05" not in out.split("Hint 2 of 3")[1].split("Hint 3 of 3")[0]  # no numbers yet
        assert "Hint 3 of 3 (the formula)" in out and "net_h1 = w1·i1 + w2·i2 + b1·1" in out
        assert "That was the last hint" in out


def test_the_formula_steps_are_the_first_of_each_kind():
    asked = [s for s in steps(build(load("post").network)) if s.asked]
    chosen = formula_steps(asked)
    assert {"net_h1", "out_h1", "E_o1", "E_total", "dE_total/dout_o1", "dout_o1/dnet_o1", "delta_o1",
            "dnet_o1/dw5", "dE_total/dw5", "w5+", "dnet_o1/dout_h1", "dE_o1/dout_h1", "dE_total/dout_h1",
            "delta_h1", "dE_total/dw1", "dout_h1/dnet_h1", "dnet_h1/dw1"} == chosen
    assert "net_h2" not in chosen and "w6+" not in chosen and "E_total+" not in chosen

"""The interactive lesson driven as a person drives it: scripted answers through CliRunner.

Answers typed here are the engine's values (they are the learner's input, not what is checked);
what the tests check is how the walk responds, what it saves, and where it resumes.
"""

import io
import json
import os
import re

import pytest
from rich.console import Console

from backprop_tutor import progress
from backprop_tutor.checking import Session
from backprop_tutor.lesson import bundled_dir, load
from backprop_tutor.walk import steps


@pytest.fixture(scope="module")
def post():
    return Session(load())


@pytest.fixture(scope="module")
def asked(post):
    return [s.qid for s in steps(post.catalogue) if s.asked]


def answer(post, qid):
    return f"{post.trace[qid]:.12g}"


def home():
    return os.environ["BACKPROP_TUTOR_HOME"]


def saved(name="post"):
    path = os.path.join(home(), "progress", f"{name}.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def lines(*items):
    return "".join(f"{i}\n" for i in items)


def test_the_steps_follow_the_post(post, asked):
    assert asked[:8] == ["net_h1", "out_h1", "net_h2", "out_h2", "net_o1", "out_o1", "net_o2", "out_o2"]
    assert asked[8:11] == ["E_o1", "E_o2", "E_total"]
    w5 = asked[asked.index("dE_total/dout_o1"):asked.index("w5+") + 1]
    # the post's order: the three factors, their product, then δ_o1 as the name of the first two, the update
    assert w5 == ["dE_total/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5", "dE_total/dw5", "delta_o1", "w5+"]
    # the other output weights go straight to their gradient and update
    assert asked[asked.index("w5+") + 1:asked.index("w5+") + 3] == ["dE_total/dw6", "w6+"]
    # the hidden layer as the post goes: the paths, their sum, the slope, the input, the product; δ_h1 after it
    w1 = asked[asked.index("dnet_o1/dout_h1"):asked.index("w1+") + 1]
    assert w1 == ["dnet_o1/dout_h1", "dE_o1/dout_h1", "dE_o2/dout_h1", "dE_total/dout_h1", "dout_h1/dnet_h1",
                  "dnet_h1/dw1", "dE_total/dw1", "delta_h1", "w1+"]
    assert asked[-1] == "E_total+"
    sections = [post.catalogue[q].section for q in asked]
    assert sections == sorted(sections, key=["forward", "error", "output", "hidden", "after"].index)


def test_a_complete_walk_with_right_answers(cli, post, asked):
    result = cli("start", input=lines(*(answer(post, q) for q in asked)))
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("✓ right") == len(asked)
    assert f"Right at the first try: {len(asked)} of {len(asked)}. Hints used: 0." in out
    # the end says where the post is wrong: the error after the update (reference: 0.291027773693599)
    assert "it prints 0.291027924 for E_total⁺; the right value is 0.291027774" in out
    assert "backprop-tutor train --epochs 10000" in out
    data = saved()
    assert data["position"] is None and len(data["records"]) == len(steps(post.catalogue))
    assert all(r["status"] in ("right", "shown") for r in data["records"].values())


def test_each_step_shows_where_what_the_equation_and_the_values_it_needs(cli, post, asked):
    skip_to = asked.index("dE_total/dw5")
    result = cli("start", "--step", "dE/dw5", input=lines("q"))
    out = result.output
    assert f"Backward pass: output layer · step {skip_to + 1} of {len(asked)}" in out
    assert "Compute ∂E_total/∂w5: gradient of the total error with respect to w5" in out
    assert "─────── = ───────⋅──────⋅──────" in out  # the chain rule, drawn by SymPy
    assert "You have: ∂E_total/∂out_o1 = ? (not done yet)" in out  # jumped ahead: nothing known yet
    cli("check", "dE_total/dout_o1", "0.74136507")
    again = cli("start", "--step", "dE/dw5", input=lines("q")).output
    assert "You have: ∂E_total/∂out_o1 = 0.74136507" in again


def test_wrong_then_right_and_more_digits_is_not_an_attempt(cli):
    result = cli("start", input=lines("0.5", "0.38", "0.3775", "q"))
    out = result.output
    assert "✗ not right: 0.5 is not net_h1" in out
    assert "? give more digits: 0.38" in out
    record = saved()["records"]["net_h1"]
    assert record["status"] == "right" and record["attempts"] == 1 and record["typed"] == "0.3775"
    cli("reset", "--yes")
    cli("start", input=lines("0.38", "0.3775", "q"))
    assert saved()["records"]["net_h1"]["attempts"] == 0


def test_hints_go_deeper_only_after_an_attempt_or_a_yes(cli):
    result = cli("start", input=lines("hint", "hint", "n", "h", "y", "0.4123", "h", "h", "0.3775", "q"))
    out = result.output
    assert out.count("Hint 1 of 3") == 1 and "Which value reaches h1 along each of its connections" in out
    assert out.count("Hint 2 of 3 gives more of the answer away. Show it? [y/N]") == 2
    assert out.count("\nHint 2 of 3\n") == 1  # shown only after the yes
    assert "\nHint 3 of 3\n" in out  # after the wrong attempt (no diagnosis), no question asked
    assert "Put the numbers in: net_h1 = 0.15·0.05 + 0.2·0.1 + 0.35·1" in out
    assert "That was the last hint" in out
    record = saved()["records"]["net_h1"]
    assert record["hints"] == 3 and record["attempts"] == 1


def test_skip_shows_the_worked_answer_and_counts_as_skipped(cli):
    out = cli("start", input=lines("skip", "t", "q")).output
    assert "Skipped. net_h1 = w1·i1 + w2·i2 + b1·1" in out and "= 0.3775" in out
    assert "│ net_h1   │ 0.3775 │ skipped │" in out
    assert saved()["records"]["net_h1"]["status"] == "skipped"


def test_back_returns_to_the_previous_step(cli):
    out = cli("start", input=lines("0.3775", "back", "0.3775", "0.593269992", "q")).output
    assert out.count("Compute net_h1") == 2 and out.count("Compute out_h1") == 2
    assert "Compute net_h2" in out
    assert saved()["records"]["net_h1"]["attempts"] == 0


def test_quit_and_resume_on_the_same_step(cli):
    first = cli("start", input=lines("0.3775", "0.593269992", "quit"))
    assert first.exit_code == 0
    assert "Saved: 2 of 57 steps done. Resume with: backprop-tutor start" in first.output
    second = cli("start", input=lines("q"))
    assert "Welcome back" in second.output and "2 of 57 steps done. Resuming at net_h2" in second.output
    assert "Compute net_h2" in second.output and "Compute net_h1" not in second.output


def test_end_of_input_saves_and_says_how_to_resume(cli):
    result = cli("start", input=lines("0.3775"))
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert "Saved: 1 of 57 steps done. Resume with: backprop-tutor start" in result.output
    assert saved()["position"] == "out_h1"


def test_restart_and_jump(cli):
    cli("start", input=lines("0.3775", "q"))
    assert "Compute net_h1" in cli("start", "--restart", input=lines("y", "q")).output
    jumped = cli("start", "--step", "dE/dw1", input=lines("q")).output
    assert "Compute ∂E_total/∂w1" in jumped
    bad = cli("start", "--step", "dE/dw9")
    assert bad.exit_code == 2 and "unknown quantity 'dE/dw9'" in bad.stderr


def test_typos_get_a_clear_line_and_the_prompt_again(cli):
    out = cli("start", input=lines("hnit", "1/2", "", "?", "0.3775", "q")).output
    assert "'hnit' is not a number or a command. Did you mean `hint`?" in out
    assert "'1/2' is not a number I can check" in out
    assert "Type the value you computed" in out
    assert "hint     h" in out  # the help list
    assert saved()["records"]["net_h1"]["status"] == "right"


def test_explain_table_and_diagram_at_the_prompt(cli):
    out = cli("start", input=lines("0.3775", "explain", "y", "table", "diagram", "q")).output
    assert "Full precision: out_h1 = 0.59326999210718" in out
    assert "│ net_h1   │ 0.3775 │ first try │" in out
    assert "h1* net 0.3775 ─┬ w5 0.4  ─▶ o1" in out  # at out_h1: h1 is the step's neuron, its net input known
    assert "    out ?       └ w7 0.5  ─▶ o2" in out


def test_values_confirmed_with_check_count_in_the_walk(cli):
    assert cli("check", "net_h1", "0.3775").exit_code == 0
    assert cli("check", "out_h1", "0.59").exit_code == 3  # not accepted: not recorded
    out = cli("start", input=lines("q")).output
    assert "Compute out_h1" in out and "Compute net_h1" not in out
    assert saved()["records"]["net_h1"]["status"] == "checked"


def test_a_corrupt_progress_file_is_moved_aside(cli):
    folder = os.path.join(home(), "progress")
    os.makedirs(folder)
    with open(os.path.join(folder, "post.json"), "w") as f:
        f.write("{ not json")
    result = cli("start", input=lines("0.3775", "q"))
    assert result.exit_code == 0
    assert "could not be read (it is not valid JSON); it was moved to" in result.output
    assert any(n.startswith("post.json.unreadable-") for n in os.listdir(folder))
    assert saved()["records"]["net_h1"]["status"] == "right"


@pytest.mark.parametrize("content", ['{"version": 99}', "[1, 2]", "\x00\xff", "[" * 100_000])
def test_other_unreadable_progress_files(cli, content):
    folder = os.path.join(home(), "progress")
    os.makedirs(folder)
    with open(os.path.join(folder, "post.json"), "w", encoding="latin-1") as f:
        f.write(content)
    result = cli("start", input=lines("q"))
    assert result.exit_code == 0 and "could not be read" in result.output and "Compute net_h1" in result.output


def test_a_changed_lesson_asks_again_for_what_changed(cli, write_lesson):
    source = (bundled_dir() / "post.toml").read_text()
    path = write_lesson(source)
    cli("start", "--lesson", path, input=lines("0.3775", "0.593269992", "0.3925", "q"))
    write_lesson(source.replace("0.15, 0.20", "0.16, 0.20"))  # w1 changes: net_h1 and out_h1 do, net_h2 not
    out = cli("start", "--lesson", path, input=lines("q")).output
    assert "the lesson has changed since you last worked on it: 2 steps whose value changed" in out
    assert "Compute net_h1" in out


def test_a_full_disk_loses_nothing(cli, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as m:
        m.setattr(progress.os, "replace", full)
        out = cli("start", input=lines("0.3775", "0.593269992", "q")).output
    assert out.count("could not save your progress") == 1  # said once, not at every step
    assert "no space left on device" in out
    assert "Compute net_h2" in out  # the walk went on
    assert not os.path.exists(os.path.join(home(), "progress", "post.json"))
    leftovers = [n for n in os.listdir(os.path.join(home(), "progress")) if n.endswith(".tmp")]
    assert leftovers == []


def test_a_lesson_may_word_a_step_its_own_way(cli, write_lesson):
    source = (bundled_dir() / "post.toml").read_text()
    path = write_lesson(source + '\n[steps]\n"net_h1" = "Start with h1: add up what reaches it."\n')
    assert "Start with h1: add up what reaches it." in cli("start", "--lesson", path, input=lines("q")).output
    bad = write_lesson(source + '\n[steps]\n"net_h9" = "x"\n', name="bad.toml")
    result = cli("start", "--lesson", bad)
    assert result.exit_code == 2 and "steps.net_h9" in result.stderr


def test_progress_report(cli):
    assert "No progress yet" in cli("progress").output
    cli("start", input=lines("0.3775", "h", "0.593269992", "skip", "q"))
    out = cli("progress").output
    assert "│ Forward pass" in out and "3 of 8" in out and "in progress" in out
    assert re.search(r"│ net input\s+│ 1 \(50%\)\s+│ 2\s+│", out)
    assert "Hints used: 1." in out and "Next step: out_h2" in out


def test_reset_asks_first(cli):
    assert "nothing to reset" in cli("reset").output
    cli("start", input=lines("0.3775", "q"))
    no = cli("reset", input="n\n")
    assert no.exit_code == 1 and "Nothing was changed" in no.output
    assert saved()["records"]
    yes = cli("reset", input="y\n")
    assert yes.exit_code == 0 and "forgotten" in yes.output
    assert not os.path.exists(os.path.join(home(), "progress", "post.json"))


STEP_SCREEN = """\
Backward pass: output layer · step 15 of 57  ━━━━━━────────────────── 24%
Compute ∂E_total/∂w5: gradient of the total error with respect to w5
  ∂Eₜₒₜₐₗ   ∂Eₜₒₜₐₗ ∂outₒ₁ ∂netₒ₁
  ─────── = ───────⋅──────⋅──────
    ∂w₅     ∂outₒ₁  ∂netₒ₁  ∂w₅
You have: ∂E_total/∂out_o1 = 0.74136507, ∂out_o1/∂net_o1 = 0.186815602, ∂net_o1/∂w5 = 0.593269992
"""


def test_a_step_screen(post, asked):
    from backprop_tutor.progress import Progress, Record, Store
    from backprop_tutor.render import Out
    from backprop_tutor.screens import Screen
    from backprop_tutor.walk import Walk

    state = Progress("post")
    for qid in asked[:asked.index("dE_total/dw5")]:
        state.records[qid] = Record("right", post.trace[qid])
    console = Console(record=True, width=100, color_system=None, file=io.StringIO())
    screen = Screen(console, Out(no_color=True, stream=io.StringIO()))
    walk = Walk(post, Store("post"), state, screen, input)
    step = next(s for s in walk.steps if s.qid == "dE_total/dw5")
    screen.step(walk, step)
    text = "\n".join(line.rstrip() for line in console.export_text().split("\n"))
    assert text.split("\n", 2)[2] == STEP_SCREEN  # after the blank line and the rule


DEEP = """
title = "Two hidden layers, trained biases"
description = "A deeper network for the walk."
[network]
layers = [2, 2, 2, 1]
activation = ["tanh", "logistic", "identity"]
loss = "half-squared-error"
weights = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, 0.9, -1.0]
biases = [0.1, 0.2, 0.3, 0.4, 0.5]
bias_mode = "per-neuron"
train_biases = true
learning_rate = 0.5
[data]
inputs = [1.0, -1.0]
targets = [0.5]
"""


def test_any_lesson_can_be_walked_to_the_end(cli, write_lesson):
    path = write_lesson(DEEP)
    session = Session(load(str(path)))
    asked = [s.qid for s in steps(session.catalogue) if s.asked]
    assert "dE_total/db1" in asked and "b1+" in asked and "dE_via_j1/dout_h1" in asked
    result = cli("start", "--lesson", path, input=lines(*(answer(session, q) for q in asked)))
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ right") == len(asked)
    assert "You have worked through Two hidden layers, trained biases." in result.output
    finished = cli("start", "--lesson", path, input="")
    assert "You have finished this lesson" in finished.output


def test_an_unreadable_progress_file_is_kept_and_moved_aside(cli, monkeypatch):
    cli("start", input=lines("0.3775", "q"))
    real = progress.os.open

    def denied(path, *args, **kwargs):
        if os.path.basename(path) == "post.json":
            raise PermissionError(13, "Permission denied")
        return real(path, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(progress.os, "open", denied)
        out = cli("start", input=lines("q")).output
    assert "could not be read (permission denied); it was moved to" in out
    folder = os.path.join(home(), "progress")
    aside = [n for n in os.listdir(folder) if n.startswith("post.json.unreadable-")]
    assert len(aside) == 1
    with open(os.path.join(folder, aside[0]), encoding="utf-8") as f:
        assert "net_h1" in json.load(f)["records"]  # the old progress is still there, nothing lost

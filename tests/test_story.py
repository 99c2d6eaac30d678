"""Issue 15, parts 3 to 5: the walk tells a story. A framing line at each section, the post's big-picture
equation before the hidden layer, the post's order at the output layer, one line for a right answer (the
formula on request), `outline` and `goto`, a recap of the three rules with the learner's figures and the
lesson to do next; the post's errata where learners meet them; hints that add something.

Driven as a person drives it: the real program in a pseudo-terminal, and piped through CliRunner. The
typed answers are the engine's values (the learner's input); what is checked is the walk's response,
against the post's own text and numbers (reference/post-numbers.md).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from backprop_tutor import story
from backprop_tutor.checking import Session
from backprop_tutor.lesson import bundled_names, load
from backprop_tutor.progress import Progress, Record, Store
from backprop_tutor.walk import steps


@pytest.fixture(scope="module")
def post():
    return Session(load())


@pytest.fixture(scope="module")
def asked(post):
    return [s.qid for s in steps(post.catalogue) if s.asked]


def answer(post, qid):
    return f"{post.trace[qid]:.12g}"


def lines(*items):
    return "".join(f"{i}\n" for i in items)


def spawn(home, *args):
    script = Path(sys.executable).with_name("backprop-tutor")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "backprop_tutor"]
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update({"TERM": "xterm-256color", "BACKPROP_TUTOR_HOME": str(home), "COLUMNS": "100"})
    return pexpect.spawn(command[0], [*command[1:], *args], env=environment, dimensions=(40, 100),
                         encoding="utf-8", timeout=60)


PLAIN = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")


def plain(text: str) -> str:
    return " ".join(PLAIN.sub("", text).split())  # colours off, lines joined: the words a person reads


def test_the_walk_in_a_terminal_framing_order_one_line_answers_outline_goto(tmp_path, post):
    child = spawn(tmp_path, "start")
    child.expect("net_h1 = ")
    intro = plain(child.before)
    assert "What we want: the outputs the network gives for i1 = 0.05, i2 = 0.1." in intro
    assert "The steps follow the post" in intro and "in the order of the original" not in intro
    child.sendline("0.3775")
    child.expect("out_h1 = ")
    after = plain(child.before)
    assert after.startswith("0.3775 ✓ right: net_h1 = 0.3775 ─")  # one line, then the next step's rule
    assert "0.15·0.05" not in after
    child.sendline("more")  # the formula and every digit, on request
    child.expect("out_h1 = ")
    more = plain(child.before)
    assert "net_h1 = w1·i1 + w2·i2 + b1·1" in more and "= 0.15·0.05 + 0.2·0.1 + 0.35·1" in more
    assert "= 0.3775" in more
    child.sendline("outline")
    child.expect("out_h1 = ")
    outline = plain(child.before)
    assert "Forward pass: 1 of 8 done" in outline and "✓ net_h1, ▶ out_h1, net_h2" in outline
    assert "Backward pass: output layer: 0 of 15 done" in outline
    child.sendline("goto nosuch")
    child.expect("out_h1 = ")
    error = PLAIN.sub("", child.before).strip().split("\n")
    assert error[-1].startswith("✗ unknown quantity 'nosuch'") and len(error) == 2  # the line typed, one line
    child.sendline("goto dE/dout_o1")  # to the start of the output layer: its framing, then the post's order
    child.expect("∂E_total/∂out_o1 = ")
    framing = plain(child.before)
    assert "Backward pass: output layer What we want:" in framing
    assert "∂E_total/∂w5 = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5" in framing
    order = []
    for qid, prompt in (("dE_total/dout_o1", "∂out_o1/∂net_o1 = "), ("dout_o1/dnet_o1", "∂net_o1/∂w5 = "),
                        ("dnet_o1/dw5", "∂E_total/∂w5 = "), ("dE_total/dw5", "δ_o1 = "), ("delta_o1", "w5⁺ = ")):
        child.sendline(answer(post, qid))
        child.expect_exact(prompt)
        order.append(plain(child.before))
    assert all(" ✓ right: " in o for o in order)
    assert "get a name of their own: δ_o1" in order[3]  # δ after the product, as its name
    assert "Why the weights before the update" in order[4]  # where the updates begin
    child.sendline("q")
    child.expect("Saved: 6 of 57 steps done")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in child.before


def test_a_whole_walk_piped_the_story_and_the_recap(cli, post, asked):
    result = cli("start", input=lines(*(answer(post, q) for q in asked)))
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("What we want:") == 5  # forward, error, output layer, hidden layer, after the update
    hidden = out.index("Backward pass: hidden layer\nWhat we want:")
    big = "The big picture, for w1: ∂E_total/∂w1 = ∂E_total/∂out_h1 · ∂out_h1/∂net_h1 · ∂net_h1/∂w1."
    assert out.index(big) > hidden and out.index(big) < out.index("Compute ∂net_o1/∂out_h1")
    assert "∂E_total/∂out_h1 = ∂E_o1/∂out_h1 + ∂E_o2/∂out_h1" in out[hidden:]
    assert out.count("✓ right") == len(asked) and "= 0.15·0.05" not in out  # no formula after a right answer
    recap = out[out.index("You have worked through"):]
    assert "1. δ at an output: δ_o1 = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 = −(target_o1 − out_o1) · " \
           "out_o1(1 − out_o1)." in recap
    assert "2. δ at a hidden neuron:" in recap and "δ_h1 = (δ_o1·w5 + δ_o2·w7) · out_h1(1 − out_h1)." in recap
    assert "3. A weight's gradient:" in recap and "∂E_total/∂w5 = δ_o1·out_h1, ∂E_total/∂w1 = δ_h1·i1." in recap
    # the post's error before, and the right error after the update (reference: 0.291027773693599)
    assert "E_total went from 0.298371109 to 0.291027774 with one step of gradient descent." in recap
    assert "Next: The classic example, with the biases trained: `backprop-tutor start --lesson post-biases`." \
        in " ".join(recap.split())
    assert len(recap.strip().split("\n")) < 30  # the figures in a few lines, not a 66-row table
    assert "∂E_total/∂w5 │" not in recap and "Every value of the lesson" not in recap


def test_the_recap_of_a_lesson_with_its_own_rules(cli):
    session = Session(load("softmax-ce"))
    asked = [s.qid for s in steps(session.catalogue) if s.asked]
    out = cli("start", "--lesson", "softmax-ce", input=lines(*(answer(session, q) for q in asked))).output
    assert "1. δ at an output: δ_o1 = out_o1 − target_o1." in out
    assert "`backprop-tutor start --lesson xor`" in out.split("Next:")[1]  # the last but one in the suggested order


def test_the_last_lesson_has_no_next_lesson(cli):
    session = Session(load("xor"))
    asked = [s.qid for s in steps(session.catalogue) if s.asked]
    out = cli("start", "--lesson", "xor", input=lines(*(answer(session, q) for q in asked))).output
    assert "You have worked through" in out and "Next:" not in out


def test_a_progress_file_of_the_old_order_resumes_where_it_should(cli, post):
    """Before, δ_o1 came right after ∂out_o1/∂net_o1. A learner who had done it, and stopped at ∂net_o1/∂w5,
    resumes there; after ∂E_total/∂w5 the walk goes on to w5⁺, with δ_o1 kept as done."""
    state = Progress("post")
    for qid in [*steps_before(post, "dE_total/dout_o1"), "dE_total/dout_o1", "dout_o1/dnet_o1", "delta_o1"]:
        state.records[qid] = Record("right", post.trace[qid], typed=answer(post, qid))
    state.position = "dnet_o1/dw5"
    store = Store("post")
    assert store.save(state) is None
    result = cli("start", input=lines(answer(post, "dnet_o1/dw5"), answer(post, "dE_total/dw5"), "q"))
    out = result.output
    assert result.exit_code == 0 and "14 of 57 steps done. Resuming at ∂net_o1/∂w5" in out
    prompts = re.findall(r"^(\S+) = ", out, re.M)
    assert prompts == ["∂net_o1/∂w5", "∂E_total/∂w5", "w5⁺"]
    assert "Saved: 16 of 57 steps done" in out
    saved = json.loads(store.path.read_text(encoding="utf-8"))["records"]
    assert saved["delta_o1"]["status"] == "right" and saved["delta_o1"]["typed"] == answer(post, "delta_o1")


def steps_before(post, qid):
    order = [s.qid for s in steps(post.catalogue) if s.asked]
    return order[:order.index(qid)]


def test_goto_in_the_walk_refuses_what_is_not_a_step_in_one_line(cli):
    out = cli("start", input=lines("goto", "goto w1 w2", "goto i1", "goto " + "x" * 300, "q")).output
    errors = [line for line in out.split("\n") if line.startswith("✗")]
    assert len(errors) == 4 and "Traceback" not in out
    assert errors[0].startswith("✗ goto needs the name of a step")
    assert "given" in errors[2]
    assert len(errors[3]) < 200


def test_start_at_an_unknown_step_is_a_one_line_error_and_exit_2(cli):
    result = cli("start", "--step", "nosuch")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().split("\n")) == 1


def test_every_bundled_lesson_has_an_honest_intro(cli):
    for name in bundled_names():
        lesson = load(name)
        assert lesson.intro, name
        out = cli("start", "--lesson", name, input="q\n").output
        assert "in the order of the original" not in out
        assert " ".join(lesson.intro.split())[:60] in " ".join(out.split())
    assert "follow the post" in load("post").intro
    for name in ("post-biases", "deep", "softmax-ce"):
        assert "original" in load(name).intro  # says where the original has no order to follow


def test_lessons_is_a_short_table_in_the_suggested_order(cli):
    out = cli("lessons").output
    names = re.findall(r"│\s*\d+\s*│\s*([\w-]+)", out)
    assert names == story.suggested(bundled_names()) and names[:2] == ["post", "post-biases"]
    assert "Two inputs feed two hidden" not in out  # the introductions are for `start`
    assert len(out.strip().split("\n")) <= 2 * len(names) + 8


def test_a_new_lesson_is_listed_after_the_suggested_ones():
    assert story.suggested(["zz", "post", "aa", "xor"]) == ["post", "xor", "aa", "zz"]
    assert story.next_lesson("post", ["post", "deep", "post-biases"]) == "post-biases"
    assert story.next_lesson("xor", list(story.SUGGESTED)) is None


# errata where learners meet them ---------------------------------------------------------------


def test_the_posts_w3_for_w2_slip_is_flagged_at_its_step(cli):
    out = cli("start", "--step", "dnet_h1/dw1", input="q\n").output
    flat = " ".join(out.split())
    assert "Note: in this section the original writes net_h1 = w1·i1 + w3·i2 + b1·1. That is a slip of the " \
        "text" in flat
    assert "The weight from i2 to h1 is w2" in flat
    other = cli("start", "--step", "net_h1", input="q\n").output
    assert "w3·i2" not in other  # not where the post writes it right


def test_check_of_the_printed_error_points_at_the_derivation_not_the_parts(cli):
    result = cli("check", "E_total+", "0.291027924")
    out = " ".join(result.output.split())
    assert "the figure the original prints for E_total⁺" in out
    assert "How the right value is computed: `backprop-tutor explain E_total+`." in out
    assert "Check the parts" not in out


def test_an_erratum_is_read_once_and_without_doubled_spaces(cli, post, asked):
    typed = [answer(post, q) for q in asked]
    typed[-1:] = ["0.291027924", answer(post, "E_total+")]  # the post's figure first
    out = cli("start", input=lines(*typed)).output
    assert out.count("An earlier version of its code") == 1
    assert "it prints 0.291027924 for E_total⁺; the right value is 0.291027774" in " ".join(out.split())
    why = " ".join(load().errata[1].why.split())
    start = out.index("The original prints 0.291027924")
    shown = out[start:out.index("significant digit.", start) + len("significant digit.")]
    assert " ".join(shown.split()) == why  # the text as written, once
    assert all("  " not in line.strip() for line in shown.split("\n"))  # no doubled spaces inside a line


def test_a_formula_erratum_is_lesson_data_and_the_schema_says_so(write_lesson):
    from backprop_tutor.errors import LessonError
    from backprop_tutor.lesson import bundled_dir

    text = (bundled_dir() / "post.toml").read_text(encoding="utf-8")
    both = text.replace('wrote = "net_h1 = w1·i1 + w3·i2 + b1·1"', 'wrote = "x"\nprinted = "0.05"')
    with pytest.raises(LessonError, match="either printed"):
        load(str(write_lesson(both)))
    errata = load().errata
    assert [e.wrote for e in errata if e.wrote] == ["net_h1 = w1·i1 + w3·i2 + b1·1"]


# hints that add something --------------------------------------------------------------------


def hint_one(cli, qid):
    out = cli("start", "--step", qid, input="hint\nq\n").output
    screen, hint = out.split("Hint 1 of 3", 1)
    return screen, hint.split("\n", 1)[1].rsplit(" = q", 1)[0]


@pytest.mark.parametrize("qid", ["net_h1", "out_h1", "E_o1", "E_total", "dE/dout_o1", "dout_o1/dnet_o1",
                                 "dnet_o1/dw5", "dE/dw5", "delta_o1", "w5+", "dnet_o1/dout_h1", "dE_o1/dout_h1",
                                 "dE/dout_h1", "dE/dw1", "E_total+"])
def test_hint_one_is_a_question_and_not_the_screen_again(cli, qid):
    screen, hint = hint_one(cli, qid)
    text = " ".join(hint.split()[:-1])
    assert "?" in text, text
    assert text not in " ".join(screen.split())


def test_no_hint_is_shown_twice_in_a_row(cli):
    out = cli("start", "--step", "dnet_h1/dw1", input=lines("hint", "hint", "y", "hint", "y", "hint", "hint",
                                                             "q")).output
    hints = re.split(r"Hint \d of 3\n", out)[1:]
    bodies = [h.split("∂net_h1/∂w1 = ")[0] for h in hints]
    assert len(bodies) == 3 and len(set(bodies)) == 3
    assert out.count("That was the last hint") == 2


def test_the_updated_weights_slip_is_answered_with_why_the_weights_before_the_update(cli):
    """0.000364723, from the post's comments: ∂E/∂w1 back-propagated through w5⁺ and w7⁺."""
    out = " ".join(cli("start", "--step", "dE/dw1", input=lines("0.000364723", "hint", "q")).output.split())
    assert "You used the updated weights" in out
    assert "Revisit the rule: Each partial derivative is the slope of E_total at one point" in out
    assert "every weight take its step, together" in out

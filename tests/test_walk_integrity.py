"""The walk keeps its word: no give-aways, no lesson declared done with steps never asked, nothing
forgotten without asking, nothing another process recorded lost at the next save (issue 13, parts 6, 7).

Answers typed here are the engine's values (they are the learner's input, not what is checked).
"""

import json
import os
import re
import subprocess
import sys

import pexpect
import pytest

from backprop_tutor import progress
from backprop_tutor.checking import Session
from backprop_tutor.lesson import load
from backprop_tutor.mistakes import BY_ID
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


def progress_file():
    return os.path.join(os.environ["BACKPROP_TUTOR_HOME"], "progress", "post.json")


def saved():
    with open(progress_file(), encoding="utf-8") as f:
        return json.load(f)


# walk integrity ---------------------------------------------------------------------------------


def done_before(post, qids):
    """A progress file in which these steps were answered right (the learner's state, not an expectation)."""
    store = progress.Store("post")
    state = store.load(post.trace)
    for q in qids:
        state.records[q] = progress.Record("right", post.trace[q], skill=post.catalogue[q].skill)
    assert store.save(state) is None
    return saved()


def test_jump_then_back_then_the_end_goes_on_to_the_steps_never_asked(cli, post, asked):
    k = asked.index("dE_o2/dout_h1")
    before, rest = asked[:k - 1], asked[k - 1:]  # `back` from the jump lands on the step before it
    done_before(post, [*before[2:], *rest[2:]])  # done earlier, to keep the test short: 6 steps are typed here
    typed = ["back", *(answer(post, q) for q in rest[:2]), *(answer(post, q) for q in before[:2])]
    out = cli("start", "--step", "dE_o2/dout_h1", input=lines(*typed)).output
    assert "but 2 steps are still open: back to net_h1" in out
    assert out.index("steps are still open") < out.index("You have worked through")
    assert out.count("You have worked through") == 1
    assert f"Right at the first try: {len(asked)} of {len(asked)}." in out
    assert set(saved()["records"]) == {s.qid for s in steps(post.catalogue)}


def test_the_end_is_not_declared_while_steps_are_open(cli, post, asked):
    done_before(post, asked[5:])
    out = cli("start", "--step", "E_total+", input=lines(answer(post, "E_total+"))).output
    assert "but 5 steps are still open: back to net_h1" in out
    assert "You have worked through" not in out and "Compute net_h1" in out
    assert f"Saved: {len(asked) - 5} of {len(asked)} steps done." in out
    assert saved()["position"] == "net_h1"


def test_restart_asks_and_no_or_end_of_input_changes_nothing(cli, post, asked):
    done_before(post, asked)
    assert "You have finished this lesson" in cli("start", input="").output
    before = saved()
    for reply in ("n\n", "", "maybe\n"):
        result = cli("start", "--restart", input=reply)
        assert result.exit_code == 1, reply
        assert "Forget your progress in lesson post? [y/N]" in result.output
        assert "Nothing was changed." in result.output and "Compute" not in result.output
        assert saved()["records"] == before["records"]


def test_restart_forgets_after_a_yes_or_with_yes(cli, post, asked):
    done_before(post, asked)
    yes = cli("start", "--restart", input=lines("y", "q"))
    assert yes.exit_code == 0 and "Compute net_h1" in yes.output
    assert saved()["records"] == {}
    done_before(post, asked)
    flag = cli("start", "--restart", "--yes", input=lines("q"))
    assert "Forget your progress" not in flag.output and "Compute net_h1" in flag.output
    assert saved()["records"] == {}


def test_restart_with_nothing_saved_asks_nothing(cli):
    out = cli("start", "--restart", input=lines("q")).output
    assert "Forget" not in out and "Compute net_h1" in out


def test_reset_at_the_end_of_input_changes_nothing(cli, post):
    cli("start", input=lines(answer(post, "net_h1"), "q"))
    result = cli("reset", input="")
    assert result.exit_code == 1 and "Nothing was changed." in result.output
    assert "net_h1" in saved()["records"]


def test_a_save_merges_what_another_process_recorded(tmp_path, post):
    """A `check` in a second, real process while the walk is open: both records end up in the file."""
    home = tmp_path / "home"
    env = {**os.environ, "BACKPROP_TUTOR_HOME": str(home), "NO_COLOR": "1", "TERM": "dumb"}
    child = pexpect.spawn(sys.executable, ["-m", "backprop_tutor", "start"], env=env, encoding="utf-8",
                          timeout=60, dimensions=(40, 120))
    child.expect("\r\nnet_h1 = ")
    child.sendline("0.3775")
    child.expect("\r\nout_h1 = ")  # the walk has saved net_h1, and waits
    done = subprocess.run([sys.executable, "-m", "backprop_tutor", "check", "dE/dw5", "0.082167041"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    child.sendline("0.59326999")  # the walk's next save
    child.expect("\r\nnet_h2 = ")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    records = json.loads((home / "progress" / "post.json").read_text(encoding="utf-8"))["records"]
    assert records["dE_total/dw5"]["status"] == "checked"
    assert records["net_h1"]["status"] == "right" and records["out_h1"]["status"] == "right"
    assert "Saved: 3 of 57 steps done" in child.before  # the walk counts what the file holds, check's step too


def test_a_check_saves_only_what_it_recorded(cli, post, monkeypatch):
    """A `reset` while a `check` is judging: the check adds its value, and does not bring back the rest."""
    cli("check", "net_h1", "0.3775")
    judge = Session.check

    def reset_meanwhile(self, *args, **kwargs):
        os.remove(progress_file())  # another process forgets the lesson while this one judges
        return judge(self, *args, **kwargs)

    monkeypatch.setattr(Session, "check", reset_meanwhile)
    assert cli("check", "net_h2", "0.3925").exit_code == 0
    assert set(saved()["records"]) == {"net_h2"}


def record(status, value, **extra):
    return progress.Record(status, value, **extra)


def test_merge_keeps_every_confirmed_step_and_the_better_record(post):
    t = post.trace
    ours = progress.Progress("post", position="out_h1")
    ours.records = {"net_h1": record("checked", t["net_h1"], mistakes=["a"]),
                    "net_h2": record("right", t["net_h2"], attempts=2)}
    ours.pending = {"out_h1": {"attempts": 1, "hints": 0}}
    ours.mistakes = [("a", "net_h1")]
    theirs = progress.Progress("post", position="E_total")
    theirs.records = {"net_h1": record("right", t["net_h1"], mistakes=["b"]),
                      "net_h2": record("checked", t["net_h2"]),
                      "w5+": record("checked", t["w5+"]),
                      "out_h1": record("checked", t["out_h1"])}
    theirs.pending = {"out_h2": {"attempts": 0, "hints": 2}}
    theirs.wrong = {"out_h2": "0.7", "w5+": "0.4"}
    theirs.mistakes = [("b", "net_h1")]
    held = ours.pending["out_h1"]
    ours.merge(theirs)
    assert set(ours.records) == {"net_h1", "net_h2", "w5+", "out_h1"}
    assert ours.records["net_h1"].status == "right" and set(ours.records["net_h1"].mistakes) == {"a", "b"}
    assert ours.records["net_h2"].status == "right" and ours.records["net_h2"].attempts == 2
    assert "out_h1" not in ours.pending and ours.pending["out_h2"]["hints"] == 2
    assert held == {"attempts": 1, "hints": 0}  # the walk's own dict is never swapped for another
    # a done step's earlier wrong value is kept: a later value still built on it is told so
    assert ours.wrong == {"out_h2": "0.7", "w5+": "0.4"} and ours.mistakes == [("a", "net_h1"), ("b", "net_h1")]
    assert ours.position == "out_h1"


def test_a_save_never_waits_forever_for_the_lock(post, monkeypatch, tmp_path):
    fcntl = pytest.importorskip("fcntl")  # where there is no fcntl, saves are not locked
    store = progress.Store("post", tmp_path)
    state = store.load(post.trace)
    store.folder.mkdir(parents=True)
    monkeypatch.setattr(progress, "LOCK_TIMEOUT", 0.2)
    with open(store.lock_path, "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another process in the middle of a save
        problem = store.save(state)
    assert problem is not None and "kept it locked" in problem
    assert store.save(state) is None and store.path.exists()


# give-aways -------------------------------------------------------------------------------------


def test_explain_asks_first_and_no_shows_nothing(cli):
    out = cli("start", input=lines("explain", "n", "q")).output
    assert "The derivation shows net_h1; the step then does not count as a first try. Show it? [y/N]" in out
    assert "Not shown." in out and "Full precision" not in out


@pytest.mark.parametrize("reply", ["y", "yes", "explain", "e"])
def test_explain_after_a_yes_marks_the_step_explained(cli, post, reply):
    out = cli("start", input=lines("explain", reply, answer(post, "net_h1"), "t", "q")).output
    assert "Full precision: net_h1 = 0.3775" in out
    assert "│ net_h1   │ 0.3775 │ right after the explanation │" in out
    record = saved()["records"]["net_h1"]
    assert record["status"] == "right" and record["explained"] is True
    report = cli("progress").output
    assert re.search(r"│ net input\s+│ 0 \(0%\)\s+│ 1\s+│", report)
    assert "Explained before answering: 1." in report


def test_an_explained_step_is_not_counted_at_the_first_try_in_the_summary(cli, post, asked):
    done_before(post, [s.qid for s in steps(post.catalogue) if s.qid != "net_h1"])
    out = cli("start", input=lines("e", "y", answer(post, "net_h1"))).output
    assert f"Right at the first try: {len(asked) - 1} of {len(asked)}." in out
    assert "Explained before answering: 1." in out


def test_explain_of_a_step_already_done_asks_nothing(cli, post):
    out = cli("start", input=lines(answer(post, "net_h1"), "back", "explain", "q")).output
    assert "Show it?" not in out and "Full precision: net_h1 = 0.3775" in out


def test_hint_three_after_a_jump_shows_no_value_of_a_step_not_done(cli, post):
    deps = ["dE_total/dout_o1", "dout_o1/dnet_o1", "dnet_o1/dw5"]
    out = cli("start", "--step", "dE/dw5", input=lines("h", "0.12", "h", "0.13", "h", "q")).output
    assert "Hint 3 of 3" in out
    assert "Still to be computed: ∂E_total/∂out_o1, ∂out_o1/∂net_o1, ∂net_o1/∂w5" in out
    for d in deps:
        shown = f"{post.trace[d]:.6f}"[:7]
        assert shown not in out, d
    cli("reset", "--yes")
    cli("check", "dE_total/dout_o1", "0.74136507")  # one part done: its value is shown, the others named
    again = cli("start", "--step", "dE/dw5", input=lines("h", "0.12", "h", "0.13", "h", "q")).output
    assert "with ∂E_total/∂out_o1 = 0.74136507. Still to be computed: ∂out_o1/∂net_o1, ∂net_o1/∂w5" in again


def test_skip_after_a_jump_shows_the_answer_but_not_the_parts_not_done(cli, post):
    out = cli("start", "--step", "dE/dw5", input=lines("skip", "q")).output
    assert "Skipped." in out and "Still to be computed" in out
    assert f"{post.trace['dE_total/dw5']:.15g}" in out
    assert "0.74136507" not in out and "0.186815602" not in out


@pytest.mark.parametrize("reply", ["y", "yes", "h", "hint", "H"])
def test_hint_words_are_a_yes_at_the_confirmation(cli, reply):
    out = cli("start", input=lines("h", "h", reply, "q")).output
    assert "\nHint 2 of 3\n" in out
    assert saved()["pending"]["net_h1"]["hints"] == 2


def test_anything_else_at_the_confirmation_is_a_no(cli):
    out = cli("start", input=lines("h", "h", "no", "h", "", "q")).output
    assert "\nHint 2 of 3\n" not in out
    assert saved()["pending"]["net_h1"]["hints"] == 1


def test_the_hint_after_a_diagnosis_addresses_it(cli, post):
    no_bias = 0.15 * 0.05 + 0.20 * 0.10  # net_h1 without b1 (the post's givens)
    typed = f"{no_bias:.4f}"
    findings = post.check("net_h1", typed).findings
    named = [f for f in findings if f.kind == "mistake"]
    assert named, "the bias left out is a known mistake"
    out = cli("start", input=lines(typed, "h", "h", "q")).output
    advice = out.index("Hint: about your last answer")
    assert BY_ID[named[0].id].teach in out[advice:]
    assert advice < out.index("Hint 1 of 3")  # the diagnosis first, then the generic levels


def test_the_hint_after_a_sign_slip_says_so(cli):
    out = cli("start", input=lines("-0.3775", "h", "q")).output
    assert "Hint: about your last answer" in out and "go through the sign of each term" in out
    assert "Hint 1 of 3" not in out


def test_explain_confirmation_in_a_terminal(tmp_path):
    """The real program in a pseudo-terminal: explain asks, `n` shows nothing, `y` shows the derivation."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update({"TERM": "xterm-256color", "BACKPROP_TUTOR_HOME": str(tmp_path)})
    child = pexpect.spawn(sys.executable, ["-m", "backprop_tutor", "start"], env=env, encoding="utf-8",
                          timeout=60, dimensions=(40, 100))
    child.expect("\r\nnet_h1 = ")
    child.sendline("explain")
    child.expect(r"Show it\? \[y/N\] ")
    child.sendline("n")
    child.expect("Not shown.")
    child.expect("\r\nnet_h1 = ")
    child.sendline("x")
    child.expect(r"Show it\? \[y/N\] ")
    child.sendline("y")
    child.expect("Full precision")
    child.expect("\r\nnet_h1 = ")
    child.sendline("0.3775")
    child.expect("right")
    child.expect("\r\nout_h1 = ")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "Traceback" not in child.before
    record = json.loads((tmp_path / "progress" / "post.json").read_text(encoding="utf-8"))["records"]["net_h1"]
    assert record["explained"] is True and record["attempts"] == 0

"""`export --to moodle-xml`: the bank parsed back; values against the test's own pass of the network."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from classroom import ASKED, RULES, sheet

from backprop_tutor import answers, progress
from backprop_tutor.checking import Session
from backprop_tutor.lesson import load, randomized

SEEDS = (1, 2, 3)


def run_tutor(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "backprop_tutor", *args], capture_output=True,
                          env={"BACKPROP_TUTOR_HOME": str(tmp_path), "PATH": ""})


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("moodle")
    run = run_tutor(tmp, "export", "--to", "moodle-xml", "--seeds", "1-3", "-o", str(tmp / "bank.xml"))
    assert run.returncode == 0, run.stderr
    return ET.parse(tmp / "bank.xml").getroot()


def questions(root):
    out = {}
    category = None
    for q in root.findall("question"):
        if q.get("type") == "category":
            category = q.findtext("category/text")
            continue
        assert q.get("type") == "numerical"
        _, seed, qid = q.findtext("name/text").split(" · ")
        out[(int(seed.removeprefix("seed ")), qid)] = (q, category)
    return out


def earlier_right(session, qid, right):
    """A learner who has every step before this one right."""
    learner = progress.Progress("post")
    for q in session.catalogue:
        if q == qid:
            break
        learner.records[q] = progress.Record(progress.CHECKED, right[q])
    return learner


def answers_of(q):
    return [(int(a.get("fraction")), float(a.findtext("text")), float(a.findtext("tolerance")),
             html.unescape(re.sub("<[^>]+>", "", a.findtext("feedback/text")))) for a in q.findall("answer")]


def test_every_step_of_every_seed_has_the_right_answer_first(bank):
    found = questions(bank)
    assert set(found) == {(s, q) for s in SEEDS for q in ASKED}
    lesson = load("post")
    for seed in SEEDS:
        session = Session(randomized(lesson, seed))
        given = {q: session.trace[q] for q, x in session.catalogue.items() if x.given}
        _, right = sheet(given)
        for qid in ASKED:
            q, category = found[(seed, qid)]
            assert category == f"$course$/backprop-tutor/post/{qid.replace('/', '//')}"
            assert q.find("questiontext").get("format") == "html"
            listed = answers_of(q)
            fraction, value, tolerance, feedback = listed[0]
            assert fraction == 100 and feedback == "Right."
            assert value == pytest.approx(right[qid], rel=1e-12, abs=1e-15)
            assert 0 < tolerance < 0.05 * abs(value)  # a band around the value, not a guess at it
            learner = earlier_right(session, qid, right)  # a question gives the values of the steps before
            for edge in (value - 0.9 * tolerance, value + 0.9 * tolerance):  # check accepts the whole interval
                assert session.check(qid, f"{edge:.15g}", learner).accepted, (seed, qid, edge)
            for fraction, v, t, text in listed[1:]:
                assert fraction == 0 and text.strip()
                assert abs(v - value) > t + tolerance  # Moodle never reaches a mistake from the right interval
                assert not session.check(qid, f"{v:.15g}", learner).accepted


def test_each_mistake_rule_has_its_answer_and_feedback(bank):
    found = questions(bank)
    lesson = load("post")
    for seed in SEEDS:
        session = Session(randomized(lesson, seed))
        given = {q: session.trace[q] for q, x in session.catalogue.items() if x.given}
        for mid, (step, _) in RULES.items():
            mine, right = sheet(given, (mid,))  # the earlier steps are right: the mistake on this step alone
            hits = [(v, t, text) for f, v, t, text in answers_of(found[(seed, step)][0])
                    if f == 0 and abs(v - mine[step]) <= t]
            assert len(hits) == 1, (seed, mid, hits)
            result = session.check(step, f"{mine[step]:.12g}", earlier_right(session, step, right))
            assert result.verdict == answers.WRONG
            said = [f.text for f in result.findings if f.id == mid]
            assert said and said[0] in hits[0][2]


def test_update_questions_name_the_value_before_the_update(bank):
    q, _ = questions(bank)[(2, "w5+")]
    before = [a for a in answers_of(q) if "before the update" in a[3]]
    assert len(before) == 1
    assert before[0][1] == pytest.approx(Session(randomized(load("post"), 2)).trace["w5"])


def test_what_a_lesson_file_says_is_escaped(tmp_path):
    text = open(load("post").source, encoding="utf-8").read()
    title = '<b>]]>&amp; \\\\input{x} | "q"</b>'
    text = re.sub(r'^title = ".*"$', lambda _: f"title = '{title}'", text, count=1, flags=re.M)
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    run = run_tutor(tmp_path, "export", "--to", "moodle-xml", "--lesson", str(tmp_path / "bad.toml"))
    assert run.returncode == 0, run.stderr
    root = ET.fromstring(run.stdout)
    body = root.find("question[@type='numerical']/questiontext/text").text
    assert html.escape(title) in body  # as text in the HTML, not as markup
    assert "<b>" not in body


@pytest.mark.parametrize("seeds", ["5-1", "x", "1-99999999", "", "3-", "-3", "1,,2"])
def test_bad_seeds_are_one_line_and_exit_2(tmp_path, seeds):
    run = run_tutor(tmp_path, "export", "--to", "moodle-xml", "--seeds", seeds)
    assert run.returncode == 2
    assert run.stderr.decode().count("\n") == 1 and b"Traceback" not in run.stderr
    assert run.stdout == b""


def test_an_unknown_target_is_one_line(tmp_path):
    run = run_tutor(tmp_path, "export", "--to", "blackboard")
    assert run.returncode == 2 and b"moodle-xml" in run.stderr

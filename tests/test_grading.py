"""`grade`: a simulated class (tests/classroom.py, worked out without the engine) graded as `check` judges."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from collections import Counter

import pytest
from classroom import ASKED, RULES, sheet

from backprop_tutor import answers, grading, progress
from backprop_tutor.checking import Session
from backprop_tutor.lesson import load, randomized

NEAR = 1e-3  # a carried value this close to the right one may be accepted as right


def given_of(session: Session) -> dict[str, float]:
    return {q: session.trace[q] for q, quantity in session.catalogue.items() if quantity.given}


def make_class(n: int = 30) -> list[tuple[str, int, tuple[str, ...]]]:
    """Thirty students, each on their own seed, with 0 to 2 mistakes drawn from the rules."""
    rng = random.Random(18)
    out = []
    for k in range(n):
        count = rng.choice((0, 1, 1, 2))
        mistakes = tuple(rng.sample(sorted(RULES), count))
        if {"gradient-added", "updated-weights"} <= set(mistakes):  # w6⁺ wrong, then used: two at once
            mistakes = mistakes[:1]
        out.append((f"student{k:02d}", k + 1, mistakes))
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    lesson = load("post")
    students = make_class()
    expected: dict[str, dict[str, tuple[str, float, float]]] = {}
    path = folder / "answers.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "seed", "quantity", "value"])
        for name, seed, mistakes in students:
            mine, right = sheet(given_of(Session(randomized(lesson, seed))), mistakes)
            at = {RULES[m][0]: m for m in mistakes}
            expected[name] = {}
            for q in reversed(ASKED):  # the order of the rows does not matter
                writer.writerow([name, seed, q, f"{mine[q]:.9g}"])
                ok = abs(mine[q] - right[q]) <= 1e-12 * abs(right[q])
                expected[name][q] = ("right" if ok else at.get(q, "carried"), mine[q], right[q])
    grader = grading.Grader(lesson)
    problems: list[str] = []
    sheets = list(grading.sheets(grader, grading.read_rows(open(path, newline=""), problems), problems))
    return students, expected, sheets, problems, path


def test_every_verdict_is_what_check_gives(graded):
    students, _, sheets, problems, _ = graded
    assert problems == []
    assert [s.student for s in sheets] == [n for n, _, _ in students]
    lesson = load("post")
    for s in sheets[:10]:  # check itself, with a progress file grown as `check` grows it, in step order
        session, state = Session(randomized(lesson, s.seed)), progress.Progress("post")
        for a in s.answers:
            r = session.check(a.qid, a.typed, state)
            assert (r.verdict, [f.as_dict() for f in r.findings]) == (
                a.verdict if a.verdict != grading.CARRIED else answers.WRONG, a.findings)
            if r.accepted:
                state.records[a.qid] = progress.Record(progress.CHECKED, r.value, typed=a.typed)
            elif r.verdict == answers.WRONG:
                state.note_wrong(a.qid, a.typed, r.counted)


def test_verdicts_match_the_simulated_mistakes(graded):
    _, expected, sheets, _, _ = graded
    for s in sheets:
        assert [a.qid for a in s.answers] == ASKED  # judged in the lesson's order
        for a in s.answers:
            want, mine, right = expected[s.student][a.qid]
            if want == "right":
                assert a.verdict == answers.RIGHT, (s.student, a.qid)
            elif want == "carried":
                near = abs(mine - right) <= NEAR * abs(right)
                assert a.verdict == grading.CARRIED or (near and a.verdict in (answers.RIGHT, answers.DRIFT)), \
                    (s.student, a.qid, a.verdict, a.findings)
            else:
                assert a.verdict == answers.WRONG and [f["id"] for f in a.findings] == [want], (s.student, a.qid)
        wrong = sum(1 for q in ASKED if expected[s.student][q][0] in RULES)
        assert s.score == len(ASKED) - wrong  # each slip costs its own step only
        assert s.total == 57


def test_the_class_report_counts_the_simulated_mistakes(graded):
    students, _, sheets, _, _ = graded
    report = grading.ClassReport(grading.Grader(load("post")).order)
    for s in sheets:
        report.add(s)
    made = Counter((RULES[m][0], m) for _, _, ms in students for m in ms)
    who = {}
    for name, _, ms in students:
        for m in ms:
            who.setdefault((RULES[m][0], m), []).append(name)
    seen = Counter({(s.qid, m): c for s in report.steps.values() for m, c in s.mistakes.items()})
    assert seen == made
    assert len(made) == len(RULES) and sum(made.values()) >= 20  # every rule is in the class
    for (q, m), names in who.items():
        assert report.steps[q].students[m] == names
    for q in ASKED:
        step = report.steps[q]
        assert step.answered == 30
        assert step.right == 30 - sum(1 for n, _, ms in students if any(RULES[m][0] == q for m in ms)) - step.carried
    md = grading.markdown(report)
    assert md.count("\n| ") == 30 + len(ASKED) + 2  # two header rows
    assert "| w6⁺ |" in md


def test_the_command_writes_csv_json_and_markdown(graded, tmp_path):
    *_, sheets, _, path = graded
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "backprop_tutor", "grade", str(path), "-o", str(out)],
                         capture_output=True, text=True, env={"BACKPROP_TUTOR_HOME": str(tmp_path), "PATH": ""})
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    data = json.loads((out / "grades.json").read_text())
    assert [(s["student"], s["score"]) for s in data["students"]] == [(s.student, s.score) for s in sheets]
    rows = list(csv.DictReader(open(out / "grades.csv", newline="")))
    assert len(rows) == 30 * 57
    assert {r["verdict"] for r in rows} <= {"right", "drift", "carried", "wrong", "imprecise"}
    assert (out / "report.md").read_text().startswith("# Class report")
    assert "student00" in run.stdout


BAD = """student,seed,quantity,value
ann,,net_h1,0.3775
bob,5-1,net_h1,0.3
carl,,nope,0.3
dora,,net_h1,abc
short,row
fay,,i1,0.05
ann,,net_h1,0.3775
"<b>\\input{x}|",,net_h1,0.3775
"z\x1b[31m
two lines",,net_h1,0.3775
"eve,,net_h1
gil,,net_h1,0.3775
"""


def run_grade(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "backprop_tutor", "grade", *args], capture_output=True, text=True,
                          env={"BACKPROP_TUTOR_HOME": str(tmp_path), "PATH": ""})


def test_bad_rows_are_named_by_line_and_skipped(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    run = run_grade(tmp_path, str(path), "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    for line in (3, 4, 5, 6, 7, 8, 12):
        assert f"line {line}:" in run.stderr
    assert "line 12: a quote is not closed" in run.stderr
    assert "\x1b" not in run.stdout and "z\\x1b[31m\\x0atwo lines" in run.stdout  # a name is shown, not obeyed
    md = (tmp_path / "out" / "report.md").read_text()
    assert "&lt;b&gt;\\\\input{x}\\|" in md  # escaped in a Markdown cell
    assert "| ann |  | 1 | 57 |" in md


@pytest.mark.parametrize("text", ["", "a,b\n", "x\n"])
def test_unusable_input_is_one_line_and_exit_2(tmp_path, text):
    path = tmp_path / "x.csv"
    path.write_text(text)
    run = run_grade(tmp_path, str(path))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_a_missing_file_and_the_wide_form(tmp_path):
    run = run_grade(tmp_path, str(tmp_path / "none.csv"))
    assert run.returncode == 2 and run.stderr.count("\n") == 1
    path = tmp_path / "wide.csv"
    path.write_text("student,seed,net_h1,out_h1,bogus\nann,,0.3775,0.593269992,1\nbob,,0.0275,0.506874567,\n")
    run = run_grade(tmp_path, str(path), "-o", str(tmp_path / "o"))
    assert run.returncode == 0, run.stderr
    data = json.loads((tmp_path / "o" / "grades.json").read_text())
    got = {s["student"]: [a["verdict"] for a in s["answers"]] for s in data["students"]}
    assert got == {"ann": ["right", "right"], "bob": ["wrong", "carried"]}
    assert "unknown quantity 'bogus'" in run.stderr


def test_grade_reads_a_folder_of_collected_progress_records(tmp_path):
    """Two students check values on their own seeds; their `progress --json` / `--all` files are graded."""
    lesson = load("post")
    collected = tmp_path / "collected"
    collected.mkdir()
    plans = {"ann": (4, ()), "bob": (5, ("bias-left-out",))}
    for name, (seed, mistakes) in plans.items():
        home = tmp_path / name
        mine, _ = sheet(given_of(Session(randomized(lesson, seed))), mistakes)
        for q in ASKED[:4]:
            subprocess.run([sys.executable, "-m", "backprop_tutor", "check", q, f"{mine[q]:.9g}", "--random",
                            "--seed", str(seed)], env={"BACKPROP_TUTOR_HOME": str(home), "PATH": ""},
                           capture_output=True, check=False)
        args = ["progress", "--json", "--random", "--seed", str(seed)] if name == "ann" else \
            ["progress", "--json", "--all"]
        run = subprocess.run([sys.executable, "-m", "backprop_tutor", *args], capture_output=True, text=True,
                             env={"BACKPROP_TUTOR_HOME": str(home), "PATH": ""})
        assert run.returncode == 0, run.stderr
        (collected / f"{name}.json").write_text(run.stdout)
    (collected / "junk.json").write_text("{not json")
    run = run_grade(tmp_path, str(collected), "-o", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert "junk.json: not a progress record" in run.stderr
    data = json.loads((tmp_path / "out" / "grades.json").read_text())
    got = {s["student"]: (s["seed"], [(a["quantity"], a["verdict"]) for a in s["answers"]]) for s in data["students"]}
    assert got["ann"] == (4, [(q, "right") for q in ASKED[:4]])
    # bob's wrong values are kept in his record as he typed them; the ones that follow from his net_h1 are carried
    assert got["bob"] == (5, [("net_h1", "wrong"), ("out_h1", "carried"), ("net_h2", "right"), ("out_h2", "right")])

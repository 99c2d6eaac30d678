"""The cache of drawn derivations: a cached derivation reads exactly as a fresh one, a bad cache file is
never trusted, an unwritable cache costs nothing, and a warm cache keeps SymPy out of `start` and `explain`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backprop_tutor import derivations, symbolic
from backprop_tutor.checking import Session
from backprop_tutor.lesson import bundled_names, load

WIDTHS = (40, 60, 80, 100, 200)  # narrow terminals (one-line forms), 80 columns, the tests' 200


def some(session: Session) -> list[str]:
    """Several quantities of each section: the first and last of every section, and every gradient."""
    ids = [q for q, item in session.catalogue.items() if not item.given]
    firsts = {session.catalogue[q].section: q for q in reversed(ids)}
    lasts = {session.catalogue[q].section: q for q in ids}
    return list(dict.fromkeys([*firsts.values(), *lasts.values(), *(q for q in ids if q.startswith("dE_total/dw")),
                               next(q for q, item in session.catalogue.items() if item.given)]))


def shown(derived, module, unicode: bool, width: int) -> list:
    forms = [derived, module.statement(derived), module.symbols_only(derived)]
    return [list(module.lines(d, unicode, width)) for d in forms]


@pytest.mark.parametrize("name", bundled_names())
def test_a_cached_derivation_reads_exactly_as_a_fresh_one(name):
    session = Session(load(name))
    qids = some(session)
    first = derivations.Derivations(session.lesson, session.trace, session.catalogue)
    for qid in qids:
        first.get(qid)
    assert first.path is not None and first.path.is_file()
    cached = derivations.Derivations(session.lesson, session.trace, session.catalogue)  # a later run
    deriver = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue)
    for qid in qids:
        drawn, fresh = cached.get(qid), deriver.derivation(qid)
        for unicode in (True, False):
            for width in WIDTHS:
                assert shown(drawn, derivations, unicode, width) == shown(fresh, symbolic, unicode, width), qid
        assert derivations.latex(drawn) == symbolic.latex(fresh)
        assert drawn.quantity == fresh.quantity and drawn.value == fresh.value
    assert cached._deriver is None  # every one came from the file


HOSTILE = [
    "not json at all {",
    "[]",
    json.dumps({"format": 1, "key": "KEY", "derivations": {"net_h1": [["Definition", "\x1b]0;pwned\x07", []]]}}),
    json.dumps({"format": 1, "key": "KEY", "derivations": {"net_h1": [["H", "n", [[[[["\x1b[2J"], 0, 4],
                                                                               [["x"], 0, 1], "p", "l", False]]]]]}}),
    json.dumps({"format": 1, "key": "KEY", "derivations": {"net_h1": [["H", "n", [[[[["ab"], 7, 2],
                                                                               [["x"], 0, 1], "p", "l", False]]]]]}}),
    json.dumps({"format": 1, "key": "KEY", "derivations": {"net_h1": {"__class__": "os.system"}}}),
    json.dumps({"format": 1, "key": "KEY", "derivations": {"net_h1": [["H", "n", [[[[["a"], 0, True],
                                                                               [["x"], 0, 1], "p", "l", 1]]]]]}}),
    "[" * 100_000,
]


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_a_corrupt_or_hostile_cache_file_is_ignored_and_written_again(text):
    session = Session(load())
    d = derivations.Derivations(session.lesson, session.trace, session.catalogue)
    assert d.path is not None
    d.path.parent.mkdir(parents=True, exist_ok=True)
    d.path.write_text(text.replace("KEY", d.digest or ""), encoding="utf-8")
    again = derivations.Derivations(session.lesson, session.trace, session.catalogue)
    fresh = symbolic.Deriver(session.lesson.network, session.trace, session.catalogue).derivation("net_h1")
    assert list(derivations.lines(again.get("net_h1"))) == list(symbolic.lines(fresh))
    data = json.loads(d.path.read_text(encoding="utf-8"))  # rewritten, valid
    assert data["key"] == d.digest and derivations.from_json(data["derivations"]["net_h1"], None, None)


def test_an_unwritable_cache_directory_is_no_error(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where the cache directory should be")
    monkeypatch.setenv("BACKPROP_TUTOR_HOME", str(home))
    session = Session(load())
    d = derivations.Derivations(session.lesson, session.trace, session.catalogue)
    assert list(derivations.lines(d.get("dE_total/dw1")))
    assert d.path is None  # it stopped trying, and computes in memory


def test_a_lesson_file_or_fresh_numbers_are_not_cached(write_lesson):
    from backprop_tutor.lesson import bundled_dir, randomized

    lesson = load(str(write_lesson((bundled_dir() / "post.toml").read_text())))
    assert derivations.lesson_digest(lesson, Session(lesson).trace) is None
    fresh = randomized(load(), 7)
    assert derivations.lesson_digest(fresh, Session(fresh).trace) is None


def test_the_key_changes_with_the_engines_values():
    session = Session(load())
    changed = dict(session.trace, net_h1=0.3776)
    assert derivations.lesson_digest(session.lesson, changed) != derivations.lesson_digest(session.lesson,
                                                                                           session.trace)


SCRIPT = """
import io, sys
from backprop_tutor.cli import app
sys.stdin = io.StringIO({answers!r})
try:
    app({args!r}, prog_name="backprop-tutor")
except SystemExit:
    pass
print("SYMPY", "sympy" in sys.modules, file=sys.stderr)
"""


def run(args: list[str], home, answers: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "BACKPROP_TUTOR_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-c", SCRIPT.format(args=args, answers=answers)], capture_output=True,
                          text=True, timeout=120, env=env)


@pytest.mark.parametrize("args", [["explain", "dE/dw1"], ["explain", "dE/dw1", "--latex"], ["start"],
                                  ["explain", "dout_o1/dnet_o1"], ["explain", "dE/dout_o1", "--lesson", "softmax-ce"],
                                  ["start", "--step", "dout_o1/dnet_o1"]])
def test_a_warm_cache_keeps_sympy_out_and_draws_the_same(args, tmp_path):
    """Also with the step-by-step derivations: σ′ at hint 2 and at `explain`, the cross-entropy's slope."""
    answers = {"start": "0.3775\nhint\nhint\ny\nq\n", "--step": "hint\nhint\ny\nexplain\ny\nq\n"}.get(
        args[-2] if len(args) > 2 else args[0], "")
    cold = run(args, tmp_path / "cold", answers)
    assert "SYMPY True" in cold.stderr, cold.stderr
    import shutil

    shutil.rmtree(tmp_path / "cold" / "progress", ignore_errors=True)  # the same lesson from the start
    warm = run(args, tmp_path / "cold", answers)
    assert "SYMPY False" in warm.stderr, warm.stderr
    assert warm.stdout == cold.stdout and warm.stdout.strip()

"""Progress files of every shape, FIFOs, killed saves and full disks (issue 14, the progress-file items).

Each damaged file must give one warning line on stderr naming the file, every time it is read or moved,
never a crash, and leave the lesson completable. Values written into the files are the learner's state
(the engine's values, as a learner who got them right would have them), not expectations.
"""

import json
import os
import stat
import threading
import time

import pytest

from backprop_tutor import progress
from backprop_tutor.checking import Session
from backprop_tutor.lesson import load
from backprop_tutor.walk import steps

WARNING = "backprop-tutor: warning: your progress file "


@pytest.fixture(scope="module")
def post():
    return Session(load())


def folder():
    return os.path.join(os.environ["BACKPROP_TUTOR_HOME"], "progress")


def path():
    return os.path.join(folder(), "post.json")


def lines(*items):
    return "".join(f"{i}\n" for i in items)


def all_done_but(post, *open_steps):
    """A valid progress file with every step done except ``open_steps``, as a dict to damage."""
    store = progress.Store("post")
    state = store.load(post.trace)
    for s in steps(post.catalogue):
        if s.qid not in open_steps:
            state.records[s.qid] = progress.Record("right", post.trace[s.qid], skill=post.catalogue[s.qid].skill)
    assert store.save(state) is None
    with open(path(), encoding="utf-8") as f:
        return json.load(f)


def write(data):
    with open(path(), "w", encoding="utf-8") as f:
        f.write(data if isinstance(data, str) else json.dumps(data))


def one_warning(result):
    warnings = [line for line in result.stderr.splitlines() if line.startswith(WARNING)]
    assert len(warnings) == 1 and path() in warnings[0], result.stderr
    assert "Traceback" not in result.output
    return warnings[0]


def net_h1_record(post, **changes):
    record = {"status": "right", "value": post.trace["net_h1"], "attempts": 0, "hints": 0, "typed": "0.3775",
              "skill": "net input", "mistakes": []}
    record.update(changes)
    return {k: v for k, v in record.items() if v is not DROP}


DROP = object()
DAMAGED_RECORDS = {  # a record of net_h1 with one thing wrong → what the warning says about it
    "attempts_infinity": ({"attempts": float("inf")}, "attempts Infinity is not a whole number"),
    "record_without_attempts": ({"attempts": DROP}, "no attempts"),
    "hints_many": ({"hints": "many"}, "hints 'many' is not a whole number"),
    "status_bogus": ({"status": "bogus"}, "unknown status 'bogus'"),
    "value_as_text": ({"value": "0.3775"}, "is not a number"),
    "typed_a_number": ({"typed": 5}, "typed or skill not text"),
    "mistakes_not_a_list": ({"mistakes": "bias"}, "mistakes not a list"),
    "explained_not_a_flag": ({"explained": "yes"}, "is not true or false"),
    "status_with_escapes": ({"status": "\x1b]0;pwned\x07"}, r"unknown status '\x1b]0;pwned\x07'"),
}


@pytest.mark.parametrize("case", list(DAMAGED_RECORDS), ids=list(DAMAGED_RECORDS))
def test_a_damaged_record_gives_a_warning_every_time_and_the_lesson_can_be_finished(cli, post, case):
    changes, said = DAMAGED_RECORDS[case]
    data = all_done_but(post, "net_h1")
    data["records"]["net_h1"] = net_h1_record(post, **changes)
    write(data)
    for args in (["progress"], ["check", "net_h1", "0.38"]):  # each reads it; neither rewrites it
        result = cli(*args)
        assert result.exit_code == (3 if args[0] == "check" else 0), result.output
        warning = one_warning(result)
        assert "was damaged, and is repaired" in warning and said in warning
        assert "\x1b" not in warning  # what the file holds is never sent to the terminal raw
    finish = cli("start", input=lines("0.3775"))
    assert finish.exit_code == 0 and "You have worked through" in finish.output, finish.output
    assert WARNING not in cli("progress").stderr  # the first save wrote the repaired file
    assert "Hint -" not in finish.output


DAMAGED_PARTS = {  # the file's other parts, each of the wrong shape
    "pending_without_attempts": ("pending", {"net_h1": {"hints": 2}}, "no attempts"),
    "pending_hints_many": ("pending", {"net_h1": {"attempts": 0, "hints": "many"}}, "is not a whole number"),
    "pending_not_a_table": ("pending", [1, 2], "pending: not a table"),
    "pending_entry_not_a_table": ("pending", {"net_h1": 7}, "not a table"),
    "records_not_a_table": ("records", [], "records: not a table"),
    "wrong_deeply_listed": ("wrong", {"net_h1": [[[1]]]}, "wrong 'net_h1': not text"),
    "mistakes_not_a_list": ("mistakes", "bias", "mistakes: not a list"),
    "position_not_a_step": ("position", [[1]], "position: a list is not a step"),
}


@pytest.mark.parametrize("case", list(DAMAGED_PARTS), ids=list(DAMAGED_PARTS))
def test_a_damaged_part_of_the_file_is_repaired_with_a_warning(cli, post, case):
    key, value, said = DAMAGED_PARTS[case]
    data = all_done_but(post, "net_h1")
    data[key] = value
    write(data)
    for args in (["progress"], ["lessons"]):
        warning = one_warning(cli(*args))
        assert said in warning
    finish = cli("start", input=lines("hint", *(["0.3775"] if key != "records" else ["q"])))
    assert finish.exit_code == 0 and "Traceback" not in finish.output, finish.output
    if key != "records":
        assert "You have worked through" in finish.output
    else:  # the records could not be kept: the lesson starts again, and can be done
        assert "Compute net_h1" in finish.output


UNREADABLE = {
    "deep_nesting": '{"version": 1, "records": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "not_json": "{ not json",
    "unknown_version": '{"version": 99}',
    "not_text": "\udcff",
}


CASES = [(case, ["progress"]) for case in UNREADABLE] + [("deep_nesting", ["lessons"]),
                                                         ("not_json", ["check", "net_h1", "0.3775"])]


@pytest.mark.parametrize(("case", "command"), CASES, ids=[f"{c}-{' '.join(a)}" for c, a in CASES])
def test_an_unreadable_file_is_moved_aside_with_a_warning(cli, case, command):
    os.makedirs(folder())
    with open(path(), "w", encoding="utf-8", errors="surrogateescape") as f:
        f.write(UNREADABLE[case])
    result = cli(*command)
    assert result.exit_code == 0, result.output
    warning = one_warning(result)
    aside = warning.split("it was moved to ")[1].split("; ")[0]
    assert os.path.basename(aside).startswith("post.json.unreadable-") and os.path.exists(aside)


def load_within_a_second(post):
    """Store.load in a thread: a blocking open would leave it running."""
    store = progress.Store("post")
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("state", store.load(post.trace)), daemon=True)
    began = time.monotonic()
    thread.start()
    thread.join(timeout=1)
    assert not thread.is_alive(), "loading the progress file blocked"
    assert time.monotonic() - began < 1
    return store, box["state"]


def test_a_fifo_as_the_progress_file_is_refused_within_a_second(cli, post):
    os.makedirs(folder())
    os.mkfifo(path())
    store, state = load_within_a_second(post)
    assert store.refused and "is a FIFO, not a regular file" in store.refused and not state.records
    start = cli("start", input=lines("q"))
    assert start.exit_code == 2 and start.stderr.count("\n") == 1 and "a FIFO" in start.stderr
    check = cli("check", "net_h1", "0.3775")  # the value is still judged; only nothing is recorded
    assert check.exit_code == 0 and "right" in check.stdout and one_warning(check)
    assert stat.S_ISFIFO(os.stat(path()).st_mode)  # left alone
    assert cli("progress").exit_code == 0 and cli("lessons").exit_code == 0


def test_a_device_as_the_progress_file_is_refused(cli, post):
    os.makedirs(folder())
    os.symlink(os.devnull, path())
    store, _ = load_within_a_second(post)
    assert "is a device, not a regular file" in store.refused
    assert store.save(progress.Progress("post")) == store.refused
    result = cli("start")
    assert result.exit_code == 2 and "a device" in result.stderr


def test_stale_temp_files_of_dead_processes_are_cleaned(cli, monkeypatch):
    os.makedirs(folder())
    dead = 4_194_305  # above Linux's largest pid: no such process
    old = time.time() - 2 * progress.STALE_DEAD
    names = {"dead": f".post.{dead}.k3j_x9ab.tmp", "dead-fresh": f".post.{dead}.fresh123.tmp",
             "alive": f".post.{os.getpid()}.mine1234.tmp", "unnamed-old": ".post.ab12cd34.tmp",
             "other-lesson-dead": f".xor.{dead}.zz99yy88.tmp", "not-ours": "notes.tmp",
             "absurd-pid": f".post.{10 ** 30}.qq11ww22.tmp"}
    for kind, name in names.items():
        with open(os.path.join(folder(), name), "w") as f:
            f.write("{")
        if kind != "dead-fresh":
            when = time.time() - 2 * progress.STALE_ANY if kind == "unnamed-old" else old
            os.utime(os.path.join(folder(), name), (when, when))
    replaced = []
    real = progress.os.replace
    monkeypatch.setattr(progress.os, "replace", lambda a, b: (replaced.append(a), real(a, b))[1])
    assert cli("check", "net_h1", "0.3775").exit_code == 0  # a save
    left = set(os.listdir(folder()))
    assert names["dead"] not in left and names["unnamed-old"] not in left and names["other-lesson-dead"] not in left
    assert {names["dead-fresh"], names["alive"], names["not-ours"]} <= left  # a save may be under way
    assert names["absurd-pid"] in left  # not a name the tutor writes: only its age could remove it
    assert [os.path.basename(str(r)).split(".")[2] for r in replaced] == [str(os.getpid())]  # named by owner


def full_disk_after(saves):
    calls = {"n": 0}
    real = progress.os.replace

    def replace(a, b):
        if os.path.basename(os.path.dirname(str(b))) != "progress":
            return real(a, b)  # (the derivation cache's writes are not the progress file's)
        calls["n"] += 1
        if calls["n"] > saves:
            raise OSError(28, "No space left on device")
        return real(a, b)
    return replace


def test_the_saved_line_is_honest_after_a_failed_save(cli, monkeypatch):
    monkeypatch.setattr(progress.os, "replace", full_disk_after(0))
    out = cli("start", input=lines("0.3775", "0.593269992", "q")).output
    assert "Saved:" not in out
    assert "Not saved: your progress file holds 0 of 57 steps done, not the 2 you have done" in out


def test_the_saved_line_counts_what_the_file_holds_when_the_disk_fills_up_midway(cli, monkeypatch):
    monkeypatch.setattr(progress.os, "replace", full_disk_after(1))  # net_h1 is saved, then the disk is full
    out = cli("start", input=lines("0.3775", "0.593269992", "0.3925", "q")).output
    assert "Not saved: your progress file holds 1 of 57 steps done, not the 3 you have done" in out
    monkeypatch.setattr(progress.os, "replace", os.replace)
    assert "Welcome back" in cli("start", input=lines("q")).output  # the file holds what it said it holds
    with open(path(), encoding="utf-8") as f:
        assert set(json.load(f)["records"]) == {"net_h1"}


@pytest.mark.parametrize("hints", [-4, 99])
def test_a_corrupt_hint_count_is_clamped(cli, hints):
    os.makedirs(folder())
    write({"version": 1, "records": {}, "pending": {"net_h1": {"attempts": 0, "hints": hints}}})
    result = cli("start", input=lines("hint", "q"))
    assert "out of range" in one_warning(result)
    assert "Hint -" not in result.output and "of 3 of" not in result.output
    if hints < 0:
        assert "Hint 1 of 3" in result.output
    else:
        assert "That was the last hint" in result.output


def test_a_corrupt_hint_count_in_a_record_is_clamped(cli, post):
    data = all_done_but(post)
    data["records"]["net_h1"]["hints"] = 40
    write(data)
    out = cli("start", "--step", "out_h1", input=lines("t", "q")).output  # `table` holds how each step went
    assert "│ net_h1 " in out and "right after hint 3 │" in out

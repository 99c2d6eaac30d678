"""The bad-input catalogue: whatever a person types, every command answers with one clear line on
stderr and its documented exit code, and nothing they did is lost."""

import json
import os

import pytest

from backprop_tutor.lesson import bundled_dir

LONG = "1" * 10_000
CATALOGUE = [
    # (arguments, exit code, words of the one line)
    # odd numbers
    (["check", "w5", "1e999"], 2, "beyond the range"),
    (["check", "w5", "-1e999"], 2, "beyond the range"),
    (["check", "w5", "nan"], 2, "NaN"),
    (["check", "w5", "NaN"], 2, "NaN"),
    (["check", "w5", "inf"], 2, "infinity"),
    (["check", "w5", "0x1p-2"], 2, "decimal number"),
    (["check", "w5", "١٢"], 2, "digits 0-9"),
    (["check", "w5", LONG], 2, "10,000 characters"),
    (["check", "w5", "1/2"], 2, "as a decimal"),
    (["check", "w5", "2*0.3"], 2, "not an expression"),
    (["check", "w5", "0.3 0.4"], 2, "decimal number"),
    (["check", "w5", "½"], 2, "decimal number"),
    (["check", "w5", "0.3.5"], 2, "decimal number"),
    (["check", "w5", ""], 2, "nothing was typed"),
    (["check", "w5", "   "], 2, "nothing was typed"),
    (["check", "w5", "e5"], 2, "decimal number"),
    # odd names
    (["check", "w99", "0.3"], 2, "unknown quantity 'w99'"),
    (["check", "", "0.3"], 2, "unknown quantity"),
    (["check", "∂∂∂", "0.3"], 2, "unknown quantity"),
    (["check", "'; rm -rf /", "0.3"], 2, "unknown quantity"),
    (["check", "x" * 5000, "0.3"], 2, "unknown quantity"),
    (["check", "i1", "0.05"], 2, "given by the lesson"),
    (["explain", "dE/dw99"], 2, "unknown quantity"),
    (["explain", "__import__('os')"], 2, "unknown quantity"),
    (["start", "--step", "nope"], 2, "unknown quantity 'nope'"),
    (["what-if", "w5=__import__('os')"], 2, "not a number"),
    (["what-if", "out_o1=0.5"], 2, "computed, not given"),
    # odd options
    (["check", "w5", "0.3", "--lesson", ""], 2, "no lesson"),
    (["check", "w5", "0.3", "--lesson", "/dev/null"], 2, "is not a file"),
    (["check", "w5", "0.3", "--lesson", "/"], 2, "is not a file"),
    (["check", "w5", "0.3", "--seed", "-1"], 2, "--seed"),
    (["check", "--random", "w5", "0.3"], 2, "needs --seed"),
    (["train", "--epochs", "0"], 2, "--epochs"),
    (["train", "--epochs", "99999999999"], 2, "--epochs"),
    (["train", "--epochs", "1e3"], 2, "--epochs"),
    (["train", "--lr", "inf"], 2, "--lr"),
    (["train", "--every", "-1"], 2, "--every"),
    (["train", "--until", "0"], 2, "--until"),
    (["train", "--batch-size", "2"], 2, "--batch-size"),
    (["train", "--lesson", "xor", "--batch-size", "0"], 2, "--batch-size"),
    (["key", "--format", "pdf"], 2, "--format"),
    (["lessons", "--nope"], 2, "No such option"),
    (["start", "--restart", "extra"], 2, "unexpected extra argument"),
    (["progress", "--lesson", "nope"], 2, "no lesson 'nope'"),
    (["reset", "--lesson", "nope"], 2, "no lesson 'nope'"),
    (["verify", "--lesson", "nope"], 2, "no lesson 'nope'"),
    (["lesson-check"], 2, "Missing argument"),
    (["lesson-check", "/no/such.toml"], 2, "no lesson '/no/such.toml'"),
    (["what-if"], 2, "Missing argument"),
    (["nosuchcommand"], 2, "No such command"),
]


def test_the_catalogue_is_large_enough():
    assert len(CATALOGUE) >= 40


@pytest.mark.parametrize(("args", "code", "words"), CATALOGUE,
                         ids=[" ".join(a)[:40] for a, _, _ in CATALOGUE])
def test_one_line_and_the_documented_exit_code(cli, args, code, words):
    result = cli(*args)
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("backprop-tutor: error:") and words in lines[0], lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content", [b"\x00\x01\x02" * 100, b"\xff\xfe" + "title = 1".encode("utf-16-le"),
                                     b"a = [" * 100_000, b'title = "x"\n' * 10, b"x = 1\n" * 300_000])
def test_binary_huge_or_deeply_nested_lesson_files(cli, tmp_path, content):
    path = tmp_path / "lesson.toml"
    path.write_bytes(content)
    result = cli("check", "w5", "0.3", "--lesson", path)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert str(path) in result.stderr


def test_a_read_only_progress_folder_loses_nothing(cli, tmp_path, monkeypatch):
    """Saving fails (as in a read-only folder): the lesson goes on, and says so once."""
    from backprop_tutor import progress

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(progress.tempfile if hasattr(progress, "tempfile") else __import__("tempfile"),
                        "mkstemp", denied)
    out = cli("start", input="0.3775\n0.593269992\nq\n").output
    assert out.count("could not save your progress") == 1 and "permission denied" in out
    assert "Compute net_h2" in out


def test_a_full_disk_while_checking_keeps_the_verdict(cli, monkeypatch):
    from backprop_tutor import progress

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(progress.os, "replace", full)
    result = cli("check", "w5", "0.35891648")
    assert result.exit_code == 0 and "right" in result.stdout  # the verdict still counts
    assert "warning: could not save your progress" in result.stderr


def test_an_unreadable_progress_file_is_kept_aside_by_check(cli):
    folder = os.path.join(os.environ["BACKPROP_TUTOR_HOME"], "progress")
    os.makedirs(folder)
    with open(os.path.join(folder, "post.json"), "w") as f:
        f.write('{"version": 1, "records": [')
    result = cli("check", "w5", "0.35891648")
    assert result.exit_code == 0 and "moved to" in result.stderr
    kept = [n for n in os.listdir(folder) if n.startswith("post.json.unreadable-")]
    assert kept and json.load(open(os.path.join(folder, "post.json")))["records"]["w5+"]["status"] == "checked"


def test_a_lesson_file_that_is_a_folder_or_a_symlink_loop(cli, tmp_path):
    loop = tmp_path / "loop.toml"
    loop.symlink_to(loop)
    result = cli("check", "w5", "0.3", "--lesson", loop)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert cli("lesson-check", bundled_dir()).exit_code == 2

"""Defects a late hostile-input audit found in the newest commands, each by name."""

import json
import os

import pytest


def test_a_wrong_answer_of_29_digits_is_judged_not_a_crash(cli):
    for typed in ("12345678901234567890123456789", "1.2345678901234567890123456789e-3"):
        result = cli("check", "net_h1", typed)
        assert result.exit_code == 1, result.output


def a_record(cli) -> str:
    assert cli("check", "net_h1", "0.3775").exit_code == 0
    return cli("progress", "--json").stdout


def test_a_progress_file_whose_name_is_not_utf8_is_graded(cli, tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    record = a_record(cli)
    (folder / os.fsdecode(b"\xff.json")).write_text(record, encoding="utf-8")
    out = tmp_path / "out"
    result = cli("grade", str(folder), "-o", str(out))
    assert result.exit_code == 0, result.output
    json.loads((out / "grades.json").read_text(encoding="utf-8"))  # whole, not a fragment


def test_a_fifo_in_a_graded_folder_is_skipped_not_waited_on(cli, tmp_path):
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "alice.json").write_text(a_record(cli), encoding="utf-8")
    os.mkfifo(folder / "bob.json")
    result = cli("grade", str(folder))
    assert result.exit_code == 0
    assert "not a regular file" in result.output


def test_the_question_bank_to_a_fifo_nothing_reads_is_refused(cli, tmp_path):
    fifo = tmp_path / "bank.xml"
    os.mkfifo(fifo)
    result = cli("export", "--to", "moodle-xml", "-o", str(fifo))
    assert result.exit_code == 2 and "FIFO" in result.output


@pytest.mark.parametrize("seeds", ["1" * 5000, "²", "1-²", "①", "١-٣"])
def test_seeds_that_are_not_plain_digits_are_one_line(cli, tmp_path, seeds):
    for command in (["worksheet", "-o", str(tmp_path)], ["export", "--to", "moodle-xml"]):
        result = cli(*command, "--seeds", seeds)
        assert result.exit_code == 2, (command, result.output)
        assert "not a list of seeds" in result.output


def test_a_student_named_with_escapes_is_escaped_in_every_file(cli, tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text("student,seed,quantity,value\n\x1b[31mred\x1b[0m\u202e,,net_h1,0.3775\n", encoding="utf-8")
    out = tmp_path / "out"
    assert cli("grade", str(answers), "-o", str(out)).exit_code == 0
    for name in ("grades.csv", "grades.json", "report.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert "\x1b" not in text and "\u202e" not in text, name

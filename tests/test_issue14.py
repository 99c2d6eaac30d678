"""One test per defect of issue 14 that the hardening fixes, named after it: no exit 70 from any
input, nothing from a lesson or the user interpreted by the terminal, and a clean package."""

import ctypes
import io
import itertools
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from backprop_tutor import cli as cli_module
from backprop_tutor import render
from backprop_tutor.lesson import bundled_dir

ROOT = Path(__file__).parent.parent
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ESC = r"\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202e[/oops][link=https://example.test]x[/link]"


def one_line_error(result, code=2):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop-tutor: error: "), result.stderr
    return lines[0]


def program(*args, stdin=b"", env=None):
    """The real program in a subprocess, its output a pipe, as a person's shell runs it."""
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run([sys.executable, "-m", "backprop_tutor", *args], input=stdin, capture_output=True,
                          env=environment, timeout=120)


def hostile_lesson(tmp_path, name="hostile.toml"):
    text = (bundled_dir() / "post.toml").read_text(encoding="utf-8")
    text = text.replace('title = "The classic worked example: a 2-2-2 logistic network"', f'title = "{ESC}"')
    text = text.replace('description = """', f'description = """{ESC}\n', 1).replace('why = """', f'why = """{ESC}\n')
    text = text.replace("[network]", f'[steps]\nnet_h1 = "{ESC}"\n\n[network]', 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- no exit 70 from any input ------------------------------------------------------------------

def test_check_E_total_plus_0e999999999_is_judged_not_an_internal_error(cli):
    """The errata path compared a typed 0e999999999 with the printed figure and overflowed."""
    result = cli("check", "E_total+", "0e999999999")
    assert result.exit_code == 1 and "not right" in result.stdout and result.exception.code == 1


def test_a_lesson_nested_500_deep_is_a_lesson_error(cli, tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("title = 'x'\nx = " + "[" * 500 + "]" * 500 + "\n")
    assert "nests tables or lists more than 8 deep" in one_line_error(cli("check", "w5", "0.3", "--lesson", path))
    path.write_text("x = " + "{a = " * 500 + "1" + "}" * 500 + "\n")
    assert "more than 8 deep" in one_line_error(cli("quantities", "--lesson", path))


def test_a_lesson_name_of_300_characters_is_one_line_not_file_name_too_long(cli):
    assert "cannot be read (File name too long)" in one_line_error(cli("check", "w5", "0.3", "--lesson", "a" * 300))
    assert "at most 1,024" in one_line_error(cli("key", "--lesson", "b" * 5000))


def test_lesson_tilde_nouser_is_no_lesson_not_an_internal_error(cli):
    assert "no lesson '~nouser/x.toml'" in one_line_error(cli("check", "w5", "0.3", "--lesson", "~nouser/x.toml"))


def test_invalid_utf8_on_stdin_under_a_utf8_locale_is_read_as_a_replacement_character():
    """Under a real UTF-8 locale stdin is strict (PYTHONIOENCODING=utf-8:strict says so here, where the
    machine has only the C locales); the undecodable answer is refused, the lesson goes on."""
    done = program("start", stdin=b"\xff\xfe\n0.3775\nq\n", env={"PYTHONIOENCODING": "utf-8:strict",
                                                                  "BACKPROP_TUTOR_HOME": "/nonexistent/x"})
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "internal error" not in done.stderr.decode() and "not a number" in out and "right" in out


def test_safe_streams_reads_undecodable_stdin_as_replacement_characters(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xff0.5\n"), encoding="utf-8", errors="strict"))
    cli_module._safe_streams()
    assert sys.stdin.readline() == "\ufffd0.5\n"


def test_a_lesson_title_of_rich_markup_in_progress_is_not_an_internal_error(cli, tmp_path):
    text = (bundled_dir() / "post.toml").read_text(encoding="utf-8")
    path = tmp_path / "markup.toml"
    path.write_text(text.replace('title = "The classic', 'title = "[/oops] The classic'), encoding="utf-8")
    assert cli("check", "w5", "0.35891648", "--lesson", path).exit_code == 0
    result = cli("progress", "--lesson", path)
    assert result.exit_code == 0 and "[/oops] The classic" in result.stdout


def test_a_fifo_or_a_device_as_the_lesson_is_refused_without_waiting(cli, tmp_path):
    fifo = tmp_path / "lesson.toml"
    os.mkfifo(fifo)
    for target in (fifo, "/dev/zero"):
        assert "is not a file" in one_line_error(cli("check", "w5", "0.3", "--lesson", target))
        assert "is not a file" in one_line_error(cli("lesson-check", target))


def test_an_erratum_about_no_quantity_is_a_lesson_error_not_a_failure_of_check(cli, tmp_path):
    text = (bundled_dir() / "post.toml").read_text(encoding="utf-8")
    path = tmp_path / "errata.toml"
    path.write_text(text.replace('quantity = "E_total+"', 'quantity = "w99"'), encoding="utf-8")
    assert "errata[1].quantity" in one_line_error(cli("check", "w5", "0.3", "--lesson", path))  # [0]: the w3 slip


def test_a_lesson_with_a_byte_order_mark_loads(cli, tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (bundled_dir() / "post.toml").read_bytes())
    assert cli("check", "w5", "0.35891648", "--lesson", path).exit_code == 0


# --- nothing from a lesson or the user is interpreted by the terminal ---------------------------

@pytest.mark.parametrize("args", [["start"], ["check", "E_total+", "0.291027924"], ["train", "-n", "10000"]])
def test_escape_sequences_in_title_description_steps_errata_claims_do_not_reach_the_terminal_even_into_a_pipe(
        tmp_path, args):
    """The real program into a real pipe (every other command: tests/test_hostile.py, in-process)."""
    lesson = ["--lesson", str(hostile_lesson(tmp_path))]
    done = program(*args, *lesson, stdin=b"q\n", env={"BACKPROP_TUTOR_HOME": str(tmp_path / "home")})
    out = done.stdout.decode() + done.stderr.decode()
    assert done.returncode in (0, 1), out
    assert not CONTROL.search(out), repr(CONTROL.search(out))
    assert "\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202e" in out  # shown, escaped


def test_the_lesson_title_is_not_rich_markup_in_progress_no_working_hyperlink(tmp_path):
    home = {"BACKPROP_TUTOR_HOME": str(tmp_path / "home"), "FORCE_COLOR": "1"}
    lesson = str(hostile_lesson(tmp_path))
    program("check", "w5", "0.35891648", "--lesson", lesson, env=home)
    done = program("progress", "--lesson", lesson, env=home)
    out = done.stdout.decode()
    flat = "".join(line.strip() for line in out.splitlines())  # the table folds its title
    assert done.returncode == 0 and "\x1b]8;" not in out and "[link=https://example.test]x[/link]" in flat, out


def test_the_lesson_path_is_not_rich_markup_in_verify(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")
    path = tmp_path / "[bold]x[red] [link=https:x]y.toml"
    path.write_bytes((bundled_dir() / "post.toml").read_bytes())
    result = cli("verify", "--lesson", path)
    squeezed = re.sub(r"\s", "", result.stdout)  # the table folds its title to the table's width
    assert result.exit_code == 0 and re.sub(r"\s", "", f"lesson {path}: the engine") in squeezed, result.stdout


def test_typed_names_are_echoed_cut_and_escaped_not_131_kb_on_one_line(cli):
    line = one_line_error(cli("check", "\x1b[2J" + "x" * 131_072, "0.3"))
    assert len(line) < 250 and "…" in line and "\\x1b[2J" in line and "\x1b" not in line
    line = one_line_error(cli("what-if", "\x1b]0;t\x07" + "y" * 100_000 + "=1"))
    assert len(line) < 250 and "\\x1b]0;t\\x07" in line


def test_piped_answers_are_echoed_escaped_and_cut(cli):
    result = cli("start", input="\x1b[2J" + "9" * 5000 + "\nq\n")
    echoed = [line for line in result.stdout.splitlines() if line.startswith("net_h1 = \\x1b[2J")]
    assert echoed and len(echoed[0]) < 100 and echoed[0].endswith("…")


# --- a clean package ----------------------------------------------------------------------------

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_a_LICENSE_file_MIT_as_the_metadata_says_shipped_in_wheel_and_sdist():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "LICENSE" in PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_classifiers_authors_keywords_and_no_invented_urls():
    project = PYPROJECT["project"]
    assert project["authors"] and project["keywords"] and "Environment :: Console" in project["classifiers"]
    assert "License :: OSI Approved :: MIT License" not in project["classifiers"]  # PEP 639: the expression
    assert "urls" not in project  # no home page, repository or documentation site exists yet


def test_the_CHANGELOG_is_in_the_sdist():
    assert "CHANGELOG.md" in PYPROJECT["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def test_dev_tools_in_dependency_groups_with_a_constraints_file_that_CI_uses():
    def name(requirement):
        return re.split(r"[<>=!~ ;\[]", requirement)[0].lower()

    groups = PYPROJECT["dependency-groups"]
    extra = {name(r) for r in PYPROJECT["project"]["optional-dependencies"]["test"]}
    grouped = {name(r) for g in ("test", "lint") for r in groups[g]}
    assert extra == grouped and {"ruff", "mypy", "pytest", "hypothesis", "pexpect"} <= extra
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    assert extra <= set(pins) and all(re.fullmatch(r"\d+(\.\d+)*", v) for v in pins.values())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -c constraints.txt '.[test]'" in readme  # .ci/run runs the README's command


@pytest.mark.parametrize(("env", "tty", "wanted"), [
    ({}, True, True), ({}, False, False), ({"NO_COLOR": ""}, True, True), ({"NO_COLOR": "1"}, True, False),
    ({"FORCE_COLOR": "1"}, False, True), ({"FORCE_COLOR": ""}, False, False), ({"FORCE_COLOR": ""}, True, True),
    ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False), ({"TERM": "dumb"}, True, False),
    ({"TERM": "dumb", "FORCE_COLOR": "1"}, False, False), ({"TTY_COMPATIBLE": "1"}, False, True),
    ({"TTY_COMPATIBLE": "0"}, True, False),
])
def test_colour_rules_as_no_color_org_and_rich_an_empty_NO_COLOR_counts_as_unset(monkeypatch, env, tty, wanted):
    for var in ("NO_COLOR", "FORCE_COLOR", "TERM", "TTY_COMPATIBLE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)

    class Stream(io.StringIO):
        def isatty(self):
            return tty

    assert render.colour_wanted(Stream()) is wanted
    assert render.colour_wanted(Stream(), no_color=True) is False


@pytest.mark.parametrize("args", [["check", "w5", "0.3589"], ["train", "-n", "10"], ["quantities"], ["key"],
                                  ["explain", "w5"], ["lessons"]])
def test_FORCE_COLOR_is_honoured_by_every_command_including_check_and_train(cli, monkeypatch, args):
    """Into a pipe (CliRunner's output): colour only when forced, and never under NO_COLOR, where Rich
    keeps bold (and `key`, plain Markdown, has none to give)."""
    rich = args[0] in ("quantities", "explain", "lessons")
    monkeypatch.setenv("TERM", "xterm")
    for env, coloured in (({"FORCE_COLOR": "1"}, args[0] != "key"), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, rich),
                          ({"NO_COLOR": ""}, False), ({"NO_COLOR": "", "FORCE_COLOR": ""}, False)):
        for var in ("FORCE_COLOR", "NO_COLOR"):
            monkeypatch.delenv(var, raising=False)
        for var, value in env.items():
            monkeypatch.setenv(var, value)
        result = cli(*args)
        assert result.exit_code == 0 and ("\x1b[" in result.stdout) is coloured, (env, result.stdout[:200])


def test_minus_V_as_well_as_version(cli):
    assert cli("-V").stdout == cli("--version").stdout != "" and cli("-V").exit_code == 0


COMMANDS = [[], *([c.name or c.callback.__name__.replace("_", "-")] for c in cli_module.app.registered_commands)]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) or "main" for c in COMMANDS])
def test_help_shows_no_type_metavars_on_flags(cli, command):
    result = cli(*command, "--help")
    assert result.exit_code == 0 and "<bool>" not in result.stdout and "--help" in result.stdout
    for line in result.stdout.splitlines():
        if re.match(r"│ --(help|json|random|restart|quiet|yes|latex|no-color|version)\b", line):
            assert "<" not in line, line


@pytest.mark.parametrize("command", COMMANDS[1:], ids=[c[0] for c in COMMANDS[1:]])
def test_help_texts_are_wrapped_as_written_not_broken_mid_phrase(cli, monkeypatch, command):
    """On a terminal wider than any paragraph, each paragraph of the help is one line: a line break
    is the terminal's, never the source's (check --help broke "w5 (the / updated weight w5+)")."""
    monkeypatch.setenv("COLUMNS", "400")
    info = next(c for c in cli_commands() if (c.name or c.callback.__name__.replace("_", "-")) == command[0])
    text = info.help or ""
    lines = [" ".join(line.split()) for line in cli(*command, "--help").stdout.splitlines()]
    for paragraph in text.split("\n\n"):
        flat = " ".join(paragraph.split())
        assert any(flat in line for line in lines), flat
    if command == ["check"]:
        assert any("w5 (the updated weight w5+)" in line for line in lines)


def cli_commands():
    return cli_module.app.registered_commands


def test_help_at_80_columns_breaks_lines_only_where_the_terminal_ends(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    lines = cli("check", "--help").stdout.splitlines()
    body = [line.strip() for line in lines[:lines.index(next(x for x in lines if "Arguments" in x))]]
    for line, after in itertools.pairwise(body):
        if line and after:  # a paragraph goes on: the next word would not have fitted
            assert len(line) + 1 + len(after.split()[0]) > 80 - 4, (line, after)


def test_lesson_check_accepts_a_bundled_name(cli):
    result = cli("lesson-check", "post")
    assert result.exit_code == 0 and "✓ format" in result.stdout


class FakeKernel32:
    def __init__(self, console: bool):
        self.console, self.modes = console, {}

    def GetStdHandle(self, n):
        return n

    def GetConsoleMode(self, handle, mode):
        if self.console:
            mode._obj.value = 3
        return self.console

    def SetConsoleMode(self, handle, mode):
        self.modes[handle] = mode
        return True


@pytest.mark.parametrize("console", [True, False])
def test_VT_mode_is_enabled_on_windows_only(monkeypatch, console):
    kernel32 = FakeKernel32(console)
    monkeypatch.setattr(render.sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "windll", type("windll", (), {"kernel32": kernel32}), raising=False)
    assert render.enable_vt_mode() is console
    assert kernel32.modes == ({-11: 3 | 4, -12: 3 | 4} if console else {})
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert render.Out(stream=io.StringIO()).colour is console  # no ANSI for a console that cannot show it


def test_VT_mode_is_a_no_op_elsewhere(monkeypatch):
    monkeypatch.setattr(render.sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "windll", None, raising=False)  # would fail if it were used
    assert render.enable_vt_mode() is False


# --- found while hunting: the output itself ------------------------------------------------------

def shell(command: str, tmp_path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "BACKPROP_TUTOR_HOME": str(tmp_path / "home")}
    return subprocess.run(["bash", "-c", f"'{sys.executable}' -m backprop_tutor {command}"], capture_output=True,
                          env=environment, timeout=120)


@pytest.mark.parametrize("command", ["check w5 0.3589 --json", "key", "quantities", "train -n 10"])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_2_not_an_internal_error(tmp_path, command):
    done = shell(f"{command} > /dev/full", tmp_path)
    assert done.returncode == 2 and done.stderr.decode() == (
        "backprop-tutor: error: input/output error: No space left on device\n")


def test_closed_standard_streams_are_not_an_internal_error(tmp_path):
    assert shell("start <&-", tmp_path).returncode == 0  # nothing to read: as at the end of input
    assert shell("check w5 0.35891648 >&-", tmp_path).returncode == 0
    assert shell("check w5 nope 2>&-", tmp_path).returncode == 2


def test_a_closed_pipe_stops_quietly(tmp_path):
    done = shell("train -n 20000 --every 1 | head -c 10; exit ${PIPESTATUS[0]}", tmp_path)  # far more than a pipe holds
    assert done.returncode == 1 and done.stderr == b"" and len(done.stdout) == 10


def test_train_csv_to_a_fifo_nothing_reads_is_refused_at_once(cli, tmp_path):
    import os

    fifo = tmp_path / "history"
    os.mkfifo(fifo)
    result = cli("train", "-n", "100", "--csv", str(fifo))
    assert result.exit_code == 2
    assert "FIFO that nothing is reading" in result.output

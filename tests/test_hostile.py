"""The hostile-input suite: every command, every option, hostile values.

A bad input gets exit code 2 and one line on stderr that starts ``backprop-tutor: error:``: never
exit 0, never the internal error (70), never a traceback, and never a raw control character (ESC,
CSI, a bidi override …) in anything printed.  Hostile but valid lesson files (escape sequences and
Rich markup in every text field) are shown escaped.  Everything runs in-process (CliRunner).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backprop_tutor.cli import app
from backprop_tutor.lesson import bundled_dir

# What must never reach a terminal raw: C0 but newline and tab, DEL, C1, bidi controls, lone surrogates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
POST = (bundled_dir() / "post.toml").read_text(encoding="utf-8")


def invoke(args, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], input=input)


def assert_safe(result):
    """No crash (an uncaught exception would be exit 70 in the real program), no traceback, nothing
    a terminal would act on."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code != 70
    assert "Traceback" not in result.output
    bad = UNSAFE.search(result.output)
    assert bad is None, f"raw {bad.group()!r} in {result.output[max(bad.start() - 60, 0):bad.end() + 20]!r}"


def assert_refused(result):
    assert_safe(result)
    assert result.exit_code == 2, (result.exit_code, result.output[-400:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-600:]
    assert lines[0].startswith("backprop-tutor: error: ") and len(lines[0]) <= 600, lines[0][:600]


# --- lesson files a person (or an attacker) could point --lesson at ------------------------------

ESC = r"\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202eevil\u0000\r[/oops][link=https://example.test]x[/link]\u007f"


def _hostile_post() -> str:
    """The post's lesson with escape sequences and Rich markup in every text field."""
    text = POST.replace('title = "The classic worked example: a 2-2-2 logistic network"', f'title = "{ESC}"')
    text = text.replace('description = """', f'description = """{ESC}\n', 1)
    text = text.replace('why = """', f'why = """{ESC}\n')
    head, sep, tail = text.partition("[network]")
    return head + f'[steps]\nnet_h1 = "{ESC}"\n"dE/dw5" = "{ESC}"\n\n' + sep + tail


def _bad_lessons(folder: Path) -> dict[str, str]:
    """Name → the --lesson value: paths that are not lesson files, and files that are not lessons."""
    folder.mkdir(exist_ok=True)

    def write(name: str, content: bytes) -> str:
        path = folder / name
        path.write_bytes(content)
        return str(path)

    fifo = folder / "fifo.toml"
    if not fifo.exists():
        os.mkfifo(fifo)
    unreadable = write("unreadable.toml", b"not = [valid")  # as root it is read, and still no lesson
    os.chmod(unreadable, 0)
    loop = folder / "loop.toml"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    plain = write("plain.toml", b"x = 1\n")
    return {
        "empty name": "",
        "blank name": "   ",
        "nul in name": "post\x00",
        "escape in name": "\x1b[2Jpost",
        "markup in name": "[/oops]",
        "300 characters": "a" * 300,
        "5000 characters": "b" * 5000,
        "~nouser": "~nouser/x.toml",
        "dash": "-",
        "unknown name": "nosuch",
        "look-alike name": "pоst",  # Cyrillic o
        "root folder": "/",
        "a folder": str(folder),
        "a fifo": str(fifo),
        "/dev/null": "/dev/null",
        "/dev/zero": "/dev/zero",
        "a symlink loop": str(loop),
        "unreadable": unreadable,
        "under a file": plain + "/x.toml",
        "nonexistent folder": str(folder / "no" / "such.toml"),
        "2 MB": write("big.toml", b"# " + b"x" * 2_000_000 + b"\n"),
        "invalid UTF-8": write("latin1.toml", 'title = "café"\n'.encode("latin-1")),
        "BOM and garbage": write("bom.toml", b"\xef\xbb\xbf[[[\n"),
        "UTF-16": write("utf16.toml", 'title = "x"\n'.encode("utf-16")),
        "NUL bytes": write("nul.toml", b"title = \"a\x00b\"\n"),
        "binary": write("binary.toml", bytes(range(256)) * 4),
        "nested 500 deep": write("deep.toml", b"x = " + b"[" * 500 + b"]" * 500 + b"\n"),
        "inline tables 400 deep": write("deep2.toml", b"x = " + b"{a = " * 400 + b"1" + b"}" * 400 + b"\n"),
        "nested 9 deep": write("deep9.toml", b"x = " + b"[" * 9 + b"]" * 9 + b"\n"),
        "empty file": write("empty.toml", b""),
        "not a lesson": plain,
        "escape in a key": write("key.toml", POST.replace("title =", '"\\u001b[2Jtitle" = "x"\ntitle =')
                                 .encode()),
        "escape in a bad value": write("value.toml", POST.replace('activation = "logistic"',
                                                                   f'activation = "{ESC}"').encode()),
        "escape in errata quantity": write("errq.toml", POST.replace('quantity = "E_total+"',
                                                                     f'quantity = "{ESC}"').encode()),
        "escape in a printed figure": write("errp.toml", POST.replace('printed = "0.291027924"',
                                                                      f'printed = "{ESC}"').encode()),
        "escape in a step name": write("stepk.toml", _hostile_post().replace('"dE/dw5" =', '"\\u001bdE" =')
                                       .encode()),
        "markup in claims output": write("claim.toml", POST.replace('"0.015912196"', '"[/oops]"').encode()),
        "overflowing weights": write("overflow.toml", POST.replace("0.15, 0.20", "1e300, 1e300")
                                     .replace('activation = "logistic"', 'activation = "identity"').encode()),
        "nan weight": write("nan.toml", POST.replace("0.15, 0.20", "nan, 0.20").encode()),
    }


@pytest.fixture(scope="module")
def bad_lessons(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    yield _bad_lessons(folder / "lessons")
    os.chmod(folder / "lessons" / "unreadable.toml", stat.S_IRUSR | stat.S_IWUSR)
    shutil.rmtree(folder, ignore_errors=True)


BAD_LESSON_NAMES = [  # the keys above, spelled once more so that the cases are known when collected
    "empty name", "blank name", "nul in name", "escape in name", "markup in name", "300 characters",
    "5000 characters", "~nouser", "dash", "unknown name", "look-alike name", "root folder", "a folder", "a fifo",
    "/dev/null", "/dev/zero", "a symlink loop", "unreadable", "under a file", "nonexistent folder", "2 MB",
    "invalid UTF-8", "BOM and garbage", "UTF-16", "NUL bytes", "binary", "nested 500 deep",
    "inline tables 400 deep", "nested 9 deep", "empty file", "not a lesson", "escape in a key",
    "escape in a bad value", "escape in errata quantity", "escape in a printed figure", "escape in a step name",
    "markup in claims output", "overflowing weights", "nan weight",
]

LESSON_COMMANDS = {  # every command that reads a lesson, with valid other arguments
    "check": ["check", "w5", "0.3589", "--lesson"],
    "explain": ["explain", "w5", "--lesson"],
    "quantities": ["quantities", "--lesson"],
    "verify": ["verify", "--lesson"],
    "what-if": ["what-if", "w5=0.5", "--lesson"],
    "key": ["key", "--lesson"],
    "start": ["start", "--lesson"],
    "progress": ["progress", "--lesson"],
    "reset": ["reset", "--yes", "--lesson"],
    "train": ["train", "-n", "2", "--lesson"],
    "lesson-check": ["lesson-check"],
    "graph": ["graph", "--lesson"],
    "export": ["export", "--to", "numpy", "--lesson"],
}


def test_the_bad_lessons_are_all_named(tmp_path):
    assert sorted(_bad_lessons(tmp_path / "l")) == sorted(BAD_LESSON_NAMES)


@pytest.mark.parametrize("command", list(LESSON_COMMANDS))
@pytest.mark.parametrize("bad", BAD_LESSON_NAMES)
def test_a_bad_lesson_is_refused_in_one_line(bad_lessons, command, bad):
    value = bad_lessons[bad]
    if value.startswith("-") and command != "lesson-check":
        args = [*LESSON_COMMANDS[command][:-1], f"--lesson={value}"]
    else:
        args = [*LESSON_COMMANDS[command], *(["--"] if value.startswith("-") else []), value]
    assert_refused(invoke(args, input="q\n"))


# --- hostile values for every argument and option -----------------------------------------------

HUGE = "9" * 131_072
NAMES = ["", " ", "\x00", "w5\x00", "\x1b]0;pwned\x07", "\x1b[2J", "\u202ew5", "w\u200b5", "x" * 131_072,
         "[/oops]", "[link=https://example.test]w5[/link]", "%s%n", "../../etc/passwd", "\x9b31m", "w\x0b5", "w99",
         "∂∂∂", "ｗ９９", "dE/dw5/dw5", "__import__('os')", "-", "@", "w5@2"]
VALUES = ["", " ", "\x00", "0.3\x00", "\x1b[2J", "\u202e0.3", "nan", "-nan", "NaN", "inf", "-inf", "Infinity",
          "1e999", "-1e999", "0x1p-2", "0b1", "1_000", "١٢", "１２", "½", "1/2", "2*0.3", "0.3.5", "e5", "1e",
          ".", "+", "-", "--", "0.3 0.4", "1,2,3", "0,3,5", HUGE, "\ud800", "0.3\n0.4", "[/oops]", "—0.5"]


@pytest.mark.parametrize("name", NAMES, ids=[repr(n[:20]) for n in NAMES])
def test_check_refuses_a_hostile_name(name):
    args = ["check", "--", name, "0.3589"] if name.startswith("-") else ["check", name, "0.3589"]
    assert_refused(invoke(args))


@pytest.mark.parametrize("value", VALUES, ids=[repr(v[:20]) for v in VALUES])
def test_check_refuses_a_hostile_value(value):
    assert_refused(invoke(["check", "w5", "--", value]))


EXPLAIN_NAMES = NAMES[:21]
STEP_NAMES = NAMES[:16]


@pytest.mark.parametrize("name", EXPLAIN_NAMES, ids=[repr(n[:20]) for n in EXPLAIN_NAMES])
def test_explain_refuses_a_hostile_name(name):
    assert_refused(invoke(["explain", name]))


@pytest.mark.parametrize("name", STEP_NAMES, ids=[repr(n[:20]) for n in STEP_NAMES])
def test_start_refuses_a_hostile_step(name):
    assert_refused(invoke(["start", "--step", name], input="q\n"))


CHANGES = ["w5", "=", "w5=", "=0.5", "w5=nan", "w5=inf", "w5=1e999", "eta=0", "eta=-1", "eta=nan",
           "out_o1=1", "E_total=0", "zz=1", "\x1b[2J=1", "w5=\x1b[2J", "w5=0.5=0.6", "w5=１", "[/oops]=1",
           "x" * 100_000 + "=1", "w5=" + HUGE, "i1=\u202e1", "dE/dw5=1", "w5+=0.3"]


@pytest.mark.parametrize("change", CHANGES, ids=[repr(c[:20]) for c in CHANGES])
def test_what_if_refuses_a_hostile_change(change):
    assert_refused(invoke(["what-if", change]))


OPTIONS = [  # (command up to the option, hostile values)
    (["check", "w5", "0.3589", "--seed"], ["-1", "x", "", "1.5", "nan", "\x1b[2J", "1e3", HUGE]),
    (["key", "--seed"], ["-1", "x", "", "1.5", "\x1b"]),
    (["start", "--random", "--seed"], ["-1", "x", "", "\x00"]),
    (["train", "--random", "--seed"], ["-1", "y", ""]),
    (["key", "--format"], ["pdf", "", "MD", "\x1b[2J", "json\x00", "[/oops]", "x" * 10_000]),
    (["train", "--epochs"], ["0", "-1", "1e3", "x", "", HUGE, "nan", "10000001", "1.5", "\x1b"]),
    (["train", "--lr"], ["0", "-1", "nan", "inf", "-inf", "x", "", "1e999", "\x1b[2J"]),
    (["train", "--every"], ["0", "-5", "x", "", "nan", "10000001"]),
    (["train", "--until"], ["0", "-1", "nan", "inf", "x", ""]),
    (["train", "--batch-size"], ["0", "-1", "2", "x", ""]),
    (["train", "--lesson", "xor", "--batch-size"], ["0", "5", "-3", HUGE]),
    (["train", "-n", "1", "--csv"], ["", "/", "/no/such/folder/h.csv", "/dev/null/x.csv"]),
    (["train", "-n", "1", "--compare"], ["", "lr=\x1b[2J", "hidden=\x00", "[/oops]=1", "x" * 10_000, "lr=" + "1," * 99,
                                         "init=seed:" + HUGE, "init=seed:1.." + HUGE, "hidden=" + HUGE, "lr=1e999",
                                         "biases=\u202e", "lr=0x10", "hidden=٣"]),
]
OPTION_CASES = [(prefix, value) for prefix, values in OPTIONS for value in values]


@pytest.mark.parametrize(("prefix", "value"), OPTION_CASES,
                         ids=[f"{' '.join(p[-2:])}={v[:12]!r}" for p, v in OPTION_CASES])
def test_an_option_refuses_a_hostile_value(prefix, value):
    *before, option = prefix
    assert_refused(invoke([*before, f"{option}={value}"]))


USAGE = [
    ["nosuchcommand"], ["\x1b[2J"], ["chek", "w5", "0.3"], ["check"], ["check", "w5"], ["check", "w5", "0.3", "x"],
    ["check", "w5", "0.3", "--lesson"], ["check", "w5", "0.3", "--nope"], ["--no-color=maybe", "lessons"],
    ["lessons", "extra"], ["lessons", "--lesson", "post"], ["quantities", "extra"], ["verify", "a", "b"],
    ["key", "extra"], ["progress", "--yes"], ["reset", "--yes", "extra"], ["train", "-n"], ["train", "extra"],
    ["lesson-check"], ["lesson-check", "a", "b"], ["what-if"], ["explain"], ["start", "extra"],
    ["--version=1"], ["-V", "-V=2"], ["--\x1b[2J"], ["check", "--json=yes", "w5", "0.3"],
    ["start", "--step"], ["train", "--quiet=1"],
]


@pytest.mark.parametrize("args", USAGE, ids=[" ".join(a)[:30] for a in USAGE])
def test_a_usage_error_is_one_line(args):
    assert_refused(invoke(args))


# --- hostile but valid: shown, never interpreted ------------------------------------------------

@pytest.fixture(scope="module")
def hostile_lesson(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile-lesson") / "\x1b[2J[red]lesson.toml"
    path.write_text(_hostile_post(), encoding="utf-8")
    return str(path)


SHOWN = [  # commands that print the lesson's text: title, description, steps, errata, claims, name, path
    (["check", "w5", "0.35891648"], None, 0), (["check", "E_total+", "0.291027924"], None, 1),
    (["check", "E_total+", "0.291027924", "--json"], None, 1), (["check", "w5", "0.3", "--json"], None, 3),
    (["explain", "E_total+"], None, 0), (["quantities"], None, 0), (["key"], None, 0),
    (["key", "--format", "csv"], None, 0), (["key", "--format", "json"], None, 0),
    (["key", "--random", "--seed", "3"], None, 0), (["progress"], None, 0),
    (["start"], "0.3775\n0.5\nhint\nskip\nexplain\ntable\nquit\n", 0),
    (["start", "--step", "dE/dw5"], "\x1b[2J\nq\n", 0), (["train", "-n", "10"], None, 0),
    (["train", "-n", "10000", "--quiet"], None, 0), (["what-if", "w5=0.5"], None, 0), (["verify"], None, 0),
    (["reset", "--yes"], None, 0),
]


@pytest.mark.parametrize(("args", "stdin", "code"), SHOWN, ids=[" ".join(a) for a, _, _ in SHOWN])
def test_escape_sequences_in_a_lesson_are_shown_escaped(hostile_lesson, args, stdin, code):
    result = invoke([*args, "--lesson", hostile_lesson], input=stdin)
    assert_safe(result)
    assert result.exit_code == code, result.output[-600:]


def test_a_hostile_lesson_passes_lesson_check_escaped(hostile_lesson):
    result = invoke(["lesson-check", hostile_lesson])
    assert_safe(result)
    assert result.exit_code == 0 and "\\x1b[2J" in result.output


def test_a_hostile_lesson_title_is_text_not_markup(hostile_lesson):
    """[/oops] and [link=…] are printed as written, not read as Rich markup."""
    invoke(["check", "w5", "0.35891648", "--lesson", hostile_lesson])
    result = invoke(["progress", "--lesson", hostile_lesson])  # the title is the table's: Rich read it as markup
    assert result.exit_code == 0 and "[/oops]" in result.output and "Hints used: 0" in result.output
    result = invoke(["quantities", "--lesson", hostile_lesson])
    assert result.exit_code == 0
    assert ("\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eevil\\x00\\x0d[/oops][link=https://example.test]x[/link]"
            "\\x7f") in result.output


ANSWERS = ["\x1b[2J", "\x1b]0;pwned\x07", "\x00", "\u202e0.3775", "x" * 100_000, "[/oops]", "\x9b31m", "0.3\x0b775",
           "\x7f\x08\x08", "hint\x1b", "0.3775\x00"]


@pytest.mark.parametrize("answer", ANSWERS, ids=[repr(a[:16]) for a in ANSWERS])
def test_a_hostile_answer_in_the_walk_is_refused_and_shown_escaped(answer):
    result = invoke(["start"], input=f"{answer}\nq\n")
    assert_safe(result)
    assert result.exit_code == 0 and "not a number" in result.output
    assert max(len(line) for line in result.output.splitlines()) < 400  # long echoes are cut


def test_the_suite_has_at_least_300_cases():
    counted = (len(BAD_LESSON_NAMES) * len(LESSON_COMMANDS) + len(NAMES) + len(VALUES) + len(EXPLAIN_NAMES)
               + len(STEP_NAMES) + len(CHANGES)
               + len(OPTION_CASES) + len(USAGE) + len(SHOWN) + 2 + len(ANSWERS))
    assert counted >= 300, counted

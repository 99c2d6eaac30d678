"""`worksheet`: blank sheets and keys for three seeds; the key's values against the test's own pass."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from classroom import ASKED, sheet

from backprop_tutor.checking import Session
from backprop_tutor.lesson import load, randomized

SEEDS = (1, 2, 3)
HEADINGS = [("Forward pass", "net_h1"), ("Total error", "E_o1"), ("Backward pass: output layer", "dE_total/dout_o1"),
            ("Backward pass: hidden layer", "dnet_o1/dout_h1"), ("After the update", "net_h1+")]


def symbol(qid: str) -> str:
    """The post's notation, written here from the naming rules."""
    if qid.endswith("+"):
        return symbol(qid[:-1]) + "⁺"
    if qid == "eta":
        return "η"
    if qid.startswith("delta_"):
        return "δ_" + qid[6:]
    if "/" in qid:
        top, bottom = qid.split("/")
        return f"∂{top[1:]}/∂{bottom[1:]}"
    return qid


def md(text: str) -> str:
    return text.replace("_", "\\_")


def given_of(seed: int) -> dict[str, float]:
    s = Session(randomized(load("post"), seed))
    return {q: s.trace[q] for q, x in s.catalogue.items() if x.given}


def expected_sheet(seed: int) -> list[str]:
    """The sheet, but for the network's drawing (checked on its own)."""
    title = f"The classic worked example: a 2-2-2 logistic network (fresh numbers, seed {seed})"
    out = [f"# Worksheet: {title}", "", f"Seed **{seed}**. Name: ____________________", "",
           f"Compute each value by hand. Check one with `backprop-tutor check NAME VALUE --random --seed {seed}`.",
           "", "## The network", "", "```text", "DRAWING", "```", "", "## Given", "", "| quantity | value |",
           "|---|---|"]
    out += [f"| {md(symbol(q))} | {v:g} |" for q, v in given_of(seed).items()]
    starts = {first: heading for heading, first in HEADINGS}
    for number, qid in enumerate(ASKED, 1):
        if qid in starts:
            out += ["", f"## {starts[qid]}", "", "| # | compute | your value |", "|---|---|---|"]
        out.append(f"| {number} | {md(symbol(qid))} |  |")
    return out


def run_tutor(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "backprop_tutor", *args], capture_output=True, text=True,
                          env={"BACKPROP_TUTOR_HOME": str(tmp_path), "PATH": ""})


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    out = tmp_path_factory.mktemp("sheets")
    for fmt in ("md", "tex"):
        run = run_tutor(out, "worksheet", "--seeds", "1-3", "--format", fmt, "-o", str(out))
        assert run.returncode == 0, run.stderr
    return out


def test_the_markdown_sheets_are_exact(sheets):
    for seed in SEEDS:
        lines = (sheets / f"sheet-{seed}.md").read_text().splitlines()
        start, end = lines.index("```text") + 1, lines.index("```")
        drawing, lines[start:end] = lines[start:end], ["DRAWING"]
        assert lines == expected_sheet(seed)
        text = "\n".join(drawing)
        for q, v in given_of(seed).items():  # every weight, bias, input and target drawn with its number
            if q != "eta":
                assert re.search(rf"\b{'target' if q.startswith('target') else q} (?:= )?{re.escape(f'{v:g}')}\b",
                                 text.replace("target ", "target = ")), (seed, q)
        assert "net ?" in text and "out ?" in text  # nothing computed is shown


def test_the_markdown_keys_hold_the_right_values(sheets):
    for seed in SEEDS:
        _, right = sheet(given_of(seed))
        rows = [line.split(" | ") for line in (sheets / f"key-{seed}.md").read_text().splitlines()
                if line.startswith("| ") and not line.startswith("| quantity")]
        values = {r[0][2:]: float(r[3].rstrip(" |")) for r in rows}
        for qid in ASKED:
            assert values[symbol(qid)] == pytest.approx(right[qid], rel=1e-13, abs=1e-15), (seed, qid)


def balanced(tex: str) -> None:
    body = re.sub(r"\\begin\{verbatim\}.*?\\end\{verbatim\}", "", tex, flags=re.S)
    stack = []
    for kind, name in re.findall(r"\\(begin|end)\{(\w+)\}", body):
        if kind == "begin":
            stack.append(name)
        else:
            assert stack.pop() == name
    assert stack == []
    depth = 0
    for c in re.sub(r"\\[{}]", "", body):
        depth += (c == "{") - (c == "}")
        assert depth >= 0
    assert depth == 0
    assert all(ord(c) < 128 for c in tex)  # what plain pdflatex sets without extra packages


def test_the_latex_is_well_formed(sheets):
    for seed in SEEDS:
        for stem in ("sheet", "key"):
            tex = (sheets / f"{stem}-{seed}.tex").read_text()
            balanced(tex)
            assert tex.count(r"\\ \hline") == (len(ASKED) if stem == "sheet" else 0)
        assert f"Seed \\textbf{{{seed}}}" in (sheets / f"sheet-{seed}.tex").read_text()


def test_what_a_lesson_file_says_is_escaped(tmp_path):
    text = open(load("post").source, encoding="utf-8").read()
    title = r"<b>x</b> \input{evil} | 100% $a_b$ & # ~ ^ {"
    text = re.sub(r'^title = ".*"$', lambda _: f"title = '{title}'", text, count=1, flags=re.M)
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    for fmt in ("md", "tex"):
        run = run_tutor(tmp_path, "worksheet", "--lesson", str(tmp_path / "bad.toml"), "--format", fmt,
                        "-o", str(tmp_path / "o"))
        assert run.returncode == 0, run.stderr
    first = (tmp_path / "o" / "sheet.md").read_text().splitlines()[0]
    assert first == r"# Worksheet: &lt;b&gt;x&lt;/b&gt; \\input{evil} \| 100% $a\_b$ & # ~ ^ {"
    tex = (tmp_path / "o" / "sheet.tex").read_text()
    balanced(tex)
    assert r"\input{evil}" not in tex and r"\textbackslash{}input\{evil\}" in tex
    if shutil.which("pdflatex"):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                              "-output-directory", str(tmp_path), str(tmp_path / "o" / "sheet.tex")],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_the_latex_compiles(sheets, tmp_path):
    for stem in ("sheet-1", "key-1"):
        run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-output-directory",
                              str(tmp_path), str(sheets / f"{stem}.tex")], capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]
        assert (tmp_path / f"{stem}.pdf").stat().st_size > 1000


@pytest.mark.parametrize("seeds", ["5-1", "x", "0-5000", "1-"])
def test_bad_seeds(tmp_path, seeds):
    run = run_tutor(tmp_path, "worksheet", "--seeds", seeds, "-o", str(tmp_path))
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "Traceback" not in run.stderr

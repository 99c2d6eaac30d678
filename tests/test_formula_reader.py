"""The formula reader (issue 16): every documented form, hostile input, and no eval/sympify anywhere.

Values are checked against Python arithmetic written in this file, with made-up values for the
names (never the engine's); which quantity a name means is written here by hand."""

import math
import re
import time
from pathlib import Path

import pytest

from backprop_tutor import formula
from backprop_tutor.checking import Session
from backprop_tutor.formula import FormulaError
from backprop_tutor.formulas import Reader
from backprop_tutor.lesson import load

SESSION = Session(load("post"))
READ = Reader(SESSION.catalogue, SESSION.resolver)
V = {"out_o1": 0.7, "out_h1": 0.6, "out_h2": 0.55, "net_h1": 0.4, "net_o1": 1.1, "delta_o1": 0.12,
     "dE_total/dw5": 0.08, "dE_total/dout_o1": 0.69, "target_o1": 0.01, "target_o2": 0.99, "w5": 0.4,
     "w5+": 0.36, "i1": 0.05, "eta": 0.5, "E_total": 0.3, "dout_o1/dnet_o1": 0.21, "w1": 0.15}


def sig(x):
    return 1 / (1 + math.exp(-x))


# (typed, the quantities it names, its value with V)
FORMS = [
    ("out_o1", {"out_o1"}, 0.7),
    ("outo1", {"out_o1"}, 0.7),
    ("OUT_O1", {"out_o1"}, 0.7),
    ("delta_o1", {"delta_o1"}, 0.12),
    ("δo1", {"delta_o1"}, 0.12),
    ("δ_o1", {"delta_o1"}, 0.12),
    ("dE/dw5", {"dE_total/dw5"}, 0.08),
    ("∂E_total/∂w5", {"dE_total/dw5"}, 0.08),
    ("∂E_total/∂out_o1", {"dE_total/dout_o1"}, 0.69),
    ("dE_total / dout_o1", {"dE_total/dout_o1"}, 0.69),
    ("dout_o1/dnet_o1", {"dout_o1/dnet_o1"}, 0.21),
    ("w5", {"w5"}, 0.4),  # in a formula the plain name is the given weight
    ("w5⁺", {"w5+"}, 0.36),
    ("w5_new", {"w5+"}, 0.36),
    ("target_o1", {"target_o1"}, 0.01),
    ("t_o1", {"target_o1"}, 0.01),
    ("i1", {"i1"}, 0.05),
    ("eta", {"eta"}, 0.5),
    ("η", {"eta"}, 0.5),
    ("E", {"E_total"}, 0.3),
    ("out_o1 + out_h1", {"out_o1", "out_h1"}, 1.3),
    ("out_o1 - out_h1", {"out_o1", "out_h1"}, 0.7 - 0.6),
    ("out_o1 − out_h1", {"out_o1", "out_h1"}, 0.7 - 0.6),
    ("out_o1 – out_h1", {"out_o1", "out_h1"}, 0.7 - 0.6),
    ("out_o1 * out_h1", {"out_o1", "out_h1"}, 0.42),
    ("out_o1·out_h1", {"out_o1", "out_h1"}, 0.42),
    ("out_o1×out_h1", {"out_o1", "out_h1"}, 0.42),
    ("out_o1 / out_h1", {"out_o1", "out_h1"}, 0.7 / 0.6),
    ("out_o1^2", {"out_o1"}, 0.49),
    ("out_o1**2", {"out_o1"}, 0.49),
    ("out_o1²", {"out_o1"}, 0.49),
    ("2^3^2*out_o1", {"out_o1"}, 512 * 0.7),  # right-associative
    ("-out_o1^2", {"out_o1"}, -0.49),  # the power before the sign
    ("out_o1^-1", {"out_o1"}, 1 / 0.7),
    ("out_o1(1 - out_o1)", {"out_o1"}, 0.7 * 0.3),
    ("out_o1(1-out_o1)", {"out_o1"}, 0.7 * 0.3),
    ("(out_o1)(out_h1)", {"out_o1", "out_h1"}, 0.42),
    ("2(1 - out_o1)", {"out_o1"}, 0.6),
    ("(1 - out_o1)out_h1", {"out_o1", "out_h1"}, 0.3 * 0.6),
    ("-(target_o1 - out_o1)", {"target_o1", "out_o1"}, -(0.01 - 0.7)),
    ("+out_o1", {"out_o1"}, 0.7),
    ("0.5*out_o1", {"out_o1"}, 0.35),
    (".5*out_o1", {"out_o1"}, 0.35),
    ("5e-1*out_o1", {"out_o1"}, 0.35),
    ("½(target_o1 - out_o1)²", {"target_o1", "out_o1"}, 0.5 * (0.01 - 0.7) ** 2),
    ("σ(net_h1)", {"net_h1"}, sig(0.4)),
    ("sigma(net_h1)", {"net_h1"}, sig(0.4)),
    ("logistic(net_h1)", {"net_h1"}, sig(0.4)),
    ("exp(net_h1)", {"net_h1"}, math.exp(0.4)),
    ("e^(-net_h1)", {"net_h1"}, math.exp(-0.4)),
    ("1/(1 + e^(−net_h1))", {"net_h1"}, sig(0.4)),
    ("1/(1 + exp(-net_h1))", {"net_h1"}, sig(0.4)),
    ("ln(out_o1)", {"out_o1"}, math.log(0.7)),
    ("log(out_o1)", {"out_o1"}, math.log(0.7)),
    ("tanh(net_h1)", {"net_h1"}, math.tanh(0.4)),
    ("max(0, net_h1)", {"net_h1"}, 0.4),
    ("max(0, -net_h1)", {"net_h1"}, 0.0),
    ("max(net_h1, 0)", {"net_h1"}, 0.4),
    ("step(net_h1)", {"net_h1"}, 1.0),
    ("step(-net_h1)", {"net_h1"}, 0.0),
    ("delta_o1*out_h1 + delta_o1*out_h2", {"delta_o1", "out_h1", "out_h2"}, 0.12 * 1.15),
    ("w5 - eta*dE/dw5", {"w5", "eta", "dE_total/dw5"}, 0.4 - 0.5 * 0.08),
    ("w5 − η·∂E_total/∂w5", {"w5", "eta", "dE_total/dw5"}, 0.4 - 0.5 * 0.08),
    ("w1*i1", {"w1", "i1"}, 0.15 * 0.05),
    ("  out_o1\t* out_h1 ", {"out_o1", "out_h1"}, 0.42),
]


@pytest.mark.parametrize(("text", "names", "expected"), FORMS, ids=[f[0] for f in FORMS])
def test_every_documented_form(text, names, expected):
    tree = formula.parse(text, READ)
    assert tree.names() == names
    assert formula.value(tree, V) == pytest.approx(expected, rel=1e-12)


def test_every_form_is_a_formula_for_check_and_a_number_is_not():
    for text, _, _ in FORMS:
        assert formula.looks_like_formula(text, READ), text
    for text in ("0.3589", "-0.0226", "1e-3", "e5", "½", "2*0.3", "1/2", "abc", "0x1p-2"):
        assert not formula.looks_like_formula(text, READ), text


HOSTILE = [
    "9**9**9*out_o1", "out_o1^9^9^9", "(9^9)^9^9*out_o1", "out_o1*10^400", "out_o1*1e999", "out_o1*1e-999",
    "out_o1^100", "out_o1^(10^10)", "out_o1**-99", "((out_o1^9)^9)^9", "out_o1*" + "9" * 400,
    "(" * 30 + "out_o1" + ")" * 30, "-" * 40 + "out_o1", "out_o1" + "^out_o1" * 30, "σ(" * 30 + "out_o1" + ")" * 30,
    "+".join(["out_o1"] * 150), "*".join(["out_o1"] * 250), "out_o1 " * 60,
    "out_o1*__import__('os')", "__import__('os').system('ls')*out_o1", "out_o1.__class__", "out_o1.real",
    "out_o1[0]", "out_o1{1}", "lambda: out_o1", "(lambda x: x)(out_o1)", "out_o1 if 1 else 0", "out_o1; rm -rf /",
    "out_o1 && ls", "`ls`*out_o1", "$(ls)*out_o1", "out_o1 = 1", "out_o1 == out_o1", "out_o1 < 1", "out_o1 % 2",
    "out_o1 // 2", "out_o1 @ out_h1", "out_o1 # comment", "'out_o1'", '"out_o1"', "out_o1\\n",
    "out_о1 * out_h1", "оut_o1", "out_o1 * ｏut_h1", "out_o1 * out_h１", "out_o1\u200b*out_h1", "out_o1\x00",
    "out_o1 \u202e* out_h1", "out_o1 ∗ out_h1", "out_o1 ⁄ out_h1",
    "", "   ", "(out_o1", "out_o1)", "((out_o1)", "out_o1))", "()", "out_o1()", "out_o1 +", "* out_o1",
    "out_o1 * * out_h1", "out_o1 ^", "σ out_o1", "σ()", "max(out_o1)", "max(1, out_o1)", "max(0, out_o1, 2)",
    "exp(out_o1, 2)", "2out_o1", "out_o1 out_h1", "out_o1 2", "nosuch_o1 * out_o1", "out_o1 * sin(out_h1)",
    "out_o1/0", "out_o1 * ln(0)", "out_o1*(-1)^0.5", "dE/dw5*out_o1",
]


def test_the_hostile_catalogue_is_large_enough():
    assert len(HOSTILE) >= 60 and len(set(HOSTILE)) == len(HOSTILE)


@pytest.fixture(scope="module")
def warm():
    """The commands' modules imported once: what is timed is reading the formula, not Python's start-up."""
    from typer.testing import CliRunner

    from backprop_tutor.cli import app

    CliRunner().invoke(app, ["check", "dE/dw5", "out_o1*"])


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(h[:30]) for h in HOSTILE])
def test_hostile_input_is_one_line_a_caret_and_exit_2(cli, warm, text):
    start = time.perf_counter()
    result = cli("check", "dE/dw5", text)
    elapsed = time.perf_counter() - start
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    lines = result.stderr.rstrip("\n").split("\n")
    assert len([x for x in lines if x.startswith("backprop-tutor: error:")]) == 1, result.stderr
    assert lines[0].startswith("backprop-tutor: error:")
    if len(lines) > 1:  # a formula's error: the formula, then one caret under the problem
        assert len(lines) == 3 and lines[2].strip() == "^", result.stderr
        column = int(re.search(r"at character (\d+)", lines[0])[1]) - 1
        assert lines[2].index("^") - 2 == column - max(0, min(column - 35, len(text) - 70))
    assert result.stdout == ""
    assert elapsed < 0.5, elapsed


def test_the_real_program_answers_hostile_formulas_in_one_line():
    import subprocess
    import sys

    for text in ("9**9**9*out_o1", "out_о1*out_h1"):
        done = subprocess.run([sys.executable, "-m", "backprop_tutor", "check", "dE/dw5", text],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
        error, shown, caret = done.stderr.rstrip("\n").split("\n")
        assert error.startswith("backprop-tutor: error: cannot read the formula") and caret.strip() == "^"
        assert shown.strip() == text


def test_a_formula_error_points_at_the_problem():
    cases = {"out_o1 * nosuch": 9, "out_o1 * (out_h1": 9, "2out_o1": 1, "out_o1^100": 6, "out_о1": 4,
             "(" * 30 + "out_o1": 24}
    for text, at in cases.items():
        with pytest.raises(FormulaError) as e:
            formula.parse(text, READ)
        assert e.value.position == at, (text, str(e.value))
        assert e.value.detail[1] == "  " + " " * at + "^"


def test_a_formula_beginning_with_a_minus_sign_is_an_argument(cli):
    for args in (["dE/dw5", "-(target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1"],
                 ["-l", "post", "dE/dw5", "-(target_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1"],
                 ["dE/dw5", "-(t_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1", "--lesson", "post"]):
        result = cli("check", *args)
        assert result.exit_code == 0 and "right formula" in result.stdout, result.output
        assert "Usage" not in result.output
    negative = cli("check", "dE/dw5", "-0.0226")
    assert negative.exit_code == 1 and "not right: -0.0226" in negative.stdout
    assert cli("check", "dE/dw5", "-0.082167041").exit_code == 1
    assert cli("check", "dE/dw5", "--", "-0.0226").exit_code == 1
    assert cli("check", "-h").exit_code == 0


FORMULA_MODULES = ["formula.py", "formulas.py"]


def code_names(source):
    """The names used in Python source, with what comes before each (strings and comments left out)."""
    import io
    import tokenize

    toks = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type in (tokenize.NAME, tokenize.OP)]
    return [(toks[k - 2].string if k > 1 else "", toks[k - 1].string if k else "", t.string)
            for k, t in enumerate(toks) if t.type == tokenize.NAME]


def test_the_reader_never_calls_eval_exec_sympify_or_parse_expr():
    package = Path(formula.__file__).parent
    banned = {"sympify", "parse_expr", "lambdify", "eval", "exec", "__import__", "S", "compile", "literal_eval"}
    for name in [*FORMULA_MODULES, "symbolic.py"]:
        used = [(a, b, n) for a, b, n in code_names((package / name).read_text()) if n in banned]
        assert all((a, b, n) == ("re", ".", "compile") for a, b, n in used), (name, used)
    assert not any(n in ("sympy", "sp") for _, _, n in code_names((package / "formula.py").read_text()))
    assert not any(n in ("sympy", "sp") for _, _, n in code_names((package / "formulas.py").read_text()))


def test_judging_with_sympify_parse_expr_eval_and_exec_forbidden(monkeypatch):
    import builtins
    import sys

    import sympy
    import sympy.parsing.sympy_parser

    # imported first (Python's import itself runs exec): one formula judged, one drawn, before the ban
    warm = Session(load("post")).check_formula("dE/dw6", "delta_o1*out_h2")
    warm.as_dict(), warm.drawing(), Session(load("post")).check_formula("dE/dw6", "delta_o1").as_dict()

    def forbidden(*args, **kwargs):
        raise AssertionError("called")

    strict = sys.modules["sympy.core.sympify"].sympify

    def untyped(run):  # SymPy builds some code of its own with exec; nothing typed may ever reach it
        def watched(code, *args, **kwargs):
            if isinstance(code, str) and any(w in code for w in ("out_o1", "out_h1", "t_o1", "delta_o1")):
                raise AssertionError(f"eval/exec of typed text {code!r}")
            return run(code, *args, **kwargs)
        return watched

    def no_text(a, *args, **kwargs):  # SymPy converts numbers with it internally; never a string here
        if isinstance(a, str):
            raise AssertionError(f"sympify of text {a!r}")
        return strict(a, *args, **kwargs)

    for module, attr, replacement in ((sympy, "sympify", forbidden), (sympy, "parse_expr", forbidden),
                                      (sympy.parsing.sympy_parser, "parse_expr", forbidden),
                                      (sys.modules["sympy.core.sympify"], "sympify", no_text),
                                      (builtins, "eval", untyped(builtins.eval)),
                                      (builtins, "exec", untyped(builtins.exec))):
        monkeypatch.setattr(module, attr, replacement, raising=False)
    session = Session(load("post"))
    result = session.check_formula("dE/dw5", "-(t_o1 - out_o1)*out_o1*(1 - out_o1)*out_h1")
    assert result.verdict == "right" and result.how == "symbolic"
    wrong = session.check_formula("dE/dw5", "dE/dout_o1*dnet_o1/dw5")
    assert wrong.verdict == "wrong" and wrong.findings
    assert result.drawing(unicode=True) and result.as_dict()["formula_latex"]

"""The exported programs (NumPy by hand, JAX and PyTorch by autograd): run in a separate Python, for every
bundled lesson and three random ones, each must find every one of its assertions true.

The programs are never run inside the test process: each library gets one subprocess that runs all of
its programs in turn (importing JAX once is most of the time)."""

import importlib.util
import re
import subprocess
import sys

import pytest

from backprop_tutor.export_code import program
from backprop_tutor.lesson import bundled_names, load, randomized

RANDOM = [("post", 11), ("tanh-relu", 12), ("xor", 13)]

# Runs each program file given, in a fresh namespace as __main__, and says how each one went.
DRIVER = """
import contextlib, io, runpy, sys, traceback
for path in sys.argv[1:]:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
        print("OK", path, out.getvalue().strip().splitlines()[-1])
    except BaseException as e:
        print("FAIL", path, type(e).__name__, e)
"""


def lessons():
    return [(name, load(name)) for name in bundled_names()] + [
        (f"{name}@{seed}", randomized(load(name), seed)) for name, seed in RANDOM]


def run_all(tmp_path, texts: dict[str, str]) -> dict[str, str]:
    paths = {}
    for key, text in texts.items():
        path = tmp_path / (re.sub(r"\W", "_", key) + ".py")
        path.write_text(text, encoding="utf-8")
        paths[str(path)] = key
    done = subprocess.run([sys.executable, "-c", DRIVER, *paths], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = {}
    for line in done.stdout.splitlines():
        verdict, path, rest = line.split(" ", 2)
        results[paths[path]] = f"{verdict} {rest}"
    assert set(results) == set(texts), done.stdout + done.stderr
    return results


def check_target(tmp_path, target):
    texts = {key: program(key, lesson.network, target) for key, lesson in lessons()}
    # and one whose embedded gradient of w1 is wrong in its last digits: the assertions can fail
    post = program("post", load("post").network, target)
    texts["broken"] = post.replace("0.000438567734474", "0.000438567834474", 1)
    assert texts["broken"] != post
    results = run_all(tmp_path, texts)
    assert results.pop("broken").startswith("FAIL AssertionError")
    for key, verdict in results.items():
        assert verdict.startswith("OK ") and "agree with backprop-tutor" in verdict, (key, verdict)


def test_numpy_programs_agree(tmp_path):
    check_target(tmp_path, "numpy")


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is in the test extra")
def test_jax_programs_agree(tmp_path):
    check_target(tmp_path, "jax")


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is optional and large")
def test_pytorch_programs_agree(tmp_path):
    check_target(tmp_path, "pytorch")


def test_a_wrong_embedded_value_fails_the_program(tmp_path):
    post = program("post", load("post").network, "numpy")
    broken = post.replace("0.000438567734474", "0.000438567834474", 1)
    assert broken != post
    results = run_all(tmp_path, {"broken": broken})
    assert results["broken"].startswith("FAIL AssertionError"), results


def test_the_numpy_program_prints_the_posts_numbers(tmp_path):
    """An oracle that is not the engine: the post's printed figures."""
    done = subprocess.run([sys.executable, "-c", program("post", load("post").network, "numpy")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for name, value in [("w5+", "0.358916"), ("w6+", "0.408666"), ("w7+", "0.511301"), ("w8+", "0.561370"),
                        ("w1+", "0.149780"), ("w2+", "0.199561"), ("w3+", "0.249751"), ("w4+", "0.299502"),
                        ("dE_total/dw5", "0.082167"), ("dE_total/dw1", "0.000438567")]:
        assert re.search(rf"{re.escape(name)} = {re.escape(value)}", text), (name, text)
    assert "E_total = 0.298371108" in text


def test_the_numpy_program_is_short_and_mirrors_the_four_equations():
    text = program("post", load("post").network, "numpy")
    core = text[text.index("import numpy"):text.index("# The tutor's values")]
    assert len([line for line in core.splitlines() if line.strip()]) <= 40
    for eq in ["# (1)", "# (2)", "# (3)", "# (4)"]:
        assert eq in core


def test_a_hostile_lesson_name_stays_a_string():
    name = 'x"""\nimport os; os.system("echo pwned")  # \x1b[31m\'\\'
    for target in ("numpy", "jax", "pytorch"):
        text = program(name, load("post").network, target)
        compile(text, "exported.py", "exec")  # it is valid Python …
        assert f"LESSON = {name!r}\n" in text  # … and the name is one string literal in it
        assert "\x1b" not in text and "\nimport os" not in text


def test_export_command(cli, tmp_path):
    path = tmp_path / "post.py"
    result = cli("export", "--to", "numpy", "-o", path)
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == program("post", load("post").network, "numpy")
    result = cli("export", "--to", "jax", "--lesson", "xor")
    assert result.exit_code == 0 and "jax.grad" in result.output
    for bad in (["--to", "cobol"], ["--to", "numpy", "-o", str(tmp_path / "no" / "such" / "dir.py")],
                ["--to", "numpy", "--lesson", "nope"]):
        result = cli("export", *bad)
        assert result.exit_code == 2, (bad, result.output)
        assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_verify_with_numpy(cli):
    result = cli("verify", "--with", "numpy")
    assert result.exit_code == 0, result.output
    assert "✓ numpy: All 17 values of the lesson 'post' agree with backprop-tutor." in result.output
    result = cli("verify", "--with", "fortran")
    assert result.exit_code == 2 and "no export target 'fortran'" in result.output


def test_the_readme_shows_the_numpy_program_as_exported():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    text = program("post", load("post").network, "numpy")
    core = text[text.index("import numpy"):text.index("b_new = ")]
    assert f"```python\n{core}" in readme

"""Fresh exercises, the answer key, what-if and lesson-check, as instructors and authors use them."""

import csv
import io
import json

import pytest

from backprop_tutor.lesson import bundled_dir, load, randomized


def test_the_same_seed_gives_the_same_numbers_and_another_seed_others():
    a, b, c = randomized(load(), 7), randomized(load(), 7), randomized(load(), 8)
    assert a.network == b.network and a.network != c.network
    net = a.network
    for v in [*net.weights.values(), *net.biases.values(), *net.inputs, *net.targets]:
        assert v != 0 and round(v, 2) == v  # round numbers, two decimals
    assert all(0 < t < 1 for t in net.targets)  # logistic outputs
    assert a.errata == () and a.claims == ()  # the original's figures are about its own numbers
    tanh = randomized(load("tanh-relu"), 3).network
    assert any(t < 0 for s in range(20) for t in randomized(load("tanh-relu"), s).network.targets)
    assert all(-1 < t < 1 for t in tanh.targets)


@pytest.mark.parametrize("lesson", ["post", "deep", "tanh-relu", "post-biases"])
def test_the_key_for_a_seed_is_what_check_accepts_for_that_seed(cli, lesson):
    result = cli("key", "--lesson", lesson, "--random", "--seed", "42", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    computed = [r for r in rows if r["section"] != "given"]
    assert len(computed) > 50
    for r in computed[::3]:
        check = cli("check", "--lesson", lesson, "--seed", "42", r["name"], r["value"])
        assert check.exit_code == 0, (r, check.output)
    other = cli("check", "--lesson", lesson, "--seed", "43", computed[0]["name"], computed[0]["value"])
    assert other.exit_code != 0  # another seed, other numbers


def test_key_formats(cli):
    md = cli("key").stdout
    assert md.startswith("# Answer key: The classic worked example")
    assert "| ∂E_total/∂w5 | ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5 | 0.082167041 |" in md
    data = json.loads(cli("key", "--format", "json").stdout)
    assert data["seed"] is None and any(q["name"] == "w5+" and q["shown"] == "0.35891648" for q in data["quantities"])
    seeded = cli("key", "--seed", "5").stdout
    assert "seed 5" in seeded and "start --random --seed 5" in seeded
    assert cli("key", "--format", "xml").exit_code == 2


def test_start_with_fresh_numbers_keeps_its_own_progress(cli):
    first = cli("start", "--random", "--seed", "11", input="q\n")
    assert "fresh numbers, seed 11" in first.output
    assert "Resume with: backprop-tutor start --random --seed 11" in first.output
    fresh = cli("start", "--random", input="q\n")
    assert "Fresh numbers: seed" in fresh.stderr
    assert cli("check", "--random", "net_h1", "0.3").exit_code == 2  # check needs the seed
    assert cli("explain", "--seed", "11", "net_h1").exit_code == 0
    assert cli("train", "--seed", "11", "-q").exit_code == 0


def test_what_if_shows_outputs_error_and_gradients_side_by_side(cli):
    result = cli("what-if", "w5=0.5", "b1=0")
    assert result.exit_code == 0
    out = result.output
    assert "What if w5 = 0.5 (was 0.4), b1 = 0 (was 0.35)?" in out
    for name in ("out_o1", "E_total", "∂E_total/∂w1", "∂E_total/∂w8", "E_total⁺"):
        assert name in out
    # the post's values in the before column
    assert "0.75136507" in out and "0.0821670406" in out
    flipped = cli("what-if", "target_o1=0.9").output
    assert "sign flips" in flipped  # out_o1 now below its target: ∂E/∂w5 turns negative


@pytest.mark.parametrize(("args", "words"), [
    (["w5"], "write NAME=VALUE"), (["net_h1=3"], "computed, not given"), (["w9=1"], "unknown given value"),
    (["w5=abc"], "not a number"), (["eta=0"], "above 0"), (["w1=1e308", "i1=1e308"], "finite"),
])
def test_what_if_bad_input(cli, args, words):
    result = cli("what-if", *args)
    assert result.exit_code == 2 and words in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["post", "post-biases", "tanh-relu", "deep"])
def test_lesson_check_passes_the_bundled_lessons(cli, name):
    result = cli("lesson-check", bundled_dir() / f"{name}.toml")
    assert result.exit_code == 0, result.output
    assert "✓ format" in result.output and "✓ SymPy" in result.output and "✓ mistakes" in result.output


def test_lesson_check_names_the_line(cli, write_lesson):
    source = (bundled_dir() / "post.toml").read_text()
    path = write_lesson(source.replace("learning_rate = 0.5", "learning_rate = -1"))
    line = source.split("\n").index("learning_rate = 0.5") + 1
    result = cli("lesson-check", path)
    assert result.exit_code == 2 and f"lesson.toml:{line}: network.learning_rate" in result.stderr
    assert cli("lesson-check", "/no/such/file.toml").exit_code == 2


def test_lessons_shows_each_lesson_and_the_learners_progress(cli):
    before = cli("lessons").output
    assert "post-biases" in before and "tanh-relu" in before and "deep" in before
    assert "not started" in before
    cli("start", input="0.3775\n0.593269992\nq\n")
    assert "2 of 57 steps" in cli("lessons").output

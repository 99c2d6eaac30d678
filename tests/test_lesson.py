"""Lesson files: the bundled one, and malformed ones rejected with the file and field named."""

import pytest

from backprop_tutor.lesson import bundled_dir, bundled_names, load

GOOD = """
title = "A test lesson"
description = "For the tests."

[network]
layers = [2, 2, 2]
activation = "logistic"
loss = "half-squared-error"
weights = [0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55]
biases = [0.35, 0.60]
learning_rate = 0.5

[data]
inputs = [0.05, 0.10]
targets = [0.01, 0.99]
"""


def test_the_post_is_bundled_and_the_default():
    assert "post" in bundled_names()
    assert (bundled_dir() / "post.toml").is_file()
    lesson = load()
    assert lesson.name == "post"
    net = lesson.network
    assert net.layout.sizes == (2, 2, 2)
    assert net.weights == {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30,
                           "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
    assert net.biases == {"b1": 0.35, "b2": 0.60}
    assert (net.inputs, net.targets, net.learning_rate) == ((0.05, 0.10), (0.01, 0.99), 0.5)
    assert not net.train_biases


def test_a_lesson_file_by_path(cli, write_lesson):
    path = write_lesson(GOOD)
    result = cli("check", "w5", "0.3589", "--lesson", path)
    assert result.exit_code == 0, result.output


def test_a_lesson_with_other_numbers_gives_other_answers(cli, write_lesson):
    path = write_lesson(GOOD.replace("0.40, 0.45", "0.10, 0.45"))
    assert cli("check", "w5", "0.3589", "--lesson", path).exit_code == 1


BAD = [
    # (change to the good lesson, words the message must contain)
    (lambda s: s.replace('title = "A test lesson"\n', ""), ["title", "missing"]),
    (lambda s: s.replace("layers = [2, 2, 2]", "layers = [2, 2]"), ["network.weights", "expected 4 numbers"]),
    (lambda s: s.replace("0.15, 0.20", "0.15"), ["lesson.toml:9: network.weights", "expected 8 numbers", "got 7"]),
    (lambda s: s.replace("0.15,", '"0.15",'), ["lesson.toml:9: network.weights[0]", "expected a number", "text"]),
    (lambda s: s.replace('"logistic"', '"softsign"'),
     ["lesson.toml:7: network.activation", "unknown activation 'softsign'", "logistic"]),
    (lambda s: s.replace('"half-squared-error"', '"mse"'), ["lesson.toml:8: network.loss", "unknown loss"]),
    (lambda s: s.replace("learning_rate = 0.5", "learning_rate = -1"),
     ["lesson.toml:11: network.learning_rate", "above 0"]),
    (lambda s: s.replace("learning_rate = 0.5", "learning_rte = 0.5"), ["lesson.toml:11: network.learning_rte",
                                                                        "did you mean 'learning_rate'"]),
    (lambda s: s.replace("inputs = [0.05, 0.10]", "inputs = [0.05]"),
     ["lesson.toml:14: data.inputs", "expected 2 numbers"]),
    (lambda s: s.replace("targets = [0.01, 0.99]", "targets = 0.01"), ["lesson.toml:15: data.targets", "a list"]),
    (lambda s: s.replace("biases = [0.35, 0.60]", "biases = [0.35, nan]"),
     ["lesson.toml:10: network.biases[1]", "finite"]),
    (lambda s: s.replace("biases = [0.35, 0.60]", "biases = [0.35, true]"), ["network.biases[1]", "boolean"]),
    (lambda s: s.replace("[data]", "[network]"), ["not valid TOML", "twice"]),
    (lambda s: s.replace("title =", "title"), ["not valid TOML", "line"]),
    (lambda s: s.replace("layers = [2, 2, 2]", "layers = [2, 0, 2]"), ["lesson.toml:6: network.layers", "1 to"]),
    (lambda s: s.replace("layers = [2, 2, 2]", 'layers = "2-2-2"'), ["network.layers", "layer sizes"]),
    (lambda s: s + '\n[[errata]]\nquantity = "E_total+"\nprinted = "abc"\nwhy = "x"\n',
     ["lesson.toml:19: errata[0].printed", "expected a number"]),
    (lambda s: s.replace('"logistic"', '"identity"').replace("0.15,", "1e308,"), ["network", "overflow"]),
    (lambda s: s.replace("[network]", "[network]\nweight_numbering = \"columns\""),
     ["network.weight_numbering", "by-receiver"]),
]


@pytest.mark.parametrize(("change", "words"), BAD)
def test_malformed_lessons_are_rejected_with_file_field_and_expectation(cli, write_lesson, change, words):
    path = write_lesson(change(GOOD))
    result = cli("check", "w5", "0.3589", "--lesson", path)
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert str(path) in message
    for w in words:
        assert w in message, (w, message)
    assert "Traceback" not in result.output


def test_binary_and_unreadable_lesson_files(cli, tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    result = cli("train", "--lesson", binary)
    assert result.exit_code == 2 and "not UTF-8" in result.stderr
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    result = cli("quantities", "--lesson", folder)
    assert result.exit_code == 2 and "not a file" in result.stderr
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * 2_000_000)
    result = cli("check", "w5", "0.3589", "--lesson", huge)
    assert result.exit_code == 2 and "larger than" in result.stderr


def test_an_unknown_lesson_lists_the_bundled_ones(cli):
    result = cli("check", "w5", "0.3589", "--lesson", "no-such-lesson")
    assert result.exit_code == 2
    assert "no lesson 'no-such-lesson'" in result.stderr and "post" in result.stderr


def test_an_installed_package_reads_the_lessons_it_carries():
    import backprop_tutor as tutor

    package = bundled_dir().parent
    if "site-packages" in tutor.__file__:  # a real install, as CI makes it
        assert package == __import__("pathlib").Path(tutor.__file__).resolve().parent
    assert (bundled_dir() / "post.toml").is_file()

"""The JSON Schema of lesson files (lessons/lesson.schema.json) and the loader agree: every bundled
lesson is valid, the schema's choices are the loader's, and a bad lesson is bad for both."""

import json
import tomllib

import jsonschema
import pytest

from backprop_tutor import lesson as loader
from backprop_tutor.errors import LessonError
from backprop_tutor.lesson import FIELDS, MAX_NEURONS, MAX_SAMPLES, bundled_dir, bundled_names
from backprop_tutor.names import BIAS_MODES, HIDDEN_LETTERS, NUMBERINGS
from backprop_tutor.network import ACTIVATIONS, LOSSES

SCHEMA = json.loads((bundled_dir() / "lesson.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
POST = (bundled_dir() / "post.toml").read_text(encoding="utf-8")


def test_the_schema_is_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_lesson_validates(name):
    doc = tomllib.loads((bundled_dir() / f"{name}.toml").read_text(encoding="utf-8"))
    VALIDATOR.validate(doc)


def test_the_schema_has_the_loaders_fields_and_choices():
    props = SCHEMA["properties"]
    assert set(props) == set(FIELDS[""]) and set(SCHEMA["required"]) == {k for k, r in FIELDS[""].items() if r}
    for section in ("network", "data"):
        assert set(props[section]["properties"]) == set(FIELDS[section])
        assert set(props[section]["required"]) == {k for k, r in FIELDS[section].items() if r}
    for section in ("errata", "claims"):
        assert set(props[section]["items"]["properties"]) == set(FIELDS[section])
    net = props["network"]["properties"]
    assert SCHEMA["$defs"]["activation"]["enum"] == list(ACTIVATIONS)
    assert set(net["loss"]["enum"]) == set(LOSSES)
    assert tuple(net["weight_numbering"]["enum"]) == NUMBERINGS and tuple(net["bias_mode"]["enum"]) == BIAS_MODES
    assert net["layers"]["maxItems"] == 2 + len(HIDDEN_LETTERS) and net["layers"]["items"]["maximum"] == MAX_NEURONS
    assert SCHEMA["$defs"]["samples"]["oneOf"][1]["maxItems"] == MAX_SAMPLES


BAD = {  # what changes in the post's lesson → a lesson both the schema and the loader refuse
    "an unknown field": ('title = "', 'colour = "red"\ntitle = "'),
    "no title": ('title = "The classic worked example: a 2-2-2 logistic network"\n', ""),
    "an empty title": ('title = "The classic worked example: a 2-2-2 logistic network"', 'title = "  "'),
    "a layer of 17": ("layers = [2, 2, 2]", "layers = [2, 17, 2]"),
    "one layer": ("layers = [2, 2, 2]", "layers = [2]"),
    "an unknown activation": ('activation = "logistic"', 'activation = "sigmoid"'),
    "an unknown loss": ('loss = "half-squared-error"', 'loss = "mse"'),
    "a learning rate of 0": ("learning_rate = 0.5", "learning_rate = 0"),
    "a text weight": ("weights = [0.15,", 'weights = ["0.15",'),
    "a boolean for train_biases": ("train_biases = false", 'train_biases = "no"'),
    "an unknown batch": ("targets = [0.01, 0.99]", 'targets = [0.01, 0.99]\nbatch = "avg"'),
    "an erratum without why": ('why = """\nThe original prints', 'whyy = """\nThe original prints'),
    "a printed figure that is no number": ('printed = "0.291027924"', 'printed = "about 0.29"'),
    "claims after 0 updates": ("updates = 10000", "updates = 0"),
    "a step text that is a number": ("[network]", '[steps]\nnet_h1 = 3\n\n[network]'),
    "a weight numbering of its own": ('weight_numbering = "by-receiver"', 'weight_numbering = "random"'),
}


@pytest.mark.parametrize("case", list(BAD))
def test_the_schema_and_the_loader_refuse_the_same_bad_lessons(case, tmp_path):
    old, new = BAD[case]
    assert old in POST
    text = POST.replace(old, new, 1)
    assert not VALIDATOR.is_valid(tomllib.loads(text)), case
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LessonError):
        loader.load(str(path))


GOOD = {  # variations the format allows: both accept them
    "by-sender numbering": ('weight_numbering = "by-receiver"', 'weight_numbering = "by-sender"'),
    "one activation per layer": ('activation = "logistic"', 'activation = ["tanh", "logistic"]'),
    "a printed figure as a number": ('printed = "0.291027924"', "printed = 0.291027924"),
    "steps": ("[network]", '[steps]\n"dE/dw5" = "The first weight of the backward pass."\n\n[network]'),
}


@pytest.mark.parametrize("case", list(GOOD))
def test_the_schema_and_the_loader_accept_the_same_variations(case, tmp_path):
    old, new = GOOD[case]
    text = POST.replace(old, new, 1)
    VALIDATOR.validate(tomllib.loads(text))
    path = tmp_path / "good.toml"
    path.write_text(text, encoding="utf-8")
    assert loader.load(str(path)).title


def test_the_readme_points_to_the_schema():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "lessons/lesson.schema.json" in readme

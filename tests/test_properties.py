"""Property tests: arbitrary text never raises anything but the tool's own errors, and every value
the engine computes, printed in full and read back, is judged right."""

import json
import tomllib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine import SHAPES, random_network

from backprop_tutor import answers
from backprop_tutor.catalogue import Resolver, build
from backprop_tutor.checking import Session
from backprop_tutor.errors import TutorError
from backprop_tutor.lesson import bundled_dir, load, parse
from backprop_tutor.network import run
from backprop_tutor.progress import Store

POST = Session(load())
RESOLVER = Resolver(build(load().network))
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
NUMBERISH = st.text(alphabet="0123456789.,-+eE −×*/^()_ ½١٢nainf∞", max_size=30)


@given(st.one_of(TEXT, NUMBERISH))
def test_the_answer_reader_raises_only_its_own_error(text):
    try:
        typed = answers.parse_number(text)
    except TutorError:
        return
    assert typed.value.is_finite()
    assert answers.judge(typed, 0.358916479717885, 1e-4) in (answers.RIGHT, answers.DRIFT, answers.IMPRECISE,
                                                             answers.WRONG)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_printed_in_full_reads_back_as_itself(value):
    assert answers.judge(answers.parse_number(repr(value)), value, 0.0) == answers.RIGHT


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(SHAPES), st.integers(0, 10_000), st.booleans())
def test_every_engine_value_printed_in_full_is_judged_right(shape, seed, trained):
    net = random_network(shape, seed, train_biases=trained)
    trace = run(net)
    for value in trace.values():
        assert answers.judge(answers.parse_number(repr(value)), value, 0.0) == answers.RIGHT


def test_every_value_of_the_post_typed_in_full_is_right_in_check():
    for qid, q in POST.catalogue.items():
        if not q.given:
            assert POST.check(qid, repr(POST.trace[qid])).verdict == answers.RIGHT, qid


@given(TEXT)
def test_the_name_resolver_raises_only_its_own_errors(text):
    try:
        q = RESOLVER.resolve(text)
    except TutorError:
        return
    assert q.id in POST.catalogue


FIELD = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(), TEXT),
                     lambda inner: st.one_of(st.lists(inner, max_size=5),
                                             st.dictionaries(st.sampled_from(
                                                 ["layers", "weights", "biases", "inputs", "targets",
                                                  "activation", "loss", "learning_rate", "batch", "x"]),
                                                 inner, max_size=5)),
                     max_leaves=20)
POST_DOC = tomllib.loads((bundled_dir() / "post.toml").read_text())


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["title", "description", "network", "data", "errata", "claims", "steps"]),
       st.sampled_from([None, "layers", "weights", "biases", "activation", "loss", "learning_rate", "inputs",
                        "targets", "batch", "train_biases", "bias_mode", "weight_numbering"]),
       FIELD)
def test_the_lesson_loader_raises_only_its_own_errors(section, key, value):
    doc = json.loads(json.dumps(POST_DOC))
    if key is None or not isinstance(doc.get(section), dict):
        doc[section] = value
    else:
        doc[section][key] = value
    try:
        lesson = parse(doc, "fuzz.toml", "fuzz")
    except TutorError:
        return
    assert run(lesson.network)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_the_lesson_file_reader_raises_only_its_own_errors(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("lessons") / "fuzz.toml"
    path.write_bytes(data)
    try:
        load(str(path))
    except TutorError:
        pass


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), st.builds(lambda d: json.dumps(d).encode(),
                                                     st.dictionaries(st.sampled_from(
                                                         ["version", "records", "position", "pending", "wrong",
                                                          "mistakes"]), FIELD, max_size=6))))
def test_the_progress_store_never_raises_and_never_loses_the_file(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("home")
    store = Store("post", root)
    store.folder.mkdir(parents=True)
    store.path.write_bytes(data)
    state = store.load(POST.trace)  # never raises
    for qid, record in state.records.items():
        assert qid in POST.trace and record.value == POST.trace[qid]
    if state.warnings and any("moved to" in w for w in state.warnings):
        kept = [p for p in store.folder.iterdir() if p.name.startswith("post.json.unreadable-")]
        assert kept and kept[0].read_bytes() == data  # what was there is kept, byte for byte
    assert store.save(state) is None
    assert store.load(POST.trace).warnings == []

"""Lessons: a network and its one training sample, held as a TOML file.

The bundled lessons live in ``lessons/`` (inside the installed package as ``backprop_tutor/lessons``);
``--lesson`` takes a bundled name or the path of any file.  The format is documented in the
README; every field is checked here, and a bad one is reported with the file, the field and
what was expected.
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backprop_tutor.answers import parse_number
from backprop_tutor.errors import BadNumber, LessonError, TutorError, UnknownLesson
from backprop_tutor.names import BIAS_MODES, HIDDEN_LETTERS, NUMBERINGS, Layout
from backprop_tutor.network import ACTIVATIONS, LOSSES, Network, not_finite
from backprop_tutor.safe_text import echo, printable

DEFAULT_LESSON = "post"
MAX_BYTES = 1_000_000
MAX_NAME = 1024  # characters of a --lesson name or path
MAX_DEPTH = 8  # tables and lists inside each other; a lesson needs 4 (data.inputs of several samples)
MAX_NEURONS = 16
BY_HAND = ("first", "all")  # several samples: which the walk asks for (the others are shown)

FIELDS: dict[str, dict[str, bool]] = {  # section -> field -> required
    "": {"title": True, "description": True, "intro": False, "network": True, "data": True, "errata": False,
         "claims": False, "steps": False},
    "network": {"layers": True, "activation": True, "loss": True, "weights": True, "biases": True,
                "learning_rate": True, "weight_numbering": False, "bias_mode": False,
                "train_biases": False},
    "data": {"inputs": True, "targets": True, "batch": False, "by_hand": False},
    "errata": {"quantity": True, "printed": False, "wrote": False, "why": True},  # printed or wrote
    "claims": {"updates": True, "error": True, "outputs": True, "why": True},
}


@dataclass(frozen=True)
class Erratum:
    """A value the source prints that is wrong (``printed``), or a formula it writes wrongly (``wrote``,
    shown as written, never read), and why."""

    quantity: str
    printed: str
    why: str
    wrote: str = ""


@dataclass(frozen=True)
class Claim:
    """What the source says training reaches after a number of updates, and why that is off."""

    updates: int
    error: str
    outputs: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Lesson:
    name: str
    source: str
    title: str
    description: str
    network: Network
    errata: tuple[Erratum, ...] = ()
    claims: tuple[Claim, ...] = ()
    step_texts: dict[str, str] = field(default_factory=dict)  # quantity id -> the lesson's own words
    seed: int | None = None  # fresh random numbers of the lesson's shape (see ``randomized``)
    intro: str = ""  # how the walk goes through this lesson, in the lesson's words
    by_hand: str = "first"  # several samples: the learner computes the first in full ("first") or every one ("all")


RANDOM_TARGETS = {"logistic": (0.01, 0.99), "tanh": (-0.9, 0.9), "relu": (0.0, 1.0), "identity": (-1.0, 1.0)}


def randomized(lesson: Lesson, seed: int) -> Lesson:
    """The lesson's network with fresh round numbers (two decimals), the same for the same seed.

    Weights lie in ±0.9 and biases in ±0.5 (never exactly 0), inputs in 0.05…0.95, and targets
    in the range of the output activation.  The learning rate, the shape, the activations and
    the numbering stay; the source's errata and claims, which are about its own numbers, go.
    """
    import random

    rng = random.Random(seed)
    pick = _picker(rng)
    net = lesson.network
    weights, biases = _fresh_parameters(net, pick)
    if net.extra:  # several samples (XOR): the data is the lesson; only the starting point changes
        network = dataclasses.replace(net, weights=weights, biases=biases)
    else:
        inputs = tuple(pick(0.05, 0.95) for _ in net.inputs)
        if net.activations[-1] == "softmax":  # a one-hot target: one class is right
            right = rng.randrange(len(net.targets))
            targets = tuple(float(k == right) for k in range(len(net.targets)))
        else:
            low, high = RANDOM_TARGETS[net.activations[-1]]
            targets = tuple(pick(max(low, 0.01) if low >= 0 else low, high) for _ in net.targets)
        network = dataclasses.replace(net, weights=weights, biases=biases, inputs=inputs, targets=targets)
    return Lesson(lesson.name, lesson.source, f"{lesson.title} (fresh numbers, seed {seed})",
                  lesson.description + "\n\nThis copy has fresh random numbers (seed "
                  f"{seed}); figures quoted above are the original's.", network, (), (), lesson.step_texts, seed,
                  lesson.intro, lesson.by_hand)


def _picker(rng: Any) -> Callable[[float, float], float]:
    """Round numbers (two decimals, never exactly 0) drawn from ``rng`` between two bounds."""
    def pick(low: float, high: float) -> float:
        while True:
            value = round(rng.uniform(low, high), 2)
            if value != 0:
                return value
    return pick


def _fresh_parameters(net: Network, pick: Callable[[float, float], float]) -> tuple[dict, dict]:
    return {w: pick(-0.9, 0.9) for w in net.weights}, {b: pick(-0.5, 0.5) for b in net.biases}


def fresh_start(net: Network, seed: int) -> Network:
    """The network with fresh starting weights and biases, drawn from ``seed`` as ``randomized`` draws
    them (the same values for the same seed and shape); its data, activations and rate stay."""
    import random

    weights, biases = _fresh_parameters(net, _picker(random.Random(seed)))
    return dataclasses.replace(net, weights=weights, biases=biases)


def bundled_dir() -> Path:
    """Where the bundled lessons are: inside the installed package, or beside it in a checkout."""
    packaged = Path(__file__).resolve().parent / "lessons"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "lessons"


def bundled_names() -> list[str]:
    """The bundled lessons, the post's example first."""
    return sorted((p.stem for p in bundled_dir().glob("*.toml")), key=lambda n: (n != DEFAULT_LESSON, n))


def load(name_or_path: str | None = None) -> Lesson:
    """A bundled lesson by name, or a lesson file by path; the post's example by default."""
    name = DEFAULT_LESSON if name_or_path is None else name_or_path
    if not name.strip() or "\x00" in name:
        raise UnknownLesson(name, bundled_names())
    if len(name) > MAX_NAME:
        raise LessonError(echo(name), f"is {len(name):,} characters long; a lesson's name or path has at most "
                          f"{MAX_NAME:,}")
    path = Path(os.path.expanduser(name))  # "~nouser/x.toml" stays as typed (Path.expanduser would raise)
    try:
        candidate = bundled_dir() / f"{name}.toml"
        if "/" not in name and "\\" not in name and not name.endswith(".toml") and candidate.is_file():
            return load_file(candidate, name)
        if path.is_file():
            return load_file(path, str(path))
        exists = path.exists()
    except OSError as e:  # a name too long for the file system, and the like
        raise LessonError(str(path), f"cannot be read ({e.strerror or e})") from None
    if exists:
        raise LessonError(str(path), "is not a file")
    raise UnknownLesson(name, bundled_names())


def _read(path: Path, source: str) -> bytes:
    """The bytes of a regular file, at most MAX_BYTES of them; a FIFO or a device is refused unread."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # opening a FIFO must not wait
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise LessonError(source, "is not a file")
            data = f.read(MAX_BYTES + 1)
    except (OSError, ValueError) as e:
        raise LessonError(source, f"cannot be read ({getattr(e, 'strerror', None) or e})") from None
    if len(data) > MAX_BYTES:
        raise LessonError(source, f"is larger than {MAX_BYTES:,} bytes; a lesson is a small text file")
    return data


def _depth(doc: Any) -> int:
    """How deeply tables and lists nest in a parsed document (without recursion)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def load_file(path: Path, name: str) -> Lesson:
    source = str(path)
    data = _read(path, source)
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark, as some editors write, is not part of the text
    except UnicodeDecodeError:
        raise LessonError(source, "is not UTF-8 text; a lesson is a TOML file") from None
    deep = f"nests tables or lists more than {MAX_DEPTH} deep; a lesson needs at most 4"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LessonError(source, f"is not valid TOML: {e}") from None
    except RecursionError:  # tomllib reads nested values recursively: hundreds deep, it gives up
        raise LessonError(source, deep) from None
    if _depth(doc) > MAX_DEPTH:
        raise LessonError(source, deep)
    try:
        return parse(doc, source, name)
    except LessonError as e:
        if e.field is None or e.line is not None:
            raise
        raise LessonError(source, e.problem, e.field, line_of(text, e.field)) from None


def line_of(text: str, field: str) -> int | None:
    """The line of a field such as ``network.weights[3]`` or ``errata[1].why`` in a lesson's text:
    the line of its key, or of its table's header when the key is missing."""
    import re

    parts = re.findall(r"([A-Za-z_][\w-]*|\"[^\"]*\")(?:\[(\d+)\])?", field)
    if not parts:
        return None
    lines = text.split("\n")
    table, start, stop = "", 0, len(lines)
    first, index = parts[0]
    if len(parts) > 1 or f"[{first}]" in text or f"[[{first}]]" in text:
        header = re.compile(rf"^\s*\[\[\s*{re.escape(first)}\s*\]\]" if index else
                            rf"^\s*\[\s*{re.escape(first)}\s*\]")
        found = [n for n, line in enumerate(lines) if header.match(line)]
        k = int(index) if index else 0
        if k < len(found):
            table, start = first, found[k]
            later = [n for n, line in enumerate(lines) if n > start and re.match(r"^\s*\[", line)]
            stop = later[0] if later else len(lines)
        parts = parts[1:]
    else:
        later = [n for n, line in enumerate(lines) if re.match(r"^\s*\[", line)]
        stop = later[0] if later else len(lines)
    if not parts:
        return start + 1 if table else None
    key = parts[0][0].strip('"')
    pattern = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for n in range(start, stop):
        if pattern.match(lines[n]):
            return n + 1
    return start + 1 if table else None


class _Reader:
    """Reads fields of a parsed TOML document, failing with the file and field named."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, field: str, problem: str) -> LessonError:
        return LessonError(self.source, problem, field)

    def check_keys(self, table: dict[str, Any], section: str, where: str) -> None:
        allowed = FIELDS[section]
        for key in table:
            if key not in allowed:
                import difflib

                close = difflib.get_close_matches(key, list(allowed), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; expected one of {', '.join(allowed)}"
                raise self.fail(f"{where}{key}", f"unknown field{hint}")
        for key, required in allowed.items():
            if required and key not in table:
                raise self.fail(f"{where}{key}", "missing; this field is required")

    def table(self, doc: dict[str, Any], key: str) -> dict[str, Any]:
        value = doc[key]
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table [{key}], got {_kind(value)}")
        self.check_keys(value, key, f"{key}.")
        return value

    def text(self, value: Any, field: str, multiline: bool = True) -> str:
        """Text to show, with control characters escaped once and for all (``safe_text.printable``)."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"expected text, got {_kind(value)}")
        return printable(value.strip(), multiline)

    def number(self, value: Any, field: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, f"expected a number, got {_kind(value)}")
        if not math.isfinite(value):
            raise self.fail(field, f"expected a finite number, got {value}")
        return float(value)

    def numbers(self, value: Any, field: str, count: int, what: str) -> tuple[float, ...]:
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list of {count} numbers ({what}), got {_kind(value)}")
        if len(value) != count:
            raise self.fail(field, f"expected {count} numbers ({what}), got {len(value)}")
        return tuple(self.number(v, f"{field}[{k}]") for k, v in enumerate(value))

    def choice(self, value: Any, field: str, options: list[str] | tuple[str, ...], what: str) -> str:
        if not isinstance(value, str):
            raise self.fail(field, f"expected the name of {what} ({', '.join(options)}), got {_kind(value)}")
        if value not in options:
            raise self.fail(field, f"unknown {what} '{value}'; expected one of {', '.join(options)}")
        return value

    def boolean(self, value: Any, field: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(field, f"expected true or false, got {_kind(value)}")
        return value

    def printed(self, value: Any, field: str) -> str:
        """A printed figure, kept as text so that its digits are known: "0.291027924"."""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(field, f"expected a number written as text (\"0.2910\"), got {_kind(value)}")
        text = value if isinstance(value, str) else repr(value)
        try:
            parse_number(text)
        except BadNumber as e:
            raise self.fail(field, f"expected a number written as text: {e.why}") from None
        return text


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, str):
        shown = value if len(value) <= 30 else value[:27] + "…"
        return f"the text '{shown}'"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a table"
    return f"{value!r}"


def parse(doc: dict[str, Any], source: str, name: str) -> Lesson:
    """Check a parsed lesson document field by field and build its network."""
    r = _Reader(source)
    r.check_keys(doc, "", "")
    title = r.text(doc["title"], "title", multiline=False)
    description = r.text(doc["description"], "description")
    net, data = r.table(doc, "network"), r.table(doc, "data")

    layers = net["layers"]
    if (not isinstance(layers, list) or not 2 <= len(layers) <= 2 + len(HIDDEN_LETTERS)
            or not all(isinstance(n, int) and not isinstance(n, bool) for n in layers)):
        raise r.fail("network.layers", "expected a list of layer sizes, inputs first and outputs last, "
                     f"with 0 to {len(HIDDEN_LETTERS)} hidden layers (e.g. [2, 2, 2])")
    if not all(1 <= n <= MAX_NEURONS for n in layers):
        raise r.fail("network.layers", f"expected every layer to have 1 to {MAX_NEURONS} neurons, got {layers}")
    numbering = r.choice(net.get("weight_numbering", "by-receiver"), "network.weight_numbering",
                         NUMBERINGS, "weight numbering")
    bias_mode = r.choice(net.get("bias_mode", "per-layer"), "network.bias_mode", BIAS_MODES, "bias mode")
    layout = Layout(tuple(layers), numbering, bias_mode)

    activation = net["activation"]
    names = list(ACTIVATIONS)
    if isinstance(activation, list):
        if len(activation) != layout.depth:
            raise r.fail("network.activation", f"expected one activation per layer with weights "
                         f"({layout.depth}), got {len(activation)}")
        activations = tuple(r.choice(a, f"network.activation[{k}]", names, "activation")
                            for k, a in enumerate(activation))
    else:
        activations = (r.choice(activation, "network.activation", names, "activation"),) * layout.depth
    loss = r.choice(net["loss"], "network.loss", list(LOSSES), "loss")

    weights = r.numbers(net["weights"], "network.weights", layout.weight_count,
                        f"w1..w{layout.weight_count} for layers {list(layers)}, numbered {numbering}")
    biases = r.numbers(net["biases"], "network.biases", layout.bias_count,
                       "one per layer with weights" if bias_mode == "per-layer" else "one per neuron")
    rate = r.number(net["learning_rate"], "network.learning_rate")
    if rate <= 0:
        raise r.fail("network.learning_rate", f"expected a number above 0, got {rate}")
    train_biases = r.boolean(net.get("train_biases", False), "network.train_biases")

    samples = _samples(r, data, layers[0], layers[-1])
    inputs, targets = samples[0]
    batch = r.choice(data.get("batch", "sum"), "data.batch", ("sum", "mean"), "way to combine the samples")
    by_hand = r.choice(data.get("by_hand", "first"), "data.by_hand", BY_HAND, "choice of samples worked by hand")
    if "softmax" in activations[:-1]:
        raise r.fail("network.activation", "softmax works on a whole layer: use it for the outputs only")
    if (activations[-1] == "softmax") != (loss == "cross-entropy"):
        raise r.fail("network.loss", "softmax outputs go with the cross-entropy loss, and cross-entropy with "
                     'softmax outputs: set activation = [..., "softmax"] and loss = "cross-entropy"')
    if loss == "binary-cross-entropy" and activations[-1] != "logistic":
        raise r.fail("network.loss", "binary cross-entropy needs outputs between 0 and 1: set the output "
                     'activation to "logistic"')
    for _, y in samples:
        if loss == "cross-entropy" and (min(y) < 0 or abs(sum(y) - 1) > 1e-9):
            raise r.fail("data.targets", f"cross-entropy targets are probabilities: at least 0 and adding up "
                         f"to 1, got {list(y)}")
        if loss == "binary-cross-entropy" and not all(0 <= v <= 1 for v in y):
            raise r.fail("data.targets", f"binary cross-entropy targets are probabilities, from 0 to 1, got {list(y)}")

    network = Network(layout, dict(zip(layout.weight_names(), weights)),
                      dict(zip(layout.bias_names(), biases)), activations, loss, inputs, targets,
                      rate, train_biases, tuple(samples[1:]), batch)

    bad = not_finite(network)
    if bad:
        raise r.fail("network", f"these numbers overflow: {bad} is not a finite number; "
                     "use smaller weights, biases or inputs")
    errata = tuple(_erratum(r, k, e) for k, e in enumerate(_tables(r, doc.get("errata", []), "errata")))
    if errata:
        from backprop_tutor.catalogue import Resolver, build

        resolver = Resolver(build(network))
        for k, e in enumerate(errata):
            try:
                resolver.resolve(e.quantity)
            except TutorError as error:
                raise r.fail(f"errata[{k}].quantity", f"not a computed quantity of this lesson: {error}") from None
    claims = []
    for k, c in enumerate(_tables(r, doc.get("claims", []), "claims")):
        updates = c["updates"]
        if isinstance(updates, bool) or not isinstance(updates, int) or updates < 1:
            raise r.fail(f"claims[{k}].updates", f"expected a whole number of updates ≥ 1, got {_kind(updates)}")
        outputs = c["outputs"]
        if not isinstance(outputs, list) or len(outputs) != layers[-1]:
            raise r.fail(f"claims[{k}].outputs", f"expected {layers[-1]} printed outputs, got {_kind(outputs)}")
        claims.append(Claim(updates, r.printed(c["error"], f"claims[{k}].error"),
                            tuple(r.printed(v, f"claims[{k}].outputs[{n}]") for n, v in enumerate(outputs)),
                            r.text(c["why"], f"claims[{k}].why")))
    intro = r.text(doc["intro"], "intro") if "intro" in doc else ""
    return Lesson(name, source, title, description, network, errata, tuple(claims),
                  _step_texts(r, doc.get("steps", {}), network), intro=intro, by_hand=by_hand)


def _erratum(r: _Reader, k: int, e: dict[str, Any]) -> Erratum:
    """A figure the source prints (``printed``) or a formula it writes (``wrote``): exactly one of the two."""
    if ("printed" in e) == ("wrote" in e):
        raise r.fail(f"errata[{k}]", "expected either printed (a figure the source prints) or wrote (a formula "
                     "it writes), not both or neither")
    printed = r.printed(e["printed"], f"errata[{k}].printed") if "printed" in e else ""
    wrote = r.text(e["wrote"], f"errata[{k}].wrote", multiline=False) if "wrote" in e else ""
    return Erratum(r.text(e.get("quantity"), f"errata[{k}].quantity"), printed, r.text(e.get("why"),
                   f"errata[{k}].why"), wrote)


MAX_SAMPLES = 64


def _samples(r: _Reader, data: dict[str, Any], n_in: int,
             n_out: int) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    """One sample (inputs = [0.05, 0.10]) or several (inputs = [[0, 0], [0, 1], …], targets likewise)."""
    inputs, targets = data["inputs"], data["targets"]
    if isinstance(inputs, list) and inputs and all(isinstance(v, list) for v in inputs):
        if not isinstance(targets, list) or not all(isinstance(v, list) for v in targets):
            raise r.fail("data.targets", "expected one list of targets per sample, like the inputs")
        if len(targets) != len(inputs):
            raise r.fail("data.targets", f"expected {len(inputs)} lists of targets, one per sample, got {len(targets)}")
        if len(inputs) > MAX_SAMPLES:
            raise r.fail("data.inputs", f"expected at most {MAX_SAMPLES} samples, got {len(inputs)}")
        return [(r.numbers(x, f"data.inputs[{k}]", n_in, "one per input neuron"),
                 r.numbers(y, f"data.targets[{k}]", n_out, "one per output neuron"))
                for k, (x, y) in enumerate(zip(inputs, targets))]
    return [(r.numbers(inputs, "data.inputs", n_in, "one per input neuron"),
             r.numbers(targets, "data.targets", n_out, "one per output neuron"))]


def _step_texts(r: _Reader, value: Any, network: Network) -> dict[str, str]:
    """[steps]: a text of the lesson's own for some steps of the walk, keyed by any quantity name."""
    if not isinstance(value, dict):
        raise r.fail("steps", f"expected a table [steps] of quantity = \"text\", got {_kind(value)}")
    if not value:
        return {}
    from backprop_tutor.catalogue import Resolver, build

    resolver = Resolver(build(network))
    texts = {}
    for key, text in value.items():
        try:
            qid = resolver.resolve(key).id
        except TutorError as e:
            raise r.fail(f"steps.{key}", f"not a step of this lesson: {e}") from None
        texts[qid] = r.text(text, f"steps.{key}")
    return texts


def _tables(r: _Reader, value: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise r.fail(key, f"expected [[{key}]] tables, got {_kind(value)}")
    for k, v in enumerate(value):
        r.check_keys(v, key, f"{key}[{k}].")
    return value

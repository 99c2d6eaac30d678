"""Derivations as drawn text, and a cache of them on disk, so that the walk and `explain` on a bundled
lesson draw without importing SymPy.

``Drawn`` holds what the symbolic layer draws for one quantity: its blocks (heading, note, equations),
each part of an equation already printed by SymPy as a 2-D picture (unicode and ASCII, with its
baseline and width), as a one-line form and as LaTeX. ``lines`` joins the pictures at any width the way
``symbolic.lines`` does, so a cached derivation reads exactly as a fresh one.

The cache is one JSON file per bundled lesson in the user's cache directory (``$BACKPROP_TUTOR_HOME/
cache`` in tests), keyed by the lesson file, the tutor's version, the source of the code that derives,
and the engine's values. A file is only ever read as data: it is validated field by field (and any
control character refused), and anything wrong makes it ignored and written again. It is written
atomically; when it cannot be written, derivations are simply computed in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backprop_tutor import __version__

FORMAT = 1
MAX_BYTES = 20_000_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Picture:
    """A part of an equation as SymPy's pretty printer draws it: rows of equal width, and the row of
    its baseline."""

    rows: tuple[str, ...]
    baseline: int
    width: int


@dataclass(frozen=True)
class Part:
    unicode: Picture
    ascii: Picture
    plain: str  # the one-line form, in unicode (``equation_line``)
    latex: str
    numbers: bool  # does it hold numbers put in (other than ½)?


@dataclass(frozen=True)
class Block:
    heading: str
    note: str
    equations: tuple[tuple[Part, ...], ...]


@dataclass(frozen=True)
class Drawn:
    """The derivation of one quantity, drawn: what the walk and `explain` show."""

    quantity: Any  # catalogue.Quantity
    value: Any
    blocks: tuple[Block, ...]


# ---------------------------------------------------------------------------------------------
# Drawing (needs SymPy) and showing (does not)


def draw(derivation: Any) -> Drawn:
    """A derivation of the symbolic layer, drawn in every form it is shown in."""
    from backprop_tutor import symbolic

    blocks = []
    for b in derivation.blocks:
        equations = tuple(tuple(_part(symbolic, p) for p in parts) for parts in b.equations)
        blocks.append(Block(b.heading, b.note, equations))
    return Drawn(derivation.quantity, derivation.value, tuple(blocks))


def _part(symbolic: Any, expr: Any) -> Part:
    return Part(_picture(symbolic.picture(expr, True)), _picture(symbolic.picture(expr, False)),
                symbolic.plain(expr), symbolic.latex_of(expr), symbolic.has_numbers(expr))


def _picture(form: Any) -> Picture:
    return Picture(tuple(form.picture), form.baseline, form.width())


def _beside(left: Picture, right: Picture) -> Picture:
    """``left = right``, aligned at the baselines, as SymPy's ``stringPict.next`` puts pictures side by side."""
    middle = Picture(("=",), 0, 1)
    pictures = [left, Picture((" ",), 0, 1), middle, Picture((" ",), 0, 1), right]
    baseline = max(p.baseline for p in pictures)
    below = max(len(p.rows) - p.baseline for p in pictures)
    height = baseline + below
    columns = []
    for p in pictures:
        empty = [" " * p.width]
        top = baseline - p.baseline
        columns.append(empty * top + list(p.rows) + empty * (height - len(p.rows) - top))
    return Picture(tuple("".join(r) for r in zip(*columns)), baseline, sum(p.width for p in pictures))


def equation_text(parts: tuple[Part, ...], unicode: bool = True, width: int = 80) -> str | None:
    """``symbolic.equation_text`` from the drawn parts: 2-D, continued on further rows aligned at "="."""
    forms = [p.unicode if unicode else p.ascii for p in parts]
    indent = Picture((" " * forms[0].width,), 0, forms[0].width)
    rows, row = [], forms[0]
    for k, form in enumerate(forms[1:]):
        joined = _beside(row, form)
        if joined.width <= width or k == 0:
            row = joined
        else:
            rows.append(row)
            row = _beside(indent, form)
    rows.append(row)
    if max(r.width for r in rows) > width:
        return None
    return "\n".join(line.rstrip() for r in rows for line in r.rows)


_ASCII = str.maketrans({"·": "*", "∂": "d", "⁺": "+", "½": "1/2", "δ": "delta_", "η": "eta", "σ": "sigma"})


def equation_line(parts: tuple[Part, ...], unicode: bool = True) -> str:
    first, *rest = (p.plain for p in parts)
    text = "\n".join([f"{first} = {rest[0]}", *(f"  = {r}" for r in rest[1:])])
    return text if unicode else text.translate(_ASCII)


def lines(derived: Any, unicode: bool = True, width: int = 80) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs, as ``symbolic.lines`` gives them, of a drawn derivation (or a symbolic one)."""
    if not isinstance(derived, Drawn):
        derived = draw(derived)
    for block in derived.blocks:
        if block.heading:
            yield "heading", block.heading
        if block.note:
            yield "note", block.note
        for parts in block.equations:
            text = equation_text(parts, unicode, width - 2)
            yield ("math", text) if text is not None else ("wrapped", equation_line(parts, unicode))


def symbols_only(derived: Drawn) -> Drawn:
    """The derivation without its numbers: the equations a hint may show before the arithmetic."""
    blocks = []
    for b in derived.blocks:
        if b.heading in ("Numbers", "Given"):
            continue
        equations = tuple(kept for eq in b.equations if len(kept := tuple(p for p in eq if not p.numbers)) > 1)
        if equations:
            blocks.append(Block(b.heading, b.note, equations))
    return Drawn(derived.quantity, derived.value, tuple(blocks))


def statement(derived: Drawn) -> Drawn:
    """What a step asks for: the first equation of the derivation, without numbers."""
    first = symbols_only(derived).blocks[:1]
    return Drawn(derived.quantity, derived.value, (Block("", "", first[0].equations[:1]),) if first else ())


def latex(derived: Drawn) -> str:
    """``symbolic.latex``: one align* environment, a comment line per block."""
    rows = []
    for block in derived.blocks:
        for parts in block.equations:
            left, *rest = (p.latex for p in parts)
            rows.append(f"  % {block.heading}\n  {left} &= " + " \\\\\n    &= ".join(rest))
    return "\n".join([r"\begin{align*}", " \\\\\n".join(rows), r"\end{align*}"])


# ---------------------------------------------------------------------------------------------
# The cache


def cache_dir() -> Path:
    """$BACKPROP_TUTOR_HOME/cache, or the user's cache directory."""
    override = os.environ.get("BACKPROP_TUTOR_HOME")
    if override:
        return Path(override).expanduser() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("backprop-tutor", appauthor=False))


def lesson_digest(lesson: Any, trace: Mapping[str, Any]) -> str | None:
    """The key of a bundled lesson's cache: its file, the version, the deriving code, the engine's values.
    None for a lesson that is not cached (a lesson file of the user's, fresh random numbers)."""
    from backprop_tutor.lesson import bundled_dir

    if lesson.seed is not None or Path(lesson.source) != bundled_dir() / f"{lesson.name}.toml":
        return None
    h = hashlib.sha256(f"{FORMAT} {__version__}\n".encode())
    here = Path(__file__).resolve().parent
    try:
        h.update(Path(lesson.source).read_bytes())
        for code in ("symbolic.py", "calculus.py", "catalogue.py", "derivations.py"):
            h.update((here / code).read_bytes())
    except OSError:
        return None
    h.update(repr(sorted(trace.items())).encode())
    return h.hexdigest()[:32]


def _picture_json(p: Picture) -> list[Any]:
    return [list(p.rows), p.baseline, p.width]


def to_json(d: Drawn) -> list[Any]:
    return [[b.heading, b.note, [[[_picture_json(p.unicode), _picture_json(p.ascii), p.plain, p.latex, p.numbers]
                                  for p in eq] for eq in b.equations]] for b in d.blocks]


class Invalid(ValueError):
    pass


def _text(x: Any, limit: int = 100_000) -> str:
    if not isinstance(x, str) or len(x) > limit or _CONTROL.search(x):
        raise Invalid("not a clean text")
    return x


def _int(x: Any, low: int, high: int) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or not low <= x <= high:
        raise Invalid("not a small whole number")
    return x


def _list(x: Any, limit: int = 10_000) -> list[Any]:
    if not isinstance(x, list) or len(x) > limit:
        raise Invalid("not a list")
    return x


def _picture_from(x: Any) -> Picture:
    rows, baseline, width = _list(x, 3) if len(_list(x, 3)) == 3 else (None, None, None)
    if rows is None:
        raise Invalid("not a picture")
    rows = tuple(_text(r, 10_000) for r in _list(rows, 500))
    if not rows:
        raise Invalid("an empty picture")
    return Picture(rows, _int(baseline, 0, len(rows) - 1), _int(width, 0, 10_000))


def _part_from(x: Any) -> Part:
    items = _list(x, 5)
    if len(items) != 5 or not isinstance(items[4], bool):
        raise Invalid("not a part")
    return Part(_picture_from(items[0]), _picture_from(items[1]), _text(items[2]), _text(items[3]), items[4])


def from_json(x: Any, quantity: Any, value: Any) -> Drawn:
    """A cached derivation, validated field by field; ``Invalid`` for anything else."""
    blocks = []
    for b in _list(x, 100):
        items = _list(b, 3)
        if len(items) != 3:
            raise Invalid("not a block")
        equations = tuple(tuple(_part_from(p) for p in _list(eq, 50)) for eq in _list(items[2], 200))
        if any(len(eq) < 1 for eq in equations):
            raise Invalid("an empty equation")
        blocks.append(Block(_text(items[0], 1000), _text(items[1]), equations))
    return Drawn(quantity, value, tuple(blocks))


class Derivations:
    """The drawn derivations of one lesson: from the cache where it has them, else derived (with SymPy),
    drawn, and added to the cache."""

    def __init__(self, lesson: Any, trace: Mapping[str, Any], catalogue: Mapping[str, Any]):
        self.lesson, self.trace, self.catalogue = lesson, trace, catalogue
        self.digest = lesson_digest(lesson, trace)
        self.path = cache_dir() / "derivations" / f"{lesson.name}-{self.digest}.json" if self.digest else None
        self.stored: dict[str, Any] = self._read()
        self.drawn: dict[str, Drawn] = {}
        self._deriver: Any = None

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            if self.path.stat().st_size > MAX_BYTES:
                return {}
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        if (not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != self.digest
                or not isinstance(data.get("derivations"), dict)):
            return {}
        return data["derivations"]

    def get(self, qid: str) -> Drawn:
        if qid in self.drawn:
            return self.drawn[qid]
        q, value = self.catalogue[qid], self.trace[qid]
        found = None
        if qid in self.stored:
            try:
                found = from_json(self.stored[qid], q, value)
            except (Invalid, TypeError, ValueError):
                self.stored = {}  # one bad entry: the file is not trusted; it is written again
        if found is None:
            found = draw(self.deriver().derivation(qid))
            if self.path is not None:
                self.stored[qid] = to_json(found)
                self._write()
        self.drawn[qid] = found
        return found

    def deriver(self) -> Any:
        if self._deriver is None:
            from backprop_tutor.symbolic import Deriver

            self._deriver = Deriver(self.lesson.network, self.trace, self.catalogue)
        return self._deriver

    def _write(self) -> None:
        """Atomically (a temporary file renamed over); silently not at all where that fails."""
        import tempfile

        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps({"format": FORMAT, "key": self.digest, "version": __version__,
                               "lesson": self.lesson.name, "derivations": self.stored}, ensure_ascii=False)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text)
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError:
            self.path = None  # unwritable: keep computing in memory, and stop trying

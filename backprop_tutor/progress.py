"""The learner's progress through a lesson: one small versioned JSON file per lesson.

Files live in ``$BACKPROP_TUTOR_HOME/progress`` or, without that variable, in the user's data
directory (``~/.local/share/backprop-tutor`` on Linux).  Every save writes a temporary file beside
the real one and renames it over, so a crash, Ctrl-C or a full disk never leaves half a file.
A file that cannot be read or understood is moved aside with a warning; a record whose value no
longer matches the lesson (the lesson file changed) is dropped, and the step is done again.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

VERSION = 1
MAX_BYTES = 1_000_000
# how a step was done: answered in the walk, skipped, confirmed with `check`, or shown (not asked)
RIGHT, SKIPPED, CHECKED, SHOWN = "right", "skipped", "checked", "shown"


@dataclass
class Record:
    """One step done: how, its value then, wrong attempts before it, hint levels used."""

    status: str
    value: float
    attempts: int = 0
    hints: int = 0
    typed: str = ""
    skill: str = ""
    mistakes: list[str] = field(default_factory=list)

    @property
    def first_try(self) -> bool:
        return self.status == RIGHT and self.attempts == 0 and self.hints == 0


@dataclass
class Progress:
    lesson: str
    position: str | None = None  # the step the learner is on (a quantity id)
    records: dict[str, Record] = field(default_factory=dict)
    pending: dict[str, dict[str, int]] = field(default_factory=dict)  # attempts/hints on unfinished steps
    wrong: dict[str, str] = field(default_factory=dict)  # the learner's last wrong value, as typed, per step
    mistakes: list[tuple[str, str]] = field(default_factory=list)  # (mistake id, step) as diagnosed
    warnings: list[str] = field(default_factory=list)  # said once, when loading

    def done(self, qid: str) -> bool:
        return qid in self.records

    def note_wrong(self, qid: str, typed: str, mistake_ids: list[str]) -> None:
        """A wrong value typed: kept for carried errors, its diagnosed mistakes for patterns."""
        self.wrong[qid] = typed
        for m in mistake_ids:
            if (m, qid) not in self.mistakes:
                self.mistakes.append((m, qid))

    def to_json(self) -> dict[str, object]:
        return {"version": VERSION, "lesson": self.lesson, "position": self.position,
                "records": {q: asdict(r) for q, r in self.records.items()}, "pending": self.pending,
                "wrong": self.wrong, "mistakes": [list(m) for m in self.mistakes],
                "saved": time.strftime("%Y-%m-%dT%H:%M:%S")}


def home() -> Path:
    """Where the tutor keeps its files: $BACKPROP_TUTOR_HOME, or the user's data directory."""
    override = os.environ.get("BACKPROP_TUTOR_HOME")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("backprop-tutor", appauthor=False))


def lesson_key(name: str, source: str, bundled: bool) -> str:
    """A file name for a lesson's progress: its name, or for a lesson file its stem and a hash of its path."""
    if bundled:
        return name
    import hashlib

    path = Path(source).resolve()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in path.stem)[:40] or "lesson"
    return f"{stem}-{digest}"


class Store:
    """Loads and saves one lesson's progress file."""

    def __init__(self, key: str, root: Path | None = None):
        self.key = key
        self.folder = (root or home()) / "progress"
        self.path = self.folder / f"{key}.json"

    def load(self, trace: dict[str, float]) -> Progress:
        """The saved progress, with records that still match the lesson's values; never raises."""
        progress = Progress(self.key)
        try:
            if not self.path.exists():
                return progress
            if self.path.stat().st_size > MAX_BYTES:
                raise ValueError("the file is far too large")
            data = json.loads(self.path.read_text(encoding="utf-8"))
            self._fill(progress, data, trace)
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
            aside = self._move_aside()
            progress.records.clear()
            progress.pending.clear()
            progress.position = None
            where = f"; it was moved to {aside}" if aside else ""
            progress.warnings.append(f"your progress file {self.path} could not be read ({_why(e)}){where}; "
                                     "starting afresh")
        return progress

    def _fill(self, progress: Progress, data: object, trace: dict[str, float]) -> None:
        if not isinstance(data, dict):
            raise ValueError("not a progress file")
        if data.get("version") != VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        records = data.get("records", {})
        if not isinstance(records, dict):
            raise ValueError("records are not a table")
        changed = 0
        for qid, raw in records.items():
            if not isinstance(raw, dict):
                raise ValueError(f"record {qid!r} is not a table")
            record = Record(**raw)
            if not isinstance(record.value, int | float) or not isinstance(record.attempts, int):
                raise ValueError(f"record {qid!r} has the wrong types")
            if qid in trace and _same(record.value, trace[qid]):
                progress.records[qid] = record
            else:
                changed += 1
        if changed:
            progress.warnings.append(f"the lesson has changed since you last worked on it: {changed} step"
                                     f"{'s' if changed != 1 else ''} whose value changed will be asked again")
        position = data.get("position")
        if isinstance(position, str) and position in trace and not changed:
            progress.position = position  # (a changed lesson starts again at its first open step)
        wrong = data.get("wrong", {})
        if isinstance(wrong, dict):
            progress.wrong = {q: str(v)[:100] for q, v in wrong.items() if q in trace and q not in progress.records}
        seen = data.get("mistakes", [])
        if isinstance(seen, list):
            progress.mistakes = [(str(m[0]), str(m[1])) for m in seen
                                 if isinstance(m, list) and len(m) == 2 and m[1] in trace]
        pending = data.get("pending", {})
        if isinstance(pending, dict):
            progress.pending = {q: {k: int(v) for k, v in p.items()} for q, p in pending.items()
                                if q in trace and isinstance(p, dict)}

    def _move_aside(self) -> Path | None:
        aside = self.path.with_name(f"{self.path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
        except OSError:
            return None
        return aside

    def save(self, progress: Progress) -> str | None:
        """Write the progress atomically; a message saying why, if it could not be saved."""
        import tempfile

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            text = json.dumps(progress.to_json(), indent=1, ensure_ascii=False)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.key}.", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                _remove(tmp)
                raise
        except OSError as e:
            return f"could not save your progress to {self.path} ({_why(e)})"
        return None

    def remove(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        return True


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300)


def _why(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    if isinstance(e, json.JSONDecodeError):
        return "it is not valid JSON"
    return str(e) or type(e).__name__


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

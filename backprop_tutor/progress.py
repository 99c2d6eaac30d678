"""The learner's progress through a lesson: one small versioned JSON file per lesson.

Files live in ``$BACKPROP_TUTOR_HOME/progress`` or, without that variable, in the user's data
directory (``~/.local/share/backprop-tutor`` on Linux).

- Every save writes a temporary file beside the real one and renames it over, so a crash, Ctrl-C
  or a full disk never leaves half a file. Temporary files are named after the process that wrote
  them (``.post.<pid>.<random>.tmp``); those of processes that are gone, and old ones, are removed.
- Saves hold an advisory lock (``.post.lock`` beside the file) and merge what another process
  recorded meanwhile (a `check` run while `start` is open): a step recorded by either survives.
- Loading validates the file against the shape written here (``_Reader``): a damaged record is
  repaired (a count out of range is clamped) or dropped, and a file that cannot be read at all is
  moved aside. Either way a warning says so. A record whose value no longer matches the lesson
  (the lesson file changed) is dropped, and the step is done again.
- Only a regular file is read: a FIFO or a device in its place is refused, never opened blocking.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

VERSION = 1
MAX_BYTES = 1_000_000
# how a step was done: answered in the walk, skipped, confirmed with `check`, or shown (not asked)
RIGHT, SKIPPED, CHECKED, SHOWN = "right", "skipped", "checked", "shown"
STATUSES = (RIGHT, SKIPPED, CHECKED, SHOWN)
_RANK = {SHOWN: 0, CHECKED: 1, RIGHT: 2, SKIPPED: 2}  # which record of a step tells more about how it went
HINT_LEVELS = 3
MAX_ATTEMPTS = 10_000
LOCK_TIMEOUT = 5.0  # seconds a save waits for another process's save
STALE_DEAD = 10.0  # seconds: a temporary file of a process that is gone is removed after this
STALE_ANY = 3600.0  # seconds: any temporary file this old is removed
_TMP = re.compile(r"\.(?P<key>[^.]+)\.(?P<pid>\d{1,9})\.[^.]+\.tmp")


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
    explained: bool = False  # the derivation was shown before the step was answered
    formula: str = ""  # `start --formulas`: "right" or "skipped" when the formula was asked first, else ""
    formula_attempts: int = 0  # wrong formulas typed before the right one
    formula_hints: int = 0

    @property
    def first_try(self) -> bool:
        return self.status == RIGHT and self.attempts == 0 and self.hints == 0 and not self.explained


@dataclass
class Progress:
    lesson: str
    position: str | None = None  # the step the learner is on (a quantity id)
    records: dict[str, Record] = field(default_factory=dict)
    pending: dict[str, dict[str, int]] = field(default_factory=dict)  # attempts/hints/explained, unfinished steps
    wrong: dict[str, str] = field(default_factory=dict)  # the learner's last wrong value, as typed, per step
    mistakes: list[tuple[str, str]] = field(default_factory=list)  # (mistake id, step) as diagnosed
    warnings: list[str] = field(default_factory=list)  # to be said once, then cleared

    def done(self, qid: str) -> bool:
        return qid in self.records

    def anything(self) -> bool:
        return bool(self.records or self.pending or self.wrong or self.mistakes)

    def note_wrong(self, qid: str, typed: str, mistake_ids: list[str]) -> None:
        """A wrong value typed: kept for carried errors, its diagnosed mistakes for patterns."""
        self.wrong[qid] = typed
        for m in mistake_ids:
            if (m, qid) not in self.mistakes:
                self.mistakes.append((m, qid))

    def merge(self, other: Progress) -> None:
        """Take in what ``other`` (the file as another process left it) knows and this does not.

        A step recorded by either stays recorded; for a step both recorded, the record that says
        more about how it went is kept (the walk's own over `check`'s over shown), with the mistakes
        of both. Counts on unfinished steps keep the higher; this side's position and wrong values win.
        """
        for qid, theirs in other.records.items():
            ours = self.records.get(qid)
            if ours is None or _RANK[theirs.status] > _RANK[ours.status]:
                if ours is not None:
                    theirs.mistakes = list(dict.fromkeys([*theirs.mistakes, *ours.mistakes]))
                self.records[qid] = theirs
            else:
                ours.mistakes = list(dict.fromkeys([*ours.mistakes, *theirs.mistakes]))
        for qid, counts in other.pending.items():
            mine = self.pending.setdefault(qid, {})  # updated in place: the walk holds this dict
            for k, v in counts.items():
                mine[k] = max(mine.get(k, 0), v)
        for qid in self.records:
            self.pending.pop(qid, None)
        for qid, typed in other.wrong.items():
            self.wrong.setdefault(qid, typed)
        self.mistakes += [m for m in other.mistakes if m not in self.mistakes]

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


class Unreadable(Exception):
    """The file as a whole cannot be used: it is moved aside."""


class NotRegular(Exception):
    """A FIFO, a device, a folder … where the progress file should be: left alone, never opened."""


class Store:
    """Loads and saves one lesson's progress file."""

    def __init__(self, key: str, root: Path | None = None):
        self.key = key
        self.folder = (root or home()) / "progress"
        self.path = self.folder / f"{key}.json"
        self.lock_path = self.folder / f".{key}.lock"
        self.trace: dict[str, float] | None = None  # the lesson's values, to validate records against
        self.held: set[str] = set()  # the steps the file holds, as of the last load or save that worked
        self.refused: str | None = None  # why the file is left alone (not a regular file)

    # loading ----------------------------------------------------------------------------------

    def load(self, trace: dict[str, float]) -> Progress:
        """The saved progress, with records that still match the lesson's values; never raises."""
        self.trace = trace
        progress = Progress(self.key)
        try:
            try:
                disk = self._read()  # (no lock needed to read: saves replace the file whole)
            except Unreadable:
                with self._locked() as held:  # read again under the lock before moving anything aside
                    try:
                        disk = self._read()
                    except Unreadable as e:
                        progress.warnings.append(self._set_aside(str(e), moved=held != "busy") + "; starting afresh")
                        return progress
        except NotRegular as e:
            self.refused = (f"your progress file {self.path} is {e}, not a regular file: it is left alone and "
                            "nothing is saved (`backprop-tutor reset` removes it)")
            progress.warnings.append(self.refused)
            return progress
        if disk is not None:
            progress = disk
            self.held = set(disk.records)
        return progress

    def _read(self) -> Progress | None:
        """The file as it is now, validated and repaired (warnings say what was repaired); None if absent."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise Unreadable(_why(e)) from None
        if not stat.S_ISREG(st.st_mode):
            raise NotRegular(_kind(st.st_mode))
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO swapped in never blocks
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise NotRegular(_kind(os.fstat(f.fileno()).st_mode))
                raw = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise Unreadable(_why(e)) from None
        if len(raw) > MAX_BYTES:
            raise Unreadable("the file is far too large")
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise Unreadable("it is not text") from None
        except json.JSONDecodeError:
            raise Unreadable("it is not valid JSON") from None
        except RecursionError:
            raise Unreadable("it is nested far too deeply") from None
        return _Reader(self.key, self.path, self.trace).read(data)

    def _set_aside(self, why: str, moved: bool = True) -> str:
        aside = self._move_aside() if moved else None
        where = f"; it was moved to {aside}" if aside else "; it was left in place"
        return f"your progress file {self.path} could not be read ({why}){where}"

    def _move_aside(self) -> Path | None:
        aside = self.path.with_name(f"{self.path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
        except OSError:
            return None
        return aside

    # saving -----------------------------------------------------------------------------------

    def save(self, progress: Progress) -> str | None:
        """Merge in what the file holds now, and write the result atomically; a message saying why, if
        it could not be saved. ``progress`` becomes the merged progress."""
        if self.refused:
            return self.refused
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with self._locked() as held:
                if held == "busy":
                    return (f"could not save your progress to {self.path} (another backprop-tutor kept it "
                            f"locked for {LOCK_TIMEOUT:g} s)")
                try:
                    disk = self._read()
                except NotRegular as e:
                    return f"could not save your progress to {self.path} (it is {e}, not a regular file)"
                except Unreadable as e:
                    progress.warnings.append(self._set_aside(str(e)))
                    disk = None
                if disk is not None:
                    progress.merge(disk)
                self._write(progress)
                self.held = set(progress.records)
                self._clean()
        except OSError as e:
            return f"could not save your progress to {self.path} ({_why(e)})"
        return None

    def _write(self, progress: Progress) -> None:
        import tempfile

        text = json.dumps(progress.to_json(), indent=1, ensure_ascii=False)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.key}.{os.getpid()}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            _remove(tmp)
            raise

    def _clean(self) -> None:
        """Remove temporary files left by processes that were killed mid-save."""
        now = time.time()
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if not (entry.name.startswith(".") and entry.name.endswith(".tmp")):
                    continue
                m = _TMP.fullmatch(entry.name)
                try:
                    if not entry.is_file(follow_symlinks=False):
                        continue
                    age = now - entry.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue
                gone = m is not None and int(m["pid"]) != os.getpid() and not _alive(int(m["pid"]))
                if age > STALE_ANY or (gone and age > STALE_DEAD):
                    _remove(entry.path)

    def remove(self) -> bool:
        """Forget the lesson's progress: True if there was a file."""
        with self._locked():
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
        self.held = set()
        return True

    @contextlib.contextmanager
    def _locked(self) -> Iterator[str]:
        """Hold the lesson's advisory lock: yields "held", "busy" (timed out) or "none" (no locking here)."""
        try:
            import fcntl
        except ImportError:  # Windows: saves are still atomic, only not merged under a lock
            yield "none"
            return
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o600)
        except OSError:  # no folder yet, or a read-only one: nothing to protect, or the save says why
            yield "none"
            return
        try:
            state = "held"
            deadline = time.monotonic() + LOCK_TIMEOUT
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        state = "busy"
                        break
                    time.sleep(0.02)
                except OSError:  # a file system without locks
                    state = "none"
                    break
            yield state
        finally:
            os.close(fd)  # releases the lock


class _Reader:
    """Reads a progress file's JSON into a Progress, repairing or dropping what does not fit."""

    def __init__(self, key: str, path: Path, trace: dict[str, float] | None):
        self.key, self.path, self.trace = key, path, trace
        self.problems: list[str] = []

    def known(self, qid: str) -> bool:
        return self.trace is None or qid in self.trace

    def read(self, data: object) -> Progress:
        if not isinstance(data, dict):
            raise Unreadable("not a progress file")
        if data.get("version") != VERSION:
            raise Unreadable(f"unknown version {_plain(data.get('version'))}")
        progress = Progress(self.key)
        changed = 0
        for qid, raw in self.table(data, "records").items():
            record = self.record(qid, raw)
            if record is None:
                continue
            if self.trace is not None and (qid not in self.trace or not _same(record.value, self.trace[qid])):
                changed += 1
            else:
                progress.records[qid] = record
        for qid, raw in self.table(data, "pending").items():
            if self.known(qid) and qid not in progress.records:
                progress.pending[qid] = self.counts(f"pending {_plain(qid)}", raw)
        # a done step's earlier wrong value is kept too: a later value that still uses it is told so
        progress.wrong = {q: v[:100] for q, v in self.table(data, "wrong").items()
                          if self.known(q) and self.text("wrong", q, v)}
        seen = data.get("mistakes", [])
        if not isinstance(seen, list):
            self.problems.append("mistakes: not a list (dropped)")
            seen = []
        for m in seen:
            if isinstance(m, list) and len(m) == 2 and all(isinstance(x, str) for x in m) and self.known(m[1]):
                if (m[0], m[1]) not in progress.mistakes:
                    progress.mistakes.append((m[0][:100], m[1]))
        position = data.get("position")
        if position is not None and not isinstance(position, str):
            self.problems.append(f"position: {_plain(position)} is not a step (dropped)")
        if isinstance(position, str) and self.known(position) and not changed:
            progress.position = position  # (a changed lesson starts again at its first open step)
        if self.problems:
            shown = "; ".join(self.problems[:3]) + (f"; and {len(self.problems) - 3} more"
                                                    if len(self.problems) > 3 else "")
            progress.warnings.append(f"your progress file {self.path} was damaged, and is repaired: {shown}")
        if changed:
            progress.warnings.append(f"the lesson has changed since you last worked on it: {changed} step"
                                     f"{'s' if changed != 1 else ''} whose value changed will be asked again")
        return progress

    def table(self, data: dict, name: str) -> dict:
        value = data.get(name, {})
        if isinstance(value, dict):
            return value
        self.problems.append(f"{name}: not a table (dropped)")
        return {}

    def text(self, where: str, qid: str, value: object) -> bool:
        if isinstance(value, str):
            return True
        self.problems.append(f"{where} {_plain(qid)}: not text (dropped)")
        return False

    def record(self, qid: str, raw: object) -> Record | None:
        where = f"record {_plain(qid)}"
        if not isinstance(raw, dict):
            self.problems.append(f"{where}: not a table (dropped: the step is asked again)")
            return None
        status, value = raw.get("status"), raw.get("value")
        if status not in STATUSES:
            self.problems.append(f"{where}: unknown status {_plain(status)} (dropped: the step is asked again)")
            return None
        if not isinstance(value, int | float) or not _real(value):
            self.problems.append(f"{where}: value {_plain(value)} is not a number (dropped: the step is asked "
                                 "again)")
            return None
        counts = self.counts(where, {k: raw[k] for k in ("attempts", "hints") if k in raw})
        typed, skill, mistakes = raw.get("typed", ""), raw.get("skill", ""), raw.get("mistakes", [])
        if not isinstance(typed, str) or not isinstance(skill, str):
            self.problems.append(f"{where}: typed or skill not text (cleared)")
            typed, skill = (typed if isinstance(typed, str) else ""), (skill if isinstance(skill, str) else "")
        if not isinstance(mistakes, list) or not all(isinstance(m, str) for m in mistakes):
            self.problems.append(f"{where}: mistakes not a list of names (only the names kept)")
            mistakes = [m for m in mistakes if isinstance(m, str)] if isinstance(mistakes, list) else []
        explained = raw.get("explained", False)
        if not isinstance(explained, bool):
            self.problems.append(f"{where}: explained {_plain(explained)} is not true or false (taken as true)")
            explained = True
        return Record(status, float(value), counts["attempts"], counts["hints"], typed[:100], skill[:40],
                      [m[:100] for m in mistakes[:100]], explained)

    def counts(self, where: str, raw: object) -> dict[str, int]:
        """attempts and hints (and explained, on an unfinished step), each a whole number in range."""
        if not isinstance(raw, dict):
            self.problems.append(f"{where}: not a table (counts reset)")
            raw = {}
        limits = {"attempts": MAX_ATTEMPTS, "hints": HINT_LEVELS, "explained": 1}
        out: dict[str, int] = {}
        for name, top in limits.items():
            if name not in raw:
                if name != "explained":  # (a field added later: absent in older files)
                    self.problems.append(f"{where}: no {name} (taken as 0)")
                    out[name] = 0
                continue
            v = raw[name]
            if isinstance(v, bool) or not isinstance(v, int):
                self.problems.append(f"{where}: {name} {_plain(v)} is not a whole number (taken as 0)")
                v = 0
            elif not 0 <= v <= top:
                self.problems.append(f"{where}: {name} {_plain(v)} is out of range (set to "
                                     f"{min(max(v, 0), top)})")
                v = min(max(v, 0), top)
            out[name] = v
        return out


def _real(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b), 1e-300)


def _plain(v: object) -> str:
    """A value from the file, for a warning: short, quoted, control characters escaped."""
    if isinstance(v, str):
        return repr(v[:40])  # repr escapes control characters
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**20:
        return "a huge number"
    if isinstance(v, float | int | bool) or v is None:
        return json.dumps(v)
    return f"a {type(v).__name__}"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
                       (stat.S_ISDIR, "a folder"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would end the process there: go by age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process, or not allowed to ask: keep its file
        return True
    return True


def _why(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    return str(e) or type(e).__name__


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

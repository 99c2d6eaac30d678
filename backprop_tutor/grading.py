"""Grading a class: a CSV of answers (or a folder of progress files), each judged as `check` judges it.

Rows are ``student, seed, quantity, value`` (the long form), or one row per student with one column
per quantity (the wide form, told by its header). Each student's answers are judged in the lesson's
step order with a ``Progress`` that holds the student's earlier answers, as `check` keeps them, so a
value that follows from an earlier slip is reported as carried, not as a new mistake.

Points: an accepted value (right, or right with drift) 1; a value that only carries an earlier slip
(error carried forward) 1; "give more digits" ½; anything else 0. The total is the lesson's steps.

A bad row is reported with its line number and skipped; nothing here raises on a row.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from backprop_tutor import answers, progress
from backprop_tutor.checking import Session
from backprop_tutor.errors import TutorError
from backprop_tutor.lesson import Lesson, randomized
from backprop_tutor.safe_text import echo, md_cell, printable

LONG = ("student", "seed", "quantity", "value")
MAX_SEED = 10**9
MAX_FIELD = 200  # characters: a longer cell is not an answer
SESSIONS = 64  # sessions kept at once (one per seed)
DIAGNOSERS = 48  # a session's diagnosers (one per learner state) kept across students
CARRIED = "carried"  # the verdict of a value that only follows from an earlier slip
POINTS = {answers.RIGHT: 1.0, answers.DRIFT: 1.0, CARRIED: 1.0, answers.IMPRECISE: 0.5, answers.WRONG: 0.0}


@dataclass(frozen=True)
class Row:
    line: int
    student: str
    seed: int | None
    quantity: str
    value: str
    source: str = ""  # the file a record came from, for a folder of records

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line else self.source


@dataclass
class Graded:
    qid: str
    typed: str
    verdict: str  # right, drift, carried, imprecise, wrong
    points: float
    findings: list[dict[str, str]]
    line: int


@dataclass
class Sheet:
    student: str
    seed: int | None
    total: int
    answers: list[Graded] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(a.points for a in self.answers)

    def as_dict(self) -> dict[str, object]:
        return {"student": self.student, "seed": self.seed, "score": self.score, "out_of": self.total,
                "answers": [{"quantity": a.qid, "typed": a.typed, "verdict": a.verdict, "points": a.points,
                             "diagnosis": a.findings, "line": a.line} for a in self.answers]}


# reading ------------------------------------------------------------------------------------------

def _seed(text: str) -> int | None:
    text = text.strip()
    if not text or text.lower() in ("-", "none", "post"):
        return None
    if not text.isdigit() or int(text) > MAX_SEED:
        raise ValueError(f"seed '{echo(text, 20)}' is not a whole number from 0 to {MAX_SEED:,}")
    return int(text)


def read_rows(lines: Iterable[str], problems: list[str]) -> Iterator[Row]:
    """The answers of a CSV, long or wide form, one at a time; bad rows go to ``problems``."""
    reader = csv.reader(lines)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as e:
        problems.append(f"line 1: not CSV ({e}); skipped")
        return
    low = [h.lower() for h in header]
    wide = low[:2] == ["student", "seed"] and low != list(LONG)
    pending: list[list[str]] = []
    if low != list(LONG) and not wide:
        if len(header) != len(LONG):
            raise TutorError("the CSV needs a header: student,seed,quantity,value (long form) or "
                             "student,seed,<quantity>,… (wide form)")
        pending = [header]  # no header: the first row is an answer
    while True:
        begin = reader.line_num + 1
        try:
            cells = pending.pop() if pending else next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            problems.append(f"line {reader.line_num}: not CSV ({e}); skipped")
            continue
        line = 1 if pending == [] and reader.line_num == 1 else begin
        if not any(c.strip() for c in cells):
            continue
        if reader.line_num > line and len(cells) != (len(header) if wide else len(LONG)):  # a quote runs on
            problems.append(f"line {line}: a quote is not closed before line {reader.line_num}; skipped")
            continue
        if wide:
            yield from _wide(cells, header, line, problems)
            continue
        if len(cells) != len(LONG):
            problems.append(f"line {line}: {len(cells)} fields, expected 4 (student, seed, quantity, value); skipped")
            continue
        student, seed, quantity, value = cells
        row = _row(line, student, seed, quantity, value, problems)
        if row is not None:
            yield row


def _row(line: int, student: str, seed: str, quantity: str, value: str, problems: list[str]) -> Row | None:
    student, quantity, value = student.strip(), quantity.strip(), value.strip()
    if not student:
        problems.append(f"line {line}: no student name; skipped")
        return None
    if max(len(student), len(quantity), len(value)) > MAX_FIELD:
        problems.append(f"line {line}: a field longer than {MAX_FIELD} characters; skipped")
        return None
    try:
        return Row(line, printable(student), _seed(seed), quantity, value)
    except ValueError as e:
        problems.append(f"line {line}: {e}; skipped")
        return None


def _wide(cells: list[str], header: list[str], line: int, problems: list[str]) -> Iterator[Row]:
    if len(cells) > len(header):
        problems.append(f"line {line}: {len(cells)} fields, the header has {len(header)}; the extra ones are skipped")
    for name, value in zip(header[2:], cells[2:], strict=False):
        if value.strip():
            row = _row(line, cells[0], cells[1] if len(cells) > 1 else "", name, value, problems)
            if row is not None:
                yield row


def progress_rows(folder: Path, lesson: str, problems: list[str]) -> Iterator[Row]:
    """The answers in a folder of collected records (`progress --json`, `--all`, or the progress files
    themselves), one student per file, named by the file (or its ``student`` field). Values done in the
    walk or confirmed with `check` are answers; so is the last wrong value of a step not done. Steps
    skipped or shown are not."""
    for path in sorted(folder.glob("*.json")):
        if not path.is_file():  # a FIFO, a device or a folder named *.json: never opened (a FIFO would block)
            problems.append(f"{echo(path.name)}: not a regular file; skipped")
            continue
        try:
            with open(path, encoding="utf-8") as f:
                data = json.loads(f.read(progress.MAX_BYTES + 1))
            entries = _entries(data)
        except (OSError, ValueError, TypeError) as e:
            problems.append(f"{echo(path.name)}: not a progress record ({echo(str(e), 80)}); skipped")
            continue
        for entry in entries:
            key = str(entry.get("lesson", ""))
            seed = entry.get("seed")
            if seed is None and "-seed" in key:
                key, _, tail = key.rpartition("-seed")
                seed = int(tail) if tail.isdigit() else None
            if key != lesson or (seed is not None and not isinstance(seed, int)):
                continue
            student = printable(str(entry.get("student") or path.stem))
            records: dict = entry["records"] if isinstance(entry.get("records"), dict) else {}
            wrong: dict = entry["wrong"] if isinstance(entry.get("wrong"), dict) else {}
            for qid, r in records.items():
                if isinstance(r, dict) and r.get("status") in (progress.RIGHT, progress.CHECKED):
                    typed = r.get("typed") or (repr(float(r["value"])) if _real(r.get("value")) else "")
                    if typed:
                        yield Row(0, student, seed, str(qid), str(typed)[:MAX_FIELD], echo(path.name))
            for qid, typed in wrong.items():
                if qid not in records and isinstance(typed, str):
                    yield Row(0, student, seed, str(qid), typed[:MAX_FIELD], echo(path.name))


def _real(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def progress_record(walk) -> dict[str, object]:
    """A learner's record in one lesson, for an instructor to collect (`progress --json`); `grade` reads it."""
    from dataclasses import asdict

    from backprop_tutor.walk import skill_accuracy

    state, lesson = walk.state, walk.session.lesson
    return {"lesson": lesson.name, "seed": lesson.seed, "title": lesson.title,
            "steps": len(walk.asked), "done": sum(1 for s in walk.asked if state.done(s.qid)),
            "sections": [{"section": h, "done": d, "of": t, "skipped": k} for h, d, t, k in walk.section_status()],
            "first_try": [{"skill": k, "right": r, "answered": n}
                          for k, r, n in skill_accuracy(state, walk.asked, walk.session.catalogue)],
            "records": {q: asdict(r) for q, r in state.records.items()}, "wrong": dict(state.wrong),
            "mistakes": [list(m) for m in state.mistakes]}


def _entries(data: object) -> list[dict]:
    """The lesson records of a collected file: one (`progress --json`), several (`--all`), or the
    progress file itself."""
    if isinstance(data, dict) and isinstance(data.get("lessons"), list):
        return [e for e in data["lessons"] if isinstance(e, dict)]
    if isinstance(data, dict):
        return [data]
    raise TypeError("not a JSON object")


# judging ------------------------------------------------------------------------------------------

class Grader:
    """Judges sheets; one Session per seed, the most recent SESSIONS kept."""

    def __init__(self, lesson: Lesson):
        from backprop_tutor.walk import lesson_steps

        self.lesson = lesson
        self.sessions: dict[int | None, Session] = {}
        base = self.session(None)
        walked = lesson_steps(base)  # the walk's order, as the worksheets have it
        asked = [s.qid for s in walked if s.asked]
        order = [s.qid for s in walked]
        self.order = {q: k for k, q in enumerate([*order, *(q for q in base.catalogue if q not in set(order))])}
        self.asked = set(asked)

    def session(self, seed: int | None) -> Session:
        if seed not in self.sessions:
            if len(self.sessions) >= SESSIONS:
                self.sessions.pop(next(k for k in self.sessions if k is not None))
            self.sessions[seed] = Session(self.lesson if seed is None else randomized(self.lesson, seed))
        return self.sessions[seed]

    def grade(self, student: str, seed: int | None, rows: list[Row], problems: list[str]) -> Sheet:
        session = self.session(seed)
        sheet = Sheet(student, seed, len(self.asked))
        chosen: dict[str, Row] = {}
        for row in rows:
            try:
                quantity = session.resolver.resolve(row.quantity)
            except TutorError as e:
                problems.append(f"{row.where}: {e}; skipped")
                continue
            if quantity.given:
                problems.append(f"{row.where}: {quantity.id} is given, not computed; skipped")
                continue
            if quantity.id in chosen:
                problems.append(f"{row.where}: a second answer of {echo(student)} for {quantity.id}; "
                                "the first is kept, this one skipped")
                continue
            chosen[quantity.id] = row
        state = progress.Progress(self.lesson.name)
        for qid in sorted(chosen, key=self.order.__getitem__):
            row = chosen[qid]
            try:
                result = session.check(qid, row.value, state)
            except TutorError as e:
                problems.append(f"{row.where}: {e}; skipped")
                continue
            verdict = result.verdict
            if verdict == answers.WRONG and result.findings and all(f.kind == "carried" and f.id == "carried"
                                                                    for f in result.findings):
                verdict = CARRIED
            points = POINTS[verdict] if qid in self.asked else 0.0
            sheet.answers.append(Graded(qid, result.typed.text, verdict, points,
                                        [f.as_dict() for f in result.findings], row.line))
            if result.accepted:  # as `check` remembers it
                state.records[qid] = progress.Record(progress.CHECKED, result.value, typed=result.typed.text,
                                                     skill=result.quantity.skill)
            elif result.verdict == answers.WRONG:
                state.note_wrong(qid, result.typed.text, result.counted)
        session.forget_learners(keep=DIAGNOSERS)  # the states of clean sheets are shared by students
        return sheet


def sheets(grader: Grader, rows: Iterable[Row], problems: list[str]) -> Iterator[Sheet]:
    """Each student's sheet, in the order students first appear. Only the compact rows are held."""
    by_student: dict[str, list[Row]] = {}
    for row in rows:
        by_student.setdefault(row.student, []).append(row)
    for student in list(by_student):
        mine = by_student.pop(student)
        seeds = {r.seed for r in mine}
        seed = mine[0].seed
        if len(seeds) > 1:
            for r in mine:
                if r.seed != seed:
                    problems.append(f"{r.where}: {echo(student)} has seed {seed} on {mine[0].where}, "
                                    f"{r.seed} here; skipped")
            mine = [r for r in mine if r.seed == seed]
        yield grader.grade(student, seed, mine, problems)


def line_of(problem: str) -> int:
    """The line number a problem names (0 if none): problems are reported in the file's order."""
    head = problem.split(":", 1)[0]
    return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0


# the class report ---------------------------------------------------------------------------------

@dataclass
class StepReport:
    qid: str
    answered: int = 0
    right: int = 0  # accepted
    carried: int = 0
    mistakes: Counter[str] = field(default_factory=Counter)  # finding id → answers
    students: dict[str, list[str]] = field(default_factory=dict)  # finding id → students

    @property
    def share_right(self) -> float:
        return self.right / self.answered if self.answered else 0.0


class ClassReport:
    def __init__(self, order: dict[str, int]):
        self.order = order
        self.steps: dict[str, StepReport] = {}
        self.scores: list[tuple[str, int | None, float, int]] = []

    def add(self, sheet: Sheet) -> None:
        self.scores.append((sheet.student, sheet.seed, sheet.score, sheet.total))
        for a in sheet.answers:
            step = self.steps.setdefault(a.qid, StepReport(a.qid))
            step.answered += 1
            step.right += a.verdict in (answers.RIGHT, answers.DRIFT)
            step.carried += a.verdict == CARRIED
            if a.verdict in (answers.WRONG, answers.IMPRECISE):
                ids = [f["id"] for f in a.findings if f["kind"] != "carried"] or ["(not recognised)"] \
                    if a.verdict == answers.WRONG else [f["id"] for f in a.findings] or ["too few digits"]
                for mid in dict.fromkeys(ids):
                    step.mistakes[mid] += 1
                    step.students.setdefault(mid, []).append(sheet.student)

    def ordered(self) -> list[StepReport]:
        return sorted(self.steps.values(), key=lambda s: self.order.get(s.qid, len(self.order)))

    def as_dict(self) -> dict[str, object]:
        return {"students": [{"student": n, "seed": s, "score": p, "out_of": t} for n, s, p, t in self.scores],
                "steps": [{"quantity": s.qid, "answered": s.answered, "right": s.right, "carried": s.carried,
                           "share_right": s.share_right,
                           "mistakes": [{"id": m, "count": c, "students": s.students[m]}
                                        for m, c in s.mistakes.most_common()]} for s in self.ordered()]}


def markdown(report: ClassReport, top: int = 3) -> str:
    from backprop_tutor.catalogue import symbol

    out = ["# Class report\n", "## Scores\n", "| student | seed | score | out of |", "|---|---|---|---|"]
    for n, seed, p, t in report.scores:
        out.append(f"| {md_cell(n)} | {'' if seed is None else seed} | {p:g} | {t} |")
    out += ["", "## Steps\n", "| step | answered | right | carried | most common mistakes |", "|---|---|---|---|---|"]
    for s in report.ordered():
        common = "; ".join(f"{md_cell(m)} ×{c} ({md_cell(', '.join(s.students[m]))})"
                           for m, c in s.mistakes.most_common(top))
        out.append(f"| {md_cell(symbol(s.qid))} | {s.answered} | {s.share_right:.0%} | {s.carried} | {common} |")
    return "\n".join(out) + "\n"


CSV_FIELDS = ("student", "seed", "quantity", "typed", "verdict", "points", "diagnosis", "line")


def csv_rows(sheet: Sheet) -> Iterator[list[object]]:
    for a in sheet.answers:
        why = "; ".join(f"{f['kind']}:{f['id']}" for f in a.findings)
        yield [_csv_safe(sheet.student), "" if sheet.seed is None else sheet.seed, a.qid, _csv_safe(a.typed),
               a.verdict, a.points, why, a.line]


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def open_lines(path: str) -> Iterator[str]:
    """The lines of a text file, read as they are needed (a FIFO or a device is refused)."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise TutorError(f"cannot read {echo(path)}: {e.strerror or e}") from None
    f = os.fdopen(fd, encoding="utf-8-sig", errors="replace", newline="")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise TutorError(f"{echo(path)} is not a file")
    os.set_blocking(fd, True)
    with f:
        yield from f


def print_report(console, report: ClassReport, top: int = 3) -> None:
    """The scores and the class report as Rich tables (every cell a ``Text``: nothing is markup)."""
    from rich.table import Table
    from rich.text import Text

    from backprop_tutor.catalogue import symbol
    from backprop_tutor.safe_text import printable

    scores = Table(title="Scores", title_justify="left")
    for name in ("student", "seed", "score", "out of"):
        scores.add_column(name, justify="left" if name == "student" else "right")
    for n, seed, p, t in report.scores:
        scores.add_row(Text(printable(n)), Text("" if seed is None else str(seed)), Text(f"{p:g}"), Text(str(t)))
    console.print(scores)
    steps = Table(title="Steps: who gets what right", title_justify="left")
    for name in ("step", "answered", "right", "carried", "most common mistakes"):
        steps.add_column(name, justify="left" if name in ("step", "most common mistakes") else "right")
    for s in report.ordered():
        common = "\n".join(f"{m} ×{c}: {_names(s.students[m])}" for m, c in s.mistakes.most_common(top))
        steps.add_row(Text(symbol(s.qid)), Text(str(s.answered)), Text(f"{s.share_right:.0%}"),
                      Text(str(s.carried)), Text(printable(common, multiline=True)))
    console.print(steps)


def _names(students: list[str], shown: int = 6) -> str:
    more = len(students) - shown
    from backprop_tutor.safe_text import printable

    return ", ".join(printable(n) for n in students[:shown]) + (f" and {more} more" if more > 0 else "")


class Outputs:
    """grades.csv, grades.json and report.md in a folder, written as the sheets come (none is held)."""

    def __init__(self, folder: str, lesson: str):
        os.makedirs(folder, exist_ok=True)
        self.paths = [os.path.join(folder, n) for n in ("grades.csv", "grades.json", "report.md")]
        self._csv = open(self.paths[0], "w", newline="", encoding="utf-8")
        self._json = open(self.paths[1], "w", encoding="utf-8")
        self.writer = csv.writer(self._csv)
        self.writer.writerow(CSV_FIELDS)
        self._json.write('{"lesson": ' + json.dumps(lesson, ensure_ascii=False) + ', "students": [')
        self.first = True

    def add(self, sheet: Sheet) -> None:
        self.writer.writerows(csv_rows(sheet))
        self._json.write(("\n" if self.first else ",\n") + json.dumps(sheet.as_dict(), ensure_ascii=False))
        self.first = False

    def close(self, report: ClassReport) -> None:
        self._json.write('],\n"report": ' + json.dumps(report.as_dict(), ensure_ascii=False) + "}\n")
        self._json.close()
        self._csv.close()
        with open(self.paths[2], "w", encoding="utf-8") as f:
            f.write(markdown(report))

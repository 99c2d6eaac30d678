"""Typed errors of the domain.  The CLI turns each into one line on stderr and an exit code."""

from __future__ import annotations

from backprop_tutor.safe_text import echo

BAD_INPUT = 2


class TutorError(Exception):
    """Something the user gave us is wrong; ``str(error)`` is the one line to show."""

    exit_code = BAD_INPUT


class UnknownQuantity(TutorError):
    def __init__(self, name: str, suggestions: list[str]):
        self.name, self.suggestions = name, suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown quantity '{echo(name)}'{hint} "
                         "(`backprop-tutor quantities` lists every name)")


class GivenQuantity(TutorError):
    def __init__(self, qid: str):
        self.qid = qid
        super().__init__(f"'{qid}' is given by the lesson, not computed: there is nothing to check "
                         "(`backprop-tutor quantities` lists what can be checked)")


class BadNumber(TutorError):
    def __init__(self, text: str, why: str):
        self.text, self.why = text, why
        super().__init__(f"'{echo(text, 40)}' is not a number I can check: {why}")


class LessonError(TutorError):
    """A lesson file that cannot be used: names the file, the field and what was expected."""

    def __init__(self, source: str, problem: str, field: str | None = None, line: int | None = None):
        self.source, self.field, self.problem, self.line = source, field, problem, line
        shown = echo(source, 240)  # a path as typed, cut if absurdly long
        at = f"{shown}:{line}" if line else shown
        where = f"{at}: {field}: " if field else f"{at}: "
        super().__init__(f"lesson {where}{problem}")


class UnknownLesson(TutorError):
    def __init__(self, name: str, available: list[str]):
        super().__init__(f"no lesson '{echo(name)}': not a bundled lesson ({', '.join(available)}) "
                         "and no such file")

"""Reading a list of seeds as an instructor types it: ``1-30``, ``1,4,9-12``, ``7``."""

from __future__ import annotations

from backprop_tutor.errors import TutorError
from backprop_tutor.safe_text import echo

MAX_SEEDS = 1000  # sheets or question sets at once
MAX_SEED = 10**9


def _number(text: str) -> bool:
    """Digits 0-9 only, and few enough of them to be a seed at all."""
    text = text.strip()
    return text.isascii() and text.isdigit() and len(text) <= 12


def parse_seeds(text: str) -> list[int]:
    """The seeds, in the order given, each once; a bad list is one TutorError line."""
    out: dict[int, None] = {}
    for part in text.split(","):
        part = part.strip()
        low, dash, high = part.partition("-")
        if not _number(low) or (dash and not _number(high)):
            raise TutorError(f"--seeds: '{echo(text, 40)}' is not a list of seeds such as 1-30 or 1,4,9-12")
        a, b = int(low), int(high) if dash else int(low)
        if a > b:
            raise TutorError(f"--seeds: the range {a}-{b} runs backwards; write {b}-{a}")
        if b > MAX_SEED:
            raise TutorError(f"--seeds: a seed is at most {MAX_SEED:,}")
        if b - a + 1 + len(out) > MAX_SEEDS:
            raise TutorError(f"--seeds: at most {MAX_SEEDS:,} seeds at once")
        out.update(dict.fromkeys(range(a, b + 1)))
    return list(out)

"""The one sanitiser: text from a lesson file or from the user, made safe to show in a terminal.

Every piece of lesson text (title, description, step texts, errata, claims) passes ``printable``
when the lesson is loaded, and every line the tutor prints passes it again (``render``), so that
nothing a lesson or a user wrote is interpreted by the terminal:

* control characters (C0 and C1, ESC and CSI among them, DEL), bidirectional overrides and
  isolates, line and paragraph separators, and lone surrogates are shown escaped, as ``\\x1b`` or
  ``\\u202e``; a newline (and a tab) is kept only in text of several lines;
* ``echo`` also cuts what the user typed to a length that fits a line, with an ellipsis.

Rich markup is a separate matter: text is given to Rich as ``rich.text.Text``, never as markup.
"""

from __future__ import annotations

import re

ECHO_LIMIT = 60

# C0 (but \t and \n, handled below), DEL, C1; bidi marks, embeddings, overrides and isolates;
# line and paragraph separators; the byte-order mark; lone surrogates (undecodable bytes).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff"
                     "\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, multiline: bool = False) -> str:
    """The text with everything a terminal could act on shown escaped (``\\x1b``, ``\\u202e``).

    A newline and a tab are kept when ``multiline``, escaped otherwise.  A carriage return is
    always escaped: it would let later text overwrite what came before on the same line.
    """
    text = _UNSAFE.sub(_escape, text)
    return text if multiline else _LINE_BREAKS.sub(_escape, text)


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """Something the user typed, to quote back in one line: escaped, and cut to ``limit`` characters."""
    shown = printable(text)
    return shown if len(shown) <= limit else shown[:limit - 1] + "…"


def json_text(value: object) -> str:
    """JSON for a terminal or a program: unicode as itself, but what ``printable`` escapes as a JSON
    escape (``\\u009b``): ``json.dumps`` escapes only C0 controls, and a lone surrogate cannot be
    written at all."""
    import json

    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def md_cell(text: str) -> str:
    """Text for a Markdown table cell: pipes, backslashes, Markdown and HTML markup made inert, one line."""
    for a, b in (("\\", "\\\\"), ("|", "\\|"), ("`", "\\`"), ("*", "\\*"), ("_", "\\_"), ("[", "\\["),
                 ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(a, b)
    return " ".join(text.split())
